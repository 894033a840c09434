"""inject_crash on every kind of callable, and its refusals."""

from __future__ import annotations

import asyncio
import json
from json import dumps as dumps_imported_by_name

import pytest

from fastapi_task_lint.testing import CrashPoint, InjectedCrash, inject_crash


class Mailer:
    sent: list[str] = []

    def send(self, to: str) -> str:
        self.sent.append(to)
        return to

    @staticmethod
    def render(to: str) -> str:
        return f"to {to}"

    @classmethod
    def default(cls) -> str:
        return cls.__name__


async def notify(to: str) -> str:
    await asyncio.sleep(0)
    return to


def test_crash_is_not_an_exception() -> None:
    assert not issubclass(InjectedCrash, Exception)


def test_method_by_dotted_path_binds_self_and_is_restored() -> None:
    original = Mailer.__dict__["send"]
    with inject_crash((f"{__name__}.Mailer.send", 2)) as injection:
        assert Mailer().send("a") == "a"
        with pytest.raises(InjectedCrash, match=r"before call 2 of tests\.testing\.test_crash"):
            Mailer().send("b")
    assert Mailer.__dict__["send"] is original
    assert (injection.calls, injection.crashed, Mailer.sent[-1]) == (2, True, "a")


def test_static_and_class_methods_keep_their_kind() -> None:
    with inject_crash((Mailer.render, 2)) as injection:
        assert Mailer.render("a") == "to a"
        assert isinstance(Mailer.__dict__["render"], staticmethod)
        with pytest.raises(InjectedCrash):
            Mailer().render("b")
    assert injection.calls == 2
    with inject_crash(f"{__name__}.Mailer.default"):
        assert isinstance(Mailer.__dict__["default"], classmethod)
        with pytest.raises(InjectedCrash):
            Mailer.default()
    assert Mailer.default() == "Mailer"


def test_bound_method_of_one_instance() -> None:
    mailer, other = Mailer(), Mailer()
    with inject_crash(mailer.send):
        assert other.send("x") == "x"
        with pytest.raises(InjectedCrash):
            mailer.send("y")
    assert "send" not in vars(mailer)


def test_async_function_crashes_when_awaited() -> None:
    with inject_crash(notify), pytest.raises(InjectedCrash):
        asyncio.run(notify("a"))
    assert asyncio.run(notify("b")) == "b"


def test_module_level_aliases_are_patched_and_restored() -> None:
    with inject_crash(("json.dumps", 2)) as injection:
        json.dumps({})
        with pytest.raises(InjectedCrash):
            dumps_imported_by_name({})  # the same function, looked up in this module
    assert injection.calls == 2
    assert dumps_imported_by_name is json.dumps
    assert dumps_imported_by_name({}) == "{}"


@pytest.mark.parametrize(
    ("target", "error", "message"),
    [
        ("no.such.module.func", ValueError, "does not name an importable attribute"),
        ("json.no_such_function", ValueError, "does not name an importable attribute"),
        (lambda: None, TypeError, "pass a dotted path instead"),
        ("json.decoder.NaN", TypeError, "is not callable"),
    ],
)
def test_refusals(target: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message), inject_crash(target):  # type: ignore[arg-type]
        pass


def test_nth_must_be_positive() -> None:
    with pytest.raises(ValueError, match="nth must be 1 or more"):
        CrashPoint("json.dumps", 0)

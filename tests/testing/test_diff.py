"""The structured diff behind every failure message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fastapi_task_lint.testing.diff import Rows, diff, format_diff, set_max_changes


@pytest.fixture(autouse=True)
def default_limit() -> Iterator[None]:
    previous = set_max_changes(20)
    yield
    set_max_changes(previous)


def test_equal_snapshots_have_no_changes() -> None:
    state = {"users": [{"id": 1}], "tags": {"a", "b"}, "n": 1}
    assert diff(state, {"users": [{"id": 1}], "tags": {"b", "a"}, "n": 1}) == []


def test_nested_dict_paths() -> None:
    text = format_diff({"user": {"name": "a", "age": 1}}, {"user": {"name": "b", "age": 1}})
    assert text == "  ~ ['user']['name']: 'a' -> 'b'"


def test_keys_added_and_removed() -> None:
    text = format_diff({"a": 1}, {"b": 2})
    assert text.splitlines() == ["  - ['a']: 1", "  + ['b']: 2"]


def test_appended_duplicate_is_one_added_item() -> None:
    before = {"emails": ["x@y.z", "a@b.c"]}
    after = {"emails": ["x@y.z", "a@b.c", "a@b.c"]}
    assert format_diff(before, after) == "  + ['emails'][2]: 'a@b.c'"


def test_list_item_changed_in_place() -> None:
    text = format_diff([{"id": 1, "paid": False}], [{"id": 1, "paid": True}])
    assert text == "  ~ [0]['paid']: False -> True"


def test_sets_report_members() -> None:
    assert format_diff({1, 2}, {2, 3}).splitlines() == ["  - 1", "  + 3"]


def test_type_change_is_reported() -> None:
    assert format_diff({"n": 1}, {"n": "1"}) == "  ~ ['n']: 1 -> '1'"


def test_rows_are_order_independent() -> None:
    assert Rows("t", [{"id": 2}, {"id": 1}], ["id"]) == Rows("t", [{"id": 1}, {"id": 2}], ["id"])
    assert Rows("t", [{"id": 1}], ["id"]) != Rows("t", [{"id": 1}, {"id": 1}], ["id"])


def test_rows_matched_by_key_table_by_table() -> None:
    before = {
        "orders": Rows("orders", [{"id": 1, "status": "new", "total": 3}, {"id": 2}], ["id"]),
        "emails": Rows("emails", [], ["id"]),
    }
    after = {
        "orders": Rows("orders", [{"id": 1, "status": "paid", "total": 4}], ["id"]),
        "emails": Rows("emails", [{"id": 9, "to": "a@b.c"}], ["id"]),
    }
    assert format_diff(before, after).splitlines() == [
        "  table orders: 1 row removed, 1 row changed",
        "    - {'id': 2}",
        "    ~ id=1: status: 'new' -> 'paid', total: 3 -> 4",
        "  table emails: 1 row added",
        "    + {'id': 9, 'to': 'a@b.c'}",
    ]


def test_rows_without_key_compare_as_multiset() -> None:
    before = Rows("log", [{"msg": "a"}, {"msg": "b"}])
    after = Rows("log", [{"msg": "b"}, {"msg": "a"}, {"msg": "a"}])
    assert format_diff(before, after).splitlines() == [
        "  table log: 1 row added",
        "    + {'msg': 'a'}",
    ]


def test_long_diffs_are_truncated_with_a_count() -> None:
    set_max_changes(3)
    text = format_diff(list(range(2)), list(range(10)))
    assert text.splitlines()[-1] == "  ... and 5 more differences (-vv shows all)"
    assert len(text.splitlines()) == 4


def test_no_limit_shows_everything() -> None:
    set_max_changes(None)
    assert len(format_diff([], list(range(50))).splitlines()) == 50


def test_leaf_objects_show_both_reprs() -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    assert format_diff({"x": Opaque()}, {"x": Opaque()}) == "  ~ ['x']: <opaque> -> <opaque>"


def test_unequal_without_structural_difference_shows_both_reprs() -> None:
    class Versioned(dict[str, int]):
        """Equal items, but compared by something the diff cannot see."""

        def __eq__(self, other: object) -> bool:
            return False

        __hash__ = None  # type: ignore[assignment]

    text = format_diff(Versioned(a=1), Versioned(a=1))
    assert text == "  before: {'a': 1}\n  after:  {'a': 1}"

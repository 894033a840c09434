"""Scheduling sites: every place work is handed off to run later, one model for all queues.

A site separates the callable from its arguments (a `functools.partial` around the
callable is opened, its bound arguments become task arguments) and knows its mechanism.
Receivers are resolved by type, never by method name alone: `progress.add_task(...)`
from rich is not a site, `background_tasks.add_task(...)` on a `BackgroundTasks` is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import libcst as cst

from fastapi_task_lint.semantics import names
from fastapi_task_lint.semantics.byte_filters import ByteFilter, byte_filter, register
from fastapi_task_lint.semantics.functions import CallInfo, FunctionInfo, ParamInfo
from fastapi_task_lint.semantics.observations import RunGlobal, register_global
from fastapi_task_lint.semantics.scope import BindingKind, Scope

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel
    from fastapi_task_lint.semantics.project import ProjectIndex


class Mechanism(Enum):
    BACKGROUND_TASKS = "BackgroundTasks"
    BACKGROUND_TASK = "BackgroundTask"
    CELERY = "Celery"
    ARQ = "ARQ"
    RQ = "RQ"
    DRAMATIQ = "Dramatiq"
    TASKIQ = "Taskiq"
    APSCHEDULER = "APScheduler"

    @property
    def with_article(self) -> str:
        """`a Celery`, `an ARQ`, `an RQ`: the name after the article it is read with."""
        name = self.value
        spelled = name.isupper() and name[0] in "AEFHILMNORSX"  # letter by letter
        return f"an {name}" if spelled else f"a {name}"

    @property
    def kind(self) -> str:
        """`in-process`, `durable` (a broker keeps the job) or `scheduler`."""
        if self in (Mechanism.BACKGROUND_TASKS, Mechanism.BACKGROUND_TASK):
            return "in-process"
        if self is Mechanism.APSCHEDULER:
            return "scheduler"
        return "durable"

    @property
    def in_process(self) -> bool:
        return self.kind == "in-process"


@dataclass(frozen=True)
class TaskArgument:
    """An argument the task will receive; `star` is "", "*" or "**"."""

    value: cst.BaseExpression
    keyword: str | None = None
    star: str = ""


def bind_call_arguments(
    function: FunctionInfo, func: cst.BaseExpression, args: Sequence[cst.Arg]
) -> dict[str, list[TaskArgument]]:
    """`bind_arguments` of a call `func(*args)` of `function`: a method called through an
    attribute (`obj.method(...)`) gets the object as its first parameter."""
    through_instance = function.klass is not None and isinstance(func, cst.Attribute)
    return bind_arguments(function, args, through_instance)


def bind_arguments(
    function: FunctionInfo, args: Sequence[cst.Arg], bound_self: bool = False
) -> dict[str, list[TaskArgument]]:
    """What each parameter of `function` receives from a call's `args` (`*args` may get
    several).

    `bound_self`: the call goes through an instance (`self.schedule(...)`), which fills
    the first parameter.
    """
    node = function.node
    positional = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
    positional = positional[1:] if bound_self else positional
    star = next((p.name for p in function.params if p.star == "*"), None)
    double = next((p.name for p in function.params if p.star == "**"), None)
    named = {p.name for p in function.params if not p.star}
    bound: dict[str, list[TaskArgument]] = {}
    index = 0
    for arg in args:
        if arg.keyword is not None:
            name = arg.keyword.value
            if name in named:
                bound.setdefault(name, []).append(TaskArgument(arg.value))
            elif double is not None:
                bound.setdefault(double, []).append(TaskArgument(arg.value, name))
        elif arg.star == "**":
            if double is not None:
                bound.setdefault(double, []).append(TaskArgument(arg.value, None, "**"))
        elif arg.star == "*" or index >= len(positional):
            # Once a `*xs` is unpacked, positions are unknown: the rest go to `*args`.
            index = len(positional)
            if star is not None:
                bound.setdefault(star, []).append(TaskArgument(arg.value, None, str(arg.star)))
        else:
            bound.setdefault(positional[index], []).append(TaskArgument(arg.value))
            index += 1
    return bound


def hands_none(bound: dict[str, list[TaskArgument]], param: ParamInfo) -> bool:
    """Whether a call whose arguments bind as `bound` (`bind_arguments`) gives `param`
    None: it passes `None`, or leaves out a parameter whose default is `None`."""
    given = bound.get(param.name)
    if given is None:
        return names.is_none(param.default)
    return len(given) == 1 and not given[0].star and names.is_none(given[0].value)


@dataclass(eq=False)
class SchedulingSite:
    call: CallInfo
    mechanism: Mechanism
    api: str
    callable: cst.BaseExpression | None
    arguments: list[TaskArgument] = field(default_factory=list)
    partial: cst.Call | None = None
    task_name: str | None = None
    # For a call of a project helper that schedules its parameters (`run_later(bg, f, x)`):
    # says where the helper hands them over. A function, so that the helper module's
    # positions are computed only when a message needs them.
    helper_site: Callable[[], str] | None = None
    # Where a partial's wrapped callable is evaluated, once `open_partial` made it `callable`.
    callable_position: tuple[Scope, int | None] | None = None

    @property
    def node(self) -> cst.Call:
        return self.call.node

    @property
    def scope(self) -> Scope:
        return self.call.scope

    @property
    def order(self) -> int:
        return self.call.order

    @property
    def callable_scope(self) -> Scope:
        """Where `callable`'s names are resolved: the partial's position once it is opened
        (`open_partial`), else the call's."""
        return self.callable_position[0] if self.callable_position else self.call.scope

    @property
    def callable_order(self) -> int | None:
        return self.callable_position[1] if self.callable_position else self.call.order

    @property
    def function(self) -> FunctionInfo | None:
        """The function that contains the site."""
        return self.call.scope.enclosing_function()

    def describe(self, model: ModuleModel) -> str:
        """How the site reads in the user's code, e.g. `background_tasks.add_task`."""
        return model.code_for(self.node.func)

    @property
    def via(self) -> str | None:
        """E.g. "`bg.add_task` in `run_later` at app/util.py:12", for helper calls."""
        return self.helper_site() if self.helper_site is not None else None

    def reference(self, model: ModuleModel) -> str:
        """The site quoted for a message, with the helper's own site when there is one."""
        own = f"`{self.describe(model)}`"
        via = self.via
        return f"{own} (which calls {via})" if via else own


_CELERY_TASK_DECORATORS = frozenset({"celery.shared_task", "celery.Celery.task"})
_DRAMATIQ_DECORATORS = frozenset({"dramatiq.actor"})
_RQ_DECORATORS = frozenset({"rq.decorators.job"})  # `@job(queue)`: the function gets `.delay`


def find_scheduling_sites(model: ModuleModel) -> list[SchedulingSite]:
    """The sites written in the module and the calls of project helpers that schedule."""
    from fastapi_task_lint.semantics.wrappers import wrapper_sites

    sites = [*direct_sites(model), *wrapper_sites(model)]
    return sorted(sites, key=lambda site: site.order)


_DIRECT_SITES: WeakKeyDictionary[ModuleModel, list[SchedulingSite]] = WeakKeyDictionary()


def direct_sites(model: ModuleModel) -> list[SchedulingSite]:
    """The sites written in the module itself (`add_task(...)`, `.delay(...)`), cached."""
    cached = _DIRECT_SITES.get(model)
    if cached is None:
        finder = _SiteFinder(model)
        cached = [site for call in model.calls if (site := finder.classify(call)) is not None]
        _DIRECT_SITES[model] = cached
    return cached


class _SiteFinder:
    def __init__(self, model: ModuleModel) -> None:
        self.model = model
        self.imports = _imported_roots(model)

    def classify(self, call: CallInfo) -> SchedulingSite | None:
        func = call.node.func
        if isinstance(func, cst.Attribute):
            site = self._method_site(call, func.value, func.attr.value)
            if site is not None:
                return site
        qualname = self.model.resolve_call(call)
        if qualname == names.BACKGROUND_TASK:
            return self._site(call, Mechanism.BACKGROUND_TASK, "BackgroundTask", call.node.args, 0)
        if qualname == "celery.signature":
            return self._from_signature(call)
        return None

    def _method_site(
        self, call: CallInfo, receiver: cst.BaseExpression, method: str
    ) -> SchedulingSite | None:
        args = call.node.args
        if method == "add_task":
            if self._receiver_is(call, receiver, {names.BACKGROUND_TASKS}):
                return self._site(call, Mechanism.BACKGROUND_TASKS, method, args, 0)
            return None
        if method in (
            "delay",
            "apply_async",
            "delay_on_commit",
            "apply_async_on_commit",
            "s",
            "si",
            "signature",
            "send",
            "send_with_options",
            "kiq",
        ):
            return self._task_object_site(call, receiver, method)
        if method == "send_task":
            if self._receiver_is(call, receiver, {"celery.Celery"}, fallback_root="celery"):
                return self._named_site(call, Mechanism.CELERY, method)
            return None
        if method == "enqueue_job":
            if self._receiver_is(call, receiver, {"arq.connections.ArqRedis"}, fallback_root="arq"):
                return self._named_site(call, Mechanism.ARQ, method)
            return None
        if method in ("enqueue", "enqueue_call", "enqueue_at", "enqueue_in"):
            if self._receiver_is(call, receiver, {"rq.Queue"}, fallback_root="rq"):
                return self._rq_site(call, method)
            return None
        if method in ("add_job", "add_schedule"):
            type_ref = self.model.infer_type(receiver, call.scope, call.order)
            if type_ref is not None and any(
                a.startswith("apscheduler.") for a in self.model.ancestors(type_ref.qualname)
            ):
                return self._site(
                    call, Mechanism.APSCHEDULER, method, args, 0, args_kw="args", kwargs_kw="kwargs"
                )
        return None

    def _receiver_is(
        self,
        call: CallInfo,
        receiver: cst.BaseExpression,
        targets: set[str],
        fallback_root: str | None = None,
    ) -> bool:
        type_ref = self.model.infer_type(receiver, call.scope, call.order)
        if type_ref is not None:
            return self.model.is_instance(type_ref, targets)
        # An untyped receiver (`request.app.state.redis`) counts only in a module that
        # imports the queue library: its method names are then unambiguous.
        return fallback_root is not None and fallback_root in self.imports

    def _task_object_site(
        self, call: CallInfo, receiver: cst.BaseExpression, method: str
    ) -> SchedulingSite | None:
        mechanism = task_object_mechanism(self.model, receiver, call.scope, call.order)
        if mechanism is None:
            return None
        allowed = {
            Mechanism.CELERY: (
                "delay",
                "apply_async",
                *_ON_COMMIT,
                "s",
                "si",
                "signature",
            ),
            Mechanism.DRAMATIQ: ("send", "send_with_options"),
            Mechanism.TASKIQ: ("kiq",),
            Mechanism.RQ: ("delay",),
        }.get(mechanism, ())
        if method not in allowed:
            return None
        args = call.node.args
        if method in ("apply_async", "apply_async_on_commit", "signature", "send_with_options"):
            return self._packed_site(call, mechanism, method, receiver, args)
        return _make_site(call, mechanism, method, receiver, list(args))

    def _packed_site(
        self,
        call: CallInfo,
        mechanism: Mechanism,
        method: str,
        receiver: cst.BaseExpression,
        args: Sequence[cst.Arg],
    ) -> SchedulingSite:
        """`apply_async(args=[...], kwargs={...})` and friends: unpack literal containers."""
        positional = [a for a in args if a.keyword is None and not a.star]
        keyword = {a.keyword.value: a.value for a in args if a.keyword is not None}
        packed_args = keyword.get("args", positional[0].value if positional else None)
        packed_kwargs = keyword.get("kwargs", positional[1].value if len(positional) > 1 else None)
        return SchedulingSite(
            call, mechanism, method, receiver, _unpack(packed_args, packed_kwargs)
        )

    def _from_signature(self, call: CallInfo) -> SchedulingSite | None:
        args = call.node.args
        if not args or args[0].keyword is not None:
            return None
        target = args[0].value
        return self._packed_site(call, Mechanism.CELERY, "signature", target, list(args[1:]))

    def _named_site(self, call: CallInfo, mechanism: Mechanism, method: str) -> SchedulingSite:
        """A job named by string (`send_task("x", args=[...])`, `enqueue_job("x", a)`)."""
        args = list(call.node.args)
        name = args[0].value if args and args[0].keyword is None else None
        task_name = name.evaluated_value if isinstance(name, cst.SimpleString) else None
        rest = args[1:] if name is not None else args
        if mechanism is Mechanism.CELERY:
            site = self._packed_site(call, mechanism, method, name or call.node.func, rest)
            site.callable = None
        else:
            site = SchedulingSite(call, mechanism, method, None, _plain_arguments(rest))
        site.task_name = task_name if isinstance(task_name, str) else None
        return site

    def _rq_site(self, call: CallInfo, method: str) -> SchedulingSite | None:
        args = list(call.node.args)
        if method == "enqueue_call":
            keyword = {a.keyword.value: a.value for a in args if a.keyword is not None}
            positional = [a for a in args if a.keyword is None]
            func = keyword.get("func", positional[0].value if positional else None)
            site = SchedulingSite(
                call,
                Mechanism.RQ,
                method,
                func,
                _unpack(keyword.get("args"), keyword.get("kwargs")),
            )
            return open_partial(self.model, site)
        skip = 1 if method in ("enqueue_at", "enqueue_in") else 0
        return self._site(call, Mechanism.RQ, method, args, skip)

    def _site(
        self,
        call: CallInfo,
        mechanism: Mechanism,
        api: str,
        args: Sequence[cst.Arg],
        skip: int,
        args_kw: str | None = None,
        kwargs_kw: str | None = None,
    ) -> SchedulingSite | None:
        """A site whose callable is the first positional argument after `skip` others."""
        positional = [a for a in args if a.keyword is None and not a.star]
        func_kw = {"BackgroundTask": "func", "add_task": "func", "add_job": "func"}.get(api)
        keyword = {a.keyword.value: a for a in args if a.keyword is not None}
        if len(positional) > skip:
            target: cst.BaseExpression | None = positional[skip].value
            rest = [a for a in args if a is not positional[skip] and a not in positional[:skip]]
        elif func_kw and func_kw in keyword:
            target = keyword[func_kw].value
            rest = [a for a in args if a is not keyword[func_kw]]
        else:
            return None
        if args_kw is not None:
            # APScheduler: positional arguments after the callable are the trigger etc.
            site = SchedulingSite(
                call,
                mechanism,
                api,
                target,
                _unpack(
                    keyword[args_kw].value if args_kw in keyword else None,
                    keyword[kwargs_kw].value if kwargs_kw and kwargs_kw in keyword else None,
                ),
            )
        else:
            site = SchedulingSite(call, mechanism, api, target, _plain_arguments(rest))
        return open_partial(self.model, site)


def _make_site(
    call: CallInfo,
    mechanism: Mechanism,
    api: str,
    target: cst.BaseExpression,
    args: list[cst.Arg],
) -> SchedulingSite:
    return SchedulingSite(call, mechanism, api, target, _plain_arguments(args))


def _plain_arguments(args: Sequence[cst.Arg]) -> list[TaskArgument]:
    return [
        TaskArgument(a.value, a.keyword.value if a.keyword else None, str(a.star)) for a in args
    ]


def _unpack(
    packed_args: cst.BaseExpression | None, packed_kwargs: cst.BaseExpression | None
) -> list[TaskArgument]:
    """Arguments from literal `args=[...]`/`kwargs={...}`; anything else stays one value."""
    result: list[TaskArgument] = []
    if isinstance(packed_args, (cst.List, cst.Tuple)):
        for item in packed_args.elements:
            star = "*" if isinstance(item, cst.StarredElement) else ""
            result.append(TaskArgument(item.value, None, star))
    elif packed_args is not None:
        result.append(TaskArgument(packed_args, None, "*"))
    if isinstance(packed_kwargs, cst.Dict):
        for element in packed_kwargs.elements:
            if isinstance(element, cst.DictElement):
                key = element.key
                name = key.evaluated_value if isinstance(key, cst.SimpleString) else None
                result.append(TaskArgument(element.value, name if isinstance(name, str) else None))
            else:
                result.append(TaskArgument(element.value, None, "**"))
    elif packed_kwargs is not None:
        result.append(TaskArgument(packed_kwargs, None, "**"))
    return result


@dataclass(frozen=True)
class Partial:
    """`partial(wrapped, *arguments)`, and where it is evaluated: the wrapped callable's names
    are resolved there, not where the partial is used (`fn = partial(fn, x)` wraps the `fn`
    bound before it)."""

    call: cst.Call
    wrapped: cst.BaseExpression
    arguments: list[TaskArgument]
    scope: Scope
    order: int | None


def partial_parts(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None
) -> Partial | None:
    """The partial that `expr` is or names."""
    if isinstance(expr, cst.Name):
        assigned = model.assigned_value(expr, scope, order)
        if assigned is not None and isinstance(assigned[0], cst.Call):
            return partial_parts(model, *assigned)
        return None
    if not isinstance(expr, cst.Call):
        return None
    if model.qualified_name(expr.func, scope, order) != names.PARTIAL or not expr.args:
        return None
    first = expr.args[0]
    if first.keyword is not None or first.star:
        return None
    return Partial(expr, first.value, _plain_arguments(list(expr.args[1:])), scope, order)


def open_partial(model: ModuleModel, site: SchedulingSite) -> SchedulingSite:
    if site.callable is None:
        return site
    parts = partial_parts(model, site.callable, site.scope, site.order)
    if parts is not None:
        site.partial, site.callable = parts.call, parts.wrapped
        site.callable_position = parts.scope, parts.order
        site.arguments = [*parts.arguments, *site.arguments]
    return site


def task_object_mechanism(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None
) -> Mechanism | None:
    """The queue a decorated task object belongs to (`@app.task`, `@actor`, ...)."""
    found = task_object(model, expr, scope, order)
    return decorator_mechanism(*found) if found is not None else None


def task_object(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None
) -> tuple[ModuleModel, FunctionInfo] | None:
    """The project function `expr` names, in whichever module of the run defines it."""
    qualname = model.qualified_name(expr, scope, order)
    return model.project.resolve_function(qualname) if qualname is not None else None


def decorator_mechanism(model: ModuleModel, function: FunctionInfo) -> Mechanism | None:
    """Which durable queue a function's decorator registers it with, if any."""
    found = task_decorator(model, function)
    return found[1] if found else None


def task_decorator(
    model: ModuleModel, function: FunctionInfo
) -> tuple[cst.BaseExpression, Mechanism] | None:
    """The decorator that registers `function` with a durable queue, and the queue."""
    for decorator in function.decorators:
        target = decorator.func if isinstance(decorator, cst.Call) else decorator
        qualname = model.qualified_name(target, function.parent_scope)
        if qualname in _CELERY_TASK_DECORATORS:
            return decorator, Mechanism.CELERY
        if qualname in _DRAMATIQ_DECORATORS:
            return decorator, Mechanism.DRAMATIQ
        if qualname in _RQ_DECORATORS:
            return decorator, Mechanism.RQ
        if isinstance(target, cst.Attribute):
            receiver_type = model.infer_type(target.value, function.parent_scope)
            if receiver_type is None:
                continue
            ancestors = model.ancestors(receiver_type.qualname)
            if target.attr.value == "task" and "celery.Celery" in ancestors:
                return decorator, Mechanism.CELERY
            if target.attr.value == "task" and any(a.startswith("taskiq") for a in ancestors):
                return decorator, Mechanism.TASKIQ
            if target.attr.value == "actor" and any(a.startswith("dramatiq") for a in ancestors):
                return decorator, Mechanism.DRAMATIQ
    return None


def _imported_roots(model: ModuleModel) -> set[str]:
    roots: set[str] = set()
    for bindings in model.module_scope.bindings.values():
        for binding in bindings:
            if binding.kind is BindingKind.IMPORT and binding.imported:
                roots.add(binding.imported.split(".", 1)[0])
    return roots


def may_schedule(data: bytes) -> bool:
    """The finer prefilter for scheduling sites, after `SITE_TRIGGERS`.

    A site is a call of one of the methods `_SiteFinder` knows (`.delay(`, `.send(`, with
    the spacing Python allows), `BackgroundTask(...)`, or Celery's `signature(...)`: the
    words alone (`retry_delay=`, "the function's signature") are not enough.
    """
    return _may_schedule(data, _SITE_METHOD)


def site_filter(project: ProjectIndex) -> ByteFilter:
    """`may_schedule` for the run: without the methods of queue libraries it never names.

    `.send(...)` is a site only on a Dramatiq actor and `.kiq(...)` on a Taskiq task: a
    function whose decorator resolves to `dramatiq.*`/`taskiq.*`, which takes an import of
    that library in some module of the run. `.add_job(...)` is one only on a scheduler whose
    class has an `apscheduler.*` ancestor. In a run that never spells the library's name,
    those calls (websockets, sockets, generators send too; job queues of other libraries)
    are no sites and their modules need no parse.
    """

    def build() -> ByteFilter:
        named = libraries_named(project)
        dropped = (
            m for lib, methods in _LIBRARY_METHODS.items() if lib not in named for m in methods
        )
        return byte_filter("sites", tuple(dropped))

    return project.memo(f"{__name__}.site_filter", build)


def libraries_named(project: ProjectIndex) -> frozenset[str]:
    """The libraries of `_LIBRARY_METHODS` (queues, APScheduler) that some module of the run
    spells, or is part of."""
    return frozenset(project.run_global("libraries").split())


def _libraries_in(module: str, data: bytes) -> Iterator[str]:
    for library in _LIBRARY_NAMES:
        if library.encode() in data or f"{module}.".startswith(f"{library}."):
            yield library


def sites_without(*dropped: str) -> Callable[[bytes], bool]:
    """`may_schedule` without the site methods `dropped` (see `site_filter`)."""
    if not dropped:
        return may_schedule
    pattern = _site_method_pattern([m for m in _SITE_METHODS if m not in dropped])
    return lambda data: _may_schedule(data, pattern)


def _may_schedule(data: bytes, methods: re.Pattern[bytes]) -> bool:
    return (
        methods.search(data) is not None
        or b"BackgroundTask" in data
        or (b"celery" in data and b"signature" in data)
    )


# Celery 5.4's `DjangoTask`: the same submission, sent once the transaction commits.
_ON_COMMIT = ("delay_on_commit", "apply_async_on_commit")
_SITE_METHODS = (
    "add_task",
    "add_job",
    "add_schedule",
    "apply_async",
    "delay",
    *_ON_COMMIT,
    "enqueue",
    "enqueue_at",
    "enqueue_call",
    "enqueue_in",
    "enqueue_job",
    "kiq",
    "s",
    "send",
    "send_task",
    "send_with_options",
    "si",
    "signature",
)
# Methods that are sites only on a task (or scheduler) of one library (see `site_filter`).
_LIBRARY_METHODS = {
    "apscheduler": ("add_job", "add_schedule"),
    "dramatiq": ("send", "send_with_options"),
    "taskiq": ("kiq",),
}
_LIBRARY_NAMES = tuple(_LIBRARY_METHODS)
register("sites", sites_without)
register_global("libraries", RunGlobal(_libraries_in, lambda named: " ".join(sorted(named))))


def _site_method_pattern(methods: Sequence[str]) -> re.Pattern[bytes]:
    return re.compile(rb"\.\s*(?:" + "|".join(methods).encode() + rb")\b")


_SITE_METHOD = _site_method_pattern(_SITE_METHODS)

# A file without one of these strings has no scheduling site (the rules' prefilter).
SITE_TRIGGERS: tuple[bytes, ...] = (
    b"add_task",
    b"BackgroundTask",
    b"delay",
    b"apply_async",
    b"send_task",
    b"signature",
    b".s(",
    b".si(",
    b"enqueue",
    b".send",
    b"kiq",
    b"add_job",
    b"add_schedule",
)

"""APScheduler schedulers (3.x and 4.x): where they are built, started and given jobs.

A scheduler is known by the class of its receiver (`model.infer_type`, project subclasses
included), never by a variable name. The class decides how jobs run: the 3.x thread,
gevent, twisted and Qt schedulers call the job function and never await what it returns.
Shutdowns are matched with starts by `lifespan.release_calls`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import libcst as cst

from fastapi_task_lint.semantics.byte_filters import static_filter
from fastapi_task_lint.semantics.callgraph import resolve_function_ref
from fastapi_task_lint.semantics.functions import CallInfo, FunctionInfo
from fastapi_task_lint.semantics.lifespan import object_key
from fastapi_task_lint.semantics.model import TypeRef
from fastapi_task_lint.semantics.scheduling import Mechanism, direct_sites, libraries_named
from fastapi_task_lint.semantics.scope import BindingKind, Scope
from fastapi_task_lint.semantics.walk import walk

if TYPE_CHECKING:
    from pathlib import Path

    from fastapi_task_lint.semantics.model import ModuleModel
    from fastapi_task_lint.semantics.project import ProjectIndex


class SchedulerKind(Enum):
    THREAD = "thread"  # 3.x: runs jobs in worker threads or greenlets, never awaits them
    BLOCKING = "blocking"  # 3.x BlockingScheduler: start() runs the scheduler in this thread
    EVENT_LOOP = "event-loop"  # 3.x asyncio/tornado: awaits coroutine jobs on the loop
    V4 = "v4"  # 4.x Scheduler/AsyncScheduler: async-aware, a context manager


SCHEDULER_CLASSES: dict[str, SchedulerKind] = {
    "apscheduler.schedulers.background.BackgroundScheduler": SchedulerKind.THREAD,
    "apscheduler.schedulers.gevent.GeventScheduler": SchedulerKind.THREAD,
    "apscheduler.schedulers.twisted.TwistedScheduler": SchedulerKind.THREAD,
    "apscheduler.schedulers.qt.QtScheduler": SchedulerKind.THREAD,
    "apscheduler.schedulers.blocking.BlockingScheduler": SchedulerKind.BLOCKING,
    "apscheduler.schedulers.asyncio.AsyncIOScheduler": SchedulerKind.EVENT_LOOP,
    "apscheduler.schedulers.tornado.TornadoScheduler": SchedulerKind.EVENT_LOOP,
    "apscheduler.Scheduler": SchedulerKind.V4,
    "apscheduler.AsyncScheduler": SchedulerKind.V4,
    "apscheduler._schedulers.sync.Scheduler": SchedulerKind.V4,
    "apscheduler._schedulers.async_.AsyncScheduler": SchedulerKind.V4,
}
START_METHODS = frozenset({"start", "start_in_background", "run_until_stopped"})
STOP_METHODS = frozenset({"shutdown", "stop"})
# A file without a match starts no scheduler (`.start(`, also split over lines).
_START = re.compile(rb"\.\s*(?:" + "|".join(sorted(START_METHODS)).encode() + rb")\b")
_START_BYTES = tuple(method.encode() for method in sorted(START_METHODS))


def may_start_scheduler(data: bytes) -> bool:
    """The prefilter of rules about scheduler starts: does this file name a start method?

    Substring tests first: the regex scans every dot of the file."""
    return any(method in data for method in _START_BYTES) and _START.search(data) is not None


_STARTS = static_filter("scheduler starts", may_start_scheduler)


def may_start_scheduler_in(project: ProjectIndex, path: Path, data: bytes) -> bool:
    """`may_start_scheduler` of `data`, the bytes of `path`, answered once (three rules ask)."""
    return project.accepts(path, data, _STARTS)


# A module that defines a scheduler subclass imports apscheduler.
_MARKER = b"apscheduler"


def may_hold_schedulers(data: bytes, project: ProjectIndex) -> bool:
    """Whether a scheduler can be found in the file with bytes `data`.

    A scheduler is known by an APScheduler class, reached through imports that spell
    `apscheduler`. In a run where no module does, a `.start()` or `add_job(...)` is some
    other object's, and its file needs no parse for the scheduler rules.
    """
    return _MARKER in data or "apscheduler" in libraries_named(project)


@dataclass(frozen=True)
class SchedulerType:
    qualname: str  # the APScheduler class, e.g. apscheduler.schedulers.background.Background...
    kind: SchedulerKind

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class SchedulerCall:
    """`<scheduler>.start()` (and the 4.x spellings)."""

    call: CallInfo
    receiver: cst.BaseExpression
    type: SchedulerType
    method: str
    # Inside `with`/`async with` of the same scheduler: its exit stops it.
    managed: bool

    @property
    def blocks(self) -> bool:
        """The call runs the scheduler in this thread until it is shut down."""
        return self.type.kind is SchedulerKind.BLOCKING or self.method == "run_until_stopped"


@dataclass(frozen=True)
class SchedulerJob:
    """A job registered with `add_job`/`add_schedule` or `@scheduler.scheduled_job(...)`."""

    node: cst.CSTNode  # the registering call, or the decorator
    target: cst.BaseExpression  # the job callable as written (the decorated def's name)
    function: FunctionInfo | None  # the project function the job runs, when visible
    type: SchedulerType
    executor: cst.BaseExpression | None  # `executor=...` when given
    decorator: bool = False  # `node` is a `@scheduled_job(...)` decorator


@dataclass(frozen=True)
class Construction:
    call: CallInfo
    type: SchedulerType


@dataclass
class Schedulers:
    """The module's scheduler facts; jobs are looked up on first use."""

    model: ModuleModel
    constructions: list[Construction]
    starts: list[SchedulerCall]

    @cached_property
    def jobs(self) -> list[SchedulerJob]:
        return _jobs(self.model)


_CACHE: WeakKeyDictionary[ModuleModel, Schedulers] = WeakKeyDictionary()


def schedulers(model: ModuleModel) -> Schedulers:
    """The module's scheduler facts, computed once."""
    found = _CACHE.get(model)
    if found is None:
        found = _CACHE[model] = _find(model)
    return found


def scheduler_type(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None
) -> SchedulerType | None:
    """The APScheduler class of the value of `expr`, when it is a scheduler.

    `app.state.scheduler` and `self.scheduler` take the type of what the module assigns to
    them (`app.state.scheduler = BackgroundScheduler()`).
    """
    found = _value_type(model, expr, scope, order)
    if found is None and isinstance(expr, cst.Attribute):
        key = object_key(model, expr, scope, order)
        for value, owner in _attribute_values(model).get(key or "", ()):
            found = found or _value_type(model, value, owner, None)
    return found


def _value_type(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None
) -> SchedulerType | None:
    declared = model.infer_type(expr, scope, order)
    return _classify(model, declared or _returned_type(model, expr, scope, order))


_ASSIGNED: WeakKeyDictionary[ModuleModel, dict[str, list[tuple[cst.BaseExpression, Scope]]]] = (
    WeakKeyDictionary()
)


def _attribute_values(model: ModuleModel) -> dict[str, list[tuple[cst.BaseExpression, Scope]]]:
    """What the module assigns to attributes (`app.state.x = ...`), by the attribute's key."""
    cached = _ASSIGNED.get(model)
    if cached is None:
        collector = _AttributeAssignments()
        walk(model.tree, collector)
        cached = {}
        for target, value, owner in collector.found:
            scope = model.scope_for_node(owner) or model.module_scope
            key = object_key(model, target, scope, None)
            if key is not None:
                cached.setdefault(key, []).append((value, scope))
        _ASSIGNED[model] = cached
    return cached


class _AttributeAssignments(cst.CSTVisitor):
    """`a.b = value` statements, with the innermost def (or module) around each."""

    def __init__(self) -> None:
        self.owners: list[cst.CSTNode] = []
        self.found: list[tuple[cst.Attribute, cst.BaseExpression, cst.CSTNode]] = []

    def visit_Module(self, node: cst.Module) -> None:
        self.owners.append(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.owners.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.owners.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Attribute):
                self.found.append((target.target, node.value, self.owners[-1]))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Attribute) and node.value is not None:
            self.found.append((node.target, node.value, self.owners[-1]))


def _classify(model: ModuleModel, type_ref: TypeRef | None) -> SchedulerType | None:
    if type_ref is None or type_ref.container:
        return None
    for ancestor in sorted(model.ancestors(type_ref.qualname)):
        kind = SCHEDULER_CLASSES.get(ancestor)
        if kind is not None:
            return SchedulerType(ancestor, kind)
    return None


def _returned_type(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None
) -> TypeRef | None:
    """`s = make_scheduler()` where the unannotated factory returns a scheduler it built."""
    if isinstance(expr, cst.Name):
        binding = scope.lookup(expr.value, order)
        if binding is None or binding.kind is not BindingKind.ASSIGN or binding.value is None:
            return None
        owner = model.scope_of_binding(binding)
        return _returned_type(model, binding.value, owner, binding.order)
    if not isinstance(expr, cst.Call):
        return None
    qualname = model.qualified_name(expr.func, scope, order)
    found = model.project.resolve_function(qualname) if qualname else None
    if found is None:
        return None
    owner_model, function = found
    for value in function.return_values:
        if value is not None:
            type_ref = owner_model.infer_type(value, function.scope)
            if type_ref is not None:
                return type_ref
    return None


def _find(model: ModuleModel) -> Schedulers:
    constructions: list[Construction] = []
    starts: list[SchedulerCall] = []
    for call in model.calls:
        func = call.node.func
        qualname = model.qualified_name(func, call.scope, call.order)
        if qualname is not None and _may_be_class(model, qualname):
            built = _classify(model, TypeRef(qualname))
            if built is not None:
                constructions.append(Construction(call, built))
                continue
        if not isinstance(func, cst.Attribute):
            continue
        method = func.attr.value
        if method not in START_METHODS:
            continue
        found = scheduler_type(model, func.value, call.scope, call.order)
        if found is None:
            continue
        managed = _managed(model, func.value, call.scope, call.order)
        entry = SchedulerCall(call, func.value, found, method, managed)
        starts.append(entry)
    return Schedulers(model, constructions, starts)


def _may_be_class(model: ModuleModel, qualname: str) -> bool:
    """Cheap gate before resolving: an APScheduler name or a project scheduler subclass's."""
    if qualname.startswith("apscheduler."):
        return True
    return qualname.rsplit(".", 1)[-1] in scheduler_subclasses(model.project)


def scheduler_subclasses(project: ProjectIndex) -> frozenset[str]:
    """Names of the project's scheduler subclasses (their modules mention apscheduler)."""

    def compute() -> frozenset[str]:
        return frozenset(
            klass.name
            for model in project.models((_MARKER,))
            for klass in model.classes
            if _classify(model, TypeRef(klass.qualname)) is not None
        )

    return project.memo("schedulers.subclass-names", compute)


def _managed(model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None) -> bool:
    if not isinstance(expr, cst.Name):
        return False
    binding = scope.lookup(expr.value, order)
    return binding is not None and binding.kind is BindingKind.WITH


def _jobs(model: ModuleModel) -> list[SchedulerJob]:
    jobs: list[SchedulerJob] = []
    for site in direct_sites(model):  # `add_job` is never behind a project wrapper
        func = site.node.func
        if site.mechanism is not Mechanism.APSCHEDULER or site.callable is None:
            continue
        if not isinstance(func, cst.Attribute):
            continue
        found = scheduler_type(model, func.value, site.scope, site.order)
        if found is None:
            continue
        jobs.append(
            SchedulerJob(
                site.node,
                site.callable,
                _function(model, site.callable, site.callable_scope, site.callable_order),
                found,
                _keyword(site.node, "executor"),
            )
        )
    for function in model.functions:
        for decorator in function.decorators:
            if not isinstance(decorator, cst.Call):
                continue
            func = decorator.func
            if not isinstance(func, cst.Attribute) or func.attr.value != "scheduled_job":
                continue
            found = scheduler_type(model, func.value, function.parent_scope, None)
            if found is not None:
                jobs.append(
                    SchedulerJob(
                        decorator,
                        function.node.name if isinstance(function.node, cst.FunctionDef) else func,
                        function,
                        found,
                        _keyword(decorator, "executor"),
                        decorator=True,
                    )
                )
    return jobs


def _function(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None
) -> FunctionInfo | None:
    """The project function (or method) a job callable names."""
    target = resolve_function_ref(model, expr, scope, order)
    return target.function if target is not None else None


def _keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    return next((a.value for a in call.args if a.keyword and a.keyword.value == name), None)

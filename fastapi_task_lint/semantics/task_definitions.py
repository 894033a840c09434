"""Which `def`s of the run are tasks, and how each one is launched.

Rules about a task's body (FTL201-FTL205) run on the file that defines the task and
ask here whether a function is scheduled anywhere in the run. The answer comes from one
scan per project of the files that can contain a scheduling site (a byte prefilter,
then their models): BackgroundTasks/BackgroundTask, Celery, RQ, Dramatiq, Taskiq and
APScheduler sites, `asyncio.create_task(coro())`, `run_coroutine_threadsafe(coro(), loop)`
and task groups, ARQ `WorkerSettings.functions`/`cron_jobs`, `@scheduler.scheduled_job`,
and helpers that forward a parameter to one of those (`run_later(background_tasks, func,
*args)`). A callable is followed to its definition through `functools.partial`,
re-exports, nested defs, the nested def a project factory returns
(`add_task(make_task(run_id))`) and methods of the receiver's class (`self.render`,
`service.release_stock`).
Decorated queue tasks (`@app.task`, `@broker.task`, `@dramatiq.actor`) need no scan.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics import names
from fastapi_task_lint.semantics.asyncio_tasks import on_new_loop
from fastapi_task_lint.semantics.byte_filters import (
    ByteFilter,
    byte_filter,
    register,
    static_filter,
)
from fastapi_task_lint.semantics.callgraph import Target, resolve_callee, resolve_function_ref
from fastapi_task_lint.semantics.calls import made_function
from fastapi_task_lint.semantics.functions import CallInfo, FunctionInfo, ParamInfo
from fastapi_task_lint.semantics.mentions import calling, naming
from fastapi_task_lint.semantics.scheduling import (
    Mechanism,
    SchedulingSite,
    bind_call_arguments,
    decorator_mechanism,
    hands_none,
    partial_parts,
    site_filter,
    sites_without,
)
from fastapi_task_lint.semantics.scope import BindingKind, Scope
from fastapi_task_lint.semantics.uses import built_once, local_uses
from fastapi_task_lint.semantics.wrappers import own_param

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel
    from fastapi_task_lint.semantics.project import ProjectIndex

# Another thread hands a coroutine to a loop: `run_coroutine_threadsafe(coro(...), loop)`.
_THREADSAFE_FUNCTIONS = frozenset(
    {"asyncio.run_coroutine_threadsafe", "asyncio.tasks.run_coroutine_threadsafe"}
)
_SPAWN_FUNCTIONS = frozenset({"asyncio.create_task", "asyncio.ensure_future"})
_CREATE_TASK_FUNCTIONS = _SPAWN_FUNCTIONS | _THREADSAFE_FUNCTIONS
_CREATE_TASK_METHODS = frozenset({"create_task"})  # loop.create_task, TaskGroup.create_task
_START_SOON_METHODS = frozenset({"start_soon"})  # anyio / trio task groups take the callable
# What a module that starts a task by one of those spells, as written, imported or aliased.
_STARTING_TASKS = tuple(
    sorted(
        {
            name.rsplit(".", 1)[-1].encode()
            for name in _CREATE_TASK_FUNCTIONS | _CREATE_TASK_METHODS | _START_SOON_METHODS
        }
    )
)
_ARQ_WRAPPERS = frozenset({"arq.func", "arq.worker.func", "arq.cron", "arq.cron.cron"})
_ASYNCIO_SCHEDULERS = frozenset(
    {
        "apscheduler.schedulers.asyncio.AsyncIOScheduler",
        "apscheduler.AsyncScheduler",
        "apscheduler.schedulers.async_.AsyncScheduler",
    }
)
# Besides scheduling sites (`site_filter`), what the project's task scan looks for.
_SCAN_NAMES = naming(
    (
        "create_task",
        "ensure_future",
        "run_coroutine_threadsafe",
        "start_soon",
        "arq",  # WorkerSettings.functions/cron_jobs: a module importing arq ...
        "WorkerSettings",  # ... or ARQ's conventional class name
        "scheduled_job",
    )
)


@dataclass(frozen=True, eq=False)
class TaskUse:
    """One way a function is launched as a task; `mechanism` is None for asyncio tasks.

    `node` is the scheduling call (or decorator) in `model`; None for a decorated task.
    """

    mechanism: Mechanism | None
    api: str
    on_event_loop: bool
    model: ModuleModel | None = None
    node: cst.CSTNode | None = None
    # What the task is run with, when it is told as a call's arguments: `fn`'s in
    # `add_task(fn, *args)`, the coroutine call's in `create_task(coro(...))`; with the
    # expression naming the function (`fn`, `self.method`). None: not known here.
    launch: tuple[cst.BaseExpression, Sequence[cst.Arg]] | None = None
    # `loop.create_task(...)` or `run_coroutine_threadsafe(..., loop)` on a loop from
    # `asyncio.new_event_loop()`: maybe not the loop that serves requests.
    own_loop: bool = False

    @property
    def in_process(self) -> bool:
        return self.mechanism is not None and self.mechanism.in_process

    @property
    def where(self) -> str:
        """`routes/orders.py:142`, relative to the configured root when inside it."""
        if self.model is None or self.node is None:
            return ""
        path = str(self.model.path)
        try:
            relative = os.path.relpath(path, self.model.project.config.root)
        except ValueError:
            relative = path
        line = self.model.position(self.node).start.line
        return f"{path if relative.startswith('..') else relative}:{line}"

    @property
    def label(self) -> str:
        """How a message names the launch: `` `background_tasks.add_task` at routes/x.py:9 ``."""
        where = self.where
        return f"`{self.api}` at {where}" if where else f"`{self.api}`"


@dataclass
class ScheduledFunction:
    """A task's `def`; `queue` is the queue its decorator registers it with, if any."""

    model: ModuleModel
    function: FunctionInfo
    uses: list[TaskUse] = field(default_factory=list)
    queue: Mechanism | None = None

    @property
    def runs_on_event_loop(self) -> bool:
        return self.function.is_async and any(use.on_event_loop for use in self.uses)

    def uses_of(self, *mechanisms: Mechanism) -> list[TaskUse]:
        return [use for use in self.uses if use.mechanism in mechanisms]


def tasks_in(model: ModuleModel) -> list[ScheduledFunction]:
    """The functions defined in `model` that the run schedules as tasks, in source order."""
    index = task_scan(model.project)
    found: list[ScheduledFunction] = []
    for function in model.functions:
        uses = list(index.get(_key(model, function), ()))
        queue = decorator_mechanism(model, function)
        if queue is not None:
            uses.append(TaskUse(queue, f"@{queue.value} task", _on_loop(queue)))
        if uses:
            found.append(ScheduledFunction(model, function, uses, queue))
    return found


# A def in a module without a match is no queue task by its decorator alone: a decorator
# naming a task or actor (`@app.task`, `@shared_task`, `@dramatiq.actor`), one in
# parentheses or continued on the next line, or an import that renames one.
# One pattern per leading literal: the regex engine skips ahead to a literal first byte,
# where an alternation of `@`, `t` and `a` made it try most positions of every file (4x).
_NAMED_DECORATORS = (
    re.compile(rb"@[^\n]*(?:task|actor)"),
    re.compile(rb"task\s+as\s"),
    re.compile(rb"actor\s+as\s"),
)
# RQ's `@job(queue)`, as written: `job` alone is a common word in routes' paths.
_RQ_DECORATOR = re.compile(rb"@\s*(?:[\w.]+\.)?job\s*\(|\bjob\s+as\s")
_PARENTHESIZED_DECORATOR = re.compile(rb"@\s*\(")
_CONTINUED_DECORATOR = re.compile(rb"@[^\n]*\\\r?\n")


def may_define_decorated_tasks(data: bytes) -> bool:
    """The prefilter for queue tasks registered by their decorator (`@celery_app.task`).

    Substring tests first: each regex scans every decorator line to its end.
    """
    if (b"task" in data or b"actor" in data) and any(p.search(data) for p in _NAMED_DECORATORS):
        return True
    if b"job" in data and _RQ_DECORATOR.search(data) is not None:
        return True
    return _PARENTHESIZED_DECORATOR.search(data) is not None or (
        b"\\" in data and _CONTINUED_DECORATOR.search(data) is not None
    )


_SCAN_KEY = __name__
_DECORATED_TASKS = static_filter("decorated tasks", may_define_decorated_tasks)


def may_register_tasks(project: ProjectIndex, path: Path, data: bytes) -> bool:
    """`may_define_decorated_tasks` of `data`, the bytes of `path`, answered once a run."""
    return project.accepts(path, data, _DECORATED_TASKS)


def project_tasks(project: ProjectIndex) -> list[ScheduledFunction]:
    """Every task of the run: scheduled somewhere, or registered by its decorator."""
    return project.memo(f"{__name__}.all", lambda: _all_tasks(project))


def _all_tasks(project: ProjectIndex) -> list[ScheduledFunction]:
    paths = {Path(where) for where, _ in task_scan(project)}
    decorated = project.models(where=_DECORATED_TASKS)
    paths.update(model.path.absolute() for model in decorated)
    models = (project.model_for_path(path) for path in sorted(paths))
    return [task for model in models if model is not None for task in tasks_in(model)]


def defines_tasks(
    project: ProjectIndex, path: Path, launched: Callable[[TaskUse], bool] = lambda _: True
) -> bool:
    """Whether the module at `path` defines a function some site schedules as `launched` says.

    A prefilter: answered from the project's scan, before the module itself is parsed.
    """
    if project.unread(path, _SCAN_KEY):
        return False
    uses = _scanned(project).by_path.get(str(path.absolute()), ())
    return any(launched(use) for use in uses)


def _coroutine_made(first: cst.BaseExpression, call: CallInfo) -> cst.BaseExpression:
    """The coroutine call a task is started with: `run(x)` of `create_task(run(x))`, also
    through a local bound to it once (`coro = run(x)`, then `create_task(coro)`)."""
    function = call.scope.enclosing_function()
    made = built_once(function, first, call) if function is not None else None
    return made if made is not None else first


def _alternatives(
    expr: cst.BaseExpression, scope: Scope, order: int | None
) -> list[tuple[cst.BaseExpression, int | None]]:
    """What a scheduled callable may be, each with the walk order to resolve it at: every
    function a local of the scheduling function names before the site (`task = run_ssh`
    in one arm of an `if`, `task = run_local` in the other), else `expr` itself."""
    bindings = scope.bindings.get(expr.value, ()) if isinstance(expr, cst.Name) else ()
    if order is None or len(bindings) < 2 or scope.function is None:
        return [(expr, order)]
    named: list[tuple[cst.BaseExpression, int | None]] = [
        (b.value, b.order)
        for b in bindings
        if b.order < order
        and b.kind is BindingKind.ASSIGN
        and isinstance(b.value, cst.Name | cst.Attribute)
    ]
    return named if len(named) == len(bindings) else [(expr, order)]


def resolve_task(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None
) -> Target | None:
    """The `def` a scheduled callable runs: through `partial`, re-exports and methods."""
    opened: set[int] = set()  # partials opened: one can name itself where nothing came before
    parts = partial_parts(model, expr, scope, order)
    while parts is not None:
        if id(parts.call) in opened:
            return None
        opened.add(id(parts.call))
        expr, scope, order = parts.wrapped, parts.scope, parts.order
        parts = partial_parts(model, expr, scope, order)
    if isinstance(expr, cst.Lambda):
        # `lambda: send(x)` runs `send`; an async callee would only be called, not awaited.
        if isinstance(expr.body, cst.Call):
            lambda_scope = model.scope_for_node(expr) or scope
            target = resolve_function_ref(model, expr.body.func, lambda_scope, None)
            return target if target is not None and not target.function.is_async else None
        return None
    if isinstance(expr, cst.Call):  # `add_task(make_resume_task(run_id, db))`
        made = made_function(model, expr, scope, order)
        return Target(*made) if made is not None else None
    return resolve_function_ref(model, expr, scope, order)


# -- the project scan -------------------------------------------------------------------


@dataclass(frozen=True)
class _Forwarder:
    """A helper that schedules one of its parameters: `def spawn(coro): create_task(coro)`."""

    target: Target
    param: str
    position: int
    mechanism: Mechanism | None
    api: str
    coroutine: bool
    on_event_loop: bool
    own_loop: bool  # see `TaskUse.own_loop`
    # `bg` of `bg.add_task(task)` when it is a parameter too: a call that gives it None
    # schedules nothing there.
    receiver: ParamInfo | None = None


def _key(model: ModuleModel, function: FunctionInfo) -> tuple[str, str]:
    return (str(model.path.absolute()), function.qualname)


def launch_filter(project: ProjectIndex) -> ByteFilter:
    """The task scan's prefilter: a scheduling site, an asyncio spawn, an ARQ setting."""
    return byte_filter("launches", site_filter(project).spec[1:])


def _launches(*dropped: str) -> Callable[[bytes], bool]:
    may_schedule = sites_without(*dropped)
    return lambda data: _SCAN_NAMES(data) or may_schedule(data)


register("launches", _launches)


def task_scan(project: ProjectIndex) -> dict[tuple[str, str], list[TaskUse]]:
    """The project's task scan: each scheduled function by (path, qualname), with its uses."""
    return _scanned(project).uses


@dataclass(frozen=True)
class _ScanResult:
    uses: dict[tuple[str, str], list[TaskUse]]  # by the task's (path, qualname)
    by_path: dict[str, list[TaskUse]]  # by its module's path: every file's prefilter asks


def _scanned(project: ProjectIndex) -> _ScanResult:
    def scan() -> _ScanResult:
        uses = _Scan(project).run()
        by_path: dict[str, list[TaskUse]] = {}
        for (where, _), found in uses.items():
            by_path.setdefault(where, []).extend(found)
        return _ScanResult(uses, by_path)

    return project.memo(_SCAN_KEY, scan)


class _Scan:
    def __init__(self, project: ProjectIndex) -> None:
        self.project = project
        self.found: dict[tuple[str, str], list[TaskUse]] = {}
        self.forwarders: list[_Forwarder] = []

    def run(self) -> dict[tuple[str, str], list[TaskUse]]:
        for model in self.project.models(where=launch_filter(self.project)):
            self._sites(model)
            self._asyncio_tasks(model)
            self._arq_settings(model)
            self._scheduled_job_decorators(model)
        self._forwarded()
        return self.found

    def _add(self, target: Target | None, use: TaskUse) -> None:
        if target is None:
            return
        uses = self.found.setdefault(_key(target.model, target.function), [])
        if not any(u.node is use.node and u.api == use.api for u in uses):
            uses.append(use)

    def _sites(self, model: ModuleModel) -> None:
        for site in model.scheduling_sites:
            if site.callable is None:
                continue
            on_loop = _on_loop(site.mechanism) or self._asyncio_scheduler(model, site)
            api = site.describe(model)
            scope, order = site.callable_scope, site.callable_order
            if self._forwarder(
                model, scope, order, site.callable, site.mechanism, api, on_loop, site=site
            ):
                continue
            use = TaskUse(site.mechanism, api, on_loop, model, site.node, _launch(site))
            for task, task_order in _alternatives(site.callable, scope, order):
                target = resolve_task(model, task, scope, task_order)
                self._add(target, use)
                if use.launch is not None and target is not None and target.function.is_async:
                    self._coroutines_passed(model, scope, order, use.launch, use, target)

    def _asyncio_scheduler(self, model: ModuleModel, site: SchedulingSite) -> bool:
        func = site.node.func
        if site.mechanism is not Mechanism.APSCHEDULER or not isinstance(func, cst.Attribute):
            return False
        receiver = model.infer_type(func.value, site.scope, site.order)
        return receiver is not None and bool(
            model.ancestors(receiver.qualname) & _ASYNCIO_SCHEDULERS
        )

    def _asyncio_tasks(self, model: ModuleModel) -> None:
        if not model.spells(_STARTING_TASKS):
            return  # no call can start a task: spare resolving every call's name
        for call in model.calls:
            func = call.node.func
            method = func.attr.value if isinstance(func, cst.Attribute) else None
            qualname = model.resolve_call(call)
            creates = qualname in _CREATE_TASK_FUNCTIONS or method in _CREATE_TASK_METHODS
            if not (creates or method in _START_SOON_METHODS) or not call.node.args:
                continue
            first = _coroutine_made(call.node.args[0].value, call)
            api = model.code_for(func)
            loop = _loop_of(call.node, qualname, method)
            own_loop = loop is not None and on_new_loop(model, loop, call.scope, call.order)
            if self._forwarder(
                model, call.scope, call.order, first, None, api, True, creates, own_loop
            ):
                continue
            coroutine = first if creates and isinstance(first, cst.Call) else None
            launch = None if coroutine is None else (coroutine.func, coroutine.args)
            use = TaskUse(None, api, True, model, call.node, launch, own_loop)
            if creates and isinstance(first, cst.Call):
                target = resolve_function_ref(model, first.func, call.scope, call.order)
            elif not creates:
                target = resolve_task(model, first, call.scope, call.order)
            else:
                target = None
            if target is not None and target.function.is_async:
                self._add(target, use)
                if launch is not None:
                    self._coroutines_passed(model, call.scope, call.order, launch, use, target)

    def _coroutines_passed(
        self,
        model: ModuleModel,
        scope: Scope,
        order: int | None,
        launch: tuple[cst.BaseExpression, Sequence[cst.Arg]],
        use: TaskUse,
        task: Target,
    ) -> None:
        """A coroutine made for an async task's arguments (`add_task(run_session, bot(...))`)
        runs on the task's loop when the task awaits it there (`await coro`, or through
        `asyncio.gather`/`wait_for`/`shield`/`create_task`); not when it hands it to another
        loop (`asyncio.to_thread(asyncio.run, coro)`). It is recorded like an asyncio task
        (`mechanism` None): its errors reach the task that awaits it, not the runner."""
        callee, args = launch
        for param, received in bind_call_arguments(task.function, callee, args).items():
            if not _awaited_on_loop(task.model, task.function, param):
                continue
            for argument in received:
                value = argument.value
                if argument.star or not isinstance(value, cst.Call):
                    continue
                target = resolve_function_ref(model, value.func, scope, order)
                if target is not None and target.function.is_async:
                    launched = replace(use, mechanism=None, launch=(value.func, value.args))
                    self._add(target, launched)

    def _arq_settings(self, model: ModuleModel) -> None:
        imports_arq = any(
            b.kind is BindingKind.IMPORT and (b.imported or "").split(".")[0] == "arq"
            for bindings in model.module_scope.bindings.values()
            for b in bindings
        )
        for klass in model.classes:
            if not (imports_arq or klass.name == "WorkerSettings"):
                continue
            for attribute in ("functions", "cron_jobs"):
                bindings = klass.scope.bindings.get(attribute, [])
                value = bindings[-1].value if bindings else None
                if not isinstance(value, (cst.List, cst.Tuple)):
                    continue
                for element in value.elements:
                    job = element.value
                    if isinstance(job, cst.Call) and job.args:
                        wrapper = model.qualified_name(job.func, klass.scope)
                        if wrapper not in _ARQ_WRAPPERS:
                            continue
                        job = job.args[0].value
                    use = TaskUse(Mechanism.ARQ, f"{klass.name}.{attribute}", True, model, element)
                    self._add(resolve_task(model, job, klass.scope, None), use)

    def _scheduled_job_decorators(self, model: ModuleModel) -> None:
        for function in model.functions:
            for decorator in function.decorators:
                if not (
                    isinstance(decorator, cst.Call)
                    and isinstance(decorator.func, cst.Attribute)
                    and decorator.func.attr.value == "scheduled_job"
                ):
                    continue
                receiver = model.infer_type(decorator.func.value, function.parent_scope)
                if receiver is None:
                    continue
                ancestors = model.ancestors(receiver.qualname)
                if not any(a.startswith("apscheduler.") for a in ancestors):
                    continue
                use = TaskUse(
                    Mechanism.APSCHEDULER,
                    model.code_for(decorator.func),
                    bool(ancestors & _ASYNCIO_SCHEDULERS),
                    model,
                    decorator,
                )
                self._add(Target(model, function), use)

    # -- helpers that schedule what they are given ---------------------------------------
    def _forwarder(
        self,
        model: ModuleModel,
        scope: Scope,
        order: int | None,
        task: cst.BaseExpression,
        mechanism: Mechanism | None,
        api: str,
        on_loop: bool,
        coroutine: bool = False,
        own_loop: bool = False,
        site: SchedulingSite | None = None,
    ) -> bool:
        """Record `task`, evaluated at `order` in `scope`, as forwarded when it is a parameter
        of the enclosing function (scheduled at `site`, when it is one)."""
        if not isinstance(task, cst.Name):
            return False
        binding = scope.lookup(task.value, order)
        if binding is None or binding.kind is not BindingKind.PARAM or binding.param is None:
            return False
        helper = model.scope_of_binding(binding).function
        if helper is None or helper.is_lambda or binding.param.star:
            return False
        func = site.node.func if site is not None else None
        receiver = (
            own_param(model, helper, func.value, site.scope, site.order)
            if site is not None and isinstance(func, cst.Attribute)
            else None
        )
        self.forwarders.append(
            _Forwarder(
                Target(model, helper),
                binding.param.name,
                binding.param.position,
                mechanism,
                api,
                coroutine,
                on_loop,
                own_loop,
                receiver,
            )
        )
        return True

    def _forwarded(self) -> None:
        """Calls of forwarding helpers, anywhere in the run (files that name the helper)."""
        if not self.forwarders:
            return
        by_own_name: dict[str, list[_Forwarder]] = {}
        for forwarder in self.forwarders:
            by_own_name.setdefault(forwarder.target.function.name, []).append(forwarder)
        by_name = {  # also under the names they are imported as
            name: [f for own in originals for f in by_own_name[own]]
            for name, originals in self.project.renamings(by_own_name).items()
        }
        for model in self.project.models(where=calling(by_name)):
            for call in model.calls:
                name = names.written_name(call.node.func)
                if name not in by_name:
                    continue
                callee = resolve_callee(model, call)
                for forwarder in by_name[name]:
                    if callee is None or callee.function is not forwarder.target.function:
                        continue
                    self._forwarded_call(model, call, forwarder)

    def _forwarded_call(self, model: ModuleModel, call: CallInfo, forwarder: _Forwarder) -> None:
        offset = 1 if forwarder.target.function.klass is not None else 0
        argument: cst.BaseExpression | None = None
        positional = [a for a in call.node.args if a.keyword is None and not a.star]
        for arg in call.node.args:
            if arg.keyword is not None and arg.keyword.value == forwarder.param:
                argument = arg.value
        index = forwarder.position - offset
        if argument is None and 0 <= index < len(positional):
            argument = positional[index].value
        if argument is None:
            return
        receiver = forwarder.receiver
        bound = bind_call_arguments(forwarder.target.function, call.node.func, call.node.args)
        if receiver is not None and hands_none(bound, receiver):
            return
        use = TaskUse(
            forwarder.mechanism,
            f"{model.code_for(call.node.func)} -> {forwarder.api}",
            forwarder.on_event_loop,
            model,
            call.node,
            own_loop=forwarder.own_loop,
        )
        if forwarder.coroutine:
            if isinstance(argument, cst.Call):
                target = resolve_function_ref(model, argument.func, call.scope, call.order)
                if target is not None and target.function.is_async:
                    self._add(target, use)
            return
        self._add(resolve_task(model, argument, call.scope, call.order), use)


# Awaiting a coroutine through these runs it on the loop of the coroutine awaiting them.
_AWAITING_ON_LOOP = names.AWAITING_COROUTINES | _SPAWN_FUNCTIONS


def _awaited_on_loop(model: ModuleModel, function: FunctionInfo, param: str) -> bool:
    """Whether `function` awaits its parameter `param` on its own loop."""
    for read in local_uses(function, param):
        if read.nested:
            continue
        if isinstance(read.parent, cst.Await):
            return True
        caller = read.parents[-2] if len(read.parents) > 1 else None
        if (
            isinstance(read.parent, cst.Arg)
            and isinstance(caller, cst.Call)
            and model.qualified_name(caller.func, function.scope) in _AWAITING_ON_LOOP
        ):
            return True
    return False


def _loop_of(node: cst.Call, qualname: str | None, method: str | None) -> cst.BaseExpression | None:
    """The loop a task is started on, where the call names it: `loop` in
    `loop.create_task(coro)` and in `run_coroutine_threadsafe(coro, loop)`."""
    if qualname in _THREADSAFE_FUNCTIONS:
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        if len(positional) > 1:
            return positional[1]
        return next((a.value for a in node.args if a.keyword and a.keyword.value == "loop"), None)
    if method == "create_task" and isinstance(node.func, cst.Attribute):
        return node.func.value
    return None


def _launch(site: SchedulingSite) -> tuple[cst.BaseExpression, Sequence[cst.Arg]] | None:
    """`add_task(fn, *args)` and `BackgroundTask(fn, *args)`: the callable and the arguments
    after it, which `fn` receives as a call's (not through a partial or a helper)."""
    args = site.node.args
    if (
        site.mechanism in (Mechanism.BACKGROUND_TASKS, Mechanism.BACKGROUND_TASK)
        and site.partial is None
        and site.helper_site is None
        and args
        and args[0].keyword is None
        and not args[0].star
        and args[0].value is site.callable
    ):
        return site.callable, args[1:]
    return None


def _on_loop(mechanism: Mechanism) -> bool:
    """Whether an `async def` launched this way is awaited on an event loop."""
    return mechanism in (
        Mechanism.BACKGROUND_TASKS,
        Mechanism.BACKGROUND_TASK,
        Mechanism.ARQ,
        Mechanism.TASKIQ,
    )

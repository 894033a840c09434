"""Module-level and class-level mutable containers, and where functions write and read them.

`JOBS: dict[str, str] = {}` lives once per worker process. Whether it is a cache or job
state depends on who writes it (a task, a handler that schedules one, a startup hook) and
what (status strings, ids from `uuid4()`), and on who reads it. This module finds the
containers and every access to them across the modules of the run; names are resolved
through imports (`from .tasks import JOBS`, `tasks.JOBS`) and `self.attr` of the class.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics.byte_filters import static_filter
from fastapi_task_lint.semantics.callgraph import callees, calls_one_of, defined_where
from fastapi_task_lint.semantics.functions import CallInfo, ClassInfo, FunctionInfo
from fastapi_task_lint.semantics.mentions import calling, importing
from fastapi_task_lint.semantics.routes import may_define_routes
from fastapi_task_lint.semantics.scope import Binding, BindingKind, Scope
from fastapi_task_lint.semantics.task_definitions import (
    ScheduledFunction,
    TaskUse,
    launch_filter,
    project_tasks,
    tasks_in,
)
from fastapi_task_lint.semantics.walk import walk

if TYPE_CHECKING:
    from pathlib import Path

    from fastapi_task_lint.semantics.model import ModuleModel
    from fastapi_task_lint.semantics.project import ProjectIndex

# Constructors of mutable containers, by canonical name -> how a message names them.
_CONSTRUCTORS: dict[str, str] = {
    "builtins.dict": "dict",
    "builtins.list": "list",
    "builtins.set": "set",
    "collections.defaultdict": "defaultdict",
    "collections.OrderedDict": "OrderedDict",
    "collections.deque": "deque",
    "collections.Counter": "Counter",
    "asyncio.Queue": "asyncio.Queue",
    "asyncio.queues.Queue": "asyncio.Queue",
    "asyncio.LifoQueue": "asyncio.Queue",
    "asyncio.PriorityQueue": "asyncio.Queue",
    "queue.Queue": "queue.Queue",
    "queue.SimpleQueue": "queue.Queue",
    "queue.LifoQueue": "queue.Queue",
    "queue.PriorityQueue": "queue.Queue",
}
QUEUE_KINDS = frozenset({"asyncio.Queue", "queue.Queue"})
_LITERALS: dict[type[cst.CSTNode], str] = {cst.Dict: "dict", cst.List: "list", cst.Set: "set"}
_WRITE_METHODS = frozenset(
    {
        "update",
        "setdefault",
        "append",
        "appendleft",
        "add",
        "put",
        "put_nowait",
        "extend",
        "insert",
        "__setitem__",
    }
)
PUT_METHODS = frozenset({"put", "put_nowait"})

# A file without one of these strings defines no container.
CONTAINER_TRIGGERS: tuple[bytes, ...] = (
    b"= {",
    b"={",
    b"= [",
    b"=[",
    b"dict(",
    b"set(",
    b"list(",
    b"defaultdict",
    b"deque",
    b"Queue",
    b"OrderedDict",
    b"Counter",
)


@dataclass(frozen=True)
class SharedContainer:
    """A container that lives as long as the process: module global or class attribute."""

    model: ModuleModel
    qualname: str
    label: str  # as the user names it: `JOBS` or `Registry.jobs`
    kind: str  # dict, list, set, defaultdict, deque, asyncio.Queue, queue.Queue, ...
    node: cst.CSTNode  # where it is defined
    klass: ClassInfo | None = None

    @property
    def is_queue(self) -> bool:
        return self.kind in QUEUE_KINDS


@dataclass(frozen=True)
class Access:
    """One write or read of a shared container inside a function."""

    container: SharedContainer
    model: ModuleModel
    function: FunctionInfo
    node: cst.CSTNode
    write: bool
    method: str | None = None  # `put`, `update`, ... for method calls
    key: cst.BaseExpression | None = None
    values: tuple[cst.BaseExpression, ...] = ()


def shared_containers(model: ModuleModel) -> list[SharedContainer]:
    found = [
        _container(model, model.module_scope, name, None) for name in model.module_scope.bindings
    ]
    for klass in model.classes:
        found.extend(_container(model, klass.scope, name, klass) for name in klass.scope.bindings)
    return [container for container in found if container is not None]


def _container(
    model: ModuleModel, scope: Scope, name: str, klass: ClassInfo | None
) -> SharedContainer | None:
    """The container `name` is in `scope` (the module's, or `klass`'s), if it is one."""
    bindings = scope.bindings.get(name)
    found = _container_binding(model, scope, bindings) if bindings else None
    if found is None:
        return None
    binding, kind = found
    if klass is not None:
        qualname, label = f"{klass.qualname}.{name}", f"{klass.name}.{name}"
        return SharedContainer(model, qualname, label, kind, binding.node, klass)
    prefix = f"{model.module_name}." if model.module_name else ""
    return SharedContainer(model, prefix + name, name, kind, binding.node)


def _container_binding(
    model: ModuleModel, scope: Scope, bindings: list[Binding]
) -> tuple[Binding, str] | None:
    first = bindings[0]
    if first.kind is not BindingKind.ASSIGN or first.value is None:
        return None
    value = first.value
    literal = next((kind for node, kind in _LITERALS.items() if isinstance(value, node)), None)
    if literal is not None:
        return first, literal
    if isinstance(value, cst.Call):
        qualname = model.qualified_name(value.func, scope, first.order)
        kind = _CONSTRUCTORS.get(qualname or "")
        if kind is not None:
            return first, kind
    return None


def container_accesses(
    model: ModuleModel,
    containers: dict[str, SharedContainer],
    lookup: _ContainerLookup,
    names: set[str],
) -> list[Access]:
    """Every access, in the functions of `model`, to one of `containers` (by qualname).

    `names` are the containers' own names and those they are imported under (`renamings`):
    only expressions ending in one of them are resolved.
    """
    if not containers:
        return []
    find = lookup.within(containers)
    accesses: list[Access] = []
    for function in model.functions:
        if not function.is_lambda:
            accesses.extend(_accesses_in(model, function, find, names))
    return accesses


def _accesses_in(
    model: ModuleModel,
    function: FunctionInfo,
    find: Callable[[str], SharedContainer | None],
    names: set[str] | None,
    writes_only: bool = False,
) -> list[Access]:
    """Accesses in `function`'s own body to the containers `find` knows by qualname.

    `names`, when given, are the only last name components worth resolving. With
    `writes_only`, only what is written is resolved (and reported): finding the containers
    tasks write, a read is not worth resolving its name, which can parse its module.
    """
    collector = _AccessCollector(model, function, find, names, writes_only)
    walk(function.node.body, collector)
    return collector.accesses


class _AccessCollector(cst.CSTVisitor):
    def __init__(
        self,
        model: ModuleModel,
        function: FunctionInfo,
        find: Callable[[str], SharedContainer | None],
        names: set[str] | None,
        writes_only: bool,
    ) -> None:
        self.model = model
        self.function = function
        self.find = find
        self.names = names
        self.writes_only = writes_only
        self.stack: list[cst.CSTNode] = []
        self.accesses: list[Access] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return False  # nested definitions are functions of their own
        if isinstance(node, (cst.Name, cst.Attribute)) and self._may_refer(node):
            use = _classify(self.stack, node) if self.writes_only else None
            container = None if use is not None and not use.write else self._container_of(node)
            if container is not None:
                use = use or _classify(self.stack, node)
                self.accesses.append(
                    Access(
                        container,
                        self.model,
                        self.function,
                        node,
                        use.write,
                        use.method,
                        use.key,
                        use.values,
                    )
                )
                return False
        self.stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if self.stack and self.stack[-1] is original_node:
            self.stack.pop()

    def _may_refer(self, node: cst.Name | cst.Attribute) -> bool:
        last = node.value if isinstance(node, cst.Name) else node.attr.value
        return (self.names is None or last in self.names) and self._is_load(node)

    def _is_load(self, node: cst.CSTNode) -> bool:
        parent = self.stack[-1] if self.stack else None
        if isinstance(parent, cst.Attribute):
            return parent.value is node
        if isinstance(parent, cst.Arg):
            return parent.value is node
        if isinstance(parent, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign)):
            return parent.target is not node
        return not isinstance(parent, (cst.Param, cst.ImportAlias, cst.AsName))

    def _container_of(self, node: cst.Name | cst.Attribute) -> SharedContainer | None:
        model, function = self.model, self.function
        qualname = model.qualified_name(node, function.scope)
        if qualname is None and isinstance(node, cst.Name):
            binding = function.scope.lookup(node.value)
            if binding is not None and model.scope_of_binding(binding) is model.module_scope:
                qualname = f"{model.module_name}.{node.value}" if model.module_name else node.value
        if qualname is None:
            return self._self_attribute(node)
        return self.find(qualname)

    def _self_attribute(self, node: cst.Name | cst.Attribute) -> SharedContainer | None:
        """`self.jobs` in a method, when `jobs` is a class-level container of the class."""
        klass = self.function.klass
        if klass is None or not isinstance(node, cst.Attribute) or not self.function.params:
            return None
        receiver = node.value
        if not (isinstance(receiver, cst.Name) and receiver.value == self.function.params[0].name):
            return None
        return self.find(f"{klass.qualname}.{node.attr.value}")


@dataclass(frozen=True)
class _Use:
    """What a function does with a value it names: writes it (with key and values), or reads."""

    write: bool
    method: str | None = None
    key: cst.BaseExpression | None = None
    values: tuple[cst.BaseExpression, ...] = ()


def _classify(stack: list[cst.CSTNode], node: cst.CSTNode) -> _Use:
    """Walk out from `node` through `C[k]`, `C[k]["status"]`, `C[k].status` (`stack` holds
    its enclosing nodes, innermost last) to what is done with it."""
    key: cst.BaseExpression | None = None
    target: cst.CSTNode = node
    index = len(stack) - 1
    while index >= 0:
        outer = stack[index]
        if isinstance(outer, cst.Subscript) and outer.value is target:
            key = key if key is not None else _subscript_key(outer)
        elif isinstance(outer, cst.Attribute) and outer.value is target:
            call = stack[index - 1] if index > 0 else None
            if isinstance(call, cst.Call) and call.func is outer:
                return _method_use(call, outer.attr.value, key)
        else:
            break
        target = outer
        index -= 1
    parent = stack[index] if index >= 0 else None
    nested = target is not node  # the container itself is not rebound
    if isinstance(parent, cst.AssignTarget) and parent.target is target and nested:
        assign = stack[index - 1] if index > 0 else None
        return _Use(True, None, key, (assign.value,) if isinstance(assign, cst.Assign) else ())
    if isinstance(parent, cst.AugAssign) and parent.target is target and nested:
        return _Use(True, None, key, (parent.value,))
    return _Use(isinstance(parent, cst.Del), None, key)


def _method_use(call: cst.Call, method: str, key: cst.BaseExpression | None) -> _Use:
    args = tuple(a.value for a in call.args)
    write = method in _WRITE_METHODS
    if key is None and args:
        first = args[0]
        if method in ("setdefault", "__setitem__", "get", "pop"):
            return _Use(write, method, first, args[1:])
        if method == "update" and isinstance(first, cst.Dict):
            keys = [e.key for e in first.elements if isinstance(e, cst.DictElement)]
            return _Use(write, method, keys[0] if keys else None, args)
    return _Use(write, method, key, args)


def _subscript_key(node: cst.Subscript) -> cst.BaseExpression | None:
    if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        return node.slice[0].slice.value
    return None


@dataclass(frozen=True)
class ProgramState:
    """Shared containers of the run, their accesses, and which functions run as tasks."""

    containers: list[SharedContainer]
    accesses: dict[str, list[Access]]  # by container qualname
    task_functions: set[int]  # ids of FunctionInfo scheduled somewhere in the run
    handlers: set[int]  # ids of route handler functions
    scheduling_handlers: set[int]  # handlers that schedule a task or start an asyncio task
    task_helpers: set[int]  # project functions that tasks or scheduling handlers call
    handler_helpers: set[int]  # project functions that handlers call


def program_state(
    project: ProjectIndex, follows: Callable[[Access], bool], written_in: Callable[[bytes], bool]
) -> ProgramState:
    """Containers of the run and their accesses; parses only files that can be involved.

    The files that define a container, those that name one, and those that name a function
    accessing one (its callers: a task calling `set_status(job_id, "done")`). Only the
    containers that a possible writer writes in a way `follows` accepts (the caller's test
    of a job-state write), and the queues route handlers put work on, are followed: the
    accesses of every other container are never looked for. `written_in` tells from a
    module's bytes whether it can hold such a write at all.
    """
    lookup = _ContainerLookup(project)
    containers = _candidate_containers(project, lookup, follows, written_in)
    by_name = {c.qualname: c for c in containers}
    accesses: dict[str, list[Access]] = {c.qualname: [] for c in containers}
    accessors: set[str] = set()
    names = set(project.renamings(_last_names(by_name.values())))
    homes = [c.model for c in containers]
    for model in _defining_or_importing(project, homes, names):
        for access in container_accesses(model, by_name, lookup, names):
            accesses[access.container.qualname].append(access)
            accessors.add(access.function.name)
    tasks: dict[int, tuple[ModuleModel, FunctionInfo]] = {}
    starters: set[int] = set()  # functions that schedule a task or start an asyncio task
    handlers: dict[int, tuple[ModuleModel, FunctionInfo]] = {}
    homes = [a.model for found in accesses.values() for a in found]
    callers = project.renamings(accessors)
    for model in _defining_or_importing(project, homes, callers):
        for scheduled in tasks_in(model):
            tasks[id(scheduled.function)] = (model, scheduled.function)
            starters.update(_launcher_ids(scheduled))
        starters.update(id(s.function) for s in model.scheduling_sites if s.function)
        starters.update(id(s.function) for s in model.task_spawns if s.function)
        handlers.update((id(r.function), (model, r.function)) for r in model.routes)
    scheduling = {key: handlers[key] for key in handlers.keys() & starters}
    return ProgramState(
        containers,
        accesses,
        set(tasks),
        set(handlers),
        set(scheduling),
        _called_by([*tasks.values(), *scheduling.values()], accessors),
        _called_by(handlers.values(), accessors),
    )


def _defining_or_importing(
    project: ProjectIndex, homes: Iterable[ModuleModel], names: Iterable[str]
) -> list[ModuleModel]:
    """`homes` (the modules that define what `names` name), and the modules that can refer to
    one of `names` from elsewhere (`mentions.importing`), in path order."""
    found = {model.path.absolute(): model for model in homes}
    for model in project.models(where=importing(names)):
        found.setdefault(model.path.absolute(), model)
    return [found[path] for path in sorted(found)]


def _candidate_containers(
    project: ProjectIndex,
    lookup: _ContainerLookup,
    follows: Callable[[Access], bool],
    written_in: Callable[[bytes], bool],
) -> list[SharedContainer]:
    """The containers that can hold job state, found from the code that can write it.

    Those a task, a handler that schedules one, or a function either calls writes (with a
    write `follows` accepts), and the queues a handler puts work on. Starting from that code
    parses the modules it lives in and imports from, not every module that builds a list.
    """
    found: dict[str, SharedContainer] = {}
    for model, function in _possible_writers(project, written_in):
        for access in _accesses_in(model, function, lookup.find, None, writes_only=True):
            if access.write and follows(access):
                found.setdefault(access.container.qualname, access.container)
    for route in (r for m in project.models(where=_PUTS_FROM_ROUTES) for r in m.routes):
        for access in _accesses_in(route.owner, route.function, lookup.find, None, True):
            if access.container.is_queue and access.method in PUT_METHODS:
                found.setdefault(access.container.qualname, access.container)
    return list(found.values())


_CALLS_PUT = calling(PUT_METHODS)


def _may_put_from_routes(data: bytes) -> bool:
    """Routes, and a `.put(` or `.put_nowait(` call for one of them to put work on a queue."""
    return may_define_routes(data) and _CALLS_PUT(data)


_PUTS_FROM_ROUTES = static_filter("puts from routes", _may_put_from_routes)


def _possible_writers(
    project: ProjectIndex, written_in: Callable[[bytes], bool]
) -> list[tuple[ModuleModel, FunctionInfo]]:
    """Every task, every handler that launches one, and the project functions they call,
    but for those defined in modules whose bytes `written_in` turns down (left unparsed)."""
    tasks = {id(t.function): (t.model, t.function) for t in project_tasks(project)}
    starters: dict[int, tuple[ModuleModel, FunctionInfo]] = {}
    for scheduled in project_tasks(project):
        for use in scheduled.uses:
            function = _launcher(use)
            if use.model is not None and function is not None:
                starters[id(function)] = (use.model, function)
    for model in project.models(where=launch_filter(project)):
        spawns = model.task_spawns
        functions = [s.function for s in model.scheduling_sites] + [s.function for s in spawns]
        starters.update((id(f), (model, f)) for f in functions if f is not None)
    handlers = {
        id(route.function)
        for model in {id(m): m for m, _ in starters.values()}.values()
        for route in model.routes
    }
    launchers = [*tasks.values(), *(starters[key] for key in starters.keys() & handlers)]
    worth = defined_where(written_in)
    helpers = {
        id(edge.target.function): (edge.target.model, edge.target.function)
        for model, function in launchers
        for edge in callees(model, function, worth)
    }
    return [*launchers, *(v for k, v in helpers.items() if k not in tasks)]


class _ContainerLookup:
    """Containers by qualname, found by resolving the name (`mod.JOBS`, `mod.Registry.jobs`)."""

    def __init__(self, project: ProjectIndex) -> None:
        self.project = project
        self.known: dict[str, SharedContainer | None] = {}
        self.candidates: dict[Path, frozenset[str] | None] = {}

    def find(self, qualname: str) -> SharedContainer | None:
        """The container `qualname` names, following imports and re-exports."""
        if qualname not in self.known:
            self.known[qualname] = self._resolve(qualname)
        return self.known[qualname]

    def within(
        self, containers: dict[str, SharedContainer]
    ) -> Callable[[str], SharedContainer | None]:
        """`find`, answering only with one of `containers` (by its defining qualname)."""

        def find(qualname: str) -> SharedContainer | None:
            if qualname in containers:
                return containers[qualname]
            found = self.find(qualname)
            return containers.get(found.qualname) if found is not None else None

        return find

    def _resolve(self, qualname: str) -> SharedContainer | None:
        if not self._may_bind(qualname):
            return None
        owner, _, name = qualname.rpartition(".")
        definition = self.project.resolve(qualname)
        if definition is not None and definition.binding is not None:
            model = definition.model
            return _container(model, model.module_scope, definition.binding.name, None)
        klass = self.project.resolve_class(owner) if owner else None
        if klass is not None:
            return _container(klass[0], klass[1].scope, name, klass[1])
        return None

    def _may_bind(self, qualname: str) -> bool:
        """False when the module `qualname` starts in cannot bind it to a container.

        Resolving every global a writer names parsed its module; CPython's own parser
        answers this for a tenth of the cost.
        """
        found = self.project.defining_module(qualname)
        if found is None:
            return True
        path, name = found
        if path not in self.candidates:
            data = self.project.source_bytes(path)
            self.candidates[path] = _possible_container_names(data) if data else None
        names = self.candidates[path]
        return names is None or name in names


def _possible_container_names(data: bytes) -> frozenset[str] | None:
    """The module-level names of a module that may be, or hold, a container: assigned a
    literal or a container constructor at module level, classes with such an assignment
    in their body, and imports. None when it cannot say (a star import, or no parse)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes are not ours to report here
            tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    statements: list[ast.stmt] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        statement = pending.pop()
        statements.append(statement)
        if isinstance(statement, ast.If | ast.Try | ast.With):
            pending.extend(_nested_statements(statement))
    imports = [s for s in statements if isinstance(s, ast.ImportFrom | ast.Import)]
    aliases = [alias for statement in imports for alias in statement.names]
    if any(alias.name == "*" for alias in aliases):
        return None
    names = {(alias.asname or alias.name).split(".")[0] for alias in aliases}
    constructors = _CONSTRUCTOR_NAMES | {
        a.asname for a in aliases if a.asname and a.name.rsplit(".", 1)[-1] in _CONSTRUCTOR_NAMES
    }
    for statement in statements:
        if isinstance(statement, ast.ClassDef) and _assigns_container(statement.body, constructors):
            names.add(statement.name)
        elif _is_container_assignment(statement, constructors):
            assert isinstance(statement, ast.Assign | ast.AnnAssign)
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return frozenset(names)


# The last name of every container constructor: `dict(...)`, `collections.deque(...)`.
_CONSTRUCTOR_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in _CONSTRUCTORS)


def _assigns_container(body: list[ast.stmt], constructors: set[str] | frozenset[str]) -> bool:
    """A class body (or a nested class's) assigns a container."""
    for statement in body:
        if _is_container_assignment(statement, constructors):
            return True
        if isinstance(statement, ast.ClassDef) and _assigns_container(statement.body, constructors):
            return True
        if isinstance(statement, ast.If | ast.Try | ast.With) and _assigns_container(
            _nested_statements(statement), constructors
        ):
            return True
    return False


def _is_container_assignment(statement: ast.stmt, constructors: set[str] | frozenset[str]) -> bool:
    """`X = {}`, `X: list[int] = []`, `X = defaultdict(list)` (by the constructor's name)."""
    if not isinstance(statement, ast.Assign | ast.AnnAssign):
        return False
    value = statement.value
    if isinstance(value, ast.Dict | ast.List | ast.Set):
        return True
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    name = (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )
    return name in constructors


def _nested_statements(statement: ast.If | ast.Try | ast.With) -> list[ast.stmt]:
    """The statements of a block that runs at its module's (or class's) level."""
    nested = [*statement.body, *getattr(statement, "orelse", [])]
    if isinstance(statement, ast.Try):
        nested += [*statement.finalbody, *(s for h in statement.handlers for s in h.body)]
    return nested


def _last_names(containers: Iterable[SharedContainer]) -> set[str]:
    return {c.qualname.rsplit(".", 1)[-1] for c in containers}


def _called_by(callers: Iterable[tuple[ModuleModel, FunctionInfo]], names: set[str]) -> set[int]:
    """Project functions called directly by `callers` (helpers like `set_status(id, s)`);
    of those not yet resolved, only the ones called one of `names` (the functions that
    access a container: no other helper matters)."""

    def worth(model: ModuleModel, call: CallInfo) -> bool:
        return calls_one_of(model, call, names)

    return {id(e.target.function) for model, f in callers for e in callees(model, f, worth)}


def _launcher_ids(scheduled: ScheduledFunction) -> Iterator[int]:
    """The functions whose calls launch `scheduled` (also through helpers like `run_later`)."""
    for use in scheduled.uses:
        function = _launcher(use)
        if function is not None:
            yield id(function)


def _launcher(use: TaskUse) -> FunctionInfo | None:
    """The function whose call `use` is (None for a decorator, or a call at module level)."""
    if use.model is None or use.node is None:
        return None
    for call in use.model.calls:
        if call.node is use.node:
            return call.scope.enclosing_function()
    return None

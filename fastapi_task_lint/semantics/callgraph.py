"""The project call graph: which project functions a function calls, across modules.

A call is resolved by qualified name (through imports and re-exports), to a nested
`def` of the same function, or to a method through the receiver's type (`self.render()`,
`service.release_stock()`), through its class (`User.get_by()`) or through `super()`,
inherited methods included. Searches are depth-bounded and stop at cycles.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

import libcst as cst

from fastapi_task_lint.semantics.functions import CallInfo, FunctionInfo
from fastapi_task_lint.semantics.guards import Context, ruled_out, runs
from fastapi_task_lint.semantics.names import written_name
from fastapi_task_lint.semantics.scope import BindingKind, Scope

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel
    from fastapi_task_lint.semantics.project import ProjectIndex

MAX_DEPTH = 10
SUPER = "builtins.super"
T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """A project function and the module it is defined in."""

    model: ModuleModel
    function: FunctionInfo


@dataclass(frozen=True)
class Edge:
    """`call` (in the caller's module) runs `target`."""

    call: CallInfo
    target: Target


@dataclass(frozen=True)
class Chain(Generic[T]):
    """Edges from a function down to the call where `leaf` was found."""

    edges: tuple[Edge, ...]
    leaf: T

    def names(self) -> list[str]:
        return [edge.target.function.name for edge in self.edges]


def resolve_function_ref(
    model: ModuleModel,
    expr: cst.BaseExpression,
    scope: Scope,
    order: int | None,
    call: CallInfo | None = None,
) -> Target | None:
    """The project function an expression names (`f`, `mod.f`, `self.m`, `obj.m`); `call`
    is the call `expr` is the callee of, if any (it keeps the name once resolved)."""
    if isinstance(expr, cst.Name):
        binding = scope.lookup(expr.value, order)
        if binding is not None and binding.kind is BindingKind.FUNCTION and binding.function:
            return Target(model, binding.function)
    if call is not None:
        qualname = model.resolve_call(call)
    else:
        qualname = model.qualified_name(expr, scope, order)
    if qualname is not None:
        found = _function_named(model, qualname)
        if found is not None:
            return found
    if isinstance(expr, cst.Attribute):
        above = super_class(model, expr.value, scope, order)
        if above is not None:
            return inherited_method(model, above, expr.attr.value)
        receiver = model.infer_type(expr.value, scope, order)
        if receiver is not None and not receiver.container:
            found = method_of(model, receiver.qualname, expr.attr.value)
            if found is not None:
                return found
    # An instance of a project class, called: its `__call__` (`converter(path)`). A name
    # the project does not define (`json.dumps`, `logger.info`) is none.
    if qualname is not None and model.project.resolve(qualname) is None:
        return None
    if isinstance(expr, cst.Name) and model.own_class_named(expr, scope, order) is not None:
        return None  # `cls(...)` in a classmethod builds an instance: no `__call__` runs
    instance = model.infer_type(expr, scope, order)
    if instance is not None and not instance.container:
        return method_of(model, instance.qualname, "__call__")
    return None


def resolve_callee(model: ModuleModel, call: CallInfo) -> Target | None:
    """The project function `call` calls."""
    return resolve_function_ref(model, call.node.func, call.scope, call.order, call)


def _function_named(model: ModuleModel, qualname: str) -> Target | None:
    """`project.resolve_function`, remembered: the same library names come up in every call.
    A method named through a subclass (`User.get_by`, a classmethod of a base) is the base's."""
    project = model.project

    def resolve() -> Target | None:
        found = project.resolve_function(qualname)
        if found is not None:
            return Target(*found)
        owner, _, name = qualname.rpartition(".")
        return inherited_method(model, owner, name) if owner else None

    return project.remembered(f"{__name__}.functions", qualname, resolve)


def super_class(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None
) -> str | None:
    """The class whose bases `expr` looks up methods in when it is `super()` (that of the
    method it is called in) or `super(Class, obj)`."""
    if not isinstance(expr, cst.Call) or model.qualified_name(expr.func, scope, order) != SUPER:
        return None
    if expr.args:
        return model.qualified_name(expr.args[0].value, scope, order)
    function = scope.function
    return function.klass.qualname if function is not None and function.klass else None


def method_of(model: ModuleModel, class_qualname: str, name: str) -> Target | None:
    """`name` on a project class or the first class it inherits it from, in Python's
    lookup order (`ModuleModel.lookup_order`)."""
    found = model.first_method(model.lookup_order(class_qualname), name)
    return Target(*found) if found is not None else None


def inherited_method(model: ModuleModel, class_qualname: str, name: str) -> Target | None:
    """`name` on the first project base class of `class_qualname` that defines it (what
    `super().name` runs)."""
    found = model.first_method(model.lookup_order(class_qualname)[1:], name)
    return Target(*found) if found is not None else None


def calls_one_of(model: ModuleModel, call: CallInfo, names: Collection[str]) -> bool:
    """Whether `call` names a function called one of `names`, as written or through an
    import alias (`from jobs import mark_done as done`): no call by another name can run it."""
    if written_name(call.node.func) in names:
        return True
    qualname = model.resolve_call(call)
    return qualname is not None and qualname.rsplit(".", 1)[-1] in names


def callees(
    model: ModuleModel,
    function: FunctionInfo,
    worth: Callable[[ModuleModel, CallInfo], bool] | None = None,
) -> list[Edge]:
    """Calls in `function`'s own body (not in nested defs or lambdas) to project functions.

    With `worth`, a search that can tell a call cannot lead anywhere that matters to it
    (`worth` says False) spares resolving it, and the modules that would parse. Such a
    partial answer is not kept for other askers; edges already known are all returned.
    """
    # Keyed by FunctionInfo id: the memo is dropped whenever the index adopts a new model.
    known: dict[int, list[Edge]] = model.project.memo(f"{__name__}.callees", dict)
    edges = known.get(id(function))
    if edges is None:
        edges = []
        for call in function.calls:
            if worth is not None and not worth(model, call):
                continue
            target = resolve_callee(model, call)
            if target is not None:
                edges.append(Edge(call, target))
        if worth is None:
            known[id(function)] = edges
    return edges


def constructor_edges(model: ModuleModel, function: FunctionInfo) -> list[Edge]:
    """Calls in `function`'s own body that build a project class with an `__init__`:
    `BotContext()` runs `BotContext.__init__`. An inherited one counts when the class's own
    module defines some `__init__` (`_may_define`: no module is parsed to say no)."""
    return _hook_edges(model, function, "constructors", (b"def __init__",), _construct)


def entered_edges(model: ModuleModel, function: FunctionInfo) -> list[Edge]:
    """The `__enter__`/`__exit__` (`__aenter__`/`__aexit__` for `async with`) a `with`
    statement in `function`'s own body runs on the project class it builds: `with
    Store() as store:` runs `Store.__enter__`, then `Store.__exit__`. The class's own module
    must define one of the entering hooks."""
    return _hook_edges(model, function, "entered", (b"def __enter__", b"def __aenter__"), _enter)


def _construct(call: CallInfo) -> tuple[str, ...]:
    return ("__init__",)


def _enter(call: CallInfo) -> tuple[str, ...]:
    if not call.entered:
        return ()
    return ("__aenter__", "__aexit__") if call.awaited else ("__enter__", "__exit__")


def _hook_edges(
    model: ModuleModel,
    function: FunctionInfo,
    table: str,
    defined: tuple[bytes, ...],
    hooks: Callable[[CallInfo], tuple[str, ...]],
) -> list[Edge]:
    """For each call in `function`'s own body with `hooks`, that names a project class
    whose module's bytes define the class and one of `defined`, an edge to each of those
    methods the class has (its own or inherited); kept per function in `table`."""
    known: dict[int, list[Edge]] = model.project.memo(f"{__name__}.{table}", dict)
    edges = known.get(id(function))
    if edges is None:
        edges = known[id(function)] = []
        for call in function.calls:
            names = hooks(call)
            qualname = model.resolve_call(call) if names else None
            if qualname is None or not _may_define(model.project, qualname, defined):
                continue
            for name in names:
                method = method_of(model, qualname, name)
                if method is not None:
                    edges.append(Edge(call, method))
    return edges


def _may_define(project: ProjectIndex, qualname: str, defined: tuple[bytes, ...]) -> bool:
    """Whether `qualname` may name a project class with one of the methods `defined`: a
    module of the run whose bytes define the class and one of them (`def __init__`)."""

    def answer() -> bool:
        found = project.defining_module(qualname)
        if found is None:
            return False
        data = project.source_bytes(found[0])
        return (
            data is not None
            and any(method in data for method in defined)
            and f"class {found[1]}".encode() in data
        )

    return project.remembered(f"{__name__}.defines {defined}", qualname, answer)


def worth_resolving(project: ProjectIndex, qualname: str, accepts: Callable[[bytes], bool]) -> bool:
    """False when the function `qualname` is defined at the top level of a module not parsed
    yet (`ProjectIndex.unparsed_definer`) whose bytes `accepts` turns down: resolving it
    would parse that module for a function that cannot matter."""
    data = project.unparsed_definer(qualname)
    return data is None or accepts(data)


def defined_where(accepts: Callable[[bytes], bool]) -> Callable[[ModuleModel, CallInfo], bool]:
    """A `worth` for `callees`: a call is resolved when `worth_resolving` says so."""

    def worth(model: ModuleModel, call: CallInfo) -> bool:
        qualname = model.resolve_call(call)
        return qualname is None or worth_resolving(model.project, qualname, accepts)

    return worth


# What `find_chain` knows of a function entered with a context: its shortest chain, or the
# depth below it within which there is none (`_NOWHERE` when there is none at any depth).
Known = Chain[T] | int
ChainMemo = dict[tuple[int, Context], Known[T]]
_NOWHERE = 1 << 30


def find_chain(
    target: Target,
    leaf: Callable[[ModuleModel, CallInfo, Context], T | None],
    follow: Callable[[ModuleModel, Target, CallInfo], bool],
    edges: Callable[[ModuleModel, FunctionInfo, Context], list[Edge]],
    tell: Callable[[CallInfo, Target, FunctionInfo, Context, ModuleModel], Context],
    memo: ChainMemo[T],
    context: Context = (),
    max_depth: int = MAX_DEPTH,
) -> Chain[T] | None:
    """The shortest path from `target`'s body down the call graph, at most `max_depth` calls
    deep, to a call where `leaf` says yes; of paths as short, the one through earlier calls.

    `follow(caller's model, callee, call)` decides which of the callees `edges` gives are
    entered. `context` is what the call into `target` tells of its parameters: code in a
    branch it rules out is skipped there (`guards`), `leaf` and `edges` are asked with it,
    and each callee is entered with what `tell` says its own call tells. Being
    the shortest, the answer is the call graph's alone, whichever searches ran before (a pooled
    run's processes each search their own files, in their own order): `memo` keeps it per
    function and context for every later search with the same `leaf` and `follow`,
    whatever depth that search meets it at.
    """

    def search(current: Target, known: Context, depth: int) -> tuple[Chain[T] | None, bool]:
        """The shortest chain from `current` within `depth` calls, and whether the depth
        cut the search short (else no depth finds one when there is none)."""
        key = (id(current.function), known)
        remembered = memo.get(key)
        if isinstance(remembered, Chain):
            return (remembered, False) if len(remembered.edges) <= depth else (None, True)
        if remembered is not None and remembered >= depth:
            return None, remembered < _NOWHERE
        spans = ruled_out(current.model, current.function, known)
        for call in current.function.calls:
            found = leaf(current.model, call, known) if runs(call, spans) else None
            if found is not None:
                memo[key] = chain = Chain((), found)
                return chain, False
        if depth == 0:
            memo[key] = 0  # the callees are left unresolved (and their modules unparsed)
            return None, True
        best: Chain[T] | None = None
        cut = False
        for edge in edges(current.model, current.function, known):
            if not runs(edge.call, spans) or not follow(current.model, edge.target, edge.call):
                continue
            told = tell(edge.call, edge.target, current.function, known, current.model)
            # A later callee is worth entering only for a strictly shorter chain.
            below, short = search(
                edge.target, told, depth - 1 if best is None else len(best.edges) - 2
            )
            cut = cut or short
            if below is not None:
                best = Chain((edge, *below.edges), below.leaf)
                if len(best.edges) == 1:
                    break  # nothing is shorter
        if best is not None:
            memo[key] = best
        else:
            memo[key] = depth if cut else _NOWHERE
        return best, cut and best is None

    return search(target, context, max_depth)[0]

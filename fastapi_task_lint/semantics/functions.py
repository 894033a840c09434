"""Records for the definitions and calls of a module, filled by the builder's walk."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import EllipsisType
from typing import TYPE_CHECKING, Any

import libcst as cst

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.scope import Scope


@dataclass(eq=False, slots=True)
class ParamInfo:
    name: str
    node: cst.Param
    annotation: cst.BaseExpression | None
    default: cst.BaseExpression | None
    star: str  # "", "*" or "**"
    position: int


@dataclass(eq=False, slots=True)
class CallInfo:
    """A call expression and where it sits: its scope and its place in walk order."""

    node: cst.Call
    scope: Scope
    order: int
    awaited: bool = False
    entered: bool = False  # a `with` (or `async with`) item: its result's `__enter__` runs
    in_loop: bool = False  # inside a loop of its function (`guards`: a later assignment reaches it)
    # The call it is an argument of (`StreamingResponse(read_chunks())`), if any.
    argument_of: cst.Call | None = None
    # The canonical name it calls, once `ModuleModel.resolve_call` has asked (`...` before).
    callee: str | EllipsisType | None = ...


@dataclass(eq=False, slots=True)
class Branch:
    """An `if` or conditional expression whose test reads a parameter (see `guards`).

    `taken` and `skipped` are the walk orders (first, last] of its two arms: a call's
    `order` says which arm holds it. `order` is the walk order where the test is read.
    """

    test: cst.BaseExpression
    order: int
    in_loop: bool
    taken: tuple[int, int]
    skipped: tuple[int, int]
    # The taken arm ends in `return`/`raise`, and the `if` is in the function's own body:
    # once the test holds, nothing after the `if` runs either (to `FunctionInfo.end_order`).
    leaves: bool = False
    # Only the taken arm depends on the test: the body of a loop over the tested name
    # (`for k, v in p.items():`, run only if `p` is not empty), or the right operand of
    # `p and f()` (`p or f()` tests `not p`). A test that holds rules nothing out.
    one_armed: bool = False
    # The taken arm ends in `return`, `raise`, `break` or `continue` and the `if` is nested
    # in a block (a loop's body, another `if`'s arm): once the test holds, the rest of that
    # block does not run, to this walk order (0: no such).
    rest_until: int = 0


@dataclass(eq=False, slots=True)
class FunctionInfo:
    """A `def`, `async def` or `lambda`, with the facts rules ask about most."""

    name: str
    qualname: str
    node: cst.FunctionDef | cst.Lambda
    scope: Scope
    parent_scope: Scope
    is_async: bool
    params: list[ParamInfo]
    decorators: list[cst.BaseExpression]
    returns: cst.BaseExpression | None
    klass: ClassInfo | None = None
    calls: list[CallInfo] = field(default_factory=list)
    return_values: list[cst.BaseExpression | None] = field(default_factory=list)
    yield_values: list[cst.BaseExpression | None] = field(default_factory=list)
    # Its own `await`s, `async with`s and `async for`s: an `async def` with none could be a
    # plain `def` (FTL202's advice).
    awaits: int = 0
    end_order: int = 0  # the walk order where its body ends (a `def`'s; 0 for a lambda)
    branches: tuple[Branch, ...] = ()  # few functions have one: no list for each
    # Walk-order spans (first, last] of its code that runs on its first call only (per key
    # of a cache): a fill of a global or an attribute the `if` found unset (`blocking`).
    once: tuple[tuple[int, int], ...] = ()
    # Walk-order spans (first, last] of its code that cannot run: what follows, in the same
    # block, a statement that always leaves it (`return`, `raise`, `if True: return`).
    unreachable: tuple[tuple[int, int], ...] = ()
    # Its names that a nested function assigns (`nonlocal`): their value may change anywhere.
    rebound_inside: frozenset[str] = frozenset()
    # What a call can tell this function of its parameters (`guards`), once asked, and the
    # parameters its `isinstance` tests read.
    guard_inputs: tuple[tuple[str, Any, Any], ...] | None = None
    dispatched: frozenset[str] | None = None

    @property
    def is_lambda(self) -> bool:
        return isinstance(self.node, cst.Lambda)

    @property
    def is_generator(self) -> bool:
        return bool(self.yield_values)

    def param(self, name: str) -> ParamInfo | None:
        return next((p for p in self.params if p.name == name), None)

    def decorated(self, name: str) -> bool:
        """Whether a decorator spelled as the bare name `name` decorates it."""
        return any(isinstance(d, cst.Name) and d.value == name for d in self.decorators)

    @property
    def receives_class(self) -> bool:
        """Whether its first parameter is its class, not an instance: a `@classmethod`'s
        `cls`, and that of `__new__`, `__init_subclass__` and `__class_getitem__`."""
        if self.name in ("__new__", "__init_subclass__", "__class_getitem__"):
            return True
        return self.decorated("classmethod")

    @property
    def is_static(self) -> bool:
        """Whether the builtin `@staticmethod` (not a name bound where it is defined)
        decorates it: its first parameter is then no instance of its class."""
        return any(
            isinstance(d, cst.Name)
            and d.value == "staticmethod"
            and self.parent_scope.lookup(d.value) is None
            for d in self.decorators
        )


@dataclass(eq=False, slots=True)
class ClassInfo:
    name: str
    qualname: str
    node: cst.ClassDef
    scope: Scope
    parent_scope: Scope
    bases: list[cst.BaseExpression]
    keywords: dict[str, cst.BaseExpression]
    methods: dict[str, FunctionInfo] = field(default_factory=dict)
    # What its methods assign to `self.<name>`, in walk order: see `AttributeAssignment`.
    attributes: dict[str, list[AttributeAssignment]] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class AttributeAssignment:
    """`self.name = value` (or `self.name: T = value`) in a method; `value` and `annotation`
    are None where the code does not say what is assigned (`self.n += 1`, a loop target)."""

    value: cst.BaseExpression | None
    annotation: cst.BaseExpression | None
    scope: Scope
    order: int

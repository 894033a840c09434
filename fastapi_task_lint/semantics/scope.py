"""Scopes and bindings: what a name refers to at a given point of a module.

A light replacement for libcst's ScopeProvider: one table per module, function,
lambda, class and comprehension, filled in a single walk. Each binding records the
walk order at which it takes effect, so "the latest assignment that reaches this
call" is a lookup, not a second walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.functions import ClassInfo, FunctionInfo, ParamInfo


class ScopeKind(Enum):
    MODULE = "module"
    CLASS = "class"
    FUNCTION = "function"
    LAMBDA = "lambda"
    COMPREHENSION = "comprehension"


class BindingKind(Enum):
    IMPORT = "import"
    FUNCTION = "function"
    CLASS = "class"
    ASSIGN = "assign"
    PARAM = "param"
    LOOP = "loop"
    WITH = "with"
    EXCEPT = "except"
    OTHER = "other"


@dataclass(eq=False, slots=True)
class Binding:
    """One way a name gets a value; `value` is the assigned expression when there is one."""

    name: str
    kind: BindingKind
    order: int
    node: cst.CSTNode
    value: cst.BaseExpression | None = None
    annotation: cst.BaseExpression | None = None
    imported: str | None = None
    function: FunctionInfo | None = None
    klass: ClassInfo | None = None
    param: ParamInfo | None = None
    is_async_with: bool = False
    iterable: cst.BaseExpression | None = None
    # `a, b = value` (kind OTHER): the value unpacked and this name's place in it.
    unpacked: tuple[cst.BaseExpression, int] | None = None


@dataclass(eq=False, slots=True)
class Scope:
    kind: ScopeKind
    parent: Scope | None
    node: cst.CSTNode
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)
    nonlocal_names: set[str] = field(default_factory=set)
    function: FunctionInfo | None = None
    # `if isinstance(name, T):` in this scope: (name, T, the walk orders of its body), for
    # the few scopes that have one.
    narrowings: tuple[tuple[str, cst.BaseExpression, tuple[int, int]], ...] = ()

    def add(self, binding: Binding) -> None:
        target = self.module_scope() if binding.name in self.global_names else self
        bindings = target.bindings.get(binding.name)
        if bindings is None:  # most names are bound once: a list of exactly one
            target.bindings[binding.name] = [binding]
        else:
            bindings.append(binding)

    def module_scope(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def lookup(self, name: str, order: int | None = None) -> Binding | None:
        """The binding of `name` visible here; `order` picks the latest one before a use.

        Class scopes are skipped from nested functions, as Python does. In enclosing
        scopes the latest binding wins, since nested code runs after they are filled.
        """
        scope: Scope | None = self
        first = True
        while scope is not None:
            if scope.kind is ScopeKind.CLASS and not first:
                scope = scope.parent
                continue
            if name in scope.nonlocal_names or (name in scope.global_names and scope.parent):
                scope = scope.parent if name in scope.nonlocal_names else scope.module_scope()
                first = False
                continue
            bindings = scope.bindings.get(name)
            if bindings:
                if first and order is not None:
                    for binding in reversed(bindings):  # the last one before the use
                        if binding.order < order:
                            return binding
                return bindings[-1]
            scope = scope.parent
            first = False
        return None

    def enclosing_function(self) -> FunctionInfo | None:
        scope: Scope | None = self
        while scope is not None:
            if scope.function is not None:
                return scope.function
            scope = scope.parent
        return None

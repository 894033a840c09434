"""Every value that reaches a task at a scheduling site, and how it gets there.

A value reaches the task when it is passed as an argument (also inside a literal or a
`functools.partial`), captured by a lambda or nested `def` passed as the task, bound
in a partial that a project helper builds from its parameters, or carried inside an
object built from it in the same function (`OrderService(db)` passed on, or its bound
method scheduled). Rules pick the origins they care about; the walk is done once here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics.callgraph import resolve_function_ref
from fastapi_task_lint.semantics.calls import resolve_callee, returned_function
from fastapi_task_lint.semantics.functions import FunctionInfo
from fastapi_task_lint.semantics.model import TypeRef
from fastapi_task_lint.semantics.origins import Origin, held_session, value_origin
from fastapi_task_lint.semantics.scheduling import SchedulingSite, bind_arguments, partial_parts
from fastapi_task_lint.semantics.scope import Binding, BindingKind, Scope, ScopeKind
from fastapi_task_lint.semantics.values import captured_names, flatten_literal
from fastapi_task_lint.semantics.walk import walk
from fastapi_task_lint.semantics.wrappers import (
    has_callers,
    own_param,
    shown_path,
    wrapper_specs,
)
from fastapi_task_lint.source import one_line

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel

_MAX_DEPTH = 3
# `add_task(db.close)`, `add_task(file.close)`: releasing the object after the response is
# what a task may do with it.
_CLEANUP_METHODS = frozenset({"close", "aclose"})
# Library containers that carry what they are built from.
_CARRIERS = frozenset({"builtins.dict", "types.SimpleNamespace"})


@dataclass(frozen=True)
class Reach:
    """A value with an interesting origin that the task receives.

    `node` is what to report: the expression as written at the site (or inside the
    lambda); `value` is the expression whose origin was found, `scope`/`order` where it
    is evaluated, and `path` says how it gets to the task, for messages.
    """

    node: cst.BaseExpression
    value: cst.BaseExpression
    origin: Origin
    path: str
    scope: Scope
    order: int | None

    def binding(self) -> Binding | None:
        """Where a name `value` was bound, as seen where it is used."""
        if not isinstance(self.value, cst.Name):
            return None
        return self.scope.lookup(self.value.value, self.order)


def reaching_values(model: ModuleModel, site: SchedulingSite) -> list[Reach]:
    walker = _Walker(model, site)
    walker.walk()
    return walker.found


class _Walker:
    def __init__(self, model: ModuleModel, site: SchedulingSite) -> None:
        self.model = model
        self.site = site
        self.found: list[Reach] = []
        self._seen: set[tuple[int, int]] = set()

    def walk(self) -> None:
        site = self.site
        bound_by_partial = (
            {id(a.value) for a in site.partial.args[1:]} if site.partial is not None else set()
        )
        partial_at_site = self._partial_at_site()
        for argument in site.arguments:
            node: cst.BaseExpression | None = None
            if id(argument.value) in bound_by_partial:
                how = f"bound in `{_short(self.model, site.partial)}`"
                node = partial_at_site
            elif argument.keyword is not None:
                how = f"as `{argument.keyword}=`"
            else:
                how = "as an argument"
            for value in flatten_literal(argument.value):
                self._collect(node or value, value, site.scope, site.order, how, 0)
                self._handed_function(value, site.scope, site.order)
        if site.callable is not None:
            self._callable(site.callable, site.callable_scope, site.callable_order)

    def _partial_at_site(self) -> cst.BaseExpression | None:
        """The argument of the scheduling call that is the partial or names it."""
        site = self.site
        if site.partial is None:
            return None
        for arg in site.node.args:
            if arg.value is site.partial:
                return arg.value
            if isinstance(arg.value, cst.Name):
                parts = partial_parts(self.model, arg.value, site.scope, site.order)
                if parts is not None and parts.call is site.partial:
                    return arg.value
        return None

    def _callable(self, target: cst.BaseExpression, scope: Scope, order: int | None) -> None:
        model = self.model
        if isinstance(target, cst.Lambda):
            self._handed_function(target, scope, order)
            return
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            if target.attr.value in _CLEANUP_METHODS or self._leaves_held_session(
                target, scope, order
            ):
                return
            # A bound method takes its object along: `service.release_stock`.
            how = f"through its object `{target.value.value}`"
            self._collect(target, target.value, scope, order, how, 0)
            return
        if isinstance(target, cst.Call):
            self._helper_built(target, target, scope, order)
            return
        if not isinstance(target, cst.Name):
            return
        binding = scope.lookup(target.value, order)
        if binding is None:
            return
        if binding.kind is BindingKind.FUNCTION and binding.function is not None:
            self._nested_def(target, binding.function)
        elif (
            binding.kind is BindingKind.ASSIGN
            and isinstance(binding.value, cst.Call)
            and partial_parts(model, target, scope, order) is None
        ):
            owner = model.scope_of_binding(binding)
            self._helper_built(target, binding.value, owner, binding.order)

    def _leaves_held_session(self, target: cst.Attribute, scope: Scope, order: int | None) -> bool:
        """Whether the bound method `target` (`svc.execute_sync_job`) of an object that keeps
        a DB session never reads it: the method opens its own, which is the fix FTL102
        asks for (fastapi-payments). Only the session the object keeps is left out."""
        model = self.model
        type_ref = model.infer_type(target.value, scope, order)
        held = None if type_ref is None or type_ref.container else held_session(model, type_ref)
        method = resolve_function_ref(model, target, scope, order) if held else None
        return method is not None and not _reads_own_attribute(
            method.model, method.function, held or "", 0
        )

    def _handed_function(self, value: cst.BaseExpression, scope: Scope, order: int | None) -> None:
        """A lambda or nested `def` handed to the task as an argument (a progress callback):
        the task calls it after the response, with the names it took from outside."""
        if isinstance(value, cst.Lambda):
            for name in captured_names(value, receivers=True):
                self._collect(name, name, scope, order, "captured by the lambda", 0)
            return
        binding = scope.lookup(value.value, order) if isinstance(value, cst.Name) else None
        if binding is not None and binding.kind is BindingKind.FUNCTION and binding.function:
            self._nested_def(value, binding.function)

    def _nested_def(self, node: cst.BaseExpression, function: FunctionInfo) -> None:
        """A `def` inside the scheduling function: the names it takes from outside."""
        if function.parent_scope.kind is not ScopeKind.FUNCTION:
            return
        assert isinstance(function.node, cst.FunctionDef)
        how = f"captured by the nested function `{function.name}`"
        for name in captured_names(function.node, receivers=True):
            binding = function.scope.lookup(name.value)
            if binding is None or _inside(self.model.scope_of_binding(binding), function.scope):
                continue
            self._collect(node, name, function.scope, None, how, 0)

    def _helper_built(
        self, node: cst.BaseExpression, call: cst.Call, scope: Scope, order: int | None
    ) -> None:
        """`make_task(db)` where the helper returns `partial(f, db)` or a closure over `db`."""
        found = resolve_callee(self.model, call, scope, order)
        if found is None:
            return
        owner, helper = found
        carried: list[tuple[cst.BaseExpression, Scope]] = []
        for returned in helper.return_values:
            if returned is None:
                continue
            parts = partial_parts(owner, returned, helper.scope, None)
            if parts is not None:
                carried.extend((a.value, parts.scope) for a in parts.arguments)
                continue
            closure = returned_function(owner, returned, helper)
            if closure is not None:
                carried.extend(
                    (name, closure.scope) for name in captured_names(closure.node, receivers=True)
                )
        if not carried:
            return
        line = owner.position(helper.node).start.line
        where = f"{shown_path(owner.path)}:{line}" if owner is not self.model else f"line {line}"
        how = f"built into the task by `{helper.name}(...)` ({where})"
        bound = bind_arguments(helper, call.args)
        for value, value_scope in carried:
            for item in flatten_literal(value):
                param = own_param(owner, helper, item, value_scope, None)
                for argument in bound.get(param.name, []) if param is not None else []:
                    self._collect(node, argument.value, scope, order, how, 0)

    def _collect(
        self,
        node: cst.BaseExpression,
        value: cst.BaseExpression,
        scope: Scope,
        order: int | None,
        how: str,
        depth: int,
    ) -> None:
        key = (id(node), id(value))
        if key in self._seen:
            return
        self._seen.add(key)
        origin = value_origin(self.model, value, scope, order)
        if origin is not None:
            if not self._reported_at_callers(value, scope, order):
                self.found.append(Reach(node, value, origin, how, scope, order))
            return
        if depth >= _MAX_DEPTH:
            return
        built = self._constructed_from(value, scope, order)
        if built is None:
            return
        call, call_scope, call_order = built
        inside = f"{how} (built from it by `{_short(self.model, call)}`)"
        for argument in call.args:
            for item in flatten_literal(argument.value):
                self._collect(node, item, call_scope, call_order, inside, depth + 1)

    def _reported_at_callers(
        self, value: cst.BaseExpression, scope: Scope, order: int | None
    ) -> bool:
        """A helper's own parameter that it schedules: each call of the helper is a site.

        Route handlers and `Depends` parameters are where request values start, so they
        are reported where they are scheduled.
        """
        function = self.site.function
        if function is None or not isinstance(value, cst.Name):
            return False
        param = own_param(self.model, function, value, scope, order)
        if param is None or not wrapper_specs(self.model, function):
            return False
        if isinstance(param.default, cst.Call) and self.model.depends_target(
            param.default, function.parent_scope
        ):
            return False
        if any(route.function is function for route in self.model.routes):
            return False
        return has_callers(self.model, function)

    def _constructed_from(
        self, value: cst.BaseExpression, scope: Scope, order: int | None
    ) -> tuple[cst.Call, Scope, int | None] | None:
        """The constructor call that built `value` in this function, if it is an object."""
        if isinstance(value, cst.Name):
            binding = scope.lookup(value.value, order)
            if (
                binding is None
                or binding.kind is not BindingKind.ASSIGN
                or not isinstance(binding.value, cst.Call)
            ):
                return None
            owner = self.model.scope_of_binding(binding)
            if owner.kind is ScopeKind.MODULE:
                return None
            return self._constructed_from(binding.value, owner, binding.order)
        if not isinstance(value, cst.Call):
            return None
        qualname = self.model.qualified_name(value.func, scope, order)
        if qualname is None:
            return None
        if qualname in _CARRIERS or self.model.project.resolve_class(qualname) is not None:
            return value, scope, order
        return None


def _inside(scope: Scope, outer: Scope) -> bool:
    current: Scope | None = scope
    while current is not None:
        if current is outer:
            return True
        current = current.parent
    return False


def _short(model: ModuleModel, node: cst.CSTNode | None) -> str:
    if node is None:
        return ""
    code = one_line(model.code_for(node))
    return code if len(code) <= 50 else code[:47] + "..."


def _reads_own_attribute(
    model: ModuleModel, method: FunctionInfo, attribute: str, depth: int
) -> bool:
    """Whether `method` reads `self.<attribute>`, itself or through the methods it calls on
    `self` (three deep). Any other use of `self` (handed on, `getattr`, `super()`) may read
    it, and counts."""
    if method.klass is None or not method.params or depth > _MAX_DEPTH:
        return True
    finder = _OwnAttributeReads(method.params[0].name, attribute)
    walk(method.node.body, finder)
    if finder.may_read:
        return True
    for name in finder.methods_called:
        found = model.method_of(TypeRef(method.klass.qualname), name)
        if found is not None and _reads_own_attribute(found[0], found[1], attribute, depth + 1):
            return True
    return False


class _OwnAttributeReads(cst.CSTVisitor):
    """What a method body does with its `self`: the methods of its own it calls, and whether
    it may read the attribute (`may_read`): it reads it, or uses `self` otherwise (hands it
    on, `getattr`, `super()`), which may read anything."""

    def __init__(self, receiver: str, attribute: str) -> None:
        self.receiver = receiver
        self.attribute = attribute
        self.methods_called: set[str] = set()
        self.may_read = False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == self.receiver
        ):
            self.methods_called.add(func.attr.value)
        elif isinstance(func, cst.Name) and func.value == "super":
            self.may_read = True

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if isinstance(node.value, cst.Name) and node.value.value == self.receiver:
            if node.attr.value == self.attribute:
                self.may_read = True
            return False  # `self.x`: not a use of `self` on its own
        return True

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.receiver:
            self.may_read = True

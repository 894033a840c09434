"""One walk over a libcst tree that fills scopes, bindings, definitions and calls."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import libcst as cst

from fastapi_task_lint.semantics import names
from fastapi_task_lint.semantics.functions import (
    AttributeAssignment,
    Branch,
    CallInfo,
    ClassInfo,
    FunctionInfo,
    ParamInfo,
)
from fastapi_task_lint.semantics.guards import tested_names
from fastapi_task_lint.semantics.scope import Binding, BindingKind, Scope, ScopeKind
from fastapi_task_lint.semantics.walk import OwnCodeVisitor, walk


@dataclass
class ModuleFacts:
    """What the walk found; `ModuleModel` answers questions from it."""

    module_scope: Scope
    functions: list[FunctionInfo] = field(default_factory=list)
    classes: list[ClassInfo] = field(default_factory=list)
    calls: list[CallInfo] = field(default_factory=list)
    star_imports: list[str] = field(default_factory=list)
    function_by_node: dict[int, FunctionInfo] = field(default_factory=dict)
    scope_by_node: dict[int, Scope] = field(default_factory=dict)
    # `worker.semaphore = ...` (or `app.router.lifespan_context = ...`) on another owner
    # than a method's own instance, by the owner's dotted name and the attribute: see
    # `ModuleModel.global_attribute_type` and `assignments_to`.
    name_attributes: dict[tuple[str, str], list[AttributeAssignment]] = field(default_factory=dict)


def resolve_relative(module_name: str, is_package: bool, level: int, target: str) -> str:
    """Absolute dotted name of `from <level dots><target> import ...` inside `module_name`."""
    parts = module_name.split(".") if module_name else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    base = ".".join(parts)
    if target:
        return f"{base}.{target}" if base else target
    return base


def dotted_name(node: cst.BaseExpression | cst.ImportAlias | None) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{dotted_name(node.value)}.{node.attr.value}"
    return ""


class ModelBuilder(cst.CSTVisitor):
    def __init__(self, tree: cst.Module, module_name: str, is_package: bool) -> None:
        self.module_name = module_name
        self.is_package = is_package
        scope = Scope(ScopeKind.MODULE, None, tree)
        self.facts = ModuleFacts(module_scope=scope)
        self.facts.scope_by_node[id(tree)] = scope
        self.scope = scope
        self.function_stack: list[FunctionInfo] = []
        self.class_stack: list[ClassInfo] = []
        self.qual_stack: list[str] = [module_name] if module_name else []
        self.order = 0
        self.awaited: set[int] = set()
        self.entered: set[int] = set()  # the calls `with`/`async with` enter
        self.arguments: dict[int, cst.Call] = {}  # a call's argument: the call (`argument_of`)
        self.loops = 0  # loops around this point, within the innermost function
        # The statements of the innermost function's own body (not nested in a block).
        self.top_level: frozenset[int] = frozenset()
        # The blocks being walked, innermost last, each with the branches whose taken arm
        # leaves it (`Branch.rest_until`, set when the block ends).
        self.blocks: list[list[Branch]] = []
        # Cache fills being walked (`_fills_once`): the `if`, its function, and where the
        # span it runs once starts (None: after the `if`, to the function's end).
        self.filling: list[tuple[cst.If, FunctionInfo, int | None]] = []

    # -- helpers ---------------------------------------------------------------------
    def _tick(self) -> int:
        self.order += 1
        return self.order

    def _bind(self, name: str, kind: BindingKind, node: cst.CSTNode, **extra: object) -> None:
        self.scope.add(Binding(name, kind, self._tick(), node, **extra))  # type: ignore[arg-type]

    def _bind_target(
        self,
        target: cst.BaseExpression,
        kind: BindingKind,
        value: cst.BaseExpression | None,
        annotation: cst.BaseExpression | None = None,
        iterable: cst.BaseExpression | None = None,
    ) -> None:
        if isinstance(target, cst.Name):
            self._bind(
                target.value,
                kind,
                target,
                value=value,
                annotation=annotation,
                iterable=iterable,
            )
        elif isinstance(target, (cst.Tuple, cst.List)):
            values: list[cst.BaseExpression | None] = [None] * len(target.elements)
            if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(
                target.elements
            ):
                values = [e.value for e in value.elements]
            elif kind is BindingKind.ASSIGN and value is not None:
                self._bind_unpacked(target, value)
                return
            for element, element_value in zip(target.elements, values, strict=False):
                inner = element.value
                self._bind_target(
                    inner, kind if element_value else BindingKind.OTHER, element_value
                )
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, BindingKind.OTHER, None)
        elif isinstance(target, cst.Attribute):
            self._bind_attribute(target, kind, value, annotation)

    def _bind_unpacked(self, target: cst.Tuple | cst.List, value: cst.BaseExpression) -> None:
        """`args, controller = create()`: each name keeps the value and its place in it,
        which says its class when the value is a tuple of known classes."""
        starred = any(isinstance(e, cst.StarredElement) for e in target.elements)
        for index, element in enumerate(target.elements):
            inner = element.value
            if isinstance(inner, cst.Name) and not starred:
                self._bind(inner.value, BindingKind.OTHER, inner, unpacked=(value, index))
            else:
                self._bind_target(inner, BindingKind.OTHER, None)

    def _bind_attribute(
        self,
        target: cst.Attribute,
        kind: BindingKind,
        value: cst.BaseExpression | None,
        annotation: cst.BaseExpression | None,
    ) -> None:
        """Record `self.name = value` in a method on its class (`ClassInfo.attributes`),
        and `owner.name = value` on another owner (`worker`, `app.router`) in the module's
        facts, by the owner's dotted name."""
        owner = target.value
        spelled = dotted_name(owner)
        if not spelled:
            return
        said = kind is BindingKind.ASSIGN
        assignment = AttributeAssignment(
            value if said else None, annotation if said else None, self.scope, self._tick()
        )
        method = self.function_stack[-1] if self.function_stack else None
        if (
            method is not None
            and method.klass is not None
            and method.params
            and spelled == method.params[0].name
        ):
            method.klass.attributes.setdefault(target.attr.value, []).append(assignment)
        else:
            key = (spelled, target.attr.value)
            self.facts.name_attributes.setdefault(key, []).append(assignment)

    def _push(self, kind: ScopeKind, node: cst.CSTNode, function: FunctionInfo | None) -> Scope:
        scope = Scope(kind, self.scope, node, function=function)
        self.facts.scope_by_node[id(node)] = scope
        self.scope = scope
        return scope

    def _pop(self) -> None:
        assert self.scope.parent is not None
        self.scope = self.scope.parent

    def _params(self, params: cst.Parameters) -> list[ParamInfo]:
        result: list[ParamInfo] = []
        groups: list[tuple[str, list[cst.Param]]] = [
            ("", list(params.posonly_params)),
            ("", list(params.params)),
        ]
        if isinstance(params.star_arg, cst.Param):
            groups.append(("*", [params.star_arg]))
        groups.append(("", list(params.kwonly_params)))
        if params.star_kwarg is not None:
            groups.append(("**", [params.star_kwarg]))
        for star, group in groups:
            for param in group:
                annotation = param.annotation.annotation if param.annotation else None
                result.append(
                    ParamInfo(param.name.value, param, annotation, param.default, star, len(result))
                )
        return result

    # -- definitions -----------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        for decorator in node.decorators:
            walk(decorator, self)
        walk(node.params, self)
        if node.returns is not None:
            walk(node.returns, self)
        parent = self.scope
        qualname = ".".join([*self.qual_stack, node.name.value])
        klass = (
            self.class_stack[-1] if parent.kind is ScopeKind.CLASS and self.class_stack else None
        )
        params = self._params(node.params)
        info = FunctionInfo(
            name=node.name.value,
            qualname=qualname,
            node=node,
            scope=parent,  # replaced below once the body scope exists
            parent_scope=parent,
            is_async=node.asynchronous is not None,
            params=params,
            decorators=[d.decorator for d in node.decorators],
            returns=node.returns.annotation if node.returns else None,
            klass=klass,
        )
        self._bind(node.name.value, BindingKind.FUNCTION, node, function=info)
        if klass is not None:
            klass.methods[node.name.value] = info
        self.facts.functions.append(info)
        self.facts.function_by_node[id(node)] = info
        info.scope = self._push(ScopeKind.FUNCTION, node, info)
        for param in params:
            self.scope.add(Binding(param.name, BindingKind.PARAM, 0, param.node, param=param))
        self.function_stack.append(info)
        self.qual_stack.append(node.name.value)
        loops, self.loops = self.loops, 0
        top_level, self.top_level = self.top_level, _statement_ids(node.body)
        walk(node.body, self)
        info.end_order = self.order
        self.loops, self.top_level = loops, top_level
        self.qual_stack.pop()
        self.function_stack.pop()
        self._pop()
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        walk(node.params, self)
        parent = self.scope
        params = self._params(node.params)
        info = FunctionInfo(
            name="<lambda>",
            qualname=".".join([*self.qual_stack, "<lambda>"]),
            node=node,
            scope=parent,
            parent_scope=parent,
            is_async=False,
            params=params,
            decorators=[],
            returns=None,
            return_values=[node.body],
        )
        self.facts.function_by_node[id(node)] = info
        info.scope = self._push(ScopeKind.LAMBDA, node, info)
        for param in params:
            self.scope.add(Binding(param.name, BindingKind.PARAM, 0, param.node, param=param))
        self.function_stack.append(info)
        loops, self.loops = self.loops, 0
        walk(node.body, self)
        self.loops = loops
        self.function_stack.pop()
        self._pop()
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        for decorator in node.decorators:
            walk(decorator, self)
        for arg in (*node.bases, *node.keywords):
            walk(arg, self)
        parent = self.scope
        info = ClassInfo(
            name=node.name.value,
            qualname=".".join([*self.qual_stack, node.name.value]),
            node=node,
            scope=parent,
            parent_scope=parent,
            bases=[a.value for a in node.bases],
            keywords={a.keyword.value: a.value for a in node.keywords if a.keyword},
        )
        self._bind(node.name.value, BindingKind.CLASS, node, klass=info)
        self.facts.classes.append(info)
        info.scope = self._push(ScopeKind.CLASS, node, None)
        self.class_stack.append(info)
        self.qual_stack.append(node.name.value)
        walk(node.body, self)
        self.qual_stack.pop()
        self.class_stack.pop()
        self._pop()
        return False

    def _visit_comprehension(
        self, node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp
    ) -> bool:
        self._push(ScopeKind.COMPREHENSION, node, None)
        walk(node.for_in, self)
        if isinstance(node, cst.DictComp):
            walk(node.key, self)
            walk(node.value, self)
        else:
            walk(node.elt, self)
        self._pop()
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return self._visit_comprehension(node)

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return self._visit_comprehension(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return self._visit_comprehension(node)

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return self._visit_comprehension(node)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_target(node.target, BindingKind.LOOP, None, iterable=node.iter)

    # -- imports ---------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted_name(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value, BindingKind.IMPORT, node, imported=full)
            else:
                top = full.split(".", 1)[0]
                self._bind(top, BindingKind.IMPORT, node, imported=top)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        target = dotted_name(node.module) if node.module is not None else ""
        level = len(node.relative)
        base = (
            resolve_relative(self.module_name, self.is_package, level, target) if level else target
        )
        if isinstance(node.names, cst.ImportStar):
            if self.scope.kind is ScopeKind.MODULE:
                self.facts.star_imports.append(base)
            return
        for alias in node.names:
            name = dotted_name(alias.name)
            local = (
                alias.asname.name.value
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name)
                else name
            )
            full = f"{base}.{name}" if base else name
            self._bind(local, BindingKind.IMPORT, node, imported=full)

    # -- bindings --------------------------------------------------------------------
    def leave_Assign(self, original_node: cst.Assign) -> None:
        for target in original_node.targets:
            self._bind_target(target.target, BindingKind.ASSIGN, original_node.value)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self._bind_target(
            original_node.target,
            BindingKind.ASSIGN,
            original_node.value,
            annotation=original_node.annotation.annotation,
        )

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        self._bind_target(original_node.target, BindingKind.OTHER, None)

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        scope = self.scope
        while scope.kind is ScopeKind.COMPREHENSION and scope.parent is not None:
            scope = scope.parent
        if isinstance(original_node.target, cst.Name):
            scope.add(
                Binding(
                    original_node.target.value,
                    BindingKind.ASSIGN,
                    self._tick(),
                    original_node,
                    value=original_node.value,
                )
            )

    def visit_For(self, node: cst.For) -> bool:
        if node.asynchronous is not None and self.function_stack:
            self.function_stack[-1].awaits += 1
        self._bind_target(node.target, BindingKind.LOOP, None, iterable=node.iter)
        self.loops += 1
        subject = _iterated_name(node.iter)
        function = self._testing_function(subject) if subject is not None else None
        if subject is None or function is None:
            return True
        # A loop over a parameter (`for k, v in uploads.items():`) runs its body only when
        # the parameter is not empty (`guards`).
        walk(node.target, self)
        walk(node.iter, self)
        test = self._tick()
        walk(node.body, self)
        taken = (test, self.order)
        # `loops` counts this loop too: the test is read before it.
        self._branch(function, subject, test, taken, in_loop=self.loops > 1, one_armed=True)
        if node.orelse is not None:
            walk(node.orelse, self)
        return False

    def leave_For(self, original_node: cst.For) -> None:
        self.loops -= 1

    def visit_While(self, node: cst.While) -> None:
        self.loops += 1

    def leave_While(self, original_node: cst.While) -> None:
        self.loops -= 1

    # -- branches on parameters (`guards`) --------------------------------------------
    def _testing_function(self, test: cst.BaseExpression) -> FunctionInfo | None:
        """The function whose parameter (or, for a method, an attribute of its instance)
        `test` reads, when it is read in that function's own scope (not a comprehension or
        class body, where the name may be another)."""
        if not self.function_stack or self.scope is not self.function_stack[-1].scope:
            return None
        function = self.function_stack[-1]
        names = tested_names(test)
        if not names:
            return None
        if any(p.name in names for p in function.params):
            return function
        # `if self.path is not None:` in a method: `guards` may know what it gave `self.path`.
        if function.klass is not None and function.params:
            instance = f"{function.params[0].name}."
            if any(name.startswith(instance) for name in names):
                return function
        return None

    def _fills_once(self, node: cst.If) -> tuple[FunctionInfo, bool] | None:
        """The function whose cache `node` fills, and whether the fill is its body: `if
        _client is None: _client = ...` (or `if not self._perms:`, `if key not in _pages:
        _pages[key] = ...`). Else (False) the fill follows an early return at the
        function's top level: `if _version is not None: return _version`, then `_version
        = ...`. The cache outlives the function's calls (`_persistent`). A cache keyed by
        a parameter gives back what it keeps (`return _pages[key]`): a dict that only marks
        the keys callers hand it (`if job.id in running: return`) runs the rest for each."""
        function = self.function_stack[-1] if self.function_stack else None
        if function is None or self.scope is not function.scope or node.orelse is not None:
            return None
        found = _cache_test(node.test)
        if found is None:
            return None
        target, unset = found
        read_into = target  # what the function gives back when it gives the entry
        entry = _read_entry(function, target, self.order) if unset else None
        if entry is not None:  # `model = _models.get(name)`, then `if model is None:`
            target = entry
        if not _persistent(function, target):
            return None
        # A dict that only marks keys seen runs once per key: once where the key stays the
        # same between calls (the thread's id), each time where a caller hands it.
        marks_once = "[" not in target or not _handed_key(function, target)
        if unset:
            filled = _fills(node.body, target)
            gives = _gives(function, target) or (entry is not None and _gives(function, read_into))
            return (function, True) if filled and (marks_once or gives) else None
        body = function.node.body
        statements = list(body.body) if isinstance(body, cst.IndentedBlock) else []
        anchor = node if id(node) in self.top_level else _locked_alone(statements, node)
        last = _last_statement(node.body)
        if anchor is None or not isinstance(last, cst.Return):
            return None  # a `raise` is a guard (`if key in sessions: raise Exists`), no cache
        if not marks_once and (last.value is None or _spelled(last.value) != target):
            return None
        later = statements[statements.index(anchor) + 1 :]
        return (function, False) if any(_fills(s, target) for s in later) else None

    def visit_If(self, node: cst.If) -> bool:
        """Record the branches on parameters and the `isinstance` narrowings of an `if` and
        of the `elif`s after it, in one loop: a chain of hundreds of `elif isinstance(...)`
        walked one level deeper each would run out of stack."""
        filling = self._fills_once(node)
        if filling is not None:
            filled, inside = filling
            self.filling.append((node, filled, self.order if inside else None))
        pending: list[
            tuple[FunctionInfo, cst.BaseExpression, int, tuple[int, int], bool, bool]
        ] = []
        in_body = id(node) in self.top_level  # a `return` in an arm leaves the rest unrun
        current = node
        while True:
            function = self._testing_function(current.test)
            narrowed = _isinstance_test(current.test)
            if function is None and narrowed is None:
                if current is node:
                    return True
                walk(current, self)  # an `elif` of its own kind: walked as any `if` is
                break
            walk(current.test, self)
            test = self._tick()  # where the test reads: after any binding before or in it
            walk(current.body, self)
            taken = (test, self.order)
            if narrowed is not None:
                self.scope.narrowings += ((*narrowed, taken),)
            if function is not None:
                # Only the first test of a chain is always read: an `elif` whose arm returns
                # leaves the rest unrun only when every test before it failed.
                leaves = in_body and current is node and _leaves(current.body)
                # Nested in a block, an arm that leaves it skips the rest of that block.
                skips = not leaves and current is node and _leaves(current.body, loops=True)
                pending.append((function, current.test, test, taken, leaves, skips))
            if isinstance(current.orelse, cst.If):
                current = current.orelse
                continue
            if current.orelse is not None:
                walk(current.orelse, self)
            break
        for function, test_node, test, taken, leaves, skips in reversed(pending):
            branch = self._branch(function, test_node, test, taken, leaves)  # other arm ends
            if skips and self.blocks:
                self.blocks[-1].append(branch)
        return False

    def leave_Try(self, original_node: cst.Try) -> None:
        """`try: return _icons[name]` / `except KeyError: pass`, then a fill of
        `_icons[name]` (rio-ui's icon registry): what follows runs once per key, as after
        `if name in _icons: return _icons[name]`."""
        function = self.function_stack[-1] if self.function_stack else None
        if function is None or self.scope is not function.scope:
            return
        if id(original_node) not in self.top_level:
            return
        target = _returned_on_hit(original_node)
        if target is None or not _persistent(function, target):
            return
        body = function.node.body
        statements = list(body.body) if isinstance(body, cst.IndentedBlock) else []
        later = statements[statements.index(original_node) + 1 :]
        if any(_fills(statement, target) for statement in later):
            function.once += ((self.order, _TO_THE_END),)

    def leave_If(self, original_node: cst.If) -> None:
        """Record what a cache fill (`_fills_once`) runs once: the `if`, or what follows."""
        if self.filling and self.filling[-1][0] is original_node:
            _, function, start = self.filling.pop()
            span = (start, self.order) if start is not None else (self.order, _TO_THE_END)
            function.once += (span,)

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> bool:
        """`p and f()` calls `f` only when `p` holds, `p or f()` only when it does not: a
        one-armed branch on the left operand (`guards`)."""
        function = self._testing_function(node.left)
        if function is None:
            return True
        walk(node.left, self)
        test = self._tick()
        walk(node.right, self)
        taken = (test, self.order)
        left = node.left
        if isinstance(node.operator, cst.Or):
            left = cst.UnaryOperation(operator=cst.Not(), expression=left)
        self._branch(function, left, test, taken, one_armed=True)
        return False

    def visit_IfExp(self, node: cst.IfExp) -> bool:
        function = self._testing_function(node.test)
        if function is None:
            return True
        start = self.order
        walk(node.body, self)
        taken = (start, self.order)
        walk(node.test, self)
        test = self._tick()
        walk(node.orelse, self)
        self._branch(function, node.test, test, taken)
        return False

    def _branch(
        self,
        function: FunctionInfo,
        test: cst.BaseExpression,
        order: int,
        taken: tuple[int, int],
        leaves: bool = False,
        *,
        in_loop: bool | None = None,
        one_armed: bool = False,
    ) -> Branch:
        """Record a branch whose other arm ends here (it began where the test was read, or
        where the taken arm ended; a one-armed branch has none). `in_loop` defaults to
        whether a loop is around this point."""
        skipped = (max(order, taken[1]), self.order)
        in_loop = self.loops > 0 if in_loop is None else in_loop
        branch = Branch(test, order, in_loop, taken, skipped, leaves, one_armed)
        function.branches += (branch,)
        return branch

    def leave_WithItem(self, original_node: cst.WithItem) -> None:
        if original_node.asname is not None:
            target = original_node.asname.name
            if isinstance(target, cst.Name):
                self._bind(target.value, BindingKind.WITH, original_node, value=original_node.item)
            else:
                self._bind_target(target, BindingKind.OTHER, None)

    def visit_With(self, node: cst.With) -> None:
        self.entered.update(id(item.item) for item in node.items)
        if node.asynchronous is not None:
            for item in node.items:
                self.awaited.add(id(item.item))
            if self.function_stack:
                self.function_stack[-1].awaits += 1

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self._bind(node.name.name.value, BindingKind.EXCEPT, node)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self._bind(node.name.value, BindingKind.OTHER, node)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self._bind(node.name.value, BindingKind.OTHER, node)

    def visit_Global(self, node: cst.Global) -> None:
        self.scope.global_names.update(n.name.value for n in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        names = frozenset(n.name.value for n in node.names)
        self.scope.nonlocal_names.update(names)
        for outer in self.function_stack[:-1]:  # one of them binds it: it may change there
            outer.rebound_inside |= names

    # -- code that cannot run ------------------------------------------------------
    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> bool:
        """Walk the block, and record on the function what follows a statement that always
        leaves the block (`FunctionInfo.unreachable`): the searches do not follow it."""
        self.blocks.append([])
        function = self.function_stack[-1] if self.function_stack else None
        if function is None or self.scope is not function.scope:
            return True
        statements = node.body
        leaving = None
        for index in range(len(statements) - 1):
            if _leaves_block(statements[index]):
                leaving = index
                break
        if leaving is None:
            return True
        for statement in statements[: leaving + 1]:
            walk(statement, self)
        start = self.order
        for statement in statements[leaving + 1 :]:
            walk(statement, self)
        function.unreachable += ((start, self.order),)
        return False

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        """The block ends here: so does what an `if` in it whose arm leaves it skips."""
        for branch in self.blocks.pop():
            branch.rest_until = self.order

    # -- calls, returns, awaits ------------------------------------------------------
    def visit_Await(self, node: cst.Await) -> None:
        self.awaited.add(id(node.expression))
        if self.function_stack:
            self.function_stack[-1].awaits += 1

    def visit_Call(self, node: cst.Call) -> None:
        for arg in node.args:
            if type(arg.value).__name__ == "Call":  # told by class name: asked of every call
                self.arguments[id(arg.value)] = node
        info = CallInfo(
            node,
            self.scope,
            self._tick(),
            awaited=id(node) in self.awaited,
            entered=id(node) in self.entered,
            in_loop=self.loops > 0,
            argument_of=self.arguments.pop(id(node), None),
        )
        self.facts.calls.append(info)
        if self.function_stack:
            self.function_stack[-1].calls.append(info)

    def visit_Return(self, node: cst.Return) -> None:
        if self.function_stack:
            self.function_stack[-1].return_values.append(node.value)

    def visit_Yield(self, node: cst.Yield) -> None:
        if self.function_stack:
            value = node.value if isinstance(node.value, cst.BaseExpression) else None
            self.function_stack[-1].yield_values.append(value)


# Told by class name, not `isinstance` (libcst's classes check through `abc`): the builder
# asks this of every statement of every block.
_LEAVING = frozenset({"Return", "Raise", "Continue", "Break"})
_LINES = frozenset({"SimpleStatementLine", "SimpleStatementSuite"})


def _leaves_block(statement: cst.CSTNode) -> bool:
    """Whether `statement` always leaves the block it is in: `return`, `raise`, `continue`
    or `break`, an `if True:` whose body does, or an `if` whose every arm does."""
    kind = type(statement).__name__
    if kind in _LINES:
        return any(type(small).__name__ in _LEAVING for small in statement.body)  # type: ignore[attr-defined]
    if kind == "IndentedBlock" and isinstance(statement, cst.IndentedBlock):
        return any(_leaves_block(inner) for inner in statement.body)
    if kind == "Else" and isinstance(statement, cst.Else):
        return _leaves_block(statement.body)
    if kind == "If" and isinstance(statement, cst.If):
        test = statement.test
        if isinstance(test, cst.Name) and test.value == "True":
            return _leaves_block(statement.body)
        otherwise = statement.orelse
        return otherwise is not None and _leaves_block(statement.body) and _leaves_block(otherwise)
    return False


def _statement_ids(body: cst.BaseSuite) -> frozenset[int]:
    return frozenset(map(id, body.body)) if isinstance(body, cst.IndentedBlock) else frozenset()


# The end of a span that runs to the end of its function (no call of it lies beyond).
_TO_THE_END = sys.maxsize


def _spelled(expr: cst.BaseExpression) -> str:
    """`_client`, `self._perms` or `self._cache[key]`; "" for anything else."""
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
        index = expr.slice[0].slice
        key = dotted_name(index.value) if isinstance(index, cst.Index) else ""
        container = dotted_name(expr.value)
        return f"{container}[{key}]" if key and container else ""
    return dotted_name(expr)


def _cache_test(test: cst.BaseExpression) -> tuple[str, bool] | None:
    """The cache entry an `if` tests, and whether the test holds when it is unset: `not x`,
    `x is None`, `key not in cache` (True); `x`, `x is not None`, `key in cache` (False).
    Told by class name first: asked of every `if`."""
    kind = type(test).__name__
    if kind == "UnaryOperation" and isinstance(test, cst.UnaryOperation):
        found = _spelled(test.expression) if type(test.operator).__name__ == "Not" else ""
        return (found, True) if found else None
    if kind == "Comparison" and isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        operator, right = test.comparisons[0].operator, test.comparisons[0].comparator
        named = type(operator).__name__
        if named in ("Is", "IsNot") and names.is_none(right):
            found = _spelled(test.left)
            return (found, named == "Is") if found else None
        if named in ("In", "NotIn"):
            key, container = dotted_name(test.left), dotted_name(right)
            if key and container:
                return f"{container}[{key}]", named == "NotIn"
        return None
    found = _spelled(test) if kind in ("Name", "Attribute") else ""
    return (found, False) if found else None


def _persistent(function: FunctionInfo, target: str) -> bool:
    """Whether `target` (`_cache_test`) outlives every call of `function`: a global it
    declares `global`, or an attribute or item of its instance or class (`self`, `cls`) or
    of a name it does not bind. An instance lives as long as the app's objects mostly do
    (a service the lifespan builds, whose routes close over it); one built for each call
    (`Client().token()`) would fill its cache each time, and is not told apart."""
    root = target.partition("[")[0].partition(".")[0]
    if root == target:
        return root in function.scope.global_names
    if function.klass is not None and function.params and root == function.params[0].name:
        return not function.is_static
    return root not in function.scope.bindings


def _returned_on_hit(node: cst.Try) -> str | None:
    """The entry (`_icons[name]`) a `try` whose body only returns it gives back, when its
    one handler catches the `KeyError` of a miss (or `LookupError`) and falls through."""
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    line = body[0] if len(body) == 1 else None
    only = (
        line.body[0] if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 else None
    )
    if not isinstance(only, cst.Return) or only.value is None or node.orelse or node.finalbody:
        return None
    handler = node.handlers[0] if len(node.handlers) == 1 else None
    if handler is None or handler.type is None:
        return None
    if dotted_name(handler.type) not in ("KeyError", "LookupError"):
        return None
    handled = handler.body.body if isinstance(handler.body, cst.IndentedBlock) else ()
    line = handled[0] if len(handled) == 1 else None
    if not (isinstance(line, cst.SimpleStatementLine) and isinstance(line.body[0], cst.Pass)):
        return None
    target = _spelled(only.value)
    return target if "[" in target else None


def _locked_alone(statements: list[cst.BaseStatement], node: cst.If) -> cst.With | None:
    """The `with` among a function's top-level `statements` whose body is `node` alone: a
    lock held for the test (`with _lock: if _initialized: return`, whisperlivekit)."""
    for statement in statements:
        if isinstance(statement, cst.With) and isinstance(statement.body, cst.IndentedBlock):
            inner = statement.body.body
            if len(inner) == 1 and inner[0] is node:
                return statement
    return None


def _read_entry(function: FunctionInfo, local: str, before: int) -> str | None:
    """The cache entry (`_models[name]`) the local `local` was read from by its one binding
    up to walk order `before` (where its `if` is): `model = _models.get(name)` (no default,
    or `None`)."""
    if "." in local or "[" in local:
        return None
    earlier = [b for b in function.scope.bindings.get(local, ()) if b.order <= before]
    value = earlier[0].value if len(earlier) == 1 else None
    if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Attribute):
        return None
    args = value.args
    if value.func.attr.value != "get" or not 1 <= len(args) <= 2 or any(a.keyword for a in args):
        return None
    if len(args) == 2 and not names.is_none(args[1].value):
        return None
    key, container = dotted_name(args[0].value), dotted_name(value.func.value)
    return f"{container}[{key}]" if key and container else None


def _handed_key(function: FunctionInfo, target: str) -> bool:
    """Whether the key of `target` (`_cache[key]`) comes from a parameter of `function`
    (not its instance or class): what a caller hands, which may differ each call."""
    key = target.partition("[")[2].rstrip("]").partition(".")[0]
    own = function.params[0].name if function.klass is not None and function.params else None
    return any(param.name == key and param.name != own for param in function.params)


def _fills(code: cst.CSTNode, target: str) -> bool:
    """Whether `code` assigns `target` (`_spelled`), nested defs aside."""
    return _target_uses(code, target).assigned


def _gives(function: FunctionInfo, target: str) -> bool:
    """Whether a `return` of `function` gives `target` (`_spelled`: `_pages[key]`)."""
    return _target_uses(function.node.body, target).returned


def _target_uses(code: cst.CSTNode, target: str) -> _TargetUses:
    found = _TargetUses(target)
    walk(code, found)
    return found


class _TargetUses(OwnCodeVisitor):
    """Whether code assigns a cache entry (`_spelled`), and whether a `return` gives it."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.assigned = False
        self.returned = False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.assigned = self.assigned or _spelled(node.target) == self.target

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        given = node.value is not None and _spelled(node.target) == self.target
        self.assigned = self.assigned or given

    def visit_Return(self, node: cst.Return) -> None:
        given = node.value is not None and _spelled(node.value) == self.target
        self.returned = self.returned or given


def _iterated_name(iterable: cst.BaseExpression) -> cst.Name | None:
    """`p` of a loop over `p`, `p.items()`, `p.keys()` or `p.values()`."""
    if isinstance(iterable, cst.Call) and not iterable.args:
        func = iterable.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("items", "keys", "values"):
            iterable = func.value
    return iterable if isinstance(iterable, cst.Name) else None


def _leaves(body: cst.BaseSuite, loops: bool = False) -> bool:
    """Whether a block ends in `return` or `raise` (with `loops`, also `break` or
    `continue`): the code after its `if` does not run once it has."""
    last = _last_statement(body)
    if loops:
        return isinstance(last, cst.Return | cst.Raise | cst.Break | cst.Continue)
    return isinstance(last, cst.Return | cst.Raise)


def _last_statement(body: cst.BaseSuite) -> cst.CSTNode | None:
    """The last statement of a block, the last of a line's `;`-joined ones."""
    statements = body.body
    last = statements[-1] if statements else None
    if isinstance(last, cst.SimpleStatementLine):
        last = last.body[-1] if last.body else None
    return last


def _isinstance_test(test: cst.BaseExpression) -> tuple[str, cst.BaseExpression] | None:
    """`isinstance(name, T)` with one class, alone or as a term of an `and` (the body runs
    only when every term holds): the name and `T`. Told by class name first, as
    `tested_names` does: the builder asks this of every `if`."""
    kind = type(test).__name__
    if kind == "BooleanOperation" and isinstance(test, cst.BooleanOperation):
        if not isinstance(test.operator, cst.And):
            return None
        return _isinstance_test(test.left) or _isinstance_test(test.right)
    if kind != "Call" or not isinstance(test, cst.Call):
        return None
    func, args = test.func, test.args
    if not (isinstance(func, cst.Name) and func.value == "isinstance" and len(args) == 2):
        return None
    subject, klass = args[0].value, args[1].value
    if not isinstance(subject, cst.Name) or not isinstance(klass, cst.Name | cst.Attribute):
        return None
    return subject.value, klass


def build_facts(tree: cst.Module, module_name: str, is_package: bool) -> ModuleFacts:
    builder = ModelBuilder(tree, module_name, is_package)
    walk(tree, builder)
    return builder.facts

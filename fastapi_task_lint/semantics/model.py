"""The semantic model of one module: the questions every rule asks, answered once.

Name resolution goes through the module's own import table and bindings (see
`scope.py`). Positions and quoted code come from the spans a built tree keeps
(`built_tree`); libcst's own tree of the file is parsed only for what those cannot answer.
"""

from __future__ import annotations

import builtins
import itertools
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

import libcst as cst
from libcst.metadata import CodeRange

from fastapi_task_lint.built_tree import Span as BuiltSpan
from fastapi_task_lint.built_tree import is_built, span_of
from fastapi_task_lint.semantics import indentation, names, originals, parentheses
from fastapi_task_lint.semantics.builder import build_facts
from fastapi_task_lint.semantics.byte_filters import static_filter
from fastapi_task_lint.semantics.functions import (
    AttributeAssignment,
    CallInfo,
    ClassInfo,
    FunctionInfo,
    ParamInfo,
)
from fastapi_task_lint.semantics.layout import Span, lay_out
from fastapi_task_lint.semantics.responses import call_argument
from fastapi_task_lint.semantics.scope import Binding, BindingKind, Scope, ScopeKind
from fastapi_task_lint.semantics.walk import walk
from fastapi_task_lint.source import LINE_BREAK, decode, parse, python_lines

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.asyncio_tasks import TaskSpawn
    from fastapi_task_lint.semantics.orm import OrmModels
    from fastapi_task_lint.semantics.project import ProjectIndex
    from fastapi_task_lint.semantics.routes import Route
    from fastapi_task_lint.semantics.scheduling import SchedulingSite

# Each hop (name -> binding -> value -> call -> dependency) spends one: chains are short,
# but `db=Depends(get_db)` -> `with SessionLocal() as db` -> `sessionmaker()` takes ~10.
_MAX_DEPTH = 16
# A class hierarchy is looked through this many classes at most (`lookup_order`).
_MAX_CLASSES = 64
# The attribute types and factory results being computed: see `_kept_while_outermost`.
_COMPUTING: set[str] = set()
# SQLAlchemy 1.x's `declarative_base(bind, metadata, mapper, cls, ...)`; 2.0 takes keywords.
_DECLARATIVE_BASE_CLS_POSITION = 3


@dataclass(frozen=True)
class TypeRef:
    """The class of a value, by canonical qualified name; `container` for list[...] etc.,
    whose `qualname` is then its elements' class and `collection` its own (`typing.List`)."""

    qualname: str
    container: bool = False
    collection: str = ""


def returns_values(function: FunctionInfo, awaited: bool = False) -> bool:
    """Whether calling `function` gives what its `return` statements do: a plain `def`
    with one, or an `async def` whose call is awaited (a generator gives something else,
    and an `async def` a coroutine until awaited)."""
    return (
        (awaited or not function.is_async)
        and not function.is_generator
        and bool(function.return_values)
    )


_V = TypeVar("_V")


def agreed(values: Iterable[_V | None]) -> _V | None:
    """The one value all of `values` are: None when one is None (not known) or two differ,
    or when there are none. Stops at the first that decides it."""
    found: _V | None = None
    for value in values:
        if value is None or (found is not None and value != found):
            return None
        found = value
    return found


def _union_members(annotation: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The members of `A | B | None`, left to right."""
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return [*_union_members(annotation.left), *_union_members(annotation.right)]
    return [annotation]


# `-> Self`: what a method returns is of the class it is called on.
_SELF = "typing.Self"
# What the app's `state` is, as a type: `_app_state_type` answers its attributes.
_APP_STATE = "starlette.applications.Starlette.state"
_STATE_ASSIGNMENT = re.compile(rb"\.state\.\w+\s*(?::[^=\n]*)?=(?!=)").search


def _assigns_state(data: bytes) -> bool:
    """A file without an assignment to some `<x>.state.<name>` sets nothing on an app's
    state (`app.state.controller = Controller()`)."""
    return _STATE_ASSIGNMENT(data) is not None


_ASSIGNS_STATE = static_filter("assigns state", _assigns_state)
# Attributes of library classes that the analysis follows: a request's app, an app's state.
_LIBRARY_ATTRIBUTES: dict[tuple[str, str], str] = {
    **{
        (connection, "app"): "starlette.applications.Starlette"
        for connection in (
            "starlette.requests.Request",
            "starlette.requests.HTTPConnection",
            "starlette.websockets.WebSocket",
        )
    },
    **{(app, "state"): _APP_STATE for app in names.APP_CLASSES},
}


class ModuleModel:
    def __init__(
        self,
        path: Path,
        module_name: str,
        is_package: bool,
        source: str,
        tree: cst.Module,
        project: ProjectIndex,
        statement_lines: list[int] | None = None,
        built: bool = False,
        data: bytes | None = None,
    ) -> None:
        self.path = path
        self.absolute_path = path.absolute()
        self.module_name = module_name
        self.is_package = is_package
        # With `data`, the bytes `source` was decoded from (`decode`), which the index keeps
        # for the run anyway, the text is decoded again when asked for: one copy, not two.
        self._text: str | bytes = source if data is None else data
        self.tree = tree
        self.project = project
        facts = build_facts(tree, module_name, is_package)
        self.module_scope: Scope = facts.module_scope
        self.functions: list[FunctionInfo] = facts.functions
        self.classes: list[ClassInfo] = facts.classes
        self.calls: list[CallInfo] = facts.calls
        self.star_imports: list[str] = facts.star_imports
        self._function_by_node = facts.function_by_node
        self._scope_by_node = facts.scope_by_node
        self._name_attributes = facts.name_attributes
        self.built = built  # `tree` was built from CPython's `ast` (see `built_tree`)
        self._laid_out: dict[int, dict[cst.CSTNode, Span]] = {}  # see `position`
        self._statement_lines = statement_lines  # CPython's, for `_first_lines`

    @property
    def source(self) -> str:
        """The file's text, decoded anew from the kept bytes where the index read them."""
        text = self._text
        return text if isinstance(text, str) else decode(text)

    # -- positions (lazy: most files never report) ----------------------------------------
    def position(self, node: cst.CSTNode) -> CodeRange:
        """Where `node` is in the file: from CPython's span for a built node that kept one
        (`built_tree`), else from laying out libcst's tree (`_laid_out_position`)."""
        self.project.saw_layout(self.absolute_path)
        span = span_of(node)
        if span is None or self._spans_parentheses(node, span):
            return self._laid_out_position(self.original(node))
        line, start, end_line, end = span
        return CodeRange((line, self._column(line, start)), (end_line, self._column(end_line, end)))

    def _spans_parentheses(self, node: cst.CSTNode, span: BuiltSpan) -> bool:
        """Whether CPython's span of `node` takes in parentheses libcst's leaves out: those
        of a tuple or generator (a generator that is a call's only argument shares its)."""
        if isinstance(node, cst.Arg) and not node.star and node.keyword is None:
            # CPython has no node for an argument: its span is the value's, without the
            # value's parentheses, which libcst's argument takes in
            value = node.value
            value_span = span_of(value)
            return value_span is None or parentheses.maybe_around(
                self._utf8_lines, value_span, isinstance(value, _OWN_PARENTHESES)
            )
        line, start, _, _ = span
        return isinstance(node, _OWN_PARENTHESES) and self._utf8_lines[line - 1][start] == _OPEN

    def code_for(self, node: cst.CSTNode) -> str:
        """The source text of `node`, as libcst quotes it (parentheses included): layout, so
        other files' findings that show it depend on it.

        A built expression is sliced from the source (over several lines, without the
        indentation libcst leaves out: `indentation.quoted`), unless parentheses may
        surround it: then libcst's tree of the file says whose they are.
        """
        self.project.saw_layout(self.absolute_path)
        span = span_of(node)
        if (
            span is not None
            and isinstance(node, cst.BaseExpression)
            and not parentheses.maybe_around(
                self._utf8_lines, span, isinstance(node, _OWN_PARENTHESES)
            )
        ):
            if span[0] == span[2]:
                return self._source_at(span)
            text = indentation.quoted(self.tree, self._utf8_lines, span)
            if text is not None:
                return text.decode("utf-8", "surrogatepass")
        try:
            return self.syntax_tree.code_for_node(self.original(node))
        except LookupError:
            if span is None:
                raise
            return self._source_at(span)  # where the trees part (implicitly joined strings)

    def _source_at(self, span: BuiltSpan) -> str:
        text = b"".join(indentation.sliced(self._utf8_lines, span))
        return text.decode("utf-8", "surrogatepass")

    @cached_property
    def _utf8_lines(self) -> list[bytes]:
        """The source's lines with their ends, in the UTF-8 CPython's columns count."""
        text = self._text
        if not (isinstance(text, bytes) and text.isascii()):
            text = self.source.encode("utf-8", "surrogatepass")
        return text.splitlines(keepends=True)

    def _column(self, line: int, offset: int) -> int:
        """libcst's column (characters) of CPython's `offset` (UTF-8 bytes) on `line`."""
        text = self._utf8_lines[line - 1]
        return offset if text.isascii() else len(text[:offset].decode("utf-8", "surrogatepass"))

    # -- libcst's own tree: comments, parentheses, and the nodes fixes rewrite -------------
    @cached_property
    def syntax_tree(self) -> cst.Module:
        """libcst's parse of the file, whitespace and comments included: `tree` itself
        unless that was built from `ast`, then parsed when first asked for (the quote of an
        expression parentheses may surround, a node without a span, a fix, or a `# noqa`
        that may list our codes)."""
        if not self.built:
            return self.tree
        return parse(self.source)

    def original(self, node: cst.CSTNodeT) -> cst.CSTNodeT:
        """`node` as libcst parsed it: a built node's counterpart in `syntax_tree`. A fix
        builds its replacement from these, so the file's own whitespace and comments stay."""
        if not is_built(node):
            return node
        found = self._originals.get(id(node))
        if found is None:
            raise LookupError(f"no counterpart in libcst's tree for this {type(node).__name__}")
        return cast(cst.CSTNodeT, found)

    def code_in_place(self, old: cst.CSTNode, new: cst.CSTNode) -> str:
        """`new`'s code as it reads in this file in place of `old`. libcst quotes a node
        alone without the indentation of the block holding its continuation lines, so a
        replacement over several lines is laid out in the whole file, and cut out of it."""
        code = self.syntax_tree.code_for_node(new)
        if "\n" not in code and "\r" not in code:
            return code
        position = self.position(old)
        source = self.source
        starts = [0, *(found.end() for found in LINE_BREAK.finditer(source))]  # of each line
        start = starts[position.start.line - 1] + position.start.column
        end = starts[position.end.line - 1] + position.end.column
        replaced = self.syntax_tree.deep_replace(self.original(old), new)
        whole = cast(cst.Module, replaced).code
        return whole[start : len(whole) - (len(source) - end)]

    @cached_property
    def _originals(self) -> dict[int, cst.CSTNode]:
        return originals.paired(self.tree, self.syntax_tree) if self.built else {}

    def _laid_out_position(self, node: cst.CSTNode) -> CodeRange:
        """libcst's position of a node of `syntax_tree`.

        Laying out the whole module costs about as much as parsing it, and a finding needs
        one node: only the top-level statement holding it is laid out (`layout.lay_out`),
        then shifted to its first line. Trivia the statement index does not hold (comments,
        line ends) fall back to the whole module's layout.
        """
        statement = self._statement_index.get(id(node))
        if statement is None:
            (start_line, start_column), end = self._module_spans[node]
            return CodeRange((start_line, start_column), end)
        (start_line, start_column), (end_line, end_column) = self._statement_spans(statement)[node]
        shift = self._first_lines[statement] - 1
        return CodeRange((start_line + shift, start_column), (end_line + shift, end_column))

    @cached_property
    def _statement_index(self) -> dict[int, int]:
        """Every non-trivia node, by id, to the index of the top-level statement holding it."""
        recorder = _StatementRecorder()
        for index, statement in enumerate(self.syntax_tree.body):
            recorder.index = index
            walk(statement, recorder)
        return recorder.found

    @cached_property
    def _module_spans(self) -> dict[cst.CSTNode, Span]:
        return lay_out(self.syntax_tree)

    def _statement_spans(self, index: int) -> dict[cst.CSTNode, Span]:
        """The spans of the top-level statement `index` laid out alone, from line 1."""
        spans = self._laid_out.get(index)
        if spans is None:
            tree = self.syntax_tree
            alone = tree.with_changes(body=[tree.body[index]], header=(), footer=())
            spans = self._laid_out[index] = lay_out(alone)
        return spans

    @cached_property
    def _first_lines(self) -> list[int]:
        """The line each top-level statement's code (with its leading comments) starts on.

        From CPython's statement lines when the parse kept them: counting the lines of every
        statement's code instead generates the whole module's code.
        """
        tree = self.syntax_tree
        if self._statement_lines is not None:
            first = _first_lines_from(tree, self._statement_lines)
            if first is not None:
                return first
        line = 1 + len(tree.header)  # each header line is an `EmptyLine`
        first = []
        for statement in tree.body:
            first.append(line)
            line += len(LINE_BREAK.findall(tree.code_for_node(statement)))
        return first

    def spells(self, strings: tuple[bytes, ...]) -> bool:
        """Whether the file's text holds one of `strings`: what its tree can name (through
        any import or alias) it spells, so a search of the tree can be spared."""
        text = self._text
        if isinstance(text, bytes):
            return any(string in text for string in strings)
        return any(string.decode() in text for string in strings)

    @cached_property
    def lines(self) -> list[str]:
        return python_lines(self.source)

    # -- definitions -----------------------------------------------------------------------
    def function_for_node(self, node: cst.CSTNode) -> FunctionInfo | None:
        return self._function_by_node.get(id(node))

    def scope_for_node(self, node: cst.CSTNode) -> Scope | None:
        return self._scope_by_node.get(id(node))

    # -- names -----------------------------------------------------------------------------
    def lookup(self, name: str, scope: Scope, order: int | None = None) -> Binding | None:
        return scope.lookup(name, order)

    def qualified_name(
        self, expr: cst.BaseExpression, scope: Scope, order: int | None = None, _depth: int = 0
    ) -> str | None:
        """The canonical dotted name `expr` refers to, resolved through imports and aliases."""
        if _depth > _MAX_DEPTH:
            return None
        if isinstance(expr, cst.Name):
            binding = scope.lookup(expr.value, order)
            if binding is None:
                return f"builtins.{expr.value}" if expr.value in _BUILTINS else None
            return self._binding_qualname(binding, _depth)
        if isinstance(expr, cst.Attribute):
            base = self.qualified_name(expr.value, scope, order, _depth + 1)
            return names.canonical(f"{base}.{expr.attr.value}") if base else None
        return None

    def decorator_name(self, decorator: cst.BaseExpression, scope: Scope) -> str | None:
        """The qualified name of what `@decorator` applies, evaluated in `scope`: `f` of
        `@f` and of `@f(...)`."""
        target = decorator.func if isinstance(decorator, cst.Call) else decorator
        return self.qualified_name(target, scope)

    def caught(self, handler: cst.ExceptHandler, scope: Scope) -> list[str | None] | None:
        """The qualified names of the classes an `except` names (one, or a tuple of them);
        None for a bare `except:`, which catches everything."""
        kind = handler.type
        if kind is None:
            return None
        kinds = [e.value for e in kind.elements] if isinstance(kind, cst.Tuple) else [kind]
        return [self.qualified_name(k, scope) for k in kinds]

    def _binding_qualname(self, binding: Binding, depth: int) -> str | None:
        if binding.kind is BindingKind.IMPORT and binding.imported:
            return names.canonical(binding.imported)
        if binding.function is not None:
            return binding.function.qualname
        if binding.klass is not None:
            return binding.klass.qualname
        owner = self.scope_of_binding(binding)
        if (
            binding.kind is BindingKind.ASSIGN
            and isinstance(binding.value, (cst.Name, cst.Attribute))
            and binding.annotation is None
        ):
            # `BT = BackgroundTasks`: an alias of another name.
            return self.qualified_name(binding.value, owner, binding.order, depth + 1)
        if binding.kind is BindingKind.ASSIGN and owner is self.module_scope and self.module_name:
            return f"{self.module_name}.{binding.name}"  # a global: others import it by this name
        return None

    def scope_of_binding(self, binding: Binding) -> Scope:
        """The scope a binding lives in (bindings do not keep a back-pointer)."""
        return self._binding_scopes.get(binding, self.module_scope)

    def assigned_value(
        self, name: cst.Name, scope: Scope, order: int | None
    ) -> tuple[cst.BaseExpression, Scope, int] | None:
        """What `name = value` gave `name` at `order`: the value, its scope and walk position."""
        binding = scope.lookup(name.value, order)
        if binding is None or binding.kind is not BindingKind.ASSIGN or binding.value is None:
            return None
        return binding.value, self.scope_of_binding(binding), binding.order

    def building_calls(
        self, expr: cst.BaseExpression, scope: Scope, order: int | None = None, _depth: int = 0
    ) -> list[tuple[ModuleModel, cst.Call, Scope, int | None]] | None:
        """The calls that built the object `expr` holds, each with its module, scope and
        walk position, when every binding the code shows leads to one: a name bound to a
        call (through names bound to names), or an attribute each `self.name = ...` of whose
        receiver's class assigns one (`self.loop = loop`, `loop = new_event_loop()`). None
        when some binding is anything else."""
        for _ in range(_MAX_DEPTH):
            if isinstance(expr, cst.Call):
                return [(self, expr, scope, order)]
            if isinstance(expr, cst.Attribute):
                receiver = self.infer_type(expr.value, scope, order)
                found = self.attribute_assignments(receiver, expr.attr.value)
                if found is None or _depth > _MAX_DEPTH:
                    return None
                owner, assignments = found
                calls: list[tuple[ModuleModel, cst.Call, Scope, int | None]] = []
                for a in assignments:
                    built = (
                        owner.building_calls(a.value, a.scope, a.order, _depth + 1)
                        if a.value is not None
                        else None
                    )
                    if not built:
                        return None
                    calls.extend(built)
                return calls
            if not isinstance(expr, cst.Name):
                return None
            assigned = self.assigned_value(expr, scope, order)
            if assigned is None:
                return None
            expr, scope, order = assigned
        return None

    @cached_property
    def _binding_scopes(self) -> dict[Binding, Scope]:
        """By the binding itself (compared by identity): no `id()` number made for each."""
        result: dict[Binding, Scope] = {}
        for scope in self._scope_by_node.values():
            for bindings in scope.bindings.values():
                for binding in bindings:
                    result.setdefault(binding, scope)
        return result

    def resolve_call(self, call: CallInfo) -> str | None:
        """The canonical name `call` calls, resolved once: the scans and rules that look for
        scheduling, tasks, dependencies and blocking calls each ask about the same calls."""
        callee = call.callee
        if callee is ...:
            callee = self.qualified_name(call.node.func, call.scope, call.order)
            call.callee = callee = sys.intern(callee) if callee is not None else None
        return callee

    # -- types -----------------------------------------------------------------------------
    def annotation_type(
        self, annotation: cst.BaseExpression | None, scope: Scope, _depth: int = 0
    ) -> TypeRef | None:
        """The class an annotation names, looking through Annotated, Optional and strings."""
        if annotation is None or _depth > _MAX_DEPTH:
            return None
        if isinstance(annotation, cst.SimpleString):
            try:
                inner = cst.parse_expression(annotation.evaluated_value.strip())  # type: ignore[arg-type]
            except (cst.ParserSyntaxError, AttributeError, TypeError):
                return None
            return self.annotation_type(inner, scope, _depth + 1)
        if isinstance(annotation, cst.BinaryOperation) and isinstance(
            annotation.operator, cst.BitOr
        ):
            return self._union_type(_union_members(annotation), scope, _depth + 1)
        if isinstance(annotation, cst.Subscript):
            base, args = self.generic_parts(annotation, scope)
            if not args or base is None:
                return None
            if base == names.ANNOTATED or base in names.TYPE_QUALIFIERS:
                return self.annotation_type(args[0], scope, _depth + 1)
            if base in names.OPTIONAL_WRAPPERS:
                return self._union_type(args, scope, _depth + 1)
            if base in names.PRODUCER_WRAPPERS:
                return self.annotation_type(args[0], scope, _depth + 1)
            if base in names.CONTAINER_TYPES:
                element = self.annotation_type(args[0], scope, _depth + 1)
                if element is None:
                    return None
                return TypeRef(element.qualname, container=True, collection=base)
            return TypeRef(base)
        alias = self._type_alias(annotation, scope)
        if alias is not None:
            return alias[0].annotation_type(alias[1], alias[2], _depth + 1)
        qualname = self.qualified_name(annotation, scope)
        return TypeRef(qualname) if qualname else None

    def generic_parts(
        self, annotation: cst.Subscript, scope: Scope
    ) -> tuple[str | None, list[cst.BaseExpression]]:
        """`dict[str, Session]`: the generic's qualified name and its type arguments."""
        args = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
        return self.qualified_name(annotation.value, scope), args

    def union_types(
        self, annotation: cst.BaseExpression, scope: Scope
    ) -> list[TypeRef | None] | None:
        """The class each member of a union annotation but `None` names (`FastAPI |
        APIRouter`, `Union[...]`, `Optional[...]`, nested); None when it is no union."""
        if isinstance(annotation, cst.BinaryOperation) and isinstance(
            annotation.operator, cst.BitOr
        ):
            members = _union_members(annotation)
        elif isinstance(annotation, cst.Subscript):
            base, members = self.generic_parts(annotation, scope)
            if base not in names.OPTIONAL_WRAPPERS:
                return None
        else:
            return None
        found: list[TypeRef | None] = []
        for member in members:
            if not names.is_none(member):
                inner = self.union_types(member, scope)
                found.extend([self.annotation_type(member, scope)] if inner is None else inner)
        return found

    def _union_type(
        self, members: list[cst.BaseExpression], scope: Scope, depth: int
    ) -> TypeRef | None:
        """The class every member but `None` names: `Session | None` is a `Session`;
        `Union[SyncClient, AsyncClient]` is neither, as far as the rules can tell."""
        return agreed(
            self.annotation_type(member, scope, depth)
            for member in members
            if not names.is_none(member)
        )

    def _type_alias(
        self, annotation: cst.BaseExpression, scope: Scope
    ) -> tuple[ModuleModel, cst.BaseExpression, Scope] | None:
        """`SessionDep = Annotated[Session, Depends(get_db)]`, here or imported: its value."""
        binding: Binding | None = None
        model: ModuleModel = self
        if isinstance(annotation, cst.Name):
            binding = scope.lookup(annotation.value)
        if binding is not None and binding.kind is BindingKind.IMPORT and binding.imported:
            found = self.project.resolve(names.canonical(binding.imported))
            binding, model = (found.binding, found.model) if found else (None, self)
        if (
            binding is None
            or binding.kind is not BindingKind.ASSIGN
            or not isinstance(binding.value, cst.Subscript)
        ):
            return None
        return model, binding.value, model.scope_of_binding(binding)

    def infer_type(
        self,
        expr: cst.BaseExpression,
        scope: Scope,
        order: int | None = None,
        _depth: int = 0,
    ) -> TypeRef | None:
        """The class of the value `expr` evaluates to, when the code shows it."""
        if _depth > _MAX_DEPTH:
            return None
        if isinstance(expr, cst.Await):
            inner = expr.expression
            if isinstance(inner, cst.Call):  # `await make_client()`: what the coroutine returns
                return self._call_type(inner, scope, order, _depth + 1, awaited=True)
            return self.infer_type(inner, scope, order, _depth + 1)
        if isinstance(expr, cst.Name):
            binding = scope.lookup(expr.value, order)
            narrowed = self._narrowed(expr.value, binding, scope, order)
            if narrowed is not None:
                return narrowed
            if (
                binding is not None
                and scope.parent is not None
                and self.scope_of_binding(binding).parent is None  # a global, read in a def
            ):
                decides, held = self._global_type(expr.value, _depth + 1)
                if decides:
                    return held
            return self.binding_type(binding, _depth + 1) if binding else None
        if isinstance(expr, cst.Attribute):
            qualname = self.qualified_name(expr, scope, order)
            if qualname is not None:
                found = self._external_value_type(qualname, _depth + 1)
                if found is not None:
                    return found
            receiver = self.infer_type(expr.value, scope, order, _depth + 1)
            found = self.attribute_type(receiver, expr.attr.value, _depth + 1)
            if found is None and isinstance(expr.value, cst.Name):
                return self.global_attribute_type(expr.value.value, expr.attr.value, scope)
            return found
        if isinstance(expr, cst.Call):
            return self._call_type(expr, scope, order, _depth + 1)
        if isinstance(expr, cst.Subscript):
            return self._element_type(expr, scope, order, _depth + 1)
        return None

    def global_attribute_type(self, name: str, attribute: str, scope: Scope) -> TypeRef | None:
        """The class every `name.attribute = ...` of this module but `None` gives, when the
        module global `name` (read in `scope`) is what each assigns and they agree: the
        semaphore of `worker.semaphore = asyncio.Semaphore(n)`, set lazily on a global
        whose own class only sets `self.semaphore = None`."""
        assignments = self._name_attributes.get((name, attribute))
        if not assignments or not self._reads_global(name, scope):
            return None
        if not all(self._reads_global(name, assignment.scope) for assignment in assignments):
            return None  # some assign a local's attribute: not one object
        return self._assigned_type(assignments)

    def assignments_to(self, attribute: str) -> list[tuple[str, AttributeAssignment]]:
        """Each `owner.attribute = ...` of the module (but a method's to its own instance),
        with the owner's dotted name (`app.router` of `app.router.lifespan_context = ...`)."""
        return [
            (owner, assignment)
            for (owner, name), assignments in self._name_attributes.items()
            if name == attribute
            for assignment in assignments
        ]

    def _reads_global(self, name: str, scope: Scope) -> bool:
        """Whether `name` read in `scope` is the module's global of that name."""
        binding = scope.lookup(name)
        return binding is not None and self.scope_of_binding(binding) is self.module_scope

    def _global_type(self, name: str, depth: int) -> tuple[bool, TypeRef | None]:
        """Whether the assignments of the module global `name` (at the top level, or in
        functions through `global`) decide its class where a function reads it, and the
        class: its annotation, else what all its assignments but `None` agree on (nothing
        when they disagree). A global set at start-up and set back to `None` at shutdown is
        the object in between. Undecided (the latest binding says) when no assignment is
        `None`, or it is bound otherwise too."""
        bindings = self.module_scope.bindings.get(name, [])
        if len(bindings) < 2 or any(b.kind is not BindingKind.ASSIGN for b in bindings):
            return False, None
        values = [b for b in bindings if not names.is_none(b.value)]
        if not values or len(values) == len(bindings):
            return False, None
        for binding in bindings:
            if binding.annotation is not None:
                return True, self.annotation_type(binding.annotation, self.module_scope)
        return True, agreed(self.binding_type(b, depth) for b in values)

    def _narrowed(
        self, name: str, binding: Binding | None, scope: Scope, order: int | None
    ) -> TypeRef | None:
        """The class `if isinstance(name, T):` gives `name` in its body, when `order` is
        there and the name is not bound again inside it first."""
        if order is None:
            return None
        current: Scope | None = scope
        while current is not None:
            for narrowed, klass, (start, end) in current.narrowings:
                if narrowed == name and start < order <= end:
                    if binding is not None and binding.order > start:
                        return None  # rebound inside the body
                    if current.lookup("isinstance", start) is not None:
                        return None  # not the builtin
                    return self.annotation_type(klass, current)
            if current.kind is not ScopeKind.COMPREHENSION:
                break
            current = current.parent
        return None

    def _element_type(
        self, expr: cst.Subscript, scope: Scope, order: int | None, depth: int
    ) -> TypeRef | None:
        """`sessions[key]` with `sessions: dict[str, Session]` (or `list[Session]`, a
        parameter's, a variable's or an attribute's annotation): a `Session`."""
        if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Index):
            return None  # a slice of a list is a list
        declared = self._declared_annotation(expr.value, scope, order, depth)
        if declared is None:
            return None
        owner, annotation, annotation_scope = declared
        if not isinstance(annotation, cst.Subscript):
            return None
        base, args = owner.generic_parts(annotation, annotation_scope)
        if not args or base is None:
            return None
        if base in names.MAPPING_TYPES:
            return owner.annotation_type(args[-1], annotation_scope, depth + 1)
        if base in names.CONTAINER_TYPES and base not in names.TUPLE_TYPES:
            return owner.annotation_type(args[0], annotation_scope, depth + 1)
        return None

    def _declared_annotation(
        self, expr: cst.BaseExpression, scope: Scope, order: int | None, depth: int
    ) -> tuple[ModuleModel, cst.BaseExpression, Scope] | None:
        """The annotation a name or an attribute is declared with, where it is written."""
        if isinstance(expr, cst.Name):
            binding = scope.lookup(expr.value, order)
            if binding is None:
                return None
            owner = self.scope_of_binding(binding)
            if binding.param is not None and binding.param.annotation is not None:
                function = owner.function
                return self, binding.param.annotation, function.parent_scope if function else owner
            return (self, binding.annotation, owner) if binding.annotation is not None else None
        if isinstance(expr, cst.Attribute):
            receiver = self.infer_type(expr.value, scope, order, depth + 1)
            for model, klass in self._classes_of(receiver):
                declared = klass.scope.lookup(expr.attr.value, None)
                if declared is not None and declared.annotation is not None:
                    return model, declared.annotation, klass.parent_scope
                for assignment in klass.attributes.get(expr.attr.value, ()):
                    if assignment.annotation is not None:
                        return model, assignment.annotation, assignment.scope
        return None

    def binding_type(self, binding: Binding, _depth: int = 0) -> TypeRef | None:
        """The class of the value `binding` gives its name, when the code shows it. Kept per
        binding (and depth, which bounds the search): a session or a client is asked about
        at each of its uses, 5.4 times a binding on the benchmark corpus."""
        key = (binding, _depth)
        known = self._binding_types
        if key not in known:
            known[key] = self._binding_type(binding, _depth)
        return known[key]

    @cached_property
    def _binding_types(self) -> dict[tuple[Binding, int], TypeRef | None]:
        return {}

    def _binding_type(self, binding: Binding, _depth: int) -> TypeRef | None:
        owner = self.scope_of_binding(binding)
        if binding.kind is BindingKind.PARAM and binding.param is not None:
            function = owner.function
            if (
                function is not None
                and function.klass is not None
                and binding.param.position == 0
                and not function.is_static
            ):
                # `self`, or a classmethod's `cls`: whatever its annotation says (`cls:
                # Type[T]`), its methods are looked up from the class that defines this one.
                return TypeRef(function.klass.qualname)
            annotation_scope = function.parent_scope if function else owner
            declared = self.annotation_type(binding.param.annotation, annotation_scope)
            if declared is not None:
                return declared
            default = binding.param.default
            if isinstance(default, cst.Call):
                dependency = self.depends_target(default, annotation_scope)
                if dependency is not None:
                    return self.dependency_type(dependency, annotation_scope, _depth + 1)
            if function is not None and function.klass is None and function.decorators:
                return self._injected_type(function, binding.param, _depth + 1)
            return None
        if binding.kind in (BindingKind.ASSIGN, BindingKind.WITH):
            if binding.annotation is not None:
                declared = self.annotation_type(binding.annotation, owner)
                if declared is not None:
                    return declared
            if binding.value is not None:
                return self.infer_type(binding.value, owner, binding.order, _depth + 1)
            return None
        if binding.unpacked is not None:
            value, index = binding.unpacked
            return self._unpacked_type(value, index, owner, binding.order, _depth + 1)
        if binding.kind is BindingKind.LOOP and binding.iterable is not None:
            iterable = self.infer_type(binding.iterable, owner, binding.order, _depth + 1)
            if iterable is not None and iterable.container:
                return TypeRef(iterable.qualname)
            return None
        if binding.kind is BindingKind.IMPORT and binding.imported:
            return self._external_value_type(names.canonical(binding.imported), _depth + 1)
        return None

    def _injected_type(
        self, function: FunctionInfo, param: ParamInfo, depth: int
    ) -> TypeRef | None:
        """What a project decorator of `function` passes it as the parameter `param`, ahead
        of the caller's arguments: `@with_session`, whose wrapper calls `f(session, *args,
        **kwargs)` with `session` from `with session_scope() as session`."""
        for decorator in function.decorators:
            qualname = self.decorator_name(decorator, function.parent_scope)
            found = self.project.resolve_function(qualname) if qualname else None
            if found is None or not found[1].params:
                continue
            owner, wrapping = found
            wrapped = wrapping.params[0].name
            for call in owner.calls:
                func = call.node.func
                if not isinstance(func, cst.Name) or func.value != wrapped:
                    continue
                binding = call.scope.lookup(wrapped, call.order)
                if binding is None or binding.param is not wrapping.params[0]:
                    continue  # not the decorated function: another `f`
                leading = list(
                    itertools.takewhile(lambda a: not a.star and a.keyword is None, call.node.args)
                )
                if param.position < len(leading):
                    return owner.infer_type(
                        leading[param.position].value, call.scope, call.order, depth
                    )
        return None

    def _external_value_type(self, qualname: str, depth: int) -> TypeRef | None:
        """Type of a module-level value defined in another project module."""
        found = self.project.resolve(qualname)
        if found is None or found.binding is None or found.binding.kind is not BindingKind.ASSIGN:
            return None
        return found.model.binding_type(found.binding, depth + 1)

    def _call_type(
        self, call: cst.Call, scope: Scope, order: int | None, depth: int, awaited: bool = False
    ) -> TypeRef | None:
        func = call.func
        # Calling a session factory instance (`SessionLocal()`) yields a session.
        factory = self.infer_type(func, scope, order, depth + 1)
        if factory is not None and not factory.container:
            produced = names.SESSION_FACTORY_TYPES.get(factory.qualname)
            if produced is not None:
                return TypeRef(produced)
        qualname = self.qualified_name(func, scope, order)
        if qualname is None:
            if isinstance(func, cst.Name):
                klass = self.own_class_named(func, scope, order)
                if klass is not None:  # `cls(...)` in a classmethod: an instance of the class
                    return TypeRef(klass.qualname)
            return self._method_result_type(func, scope, order, depth)
        if qualname in self.project.config.session_factories:
            return TypeRef("sqlalchemy.orm.Session")
        if qualname in names.FACTORY_RESULTS:
            return TypeRef(names.FACTORY_RESULTS[qualname])
        if qualname in names.CASTS and call.args:  # `cast(MyApp, FastAPI())` is a `MyApp`
            return self.annotation_type(call.args[0].value, scope)
        if qualname == "builtins.next" and call.args:
            # A generator is typed by what it yields (`Iterator[Session]` is a `Session`), so
            # `next(get_db())` is one of those: the session a dependency would give.
            yielded = self.infer_type(call.args[0].value, scope, order, depth + 1)
            return None if yielded is None else TypeRef(yielded.qualname)
        found = self.project.resolve(qualname)
        if found is not None:
            if found.klass is not None:
                return TypeRef(found.klass.qualname)
            if found.function is not None:
                declared = found.model.annotation_type(
                    found.function.returns, found.function.parent_scope
                )
                if declared is not None and declared.qualname == _SELF:
                    owner = qualname.rpartition(".")[0]  # `Webhook.get_or_raise(db, id)`
                    return TypeRef(owner) if self.project.resolve_class(owner) else None
                if declared is not None and declared.qualname != names.ANY:
                    return declared
                return found.model.returned_type(found.function, depth, awaited)
            return None
        inherited = self._inherited_result_type(qualname)
        if inherited is not None:
            return inherited
        last = qualname.rsplit(".", 1)[-1]
        if last[:1].isupper() or qualname in names.SESSION_FACTORY_TYPES:
            return TypeRef(qualname)
        # `manager.get(1)` on a module-level `manager = Manager()`: the name resolves, the
        # method is found through the receiver's type.
        return self._method_result_type(func, scope, order, depth)

    def _inherited_result_type(self, qualname: str) -> TypeRef | None:
        """What `Model.method(...)` returns when `method` is a project base's classmethod
        declared `-> Self` (argilla's `Webhook.get_or_raise(db, id)` from a CRUD mixin): an
        instance of `Model`. Told by a capitalized owner first: most calls name no class."""
        owner, _, name = qualname.rpartition(".")
        if not owner.rpartition(".")[2][:1].isupper() or self.project.resolve_class(owner) is None:
            return None
        method = self.method_of(TypeRef(owner), name)
        if method is None:
            return None
        declared = method[0].annotation_type(method[1].returns, method[1].parent_scope)
        return TypeRef(owner) if declared is not None and declared.qualname == _SELF else None

    def own_class_named(self, name: cst.Name, scope: Scope, order: int | None) -> ClassInfo | None:
        """The class `name` is when it is the first parameter of a method that receives its
        class (`cls`; see `FunctionInfo.receives_class`), which `binding_type` types as the
        class's instance so that its methods are found."""
        binding = scope.lookup(name.value, order)
        if binding is None or binding.param is None or binding.param.position != 0:
            return None
        function = self.scope_of_binding(binding).function
        if function is None or not function.receives_class:
            return None
        return function.klass

    def _unpacked_type(
        self, value: cst.BaseExpression, index: int, scope: Scope, order: int, depth: int
    ) -> TypeRef | None:
        """The class of item `index` of what a call of a project function returns: its
        `-> tuple[str, Controller]` annotation, else every `return args, controller` of it."""
        if not isinstance(value, cst.Call) or depth > _MAX_DEPTH:
            return None
        qualname = self.qualified_name(value.func, scope, order)
        found = self.project.resolve_function(qualname) if qualname else None
        if found is None or not returns_values(found[1]):
            return None
        owner, function = found
        returns = function.returns
        if isinstance(returns, cst.Subscript):
            base, items = owner.generic_parts(returns, function.parent_scope)
            if base in names.TUPLE_TYPES and index < len(items):
                return owner.annotation_type(items[index], function.parent_scope, depth + 1)
        return agreed(
            owner.infer_type(returned.elements[index].value, function.scope, None, depth + 1)
            if isinstance(returned, cst.Tuple) and index < len(returned.elements)
            else None
            for returned in function.return_values
        )

    def returned_type(
        self, function: FunctionInfo, depth: int = 0, awaited: bool = False
    ) -> TypeRef | None:
        """What a factory without a class in its annotation returns (an `async def` one, once
        `awaited`): the class every `return` of it gives, when they agree (`def make(): return
        Controller()`). Kept for the run, as `attribute_type` is: a factory is called from
        many places."""
        if not returns_values(function, awaited) or depth > _MAX_DEPTH:
            return None

        def compute() -> TypeRef | None:
            return agreed(
                self.infer_type(value, function.scope) if value else None
                for value in function.return_values
            )

        key = f"{self.path}:{function.qualname}:{id(function)}"
        return self._kept_while_outermost("returned types", key, compute)

    def _method_result_type(
        self, func: cst.BaseExpression, scope: Scope, order: int | None, depth: int
    ) -> TypeRef | None:
        """`service.get(1)`: what the method of the receiver's project class declares."""
        if not isinstance(func, cst.Attribute):
            return None
        receiver = self.infer_type(func.value, scope, order, depth + 1)
        method = self.method_of(receiver, func.attr.value)
        if method is None:
            return None
        owner, function = method
        declared = owner.annotation_type(function.returns, function.parent_scope)
        if declared is not None and declared.qualname == _SELF:
            return receiver  # `-> Self`: the receiver's own class, a subclass's included
        return declared

    # -- dependencies ----------------------------------------------------------------------
    def depends_target(self, call: cst.Call, scope: Scope) -> cst.BaseExpression | None:
        """The dependency callable of a `Depends(dep)` call, else None."""
        if self.qualified_name(call.func, scope) != names.DEPENDS:
            return None
        for arg in call.args:
            if arg.keyword is None or arg.keyword.value == "dependency":
                return arg.value
        return None

    def dependency_type(
        self, dependency: cst.BaseExpression, scope: Scope, _depth: int = 0
    ) -> TypeRef | None:
        """What a dependency function provides: its annotation, or what it yields/returns."""
        qualname = self.qualified_name(dependency, scope)
        if qualname is None:
            return None
        found = self.project.resolve_function(qualname)
        if found is None:
            return None
        model, function = found
        declared = model.annotation_type(function.returns, function.parent_scope)
        if declared is not None:
            return declared
        for value in function.yield_values or function.return_values:
            if value is not None:
                produced = model.infer_type(value, function.scope, None, _depth + 1)
                if produced is not None:
                    return produced
        return None

    def param_type(self, function: FunctionInfo, name: str) -> TypeRef | None:
        bindings = function.scope.bindings.get(name, [])
        params = [b for b in bindings if b.kind is BindingKind.PARAM]
        return self.binding_type(params[0]) if params else None

    def attribute_type(
        self, receiver: TypeRef | None, name: str, _depth: int = 0
    ) -> TypeRef | None:
        """The class of `receiver.name` for an instance of a project class: its class-level
        annotation (`client: httpx.Client`), else what every `self.name = ...` of the class
        gives when they agree, else its class-level value (`client = httpx.Client()`); the
        receiver's own class first, then the project bases.

        Kept for the run by class and name (`self.client` is asked at every use in every
        method); see `_kept_while_outermost`.
        """
        if receiver is None or receiver.container or _depth > _MAX_DEPTH:
            return None
        key = f"{receiver.qualname}.{name}"
        return self._kept_while_outermost(
            "attribute types", key, lambda: self._attribute_type(receiver, name)
        )

    def _kept_while_outermost(
        self, table: str, key: str, compute: Callable[[], TypeRef | None]
    ) -> TypeRef | None:
        """`compute()`, kept for the run when no other such answer is being computed.

        An answer asked for while another is computed (`self.a = self.b`) is computed
        afresh, not kept: each kept answer then depends on the code alone, not on which was
        asked first, so `--jobs` runs agree. One asked again inside its own computation (a
        cycle), or more than `_MAX_DEPTH` deep, is None.
        """
        if key in _COMPUTING or len(_COMPUTING) > _MAX_DEPTH:
            return None

        def tracked() -> TypeRef | None:
            _COMPUTING.add(key)
            try:
                return compute()
            finally:
                _COMPUTING.discard(key)

        if _COMPUTING:
            return tracked()
        return self.project.remembered(f"{__name__}.{table}", key, tracked)

    def _attribute_type(self, receiver: TypeRef, name: str) -> TypeRef | None:
        classes = list(self._classes_of(receiver))
        for owner, klass in classes:
            getter = owner._property_getter(klass, name)
            if getter is not None:
                # `self.loop` read through `@property`/`@cached_property def loop(self)`, in
                # the class or a base: `self.loop = x` calls its setter, and stores no type.
                declared_type = owner.annotation_type(getter.returns, getter.parent_scope)
                return declared_type or owner.returned_type(getter, 0)
        for owner, klass in classes:
            declared = klass.scope.lookup(name, None)
            if declared is not None and declared.annotation is not None:
                return owner.annotation_type(declared.annotation, klass.parent_scope)
            assignments = klass.attributes.get(name)
            if assignments:
                return owner._assigned_type(assignments)
            if declared is not None and declared.kind is BindingKind.ASSIGN and declared.value:
                return owner.infer_type(declared.value, klass.scope, declared.order)
        if receiver.qualname == _APP_STATE:
            return self._app_state_type(name)
        library = (_LIBRARY_ATTRIBUTES.get((k, name)) for k in self.ancestors(receiver.qualname))
        found = next((qualname for qualname in library if qualname is not None), None)
        return TypeRef(found) if found is not None else None

    def _app_state_type(self, name: str) -> TypeRef | None:
        """The class every `app.state.<name> = ...` of the run gives, when they agree: the
        object a route reads as `request.app.state.<name>` (truss's process controller,
        assigned in the app factory of another module). Only assignments to the state of an
        app count: `request.state` is the request's own."""
        # Filled on first use, as the chain searches' tables are: few runs ask at all.
        table: dict[str, list[tuple[ModuleModel, AttributeAssignment]]] = self.project.memo(
            f"{__name__}.app state", dict
        )
        if not table:
            table[""] = []  # filled: no state attribute has an empty name
            self._app_state_assignments(table)
        given = [model._assigned_type([assignment]) for model, assignment in table.get(name, ())]
        return agreed(given) if given else None

    def _app_state_assignments(
        self, found: dict[str, list[tuple[ModuleModel, AttributeAssignment]]]
    ) -> None:
        """Every `<app>.state.<name> = ...` of the run into `found`, by name (one scan of the
        run's bytes; the modules that can hold one are parsed)."""
        for model in self.project.models(where=_ASSIGNS_STATE):
            for (owner, name), assignments in model._name_attributes.items():
                base, _, last = owner.rpartition(".")
                if last != "state":
                    continue
                for assignment in assignments:
                    held = model._dotted_type(base, assignment.scope, assignment.order)
                    if model.is_instance(held, names.APP_CLASSES):
                        found.setdefault(name, []).append((model, assignment))

    def _dotted_type(self, dotted: str, scope: Scope, order: int) -> TypeRef | None:
        """The class of `a.b.c` read in `scope` at walk order `order`."""
        first, *rest = dotted.split(".")
        binding = scope.lookup(first, order)
        found = self.binding_type(binding) if binding is not None else None
        for attribute in rest:
            found = self.attribute_type(found, attribute)
        return found

    def _property_getter(self, klass: ClassInfo, name: str) -> FunctionInfo | None:
        """The method `@property` or `@functools.cached_property` makes `name` of `klass`."""
        for binding in klass.scope.bindings.get(name, ()):
            getter = binding.function
            if getter is not None and (
                getter.decorated("property")
                or any(
                    self.decorator_name(decorator, klass.scope) == "functools.cached_property"
                    for decorator in getter.decorators
                )
            ):
                return getter
        return None

    def attribute_assignments(
        self, receiver: TypeRef | None, name: str
    ) -> tuple[ModuleModel, list[AttributeAssignment]] | None:
        """The `self.name = ...` assignments of the first class of `receiver` that makes
        them (its own, then its project bases), with the module that holds them."""
        for owner, klass in self._classes_of(receiver):
            assignments = klass.attributes.get(name)
            if assignments:
                return owner, assignments
        return None

    def _classes_of(self, receiver: TypeRef | None) -> Iterator[tuple[ModuleModel, ClassInfo]]:
        """The project classes an instance of `receiver` is, in the order Python looks up
        its attributes for the usual hierarchies: its own class, then each base and that
        base's bases, depth first and left to right."""
        if receiver is None or receiver.container:
            return
        for qualname in self.lookup_order(receiver.qualname):
            found = self.project.resolve_class(qualname)
            if found is not None:
                yield found

    def lookup_order(self, qualname: str) -> tuple[str, ...]:
        """`qualname` and its bases as `_classes_of` visits them, kept for the run: Python's
        method resolution order (C3), or depth-first where the bases admit none."""

        def compute() -> tuple[str, ...]:
            linear = self._c3(qualname, set(), {})
            if linear is not None:
                return tuple(linear[:_MAX_CLASSES])
            order: dict[str, None] = {}
            pending = [qualname]
            while pending and len(order) < _MAX_CLASSES:
                current = pending.pop()
                if current not in order:
                    order[current] = None
                    pending.extend(reversed(self.base_classes(current)))
            return tuple(order)

        return self.project.remembered(f"{__name__}.lookup order", qualname, compute)

    def _c3(
        self, qualname: str, visiting: set[str], done: dict[str, list[str]]
    ) -> list[str] | None:
        """The C3 linearization of `qualname` and its bases (those `done` already holds are
        not worked out again); None for a cycle, a hierarchy too deep, or bases that admit
        no consistent order."""
        if qualname in done:
            return list(done[qualname])
        if qualname in visiting or len(visiting) > _MAX_CLASSES:
            return None
        visiting.add(qualname)
        bases = self.base_classes(qualname)
        sequences: list[list[str]] = []
        for base in bases:
            linear = self._c3(base, visiting, done)
            if linear is None:
                return None
            sequences.append(linear)
        visiting.discard(qualname)
        sequences.append(list(bases))
        result = [qualname]
        while True:
            sequences = [sequence for sequence in sequences if sequence]
            if not sequences:
                done[qualname] = result
                return list(result)
            head = next(
                (s[0] for s in sequences if not any(s[0] in t[1:] for t in sequences)), None
            )
            if head is None:
                return None
            result.append(head)
            for sequence in sequences:
                if sequence[0] == head:
                    del sequence[0]

    def _assigned_type(self, assignments: list[AttributeAssignment]) -> TypeRef | None:
        """The one class every assignment gives, or None when one is unknown or they differ.
        `self.client = None` says nothing of the class, as `Client | None` does not."""
        return agreed(
            self.annotation_type(assignment.annotation, assignment.scope)
            if assignment.annotation is not None
            else self.infer_type(assignment.value, assignment.scope, assignment.order)
            if assignment.value is not None
            else None
            for assignment in assignments
            if assignment.annotation is not None or not names.is_none(assignment.value)
        )

    def method_of(
        self, type_ref: TypeRef | None, name: str
    ) -> tuple[ModuleModel, FunctionInfo] | None:
        """The method `name` of a project class (or a project base of it), if any: the
        class's own first, then its bases' in `lookup_order`."""
        if type_ref is None or type_ref.container:
            return None
        return self.first_method(self.lookup_order(type_ref.qualname), name)

    def first_method(
        self, classes: Iterable[str], name: str
    ) -> tuple[ModuleModel, FunctionInfo] | None:
        """The method `name` of the first of `classes` that is a project class defining it."""
        for qualname in classes:
            found = self.project.resolve_class(qualname)
            method = found[1].methods.get(name) if found is not None else None
            if found is not None and method is not None:
                return found[0], method
        return None

    def is_instance(self, type_ref: TypeRef | None, targets: frozenset[str] | set[str]) -> bool:
        """Whether `type_ref` is (a project subclass of) one of `targets`."""
        if type_ref is None or type_ref.container:
            return False
        return bool(self.ancestors(type_ref.qualname) & targets)

    def ancestors(self, qualname: str) -> frozenset[str]:
        """`qualname` and every base class the project shows for it.

        Kept for the run (`remembered`): receiver types and task classes ask about the same
        classes over and over (134k asks about 3.9k classes on the benchmark corpus).
        """
        return self.project.remembered(
            f"{__name__}.ancestors", qualname, lambda: frozenset(self._ancestors(qualname, 0))
        )

    def _ancestors(self, qualname: str, depth: int) -> set[str]:
        result = {names.canonical(qualname)}
        if depth > _MAX_DEPTH:
            return result
        found = self.project.resolve_class(qualname)
        if found is not None:
            result.add(found[1].qualname)
        for base in self.base_classes(qualname):
            result |= self._ancestors(base, depth + 1)
        return result

    def base_classes(self, qualname: str) -> list[str]:
        """The qualified names of the classes `qualname` directly derives from, in order: a
        project class's bases, or `Mixin` for `Base = declarative_base(cls=Mixin)`, whose
        models inherit `Mixin`'s methods through `Base`."""
        found = self.project.resolve(qualname)
        if found is None:
            return []
        owner, klass, binding = found.model, found.klass, found.binding
        if klass is not None:
            bases = (owner.qualified_name(base, klass.parent_scope) for base in klass.bases)
            return [base for base in bases if base is not None]
        if (
            binding is None
            or binding.kind is not BindingKind.ASSIGN
            or not isinstance(binding.value, cst.Call)
        ):
            return []
        scope = owner.scope_of_binding(binding)
        if owner.qualified_name(binding.value.func, scope, binding.order) != names.DECLARATIVE_BASE:
            return []
        mixin = call_argument(binding.value, "cls", _DECLARATIVE_BASE_CLS_POSITION)
        mixin_name = owner.qualified_name(mixin, scope, binding.order) if mixin else None
        return [mixin_name] if mixin_name is not None else []

    # -- derived facts, computed on first use ------------------------------------------------
    @cached_property
    def scheduling_sites(self) -> list[SchedulingSite]:
        from fastapi_task_lint.semantics.scheduling import find_scheduling_sites

        return find_scheduling_sites(self)

    @cached_property
    def task_spawns(self) -> list[TaskSpawn]:
        """The asyncio tasks started here, found once: FTL302's scans, FTL307 and FTL505 ask."""
        from fastapi_task_lint.semantics.asyncio_tasks import find_task_spawns

        return find_task_spawns(self)

    @cached_property
    def routes(self) -> list[Route]:
        from fastapi_task_lint.semantics.routes import find_routes

        return find_routes(self)

    @cached_property
    def orm(self) -> OrmModels:
        from fastapi_task_lint.semantics.orm import OrmModels

        return OrmModels(self)


# Nodes whose CPython span takes in their own parentheses, which libcst lays out outside.
_OWN_PARENTHESES = (cst.Tuple, cst.GeneratorExp)
_OPEN = ord("(")


def _first_lines_from(tree: cst.Module, cpython_lines: list[int]) -> list[int] | None:
    """`_first_lines` from CPython's line of each top-level statement; None if they disagree.

    A libcst simple statement line holds one CPython statement per `;`. CPython gives a
    decorated definition the line of its `def`/`class`: the decorators and the lines between
    them come before it, and every statement's leading comments and blank lines before that.
    """
    first: list[int] = []
    at = 0
    for statement in tree.body:
        if at >= len(cpython_lines):
            return None
        line = cpython_lines[at]
        if isinstance(statement, cst.SimpleStatementLine):
            at += len(statement.body)
        else:
            at += 1
        if isinstance(statement, cst.FunctionDef | cst.ClassDef) and statement.decorators:
            line -= len(statement.lines_after_decorators)
            line -= sum(
                len(LINE_BREAK.findall(tree.code_for_node(decorator)))
                for decorator in statement.decorators
            )
        first.append(line - len(statement.leading_lines))
    return first if at == len(cpython_lines) else None


class _StatementRecorder(cst.CSTVisitor):
    """Records which top-level statement (`index`) each node it is walked over belongs to."""

    def __init__(self) -> None:
        self.index = 0
        self.found: dict[int, int] = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.found[id(node)] = self.index
        return True


_BUILTINS = frozenset(
    {
        "open",
        "input",
        "print",
        "len",
        "dict",
        "list",
        "set",
        "tuple",
        "frozenset",
        "str",
        "int",
        "float",
        "bool",
        "bytes",
        "object",
        "type",
        "super",
        "isinstance",
        "issubclass",
        "callable",
        "hasattr",
        "id",
        "repr",
        "getattr",
        "setattr",
        "iter",
        "next",
        "range",
        "enumerate",
        "zip",
        "map",
        "filter",
        "sorted",
        # The exception classes (`except BlockingIOError:`), `Exception` and `BaseException`
        # among them.
        *(
            name
            for name, value in vars(builtins).items()
            if isinstance(value, type) and issubclass(value, BaseException)
        ),
    }
)

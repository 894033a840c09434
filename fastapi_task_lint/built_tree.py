"""libcst's node classes, built from CPython's `ast` instead of parsed by libcst.

The analysis reads a tree's names, calls and definitions, never its whitespace, comments
or parentheses, and libcst's parser spent most of a cold run producing exactly those.
Building the same node classes from `ast.parse` costs about a fifth (9.5 us a line, parse
included, against 44.7 for libcst's parse on every 7th corpus file; `benchmarks/front_ends.py`),
for trees of about the same size (504 against 561 bytes a line, spans included). The
semantic layer and the rules cannot tell the difference: the nodes are of libcst's classes
(subclasses of the same name, which `walk` dispatches on).

Each node keeps where CPython found it, packed into one integer in a slot (`span_of`), so
positions and quoted code come from the source text (`semantics.model`). What a built tree
lacks, libcst's own parse of the file supplies when it is asked for: comments (`# noqa`),
the parentheses around an expression, and the exact nodes a fix rewrites.

The tree has libcst's shape where the analysis or the pairing with libcst's tree
(`semantics.originals`) can see it: statements joined by `;` share one line, a body on its
header's line is a suite, arguments keep their written order, a sequence pattern without
parentheses is a `MatchList`. Syntax it does not convert (a sequence pattern in parentheses,
`except*`, type parameters) raises `Unsupported`, and libcst parses the file.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import libcst as cst

# Deep expressions recurse once per level, like libcst's parser (see `source`).
_RECURSION_LIMIT = 10_000


class Unsupported(Exception):
    """Input this front-end leaves to libcst: syntax it does not convert, or that CPython
    refuses (libcst's parse then reports it as before)."""


Span = tuple[int, int, int, int]  # line, UTF-8 column, end line, end column, as `ast` gives


def build(text: str) -> tuple[cst.Module, list[int]]:
    """The tree of `text`, and the line of each top-level statement (as libcst's parse in
    `source.parse_with_lines` gives them)."""
    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
        with warnings.catch_warnings():  # CPython's SyntaxWarnings about user code are noise
            warnings.simplefilter("ignore")
            tree = ast.parse(text, "<checked file>")
        global _lines
        _lines = text.encode("utf-8", "surrogatepass").splitlines()
        module = _new[cst.Module](body=_statements(tree.body))
    except Unsupported:
        raise
    except Exception as error:  # refused by CPython, or a gap here: libcst parses the file
        raise Unsupported(type(error).__name__) from None
    finally:
        sys.setrecursionlimit(limit)
        _lines = []
    return module, [statement.lineno for statement in tree.body]


def is_built(node: cst.CSTNode) -> bool:
    """Whether `node` was built here, not parsed by libcst."""
    return type(node) in _SPAN_SETTERS


def span_of(node: cst.CSTNode) -> Span | None:
    """Where CPython found `node`; None for nodes built without one, or not built here."""
    packed: int | None = getattr(node, "_span", None)
    if packed is None:
        return None
    end_column, packed = packed & _MASK16, packed >> 16
    column, packed = packed & _MASK16, packed >> 16
    line = packed & _MASK21
    return line, column, line + (packed >> 21), end_column


# The source's lines, as UTF-8, while `build` runs (one build at a time, like the switches of
# libcst's parse in `source`): whether a body sits on its header's line, where a name starts.
_lines: list[bytes] = []
# A span packs, from the top: the lines it spans beyond its first, its first line (21 bits),
# its first and last columns (16 bits each). A span on one line, as most are, fits in 53
# bits: an integer of two 30-bit digits (32 bytes) rather than three (36).
_MASK16, _MASK21 = (1 << 16) - 1, (1 << 21) - 1


def _keep(built: Any, span: Span) -> None:
    line, column, end_line, end_column = span
    if column >> 16 or end_column >> 16 or end_line >> 21:
        return  # beyond the packing (a line over 64 kB): positions come from libcst's parse
    packed = ((((end_line - line) << 21 | line) << 16 | column) << 16) | end_column
    _SPAN_SETTERS[type(built)](built, packed)


def _span(node: ast.expr | ast.stmt | ast.keyword | ast.pattern) -> Span:
    end_line = node.end_lineno or node.lineno
    return node.lineno, node.col_offset, end_line, node.end_col_offset or node.col_offset


# -- node constructors ---------------------------------------------------------------------
# Fields of libcst's nodes that only hold whitespace, punctuation or layout (and fields named
# `whitespace...`). No reader looks at them (`semantics.walk` skips them), and a built node
# never sets them: its class answers them with the shared default instead of storing them.
LAYOUT_FIELDS = frozenset(
    {
        "colon",
        "comma",
        "comment",
        "default_indent",
        "default_newline",
        "dot",
        "empty_lines",
        "encoding",
        "equal",
        "first_colon",
        "first_line",
        "footer",
        "has_trailing_newline",
        "header",
        "last_line",
        "lbrace",
        "lbracket",
        "leading_lines",
        "leading_whitespace",
        "lines_after_decorators",
        "lpar",
        "newline",
        "rbrace",
        "rbracket",
        "rpar",
        "second_colon",
        "semicolon",
        "trailing_comma",
        "trailing_whitespace",
    }
)


def _is_layout(name: str) -> bool:
    return name in LAYOUT_FIELDS or name.startswith("whitespace")


@functools.cache
def _built_class(cls: type[cst.CSTNode]) -> type[cst.CSTNode]:
    """`cls` with a slot for the span, and its layout fields' defaults as class attributes.

    It keeps the class's name, which `walk` dispatches on. A class attribute of the same
    name hides libcst's slot, so a node stores only the fields the analysis reads: converting
    a tree takes a quarter less time than setting every field (7.5 -> 5.0 us a line).
    """
    layout = {f.name: _default(f) for f in dataclasses.fields(cls) if _is_layout(f.name)}
    namespace = {
        "__slots__": ("_span",),
        "__module__": cls.__module__,
        "with_changes": _with_changes,
        **layout,
    }
    built = type(cls.__name__, (cls,), namespace)
    _SPAN_SETTERS[built] = built.__dict__["_span"].__set__
    return built


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None if field.default is dataclasses.MISSING else field.default


def _with_changes(self: cst.CSTNode, **changes: Any) -> cst.CSTNode:
    """libcst's `with_changes`, giving a node of libcst's own class (a built class cannot
    store its layout fields)."""
    base = type(self).__mro__[1]
    values = {f.name: getattr(self, f.name) for f in dataclasses.fields(base) if f.init}
    return base(**{**values, **changes})  # type: ignore[no-any-return]


# Each built class, and how a span is stored in its slot.
_SPAN_SETTERS: dict[type[cst.CSTNode], Callable[[Any, int], None]] = {}


def _maker(cls: type[cst.CSTNode]) -> Callable[..., Any]:
    """A constructor for `cls` that stores the fields the analysis reads, taking each
    default once (libcst's constructors build fresh whitespace and validate every node)."""
    built = _built_class(cls)
    fields = [(f.name, _default(f)) for f in dataclasses.fields(cls) if not _is_layout(f.name)]
    parameters = ", ".join(f"{name}=_default_{name}" for name, _ in fields)
    sets = "".join(f"    _set_{name}(node, {name})\n" for name, _ in fields)
    code = f"def make({parameters}):\n    node = _new(_cls)\n{sets}    return node\n"
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": built}
    for name, default in fields:
        scope[f"_default_{name}"] = default
        scope[f"_set_{name}"] = _slot(cls, name).__set__
    exec(code, scope)  # a constructor generated from the dataclass's own fields
    maker: Callable[..., Any] = scope["make"]
    return maker


def _slot(cls: type, name: str) -> Any:
    """The slot descriptor that stores field `name` of `cls`."""
    return next(k.__dict__[name] for k in cls.__mro__ if name in k.__dict__)


class _Makers(dict[type[cst.CSTNode], Callable[..., Any]]):
    """Each node class's constructor (`_maker`), made on first use."""

    def __missing__(self, cls: type[cst.CSTNode]) -> Callable[..., Any]:
        maker = self[cls] = _maker(cls)
        return maker


_new = _Makers()

_BINARY: dict[type[ast.operator], cst.BaseBinaryOp] = {
    ast.Add: cst.Add(),
    ast.Sub: cst.Subtract(),
    ast.Mult: cst.Multiply(),
    ast.Div: cst.Divide(),
    ast.FloorDiv: cst.FloorDivide(),
    ast.Mod: cst.Modulo(),
    ast.Pow: cst.Power(),
    ast.BitOr: cst.BitOr(),
    ast.BitAnd: cst.BitAnd(),
    ast.BitXor: cst.BitXor(),
    ast.LShift: cst.LeftShift(),
    ast.RShift: cst.RightShift(),
    ast.MatMult: cst.MatrixMultiply(),
}
_AUGMENTED: dict[type[ast.operator], cst.BaseAugOp] = {
    ast.Add: cst.AddAssign(),
    ast.Sub: cst.SubtractAssign(),
    ast.Mult: cst.MultiplyAssign(),
    ast.Div: cst.DivideAssign(),
    ast.FloorDiv: cst.FloorDivideAssign(),
    ast.Mod: cst.ModuloAssign(),
    ast.Pow: cst.PowerAssign(),
    ast.BitOr: cst.BitOrAssign(),
    ast.BitAnd: cst.BitAndAssign(),
    ast.BitXor: cst.BitXorAssign(),
    ast.LShift: cst.LeftShiftAssign(),
    ast.RShift: cst.RightShiftAssign(),
    ast.MatMult: cst.MatrixMultiplyAssign(),
}
_COMPARE: dict[type[ast.cmpop], cst.BaseCompOp] = {
    ast.Eq: cst.Equal(),
    ast.NotEq: cst.NotEqual(),
    ast.Lt: cst.LessThan(),
    ast.LtE: cst.LessThanEqual(),
    ast.Gt: cst.GreaterThan(),
    ast.GtE: cst.GreaterThanEqual(),
    ast.Is: cst.Is(),
    ast.IsNot: cst.IsNot(),
    ast.In: cst.In(),
    ast.NotIn: cst.NotIn(),
}
_UNARY: dict[type[ast.unaryop], cst.BaseUnaryOp] = {
    ast.Not: cst.Not(),
    ast.USub: cst.Minus(),
    ast.UAdd: cst.Plus(),
    ast.Invert: cst.BitInvert(),
}
_BOOLEAN: dict[type[ast.boolop], cst.BaseBooleanOp] = {ast.And: cst.And(), ast.Or: cst.Or()}
_ASYNC = cst.Asynchronous()
_DOT = cst.Dot()


# -- expressions ---------------------------------------------------------------------------
def expression(node: ast.expr) -> Any:
    convert = _EXPRESSIONS.get(type(node))
    if convert is None:
        raise Unsupported(type(node).__name__)
    built = convert(node)
    line, column = node.lineno, node.col_offset
    end_line, end_column = node.end_lineno or line, node.end_col_offset or 0
    if column < 65536 and end_column < 65536 and end_line < 2097152:  # `_keep`, inlined
        packed = ((((end_line - line) << 21 | line) << 16 | column) << 16) | end_column
        _SPAN_SETTERS[type(built)](built, packed)
    return built


def _optional(node: ast.expr | None) -> Any:
    return None if node is None else expression(node)


def _constant(node: ast.Constant) -> Any:
    value = node.value
    if isinstance(value, (str, bytes)):
        return _new[cst.SimpleString](value=repr(value))
    if value is None or isinstance(value, bool):
        return _new[cst.Name](value=repr(value))
    if isinstance(value, int):
        return _new[cst.Integer](value=repr(value))
    if isinstance(value, float):
        return _new[cst.Float](value=repr(value))
    if isinstance(value, complex):
        return _new[cst.Imaginary](value=repr(value))
    if value is Ellipsis:
        return _new[cst.Ellipsis]()
    raise Unsupported(type(value).__name__)


def _attribute(node: ast.Attribute) -> Any:
    name = _new[cst.Name](value=node.attr)
    end, line = node.end_col_offset or 0, node.end_lineno or node.lineno
    _keep(name, (line, end - len(node.attr.encode()), line, end))
    return _new[cst.Attribute](value=expression(node.value), attr=name)


def _arguments(args: Sequence[ast.expr], keywords: Sequence[ast.keyword]) -> tuple[Any, ...]:
    """Call or class arguments in written order (CPython lists keywords after the rest)."""
    found: list[tuple[tuple[int, int], Any]] = []
    for argument in args:
        if isinstance(argument, ast.Starred):
            arg = _new[cst.Arg](value=expression(argument.value), star="*")
        else:
            arg = _new[cst.Arg](value=expression(argument))
        _keep(arg, _span(argument))
        found.append(((argument.lineno, argument.col_offset), arg))
    for keyword in keywords:
        value = expression(keyword.value)
        if keyword.arg is None:
            arg = _new[cst.Arg](value=value, star="**")
        else:
            name = _new[cst.Name](value=keyword.arg)
            start = keyword.col_offset
            _keep(name, (keyword.lineno, start, keyword.lineno, start + len(keyword.arg.encode())))
            arg = _new[cst.Arg](value=value, keyword=name)
        _keep(arg, _span(keyword))
        found.append(((keyword.lineno, keyword.col_offset), arg))
    if keywords and args and (keywords[0].lineno, keywords[0].col_offset) < found[len(args) - 1][0]:
        found.sort(key=lambda item: item[0])  # `f(a=1, *rest)`
    return tuple(arg for _, arg in found)


def _elements(nodes: Iterable[ast.expr]) -> tuple[Any, ...]:
    return tuple(
        _new[cst.StarredElement](value=expression(n.value))
        if isinstance(n, ast.Starred)
        else _new[cst.Element](value=expression(n))
        for n in nodes
    )


def _comprehension(generators: Sequence[ast.comprehension]) -> Any:
    inner = None
    for generator in reversed(generators):
        inner = _new[cst.CompFor](
            target=expression(generator.target),
            iter=expression(generator.iter),
            ifs=tuple(_new[cst.CompIf](test=expression(test)) for test in generator.ifs),
            inner_for_in=inner,
            asynchronous=_ASYNC if generator.is_async else None,
        )
    return inner


def _boolean(node: ast.BoolOp) -> Any:
    found = expression(node.values[0])
    for value in node.values[1:]:
        operator = _BOOLEAN[type(node.op)]
        found = _new[cst.BooleanOperation](left=found, operator=operator, right=expression(value))
    return found


def _formatted(node: ast.JoinedStr) -> Any:
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            text = str(value.value).replace("{", "{{").replace("}", "}}")
            parts.append(_new[cst.FormattedStringText](value=text))
        elif isinstance(value, ast.FormattedValue):
            parts.append(_new[cst.FormattedStringExpression](expression=expression(value.value)))
        else:
            raise Unsupported(type(value).__name__)
    return _new[cst.FormattedString](parts=tuple(parts), start='f"', end='"')


def _subscript(node: ast.Subscript) -> Any:
    items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    elements = []
    for item in items:
        if isinstance(item, ast.Slice):
            bounds = _new[cst.Slice](
                lower=_optional(item.lower),
                upper=_optional(item.upper),
                step=_optional(item.step),
            )
            elements.append(_new[cst.SubscriptElement](slice=bounds))
        else:
            index = _new[cst.Index](value=expression(item))
            elements.append(_new[cst.SubscriptElement](slice=index))
    return _new[cst.Subscript](value=expression(node.value), slice=tuple(elements))


def _annotation(node: ast.expr | None) -> Any:
    return None if node is None else _new[cst.Annotation](annotation=expression(node))


def _parameters(arguments: ast.arguments) -> Any:
    def param(argument: ast.arg, default: ast.expr | None = None) -> Any:
        name = _new[cst.Name](value=argument.arg)
        annotation = _annotation(argument.annotation)
        return _new[cst.Param](name=name, annotation=annotation, default=_optional(default))

    positional = [*arguments.posonlyargs, *arguments.args]
    defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    params = [param(a, d) for a, d in zip(positional, defaults, strict=True)]
    split = len(arguments.posonlyargs)
    star: Any = cst.MaybeSentinel.DEFAULT
    if arguments.vararg is not None:
        star = param(arguments.vararg)
    elif arguments.kwonlyargs:
        star = _new[cst.ParamStar]()
    keyword = zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
    return _new[cst.Parameters](
        posonly_params=tuple(params[:split]),
        params=tuple(params[split:]),
        star_arg=star,
        kwonly_params=tuple(param(a, d) for a, d in keyword),
        star_kwarg=None if arguments.kwarg is None else param(arguments.kwarg),
    )


def _yield(node: ast.Yield | ast.YieldFrom) -> Any:
    if isinstance(node, ast.YieldFrom):
        return _new[cst.Yield](value=_new[cst.From](item=expression(node.value)))
    return _new[cst.Yield](value=_optional(node.value))


_EXPRESSIONS: dict[type[ast.expr], Callable[[Any], Any]] = {
    ast.Name: lambda n: _new[cst.Name](value=n.id),
    ast.Attribute: _attribute,
    ast.Call: lambda n: _new[cst.Call](
        func=expression(n.func), args=_arguments(n.args, n.keywords)
    ),
    ast.Constant: _constant,
    ast.BinOp: lambda n: _new[cst.BinaryOperation](
        left=expression(n.left),
        operator=_BINARY[type(n.op)],
        right=expression(n.right),
    ),
    ast.BoolOp: _boolean,
    ast.Compare: lambda n: _new[cst.Comparison](
        left=expression(n.left),
        comparisons=tuple(
            _new[cst.ComparisonTarget](operator=_COMPARE[type(o)], comparator=expression(c))
            for o, c in zip(n.ops, n.comparators, strict=True)
        ),
    ),
    ast.UnaryOp: lambda n: _new[cst.UnaryOperation](
        operator=_UNARY[type(n.op)], expression=expression(n.operand)
    ),
    ast.IfExp: lambda n: _new[cst.IfExp](
        test=expression(n.test), body=expression(n.body), orelse=expression(n.orelse)
    ),
    ast.Lambda: lambda n: _new[cst.Lambda](params=_parameters(n.args), body=expression(n.body)),
    ast.Subscript: _subscript,
    ast.List: lambda n: _new[cst.List](elements=_elements(n.elts)),
    ast.Tuple: lambda n: _new[cst.Tuple](elements=_elements(n.elts)),
    ast.Set: lambda n: _new[cst.Set](elements=_elements(n.elts)),
    ast.Dict: lambda n: _new[cst.Dict](
        elements=tuple(
            _new[cst.StarredDictElement](value=expression(v))
            if k is None
            else _new[cst.DictElement](key=expression(k), value=expression(v))
            for k, v in zip(n.keys, n.values, strict=True)
        ),
    ),
    ast.Await: lambda n: _new[cst.Await](expression=expression(n.value)),
    ast.Yield: _yield,
    ast.YieldFrom: _yield,
    ast.ListComp: lambda n: _new[cst.ListComp](
        elt=expression(n.elt), for_in=_comprehension(n.generators)
    ),
    ast.SetComp: lambda n: _new[cst.SetComp](
        elt=expression(n.elt), for_in=_comprehension(n.generators)
    ),
    ast.GeneratorExp: lambda n: _new[cst.GeneratorExp](
        elt=expression(n.elt), for_in=_comprehension(n.generators)
    ),
    ast.DictComp: lambda n: _new[cst.DictComp](
        key=expression(n.key),
        value=expression(n.value),
        for_in=_comprehension(n.generators),
    ),
    ast.JoinedStr: _formatted,
    ast.NamedExpr: lambda n: _new[cst.NamedExpr](
        target=expression(n.target), value=expression(n.value)
    ),
    ast.Starred: lambda n: _new[cst.StarredElement](value=expression(n.value)),
}


# -- statements ----------------------------------------------------------------------------
def _statements(nodes: Sequence[ast.stmt]) -> tuple[Any, ...]:
    """`nodes` as libcst lays them out: small statements joined by `;` share one line."""
    found: list[Any] = []
    group: list[Any] = []
    group_end = 0
    for node in nodes:
        convert = _SMALL.get(type(node))
        if convert is None:
            found.append(_compound(node))
            group = []
            continue
        small = convert(node)
        span = _span(node)
        _keep(small, span)
        if group and node.lineno == group_end:
            group.append(small)
            line = found[-1]
            start = span_of(line)
            _slot(cst.SimpleStatementLine, "body").__set__(line, tuple(group))
            if start is not None:
                _keep(line, (start[0], start[1], span[2], span[3]))
        else:
            group = [small]
            line = _new[cst.SimpleStatementLine](body=(small,))
            _keep(line, span)
            found.append(line)
        group_end = span[2]
    return tuple(found)


def _compound(node: ast.stmt) -> Any:
    convert = _COMPOUND.get(type(node))
    if convert is None or getattr(node, "type_params", None):
        raise Unsupported(type(node).__name__)
    built = convert(node)
    _keep(built, _span(node))
    return built


def _block(statements: Sequence[ast.stmt]) -> Any:
    """An indented block, or a suite when the body starts on its header's line."""
    first = statements[0]
    if _lines[first.lineno - 1][: first.col_offset].strip():
        small = []
        for node in statements:
            convert = _SMALL.get(type(node))
            if convert is None:
                raise Unsupported(type(node).__name__)
            built = convert(node)
            _keep(built, _span(node))
            small.append(built)
        return _new[cst.SimpleStatementSuite](body=tuple(small))
    return _new[cst.IndentedBlock](body=_statements(statements))


def _dotted(name: str) -> Any:
    first, *rest = name.split(".")
    found = _new[cst.Name](value=first)
    for part in rest:
        found = _new[cst.Attribute](value=found, attr=_new[cst.Name](value=part))
    return found


def _as_name(name: str | None) -> Any:
    return None if name is None else _new[cst.AsName](name=_new[cst.Name](value=name))


def _else(statements: Sequence[ast.stmt]) -> Any:
    return _new[cst.Else](body=_block(statements)) if statements else None


def _if(node: ast.If) -> Any:
    if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If) and _is_elif(node.orelse[0]):
        orelse = _if(node.orelse[0])
        _keep(orelse, _span(node.orelse[0]))
    else:
        orelse = _else(node.orelse)
    return _new[cst.If](test=expression(node.test), body=_block(node.body), orelse=orelse)


def _is_elif(node: ast.If) -> bool:
    return _lines[node.lineno - 1][node.col_offset : node.col_offset + 4] == b"elif"


_DEFINITION = re.compile(rb"(?:async\s+)?(?:def|class)\s+")


def _name_of(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> Any:
    """The definition's name, with its span: the word after its keyword."""
    name = _new[cst.Name](value=node.name)
    found = _DEFINITION.match(_lines[node.lineno - 1], node.col_offset)
    if found is not None:
        start = found.end()
        _keep(name, (node.lineno, start, node.lineno, start + len(node.name.encode())))
    return name


def _decorators(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> tuple[Any, ...]:
    return tuple(_new[cst.Decorator](decorator=expression(d)) for d in node.decorator_list)


def _function(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Any:
    return _new[cst.FunctionDef](
        name=_name_of(node),
        params=_parameters(node.args),
        body=_block(node.body),
        decorators=_decorators(node),
        returns=_annotation(node.returns),
        asynchronous=_ASYNC if isinstance(node, ast.AsyncFunctionDef) else None,
    )


def _class(node: ast.ClassDef) -> Any:
    arguments = _arguments(node.bases, node.keywords)
    return _new[cst.ClassDef](
        name=_name_of(node),
        body=_block(node.body),
        bases=tuple(a for a in arguments if a.keyword is None),
        keywords=tuple(a for a in arguments if a.keyword is not None),
        decorators=_decorators(node),
    )


def _loop(node: ast.For | ast.AsyncFor) -> Any:
    return _new[cst.For](
        target=expression(node.target),
        iter=expression(node.iter),
        body=_block(node.body),
        orelse=_else(node.orelse),
        asynchronous=_ASYNC if isinstance(node, ast.AsyncFor) else None,
    )


def _with(node: ast.With | ast.AsyncWith) -> Any:
    items = tuple(
        _new[cst.WithItem](
            item=expression(item.context_expr),
            asname=None
            if item.optional_vars is None
            else _new[cst.AsName](name=expression(item.optional_vars)),
        )
        for item in node.items
    )
    asynchronous = _ASYNC if isinstance(node, ast.AsyncWith) else None
    return _new[cst.With](items=items, body=_block(node.body), asynchronous=asynchronous)


def _try(node: ast.Try) -> Any:
    handlers = tuple(
        _new[cst.ExceptHandler](
            body=_block(h.body),
            type=_optional(h.type),
            name=_as_name(h.name),
        )
        for h in node.handlers
    )
    final = _new[cst.Finally](body=_block(node.finalbody)) if node.finalbody else None
    return _new[cst.Try](
        body=_block(node.body),
        handlers=handlers,
        orelse=_else(node.orelse),
        finalbody=final,
    )


def _match(node: ast.Match) -> Any:
    cases = tuple(
        _new[cst.MatchCase](
            pattern=_pattern(case.pattern), body=_block(case.body), guard=_optional(case.guard)
        )
        for case in node.cases
    )
    return _new[cst.Match](subject=expression(node.subject), cases=cases)


def _pattern(node: ast.pattern) -> Any:
    convert = _PATTERNS.get(type(node))
    if convert is None:
        raise Unsupported(type(node).__name__)
    built = convert(node)
    _keep(built, _span(node))
    return built


def _sequence(node: ast.MatchSequence) -> Any:
    """`[a, *b]` or `a, *b`, both a `MatchList` in libcst. One in parentheses is a
    `MatchTuple` whose span, unlike libcst's position, holds them, and `(a), (b)` starts
    and ends the same way: libcst parses such a file."""
    if _lines[node.lineno - 1][node.col_offset : node.col_offset + 1] == b"(":
        raise Unsupported("a sequence pattern in parentheses")
    patterns = tuple(
        _pattern(p)
        if isinstance(p, ast.MatchStar)
        else _new[cst.MatchSequenceElement](value=_pattern(p))
        for p in node.patterns
    )
    return _new[cst.MatchList](patterns=patterns)


def _optional_name(name: str | None) -> Any:
    return None if name is None else _new[cst.Name](value=name)


def _import_from(node: ast.ImportFrom) -> Any:
    names: Any = cst.ImportStar()
    if node.names[0].name != "*":
        names = tuple(
            _new[cst.ImportAlias](name=_new[cst.Name](value=a.name), asname=_as_name(a.asname))
            for a in node.names
        )
    module = None if node.module is None else _dotted(node.module)
    return _new[cst.ImportFrom](module=module, names=names, relative=(_DOT,) * node.level)


def _names(kind: type[cst.Global] | type[cst.Nonlocal], names: list[str]) -> Any:
    items = tuple(_new[cst.NameItem](name=_new[cst.Name](value=n)) for n in names)
    return _new[kind](names=items)


_SMALL: dict[type[ast.stmt], Callable[[Any], Any]] = {
    ast.Expr: lambda n: _new[cst.Expr](value=expression(n.value)),
    ast.Assign: lambda n: _new[cst.Assign](
        targets=tuple(_new[cst.AssignTarget](target=expression(t)) for t in n.targets),
        value=expression(n.value),
    ),
    ast.AnnAssign: lambda n: _new[cst.AnnAssign](
        target=expression(n.target),
        annotation=_annotation(n.annotation),
        value=_optional(n.value),
    ),
    ast.AugAssign: lambda n: _new[cst.AugAssign](
        target=expression(n.target),
        operator=_AUGMENTED[type(n.op)],
        value=expression(n.value),
    ),
    ast.Return: lambda n: _new[cst.Return](value=_optional(n.value)),
    ast.Import: lambda n: _new[cst.Import](
        names=tuple(
            _new[cst.ImportAlias](name=_dotted(a.name), asname=_as_name(a.asname)) for a in n.names
        ),
    ),
    ast.ImportFrom: _import_from,
    ast.Raise: lambda n: _new[cst.Raise](
        exc=_optional(n.exc),
        cause=None if n.cause is None else _new[cst.From](item=expression(n.cause)),
    ),
    ast.Pass: lambda n: _new[cst.Pass](),
    ast.Break: lambda n: _new[cst.Break](),
    ast.Continue: lambda n: _new[cst.Continue](),
    ast.Global: lambda n: _names(cst.Global, n.names),
    ast.Nonlocal: lambda n: _names(cst.Nonlocal, n.names),
    ast.Delete: lambda n: _new[cst.Del](
        target=expression(n.targets[0])
        if len(n.targets) == 1
        else _new[cst.Tuple](elements=_elements(n.targets)),
    ),
    ast.Assert: lambda n: _new[cst.Assert](test=expression(n.test), msg=_optional(n.msg)),
}
_PATTERNS: dict[type[ast.pattern], Callable[[Any], Any]] = {
    ast.MatchValue: lambda n: _new[cst.MatchValue](value=expression(n.value)),
    ast.MatchSingleton: lambda n: _new[cst.MatchSingleton](
        value=_new[cst.Name](value=repr(n.value))
    ),
    ast.MatchSequence: _sequence,
    ast.MatchStar: lambda n: _new[cst.MatchStar](name=_optional_name(n.name)),
    ast.MatchMapping: lambda n: _new[cst.MatchMapping](
        elements=tuple(
            _new[cst.MatchMappingElement](key=expression(k), pattern=_pattern(p))
            for k, p in zip(n.keys, n.patterns, strict=True)
        ),
        rest=_optional_name(n.rest),
    ),
    ast.MatchClass: lambda n: _new[cst.MatchClass](
        cls=expression(n.cls),
        patterns=tuple(_new[cst.MatchSequenceElement](value=_pattern(p)) for p in n.patterns),
        kwds=tuple(
            _new[cst.MatchKeywordElement](key=_new[cst.Name](value=k), pattern=_pattern(p))
            for k, p in zip(n.kwd_attrs, n.kwd_patterns, strict=True)
        ),
    ),
    ast.MatchAs: lambda n: _new[cst.MatchAs](
        pattern=None if n.pattern is None else _pattern(n.pattern),
        name=_optional_name(n.name),
    ),
    ast.MatchOr: lambda n: _new[cst.MatchOr](
        patterns=tuple(_new[cst.MatchOrElement](pattern=_pattern(p)) for p in n.patterns)
    ),
}
_COMPOUND: dict[type[ast.stmt], Callable[[Any], Any]] = {
    ast.FunctionDef: _function,
    ast.AsyncFunctionDef: _function,
    ast.ClassDef: _class,
    ast.If: _if,
    ast.For: _loop,
    ast.AsyncFor: _loop,
    ast.While: lambda n: _new[cst.While](
        test=expression(n.test), body=_block(n.body), orelse=_else(n.orelse)
    ),
    ast.With: _with,
    ast.AsyncWith: _with,
    ast.Try: _try,
    ast.Match: _match,
}

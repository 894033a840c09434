"""Would a front-end built on CPython's parser pay? A probe, not part of the checker.

The checker parses with libcst (two thirds of a cold run), and its analysis then reads the
tree's node classes (names, calls, definitions), not whitespace or comments. This probe
builds those same node classes from CPython's `ast` tree instead, without whitespace,
comments or parentheses, times that against the checker's own parse, and runs the checker's
builder (`semantics.builder.build_facts`) on both trees to see whether it finds the same
functions, calls, classes and module-level bindings. Files with syntax the probe does not
convert (`match`, `except*`) are counted and left out.

    .venv/bin/python benchmarks/frontend_probe.py            # every 7th corpus file
    .venv/bin/python benchmarks/frontend_probe.py --every 1  # the whole corpus
    .venv/bin/python benchmarks/frontend_probe.py PATH...    # other files or folders
    .venv/bin/python benchmarks/frontend_probe.py --checker 3  # and the whole checker, 3 runs each

`--checker N` runs the whole checker (cold, `--jobs 1`, or `--jobs J`) N times with each
front-end, interleaved in fresh processes, and compares the findings, positions and messages
included. For built trees the positions come from CPython's spans, packed into a slot each
node class gains in a subclass of the same name, and the quoted code from the source.

What it leaves out, and a real front-end would need: the parentheses libcst quotes with an
expression, comments for `# noqa`, and libcst's own parse wherever a fix rewrites the tree.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import libcst as cst
from libcst.metadata import CodeRange

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.corpus import CORPUS_DIR  # noqa: E402
from fastapi_task_lint.semantics.builder import ModuleFacts, build_facts  # noqa: E402
from fastapi_task_lint.source import parse_with_lines  # noqa: E402


class Unsupported(Exception):
    """Syntax this probe does not convert."""


def _maker(cls: type[cst.CSTNode]) -> Callable[..., Any]:
    """A constructor for `cls` that sets every field, taking each default once.

    libcst's own constructors build a fresh whitespace node for every defaulted field and
    validate the node; the semantic layer reads neither, so each default is built once and
    shared, as the checker's parse already shares whitespace leaves.
    """
    defaults = []
    for field in dataclasses.fields(cls):
        if field.default_factory is not dataclasses.MISSING:
            defaults.append((field.name, field.default_factory()))
        elif field.default is not dataclasses.MISSING:
            defaults.append((field.name, field.default))
        else:
            defaults.append((field.name, None))
    parameters = ", ".join(f"{name}=_default_{name}" for name, _ in defaults)
    sets = "\n".join(f"    _set(node, {name!r}, {name})" for name, _ in defaults)
    code = f"def make({parameters}):\n    node = _new(_cls)\n{sets}\n    return node\n"
    made = _spanned(cls) if recording else cls
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": made, "_set": object.__setattr__}
    scope.update({f"_default_{name}": value for name, value in defaults})
    exec(code, scope)  # a constructor generated from the dataclass's own fields
    maker: Callable[..., Any] = scope["make"]
    return maker


@functools.cache
def _spanned(cls: type[cst.CSTNode]) -> type[cst.CSTNode]:
    """`cls` with one more slot, for the packed span (see `_keep`). It keeps the class's
    name, which `walk` dispatches on."""
    namespace = {"__slots__": ("_span",), "__module__": cls.__module__}
    return type(cls.__name__, (cls,), namespace)


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


# Where each built node came from, kept while `--checker` runs the built trees: its line,
# UTF-8 column, end line and end column, as CPython's `ast` gives them, packed into one
# integer in a slot that a subclass of each node class adds (see `_maker`).
Span = tuple[int, int, int, int]
recording = False


def _keep(built: Any, span: Span) -> None:
    line, column, end_line, end_column = span
    if column >> 16 or end_column >> 16 or end_line >> 21:
        return  # beyond the packing (a line over 64 kB): no span is kept
    packed = (((line << 16 | column) << 21 | end_line) << 16) | end_column
    object.__setattr__(built, "_span", packed)


def span_of(built: cst.CSTNode) -> Span | None:
    """The span kept for `built`, if any."""
    packed: int | None = getattr(built, "_span", None)
    if packed is None:
        return None
    mask16, mask21 = (1 << 16) - 1, (1 << 21) - 1
    end_column, packed = packed & mask16, packed >> 16
    end_line, packed = packed & mask21, packed >> 21
    return packed >> 16, packed & mask16, end_line, end_column


def _span(node: ast.expr | ast.stmt | ast.keyword) -> Span:
    end_line = node.end_lineno or node.lineno
    return node.lineno, node.col_offset, end_line, node.end_col_offset or node.col_offset


def _build(
    node: Any, table: dict[Any, Callable[[Any], Any]], record: Callable[[Any, Any], None]
) -> Any:
    """`node` built by its converter in `table`, its spans kept by `record` while recording."""
    convert = table.get(type(node))
    if convert is None:
        raise Unsupported(type(node).__name__)
    built = convert(node)
    if recording:
        record(node, built)
    return built


def expression(node: ast.expr) -> Any:
    return _build(node, _EXPRESSIONS, _record_expression)


def _record_expression(node: ast.expr, built: Any) -> None:
    """The spans of `built` and of the nodes CPython keeps no expression for (an attribute's
    name, a keyword argument and its name)."""
    _keep(built, _span(node))
    if isinstance(node, ast.Attribute):
        end = node.end_col_offset or 0
        line = node.end_lineno or node.lineno
        _keep(built.attr, (line, end - len(node.attr.encode()), line, end))
    elif isinstance(node, ast.Call):
        count = len(node.args)
        for argument, arg in zip(node.args, built.args[:count], strict=True):
            _keep(arg, _span(argument))
        for keyword, arg in zip(node.keywords, built.args[count:], strict=True):
            _keep(arg, _span(keyword))
            if keyword.arg is not None:
                start, end = keyword.col_offset, keyword.col_offset + len(keyword.arg.encode())
                _keep(arg.keyword, (keyword.lineno, start, keyword.lineno, end))


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


def _arguments(node: ast.Call | ast.ClassDef) -> tuple[Any, ...]:
    found = [
        _new[cst.Arg](value=expression(a.value), star="*")
        if isinstance(a, ast.Starred)
        else _new[cst.Arg](value=expression(a))
        for a in (node.args if isinstance(node, ast.Call) else node.bases)
    ]
    for keyword in node.keywords:
        value = expression(keyword.value)
        if keyword.arg is None:
            found.append(_new[cst.Arg](value=value, star="**"))
        else:
            name = _new[cst.Name](value=keyword.arg)
            found.append(_new[cst.Arg](value=value, keyword=name))
    return tuple(found)


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
    ast.Attribute: lambda n: _new[cst.Attribute](
        value=expression(n.value), attr=_new[cst.Name](value=n.attr)
    ),
    ast.Call: lambda n: _new[cst.Call](func=expression(n.func), args=_arguments(n)),
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


def _block(statements: Sequence[ast.stmt]) -> Any:
    return _new[cst.IndentedBlock](body=tuple(statement(s) for s in statements))


def _line(small: Any) -> Any:
    return _new[cst.SimpleStatementLine](body=(small,))


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
    if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
        orelse = _if(node.orelse[0])  # `elif`
    else:
        orelse = _else(node.orelse)
    return _new[cst.If](test=expression(node.test), body=_block(node.body), orelse=orelse)


def _function(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Any:
    return _new[cst.FunctionDef](
        name=_new[cst.Name](value=node.name),
        params=_parameters(node.args),
        body=_block(node.body),
        decorators=tuple(_new[cst.Decorator](decorator=expression(d)) for d in node.decorator_list),
        returns=_annotation(node.returns),
        asynchronous=_ASYNC if isinstance(node, ast.AsyncFunctionDef) else None,
    )


def _class(node: ast.ClassDef) -> Any:
    arguments = _arguments(node)
    return _new[cst.ClassDef](
        name=_new[cst.Name](value=node.name),
        body=_block(node.body),
        bases=tuple(a for a in arguments if a.keyword is None),
        keywords=tuple(a for a in arguments if a.keyword is not None),
        decorators=tuple(_new[cst.Decorator](decorator=expression(d)) for d in node.decorator_list),
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


def _import_from(node: ast.ImportFrom) -> Any:
    names: Any = cst.ImportStar()
    if node.names[0].name != "*":
        names = tuple(
            _new[cst.ImportAlias](name=_new[cst.Name](value=a.name), asname=_as_name(a.asname))
            for a in node.names
        )
    module = None if node.module is None else _dotted(node.module)
    return _line(_new[cst.ImportFrom](module=module, names=names, relative=(_DOT,) * node.level))


def _raise(node: ast.Raise) -> Any:
    cause = None if node.cause is None else _new[cst.From](item=expression(node.cause))
    return _line(_new[cst.Raise](exc=_optional(node.exc), cause=cause))


def _names(kind: type[cst.Global] | type[cst.Nonlocal], names: list[str]) -> Any:
    items = tuple(_new[cst.NameItem](name=_new[cst.Name](value=n)) for n in names)
    return _line(_new[kind](names=items))


_STATEMENTS: dict[type[ast.stmt], Callable[[Any], Any]] = {
    ast.Expr: lambda n: _line(_new[cst.Expr](value=expression(n.value))),
    ast.Assign: lambda n: _line(
        _new[cst.Assign](
            targets=tuple(_new[cst.AssignTarget](target=expression(t)) for t in n.targets),
            value=expression(n.value),
        )
    ),
    ast.AnnAssign: lambda n: _line(
        _new[cst.AnnAssign](
            target=expression(n.target),
            annotation=_annotation(n.annotation),
            value=_optional(n.value),
        )
    ),
    ast.AugAssign: lambda n: _line(
        _new[cst.AugAssign](
            target=expression(n.target),
            operator=_AUGMENTED[type(n.op)],
            value=expression(n.value),
        )
    ),
    ast.Return: lambda n: _line(_new[cst.Return](value=_optional(n.value))),
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
    ast.Import: lambda n: _line(
        _new[cst.Import](
            names=tuple(
                _new[cst.ImportAlias](name=_dotted(a.name), asname=_as_name(a.asname))
                for a in n.names
            ),
        )
    ),
    ast.ImportFrom: _import_from,
    ast.Raise: _raise,
    ast.Pass: lambda n: _line(_new[cst.Pass]()),
    ast.Break: lambda n: _line(_new[cst.Break]()),
    ast.Continue: lambda n: _line(_new[cst.Continue]()),
    ast.Global: lambda n: _names(cst.Global, n.names),
    ast.Nonlocal: lambda n: _names(cst.Nonlocal, n.names),
    ast.Delete: lambda n: _line(
        _new[cst.Del](
            target=expression(n.targets[0])
            if len(n.targets) == 1
            else _new[cst.Tuple](elements=_elements(n.targets)),
        )
    ),
    ast.Assert: lambda n: _line(_new[cst.Assert](test=expression(n.test), msg=_optional(n.msg))),
}


def statement(node: ast.stmt) -> Any:
    return _build(node, _STATEMENTS, _record_statement)


def _record_statement(node: ast.stmt, built: Any) -> None:
    """The spans of `built`, of the small statement a line wraps, and of a definition's name
    (CPython's span of a decorated definition starts at `def`, as libcst's does)."""
    span = _span(node)
    _keep(built, span)
    if isinstance(built, cst.SimpleStatementLine):
        _keep(built.body[0], span)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        keyword = {ast.ClassDef: "class ", ast.AsyncFunctionDef: "async def "}.get(
            type(node), "def "
        )
        start = node.col_offset + len(keyword)
        _keep(built.name, (node.lineno, start, node.lineno, start + len(node.name.encode())))


def convert(tree: ast.Module) -> cst.Module:
    """`tree` as whitespace-free libcst nodes; raises `Unsupported` for syntax left out."""
    module: cst.Module = _new[cst.Module](body=tuple(statement(s) for s in tree.body))
    return module


def facts_signature(facts: ModuleFacts) -> tuple[object, ...]:
    """What the semantic builder found, in a form two trees of one file can be compared by."""
    return (
        [(f.qualname, f.is_async, len(f.params), len(f.calls), f.awaits) for f in facts.functions],
        [(c.qualname, len(c.bases), sorted(c.methods)) for c in facts.classes],
        [(c.order, c.awaited) for c in facts.calls],
        sorted(
            (name, [b.kind.value for b in found])
            for name, found in facts.module_scope.bindings.items()
        ),
        sorted(facts.star_imports),
    )


@dataclasses.dataclass
class Probe:
    texts: list[str]
    trees: list[ast.Module]
    unsupported: Counter[str]


def load(paths: Iterable[Path]) -> Probe:
    """The files that both parsers take and the probe converts, and why others were left."""
    probe = Probe([], [], Counter())
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(text)
            convert(tree)
            parse_with_lines(text)
        except Unsupported as error:
            probe.unsupported[str(error)] += 1
            continue
        except Exception as error:  # unreadable or unparseable: not this probe's question
            probe.unsupported[type(error).__name__] += 1
            continue
        probe.texts.append(text)
        probe.trees.append(tree)
    return probe


def differing(probe: Probe) -> int:
    """How many files' semantic facts differ between the two trees."""
    return sum(
        facts_signature(build_facts(convert(tree), "probe", False))
        != facts_signature(build_facts(parse_with_lines(text)[0], "probe", False))
        for text, tree in zip(probe.texts, probe.trees, strict=True)
    )


def _best(work: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def _bytes_held(build: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        held = build()
        size = tracemalloc.get_traced_memory()[0]
        del held
        return size
    finally:
        tracemalloc.stop()


def _built_parse(text: str) -> tuple[cst.Module, list[int] | None]:
    """`source.parse_with_lines` with the tree built from CPython's `ast`; the checker's own
    parse for what the probe leaves out or CPython refuses."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, "<checked file>")
        return convert(tree), [statement.lineno for statement in tree.body]
    except (Unsupported, SyntaxError, ValueError, RecursionError, MemoryError):
        return parse_with_lines(text)


def _take_positions_from_spans() -> None:
    """Positions and quoted code of built nodes from their kept spans (columns turned from
    UTF-8 bytes into characters, as libcst counts them); libcst's way for the rest."""
    from fastapi_task_lint.semantics.model import ModuleModel

    global recording
    recording = True
    _new.clear()  # made again, building the spanned subclasses
    by_libcst, code_by_libcst = ModuleModel.position, ModuleModel.code_for
    lines: dict[int, list[bytes]] = {}

    def column(model: ModuleModel, line: int, offset: int) -> int:
        encoded = lines.get(id(model))
        if encoded is None:
            text = model.source.splitlines(keepends=True)
            encoded = lines[id(model)] = [part.encode("utf-8", "surrogatepass") for part in text]
        return len(encoded[line - 1][:offset].decode("utf-8", "surrogatepass"))

    def position(model: ModuleModel, node: cst.CSTNode) -> CodeRange:
        span = span_of(node)
        if span is None:
            return by_libcst(model, node)
        model.project.saw_layout(model.absolute_path)
        line, start, end_line, end = span
        return CodeRange(
            (line, column(model, line, start)), (end_line, column(model, end_line, end))
        )

    def code_for(model: ModuleModel, node: cst.CSTNode) -> str:
        if span_of(node) is None:
            return code_by_libcst(model, node)
        where = position(model, node)
        text = model.source.splitlines(keepends=True)[where.start.line - 1 : where.end.line]
        text[-1] = text[-1][: where.end.column]
        text[0] = text[0][where.start.column :]
        return "".join(text)

    ModuleModel.position = position  # type: ignore[method-assign, assignment]
    ModuleModel.code_for = code_for  # type: ignore[method-assign, assignment]


def checker_run(front_end: str, roots: Sequence[Path], jobs: int) -> dict[str, Any]:
    """One cold run of the whole checker over `roots` with `front_end`: its time, peak, and
    findings (with positions and messages)."""
    from fastapi_task_lint import api, source

    if front_end == "built":
        source.parse_with_lines = _built_parse  # `load_module` looks it up on each call
        _take_positions_from_spans()
    start = time.perf_counter()
    result = api.check_paths(roots, jobs=jobs)
    seconds = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    findings = sorted(
        [d.path, d.code, d.line, d.column, d.end_line, d.end_column, d.message]
        for d in result.diagnostics
    )
    return {"seconds": seconds, "peak_mb": peak, "findings": findings}


def compare_checkers(roots: Sequence[Path], repeat: int, jobs: int = 1) -> int:
    """Interleaved runs of the whole checker with each front-end, in fresh processes."""
    runs: dict[str, list[dict[str, Any]]] = {"libcst": [], "built": []}
    for _ in range(repeat):
        for front_end, found in runs.items():
            command = [sys.executable, __file__, "--checker-run", front_end, "--jobs", str(jobs)]
            command += map(str, roots)
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            found.append(json.loads(done.stdout))
    for front_end, found in runs.items():
        seconds = statistics.median(run["seconds"] for run in found)
        peak = statistics.median(run["peak_mb"] for run in found)
        label = f"whole checker, --jobs {jobs}, {front_end} trees"
        print(f"{label}: median {seconds:.1f} s, largest process RSS {peak:.0f} MB")
    same = all(
        run["findings"] == runs["libcst"][0]["findings"] for found in runs.values() for run in found
    )
    count = len(runs["libcst"][0]["findings"])
    print(
        f"same findings (position and message too) with both: {'yes' if same else 'NO'} ({count})"
    )
    return 0 if same else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "paths", nargs="*", type=Path, help="files or folders (default: the corpus)"
    )
    parser.add_argument("--every", type=int, default=7, help="take every Nth file (default 7)")
    parser.add_argument(
        "--checker",
        type=int,
        metavar="N",
        default=0,
        help="also run the whole checker N times with each front-end and compare",
    )
    parser.add_argument("--jobs", type=int, default=1, help="--jobs of those runs (default 1)")
    parser.add_argument("--checker-run", choices=("libcst", "built"), help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    roots = options.paths or [CORPUS_DIR]
    gc.disable()  # as a run does (engine.cyclic_gc_paused)
    if options.checker_run:
        print(json.dumps(checker_run(options.checker_run, roots, options.jobs)))
        return 0
    files = sorted(p for root in roots for p in ([root] if root.is_file() else root.rglob("*.py")))
    probe = load(files[:: options.every])
    lines = sum(text.count("\n") for text in probe.texts)
    if not lines:
        print("no file to probe")
        return 2
    parse = _best(lambda: [ast.parse(text) for text in probe.texts])
    build = _best(lambda: [convert(tree) for tree in probe.trees])
    libcst = _best(lambda: [parse_with_lines(text) for text in probe.texts])
    held_built = _bytes_held(lambda: [convert(tree) for tree in probe.trees])
    held_libcst = _bytes_held(lambda: [parse_with_lines(text)[0] for text in probe.texts])
    left = ", ".join(f"{name} {count}" for name, count in probe.unsupported.most_common())
    print(f"files probed: {len(probe.texts)} ({lines:,} lines); left out: {left or 'none'}")
    print(f"us per line: ast.parse {1e6 * parse / lines:.1f} + build {1e6 * build / lines:.1f}")
    print(f"  against the checker's parse (CPython screen + libcst) {1e6 * libcst / lines:.1f}")
    print(f"tree bytes per line: built {held_built / lines:.0f}, libcst {held_libcst / lines:.0f}")
    print(f"files whose semantic facts differ: {differing(probe)}")
    return compare_checkers(roots, options.checker, options.jobs) if options.checker else 0


if __name__ == "__main__":
    raise SystemExit(main())

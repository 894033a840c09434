"""Trees built from CPython's `ast` answer every question as libcst's parse does.

The checker builds its trees from `ast` (`built_tree`) and asks libcst only for comments,
parentheses and fixes. These tests hold the two front-ends to the same answers: every
node's position and quoted code, every finding with its fix, every fixed file.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from fastapi_task_lint import built_tree, source
from fastapi_task_lint.add_noqa import line_with_noqa
from fastapi_task_lint.built_tree import is_built, span_of
from fastapi_task_lint.config import Config
from fastapi_task_lint.engine import Linter
from fastapi_task_lint.fixer import allowed_fixes, fix_paths
from fastapi_task_lint.semantics.model import ModuleModel
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.walk import child_fields
from fastapi_task_lint.source import SourceError, load_module

from .helpers import EXAMPLES, FIXTURES

# Where parentheses, comments, lines and bytes make CPython's spans and libcst's part ways.
_TRICKY = {
    "parentheses": "x = ((a))\nf((a))\nf(a, (b))\nprint (a)\nif (a):\n    pass\ny = not (a)\n",
    "tuples and generators": "t = ((1, 2))\nf(x for x in y)\nf( (x for x in y) )\nd[(a, b)]\n",
    "a call's only generator": "f(\n    (o.a, o.b)\n    for o in rows\n)\n",
    "comments in parentheses": (
        "x = (  # why\n    a\n)\ny = (\n    b  # what\n)\nf(\n  # c\n  (d)\n)\n"
    ),
    "keywords before parentheses": "async def f():\n    return (await (g()))\n    yield (x)\n",
    "argument order": (
        "f(a, k=1, *rest, **more)\ng(k=1, *rest)\nclass C(A, *bases, metaclass=M): pass\n"
    ),
    "semicolons and suites": "a = 1; b = 2\nif x: y; z\nelse: w\nwhile x: pass\nclass C: x = 1\n",
    "elif and else-if": "if a:\n    pass\nelif b:\n    pass\nelse:\n    if c:\n        pass\n",
    "multi-line quotes": "def f():\n    return g(\n        a,\n        b,\n    )\n",
    "non-ASCII columns": (
        'é = "ü"; f(é, "日本", g(é))\nclass Ü:\n    def ä(self): return "ö".join(x)\n'
    ),
    "tabs and windows newlines": "if x:\r\n\ty = f(\r\n\t\t1)\r\n",
    "definitions": (
        "@dec\n@other(1)\nasync  def  f(a, /, b=1, *c, d, **e) -> int: ...\n"
        "class  K(B):\n    pass\n"
    ),
    "indented quotes": (
        "class C:\n    @dec(\n        1,\n    )\n    def f(self):\n        if g(\n            a,\n"
        "        ):\n            return h(\n                b\n            )\n"
        "        elif k(\n          c):\n            pass\n"
        "        try: m(\n                d)\n        except (E,\n                F): pass\n"
    ),
    "strings and backslashes in quotes": (
        'def f():\n    x = g("""\n    a\n    """, b)\n    y = h(1 + \\\n        2)\n'
        "    z = k(\n\n        # c\n\tz)\n"
    ),
    "implicitly joined strings": "x = f('a' 'b', f'{c}' 'd')\ny = (\n    'e'\n    'f'\n)\n",
    "match statements": (
        "match command.split():\n"
        "    case [action, *rest] | [(action)] if rest:\n        go(action)\n"
        "    case {'k': v, **others} | Point(1, y=(z)) | None | -1 | 'a' 'b':\n        pass\n"
        "    case first, second: f(first)\n"
        "    case (1 | 2) as n:\n        g(\n            n,\n        )\n"
        "    case _:\n        pass\n"
    ),
}


def _sources() -> Iterator[tuple[str, str]]:
    yield from _TRICKY.items()
    for path in sorted([*FIXTURES.rglob("*.py"), *EXAMPLES.rglob("*.py")]):
        try:
            yield str(path), path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # fixtures of undecodable files


def _model(text: str) -> ModuleModel:
    return load_module(Path("checked.py"), ProjectIndex([], Config()), text)


def _built_nodes(tree: cst.CSTNode) -> Iterator[cst.CSTNode]:
    pending = [tree]
    while pending:
        node = pending.pop()
        if is_built(node) and not isinstance(node, cst.Module):
            yield node
        for name in child_fields(type(node)):
            child = getattr(node, name)
            if isinstance(child, cst.CSTNode):
                pending.append(child)
            elif isinstance(child, tuple | list):
                pending.extend(item for item in child if isinstance(item, cst.CSTNode))


def test_every_node_is_placed_and_quoted_as_libcst_does() -> None:
    compared = paired = nodes = 0
    for name, text in _sources():
        try:
            model = _model(text)
        except SourceError:
            continue  # fixtures of unparseable files
        assert model.built, name
        positions = MetadataWrapper(model.syntax_tree, unsafe_skip_copy=True).resolve(
            PositionProvider
        )
        for node in _built_nodes(model.tree):
            nodes += 1
            try:
                theirs = model.original(node)
            except LookupError:
                continue
            paired += 1
            assert type(theirs).__name__ == type(node).__name__
            where = (name, type(node).__name__, span_of(node))
            assert model.position(node) == positions[theirs], where
            if isinstance(node, cst.BaseExpression):
                assert model.code_for(node) == model.syntax_tree.code_for_node(theirs), where
            compared += span_of(node) is not None
    assert compared > 30_000
    assert paired > 0.995 * nodes  # unpaired: parts of implicitly joined strings


def test_every_statement_and_definition_is_paired() -> None:
    """The tree has libcst's shape down to each statement: `;`, suites, `elif`."""
    for name, text in _TRICKY.items():
        model = _model(text)
        for node in _built_nodes(model.tree):
            if isinstance(node, cst.BaseStatement | cst.BaseSmallStatement | cst.Param):
                assert not is_built(model.original(node)), name


def _outcome(paths: list[Path], root: Path) -> list[tuple[object, ...]]:
    result = Linter(Config(select=("FTL",), root=root)).check_paths(paths)
    return [
        (d.path, d.code, d.line, d.column, d.end_line, d.end_column, d.message, d.fix)
        for d in result.diagnostics
    ]


def _both_ways(
    monkeypatch: pytest.MonkeyPatch, run: object, *args: object
) -> tuple[object, object]:
    assert callable(run)
    built = run(*args)
    monkeypatch.setattr(source, "BUILD_FROM_AST", False)
    parsed = run(*args)
    monkeypatch.setattr(source, "BUILD_FROM_AST", True)
    return built, parsed


@pytest.mark.parametrize(
    "root",
    [FIXTURES, EXAMPLES],
    ids=["fixtures", "examples"],
)
def test_findings_and_fixes_are_the_same_either_way(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built, parsed = _both_ways(monkeypatch, _outcome, [root], root)
    assert built == parsed
    assert isinstance(built, list) and len(built) > 20
    assert any(finding[-1] is not None for finding in built), "no fix was compared"


def _fixed(paths: list[Path], root: Path) -> dict[Path, str]:
    linter = Linter(Config(select=("FTL",), root=root))
    run = fix_paths(linter, paths, allowed_fixes(unsafe=True), write=False)
    return {f.path: f.after for f in run.files if f.fixed}


def test_fixed_files_are_the_same_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [FIXTURES / code for code in ("FTL003", "FTL104", "FTL105", "FTL402")]
    built, parsed = _both_ways(monkeypatch, _fixed, paths, FIXTURES)
    assert built == parsed
    assert isinstance(built, dict) and len(built) >= 4


def test_what_it_does_not_convert_is_parsed_by_libcst() -> None:
    assert _model("match x:\n    case 1:\n        pass\n").built
    assert not _model("match x:\n    case (a, b):\n        pass\n").built
    assert not _model("try:\n    pass\nexcept* E:\n    pass\n").built
    with pytest.raises(SourceError, match="syntax error"):
        _model("def f(:\n")


def test_a_built_node_stores_only_what_the_analysis_reads() -> None:
    """Layout fields answer with libcst's defaults; a change gives a libcst node."""
    statement = _model("f(a)\n").tree.body[0]
    assert isinstance(statement, cst.SimpleStatementLine)
    call = statement.body[0].value  # type: ignore[attr-defined]
    assert is_built(call) and call.lpar == () and call.whitespace_after_func.value == ""
    changed = call.with_changes(args=())
    assert not is_built(changed)
    assert cst.Module([]).code_for_node(changed) == "f()"


def test_plain_quotes_and_positions_need_no_libcst_parse() -> None:
    """The point of the spans: placing and quoting code, over lines too, parses nothing more;
    a parenthesized expression asks libcst's tree whose the parentheses are."""
    model = _model("def f():\n    return g(\n        h(a),\n        (b),\n    )\n")
    function = model.tree.body[0]
    assert isinstance(function, cst.FunctionDef)
    returned = function.body.body[0].body[0]  # type: ignore[attr-defined]
    call = returned.value
    first, second = (arg.value for arg in call.args)
    assert model.code_for(call) == "g(\n    h(a),\n    (b),\n)"
    assert model.code_for(first) == "h(a)"
    assert (model.position(first).start.line, model.position(first).start.column) == (3, 8)
    assert "syntax_tree" not in vars(model)
    assert model.code_for(second) == "(b)"
    assert "syntax_tree" in vars(model)


def test_a_file_only_cpython_parses_is_checked_and_its_comments_are_left_alone() -> None:
    """libcst refuses a class keyword before `*bases`; CPython does not. The file is
    checked, and `# noqa` editing, which needs libcst's tree, leaves it alone."""
    model = _model("class C(A, metaclass=M, *bases):\n    pass\n")
    assert model.built
    assert line_with_noqa(model, 1, ["FTL101"]) is None


def test_a_gap_in_the_converter_falls_back_to_libcst(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in converting one kind of statement costs speed, never the check."""

    def broken(node: ast.Pass) -> cst.Pass:
        raise KeyError("a gap")

    monkeypatch.setitem(built_tree._SMALL, ast.Pass, broken)
    model = _model("x = 1\npass\n")
    assert not model.built
    assert model.position(model.tree.body[1]).start.line == 2

"""A finding's position laid out from its top-level statement equals libcst's whole-module one."""

from __future__ import annotations

import re
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from fastapi_task_lint.config import Config
from fastapi_task_lint.semantics.model import ModuleModel, _first_lines_from
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.source import SourceError, decode, load_module

from .helpers import EXAMPLES, FIXTURES

_SOURCES = sorted([*FIXTURES.rglob("*.py"), *EXAMPLES.rglob("*.py")])

# Layouts a statement-by-statement count could get wrong.
_TRICKY = {
    "header comments and blank lines": "# one\n\n# two\nimport os\n\n\nx = os.sep\n",
    "no trailing newline": "import os\ndef f():\n    return os.sep",
    "windows newlines": "import os\r\n\r\ndef f():\r\n    return 1\r\n\r\nx = f()\r\n",
    "old mac newlines": "import os\rx = 1\ry = 2\r",
    "semicolons": "a = 1; b = 2\nc = a + b; d = c\n",
    "decorators with comments": "@dec  # why\n# between\n@other(1,\n  2)\ndef f():\n    pass\n",
    "strings over lines": 'x = """a\nb\nc"""\ny = (\n    1,\n    2,\n)\nz = x\n',
    "continuation": "x = 1 + \\\n    2\nif x:\n    y = [\n        3,\n    ]\n",
    "comments after a block": "def f():\n    pass\n    # trailing\n# dedented\ng = f\n",
    "only comments": "# nothing\n\n# else\n",
    "form feeds and tabs": "\x0cx = 1\n\x0cif x:\n\ty = (1,\n  2)\n\n\n\n# end\n",
    "decorators over lines": "# c\n@(\n  dec\n)\n\n# gap\n@a.b(\n 1)\nasync def f():\n    pass\n",
    "decorated class after code": "x = 1\n\n\n@dataclass\n\n# why\nclass C:\n    y: int = 1\n",
    "parenthesized starts": "(\n  a\n) = 1\n(\n  print(a)\n)\n[b,\n c] = 1, 2\n",
}


def _model(text: str) -> ModuleModel:
    project = ProjectIndex([], Config())
    return load_module(Path("checked.py"), project, text)


def _assert_same_positions(model: ModuleModel) -> int:
    expected = MetadataWrapper(model.syntax_tree, unsafe_skip_copy=True).resolve(PositionProvider)
    compared = 0
    for node, span in expected.items():
        if isinstance(node, cst.Module):
            continue
        assert model.position(node) == span, (type(node).__name__, model.code_for(node))
        compared += 1
    return compared


@pytest.mark.parametrize("name", sorted(_TRICKY))
def test_tricky_layouts(name: str) -> None:
    model = _model(_TRICKY[name])
    assert _assert_same_positions(model) > 0 or name == "only comments"


def test_every_node_of_real_sources() -> None:
    compared = 0
    for path in _SOURCES:
        try:
            model = _model(path.read_text(encoding="utf-8"))
        except SourceError:
            continue  # fixtures of unparseable files
        compared += _assert_same_positions(model)
    assert compared > 50_000


def test_first_lines_come_from_cpython_and_agree_with_the_code() -> None:
    """The CPython lines are used (not the fallback) and match counting the code's lines."""
    for text in [*(_TRICKY[name] for name in sorted(_TRICKY)), *_real_texts()]:
        model = _model(text)
        assert model._statement_lines is not None
        found = _first_lines_from(model.syntax_tree, model._statement_lines)
        line, counted = 1 + len(model.syntax_tree.header), []
        for statement in model.syntax_tree.body:
            counted.append(line)
            line += len(re.findall(r"\r\n?|\n", model.tree.code_for_node(statement)))
        assert found == counted


def _real_texts() -> list[str]:
    texts = []
    for path in _SOURCES:
        try:
            text = path.read_text(encoding="utf-8")
            _model(text)
        except (SourceError, UnicodeDecodeError):
            continue
        texts.append(text)
    return texts


def test_only_the_statement_is_laid_out() -> None:
    """The point of it: a finding in one statement does not lay out the others."""
    model = _model("import os\n\n\ndef f():\n    return os.sep\n\n\nx = f()\n")
    call = model.syntax_tree.body[-1].body[0].value  # type: ignore[attr-defined]
    assert model.position(call).start.line == 8
    assert list(model._laid_out) == [2]
    assert "_module_spans" not in vars(model)


@pytest.mark.parametrize(
    "data",
    [
        b"import os\nx = os.sep; y = len(x)\n",
        'x = "caf\xe9"; y = len(x)  # \u2713\n'.encode(),
        '# -*- coding: latin-1 -*-\nx = "caf\xe9"; y = len(x)\n'.encode("latin-1"),
        b'\xef\xbb\xbfx = "\xc3\xa9"; y = len(x)\r\n',
    ],
    ids=["ascii", "utf-8", "latin-1 cookie", "utf-8 BOM, CRLF"],
)
def test_a_model_the_index_builds_keeps_one_copy_of_its_text(tmp_path: Path, data: bytes) -> None:
    """The model keeps the bytes the index read, not a decoded copy: its text, lines,
    quotes and positions are still those of the decoded file."""
    path = tmp_path / "checked.py"
    path.write_bytes(data)
    project = ProjectIndex([path], Config(root=tmp_path))
    model = project.model_for_path(path)
    assert model is not None
    assert model._text is project.read(path)
    assert model.source == decode(data)
    assert model.lines == decode(data).splitlines()
    assert _assert_same_positions(model) > 0
    call = model.tree.body[-1].body[-1].value  # type: ignore[attr-defined]
    assert model.code_for(call) == "len(x)"

"""The editor server, driven by a real LSP client (pytest-lsp) over stdio in a subprocess:
initialize, didOpen, publishDiagnostics, codeAction, didChange, didSave."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")
pytest.importorskip("pygls")

from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

MAIL = "def send(to: str) -> str:\n    return to\n"
VIEWS = """\
from fastapi import BackgroundTasks

from pkg.mail import send


def signup(background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(send("a@b.c"))
    background_tasks.add_task(send, "a@b.c")  # noqa: FTL104
"""


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "fastapi_task_lint", "server"])
)
async def client(lsp_client: LanguageClient, tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "pyproject.toml").write_text(
        '[tool.fastapi-task-lint]\nselect = ["FTL104", "FTL003"]\n'
    )
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mail.py").write_text(MAIL)
    (tmp_path / "pkg" / "views.py").write_text("")  # on disk: empty; the editor has the text
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=tmp_path.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="project")],
        )
    )
    yield
    await lsp_client.shutdown_session()


def apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    for edit in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        start = offsets[edit.range.start.line] + edit.range.start.character
        end = offsets[edit.range.end.line] + edit.range.end.character
        text = text[:start] + edit.new_text + text[end:]
    return text


async def open_views(client: LanguageClient, tmp_path: Path, text: str) -> str:
    uri = (tmp_path / "pkg" / "views.py").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


async def actions_for(
    client: LanguageClient, uri: str, diagnostic: types.Diagnostic
) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


@pytest.mark.asyncio
async def test_diagnostics_on_open_with_code_and_doc_link(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = await open_views(client, tmp_path, VIEWS)
    found = sorted(client.diagnostics[uri], key=lambda d: d.range.start.line)
    assert [(d.code, d.range.start.line, d.range.start.character) for d in found] == [
        ("FTL104", 6, 30),
        ("FTL003", 7, 46),
    ]
    assert found[0].source == "fastapi-task-lint"
    assert found[0].code_description is not None
    assert found[0].code_description.href.endswith("#ftl104")
    assert "`send` runs now" in found[0].message


@pytest.mark.asyncio
async def test_quick_fixes_rule_fix_and_noqa(client: LanguageClient, tmp_path: Path) -> None:
    uri = await open_views(client, tmp_path, VIEWS)
    ftl104 = next(d for d in client.diagnostics[uri] if d.code == "FTL104")
    actions = await actions_for(client, uri, ftl104)
    titles = [a.title for a in actions]
    assert any(t.startswith("FTL104: Schedule `send`") and t.endswith("(unsafe)") for t in titles)
    assert "FTL104: add `# noqa: FTL104` to this line" in titles

    fix = next(a for a in actions if a.title.startswith("FTL104: Schedule"))
    assert fix.edit is not None and fix.edit.changes is not None
    assert 'background_tasks.add_task(send, "a@b.c")\n' in apply(VIEWS, fix.edit.changes[uri])

    noqa = next(a for a in actions if "noqa" in a.title)
    assert noqa.edit is not None and noqa.edit.changes is not None
    fixed = apply(VIEWS, noqa.edit.changes[uri])
    assert '    background_tasks.add_task(send("a@b.c"))  # noqa: FTL104\n' in fixed

    ftl003 = next(d for d in client.diagnostics[uri] if d.code == "FTL003")
    (remove,) = [a for a in await actions_for(client, uri, ftl003) if "Remove" in a.title]
    assert remove.is_preferred and remove.edit is not None and remove.edit.changes is not None
    assert '    background_tasks.add_task(send, "a@b.c")\n' in apply(
        VIEWS, remove.edit.changes[uri]
    )


@pytest.mark.asyncio
async def test_change_and_save_republish(client: LanguageClient, tmp_path: Path) -> None:
    uri = await open_views(client, tmp_path, VIEWS)
    clean = VIEWS.replace('send("a@b.c"))', 'send, "x")').replace("  # noqa: FTL104", "")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=uri),
            [types.TextDocumentContentChangeWholeDocument(text=clean)],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert not client.diagnostics[uri]
    (tmp_path / "pkg" / "views.py").write_text(clean)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert not client.diagnostics[uri]


@pytest.mark.asyncio
async def test_close_clears_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    uri = await open_views(client, tmp_path, VIEWS)
    assert client.diagnostics[uri]
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert not client.diagnostics[uri]

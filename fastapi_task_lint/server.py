"""`fastapi-task-lint server`: a Language Server (LSP over stdio) for editors.

Diagnostics are published on open, change (after a short pause in typing) and save, from the
editor's text of the document, with the workspace folder as the project: cross-module rules
read the other files from disk, each parsed once and kept, and an open document's text stands
in for its file. Saving pyproject.toml or setup.cfg reloads the configuration.
Quick fixes: each rule's fix, and "add `# noqa: CODE`". Needs the `lsp` extra (pygls).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import ServerTextPosition, ServerTextRange

from fastapi_task_lint import __version__
from fastapi_task_lint.add_noqa import line_with_noqa
from fastapi_task_lint.api import Workspace
from fastapi_task_lint.config import Config, ConfigError
from fastapi_task_lint.diagnostics import (
    PARSE_ERROR,
    RULE_ERROR,
    Diagnostic,
    Edit,
    sort_diagnostics,
)
from fastapi_task_lint.engine import FileResult
from fastapi_task_lint.reporters.base import rule_url

SOURCE = "fastapi-task-lint"
CHANGE_DELAY = 0.3  # seconds of quiet typing before a changed document is checked again


@dataclass
class Checked:
    """The last check of a document: what code actions are computed from."""

    version: int | None
    result: FileResult
    diagnostics: list[tuple[Diagnostic, types.Diagnostic]]


class TaskLintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            SOURCE, __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full
        )
        self.checked: dict[str, Checked] = {}
        self._project: Workspace | None = None
        self._open: set[str] = set()
        self._pending: dict[str, asyncio.Task[None]] = {}
        # Checks run in a worker thread so the server keeps reading messages; one at a time,
        # because the project index they share is not thread-safe.
        self._checking = threading.Lock()

    @property
    def project(self) -> Workspace:
        """The workspace folder as the project, with its configuration, read once; a broken
        configuration is shown to the user and the defaults are used."""
        if self._project is None:
            root = self.workspace.root_path
            try:
                self._project = Workspace(root)
            except ConfigError as error:
                self.window_show_message(
                    types.ShowMessageParams(
                        type=types.MessageType.Error, message=f"{SOURCE}: {error}"
                    )
                )
                self._project = Workspace(root, Config(root=Path(root or Path.cwd())))
        return self._project

    def schedule(self, uri: str, delay: float = 0.0) -> None:
        """Check `uri` after `delay` seconds, replacing a check not yet started (typing)."""
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self._pending[uri] = asyncio.ensure_future(self._check(uri, delay))

    def opened(self, uri: str) -> None:
        self._open.add(uri)
        self.schedule(uri)

    def closed(self, uri: str) -> None:
        self._open.discard(uri)
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self.checked.pop(uri, None)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    def saved(self, uri: str) -> None:
        if uri.endswith(("/pyproject.toml", "/setup.cfg")):
            self.reload_config()
        elif uri in self._open:
            self.schedule(uri)

    def reload_config(self) -> None:
        """Read the configuration again and re-check every open document."""
        self._project = None
        for uri in self._open:
            self.schedule(uri)

    async def _check(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        document = self.workspace.get_text_document(uri)
        if uri not in self._open or not (document.path or "").endswith((".py", ".pyi")):
            return
        version, source, project = document.version, document.source, self.project
        result = await asyncio.to_thread(self._lint, project, source, document.path)
        document = self.workspace.get_text_document(uri)
        if uri not in self._open or document.version != version:
            return  # changed meanwhile: a newer check is on its way
        pairs = [(d, to_lsp(document, d)) for d in sort_diagnostics(result.diagnostics)]
        self.checked[uri] = Checked(version, result, pairs)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=[lsp for _, lsp in pairs], version=version
            )
        )

    def _lint(self, project: Workspace, source: str, path: str) -> FileResult:
        with self._checking:
            return project.lint_source(source, path)

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        checked = self.checked.get(uri)
        if checked is None:
            return []
        document = self.workspace.get_text_document(uri)
        if document.version != checked.version:
            return []  # the text changed since the check: its positions no longer hold
        actions: list[types.CodeAction] = []
        noqa_lines: set[tuple[int, str]] = set()
        for diagnostic, lsp in checked.diagnostics:
            if not _overlaps(lsp.range, params.range):
                continue
            if diagnostic.fix is not None:
                edits = [_text_edit(document, e) for e in diagnostic.fix.edits]
                actions.append(
                    types.CodeAction(
                        title=f"{diagnostic.code}: {diagnostic.fix.message}"
                        + (" (unsafe)" if diagnostic.fix.applicability == "unsafe" else ""),
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[lsp],
                        edit=types.WorkspaceEdit(changes={uri: edits}),
                        is_preferred=diagnostic.fix.applicability == "safe",
                    )
                )
            key = (diagnostic.line, diagnostic.code)
            if diagnostic.code in (PARSE_ERROR, RULE_ERROR) or key in noqa_lines:
                continue
            noqa_lines.add(key)
            action = _noqa_action(document, checked.result, diagnostic, lsp)
            if action is not None:
                actions.append(action)
        return actions


def to_lsp(document: TextDocument, diagnostic: Diagnostic) -> types.Diagnostic:
    return types.Diagnostic(
        range=_range(
            document, diagnostic.line, diagnostic.column, diagnostic.end_line, diagnostic.end_column
        ),
        message=diagnostic.message,
        severity=types.DiagnosticSeverity.Warning,
        code=diagnostic.code,
        code_description=types.CodeDescription(href=rule_url(diagnostic.code)),
        source=SOURCE,
        data={"name": diagnostic.name, "fixable": diagnostic.fix is not None},
    )


def _range(
    document: TextDocument, line: int, column: int, end_line: int, end_column: int
) -> types.Range:
    """1-based character positions to the client's 0-based code units (UTF-16 by default)."""
    return document.range_to_client_units(
        ServerTextRange(
            start=ServerTextPosition(line - 1, column - 1),
            end=ServerTextPosition(end_line - 1, end_column - 1),
        )
    )


def _text_edit(document: TextDocument, edit: Edit) -> types.TextEdit:
    return types.TextEdit(
        range=_range(document, edit.line, edit.column, edit.end_line, edit.end_column),
        new_text=edit.content,
    )


def _noqa_action(
    document: TextDocument, result: FileResult, diagnostic: Diagnostic, lsp: types.Diagnostic
) -> types.CodeAction | None:
    if result.model is None:
        return None
    new = line_with_noqa(result.model, diagnostic.line, [diagnostic.code])
    if new is None:
        return None
    old = result.model.lines[diagnostic.line - 1]
    edit = types.TextEdit(
        range=_range(document, diagnostic.line, 1, diagnostic.line, len(old) + 1), new_text=new
    )
    return types.CodeAction(
        title=f"{diagnostic.code}: add `# noqa: {diagnostic.code}` to this line",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[lsp],
        edit=types.WorkspaceEdit(changes={document.uri: [edit]}),
    )


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def create_server() -> TaskLintServer:
    server = TaskLintServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: TaskLintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.opened(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: TaskLintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, CHANGE_DELAY)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: TaskLintServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.saved(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: TaskLintServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.closed(params.text_document.uri)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def code_action(ls: TaskLintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return ls.code_actions(params)

    return server


def serve() -> None:
    """Run the server on stdin/stdout until the client exits."""
    create_server().start_io()

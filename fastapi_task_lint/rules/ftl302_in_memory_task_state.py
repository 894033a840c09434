"""FTL302: job state or a job queue kept in a module-level container of one process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs
from fastapi_task_lint.semantics.asyncio_tasks import is_task_handle
from fastapi_task_lint.semantics.model import ModuleModel
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.scope import Scope
from fastapi_task_lint.semantics.state import (
    CONTAINER_TRIGGERS,
    PUT_METHODS,
    Access,
    SharedContainer,
    program_state,
)
from fastapi_task_lint.semantics.values import flatten_literal
from fastapi_task_lint.semantics.walk import walk
from fastapi_task_lint.semantics.words import word_parts

STATUS_VALUES = frozenset(
    {
        "pending",
        "running",
        "queued",
        "started",
        "processing",
        "completed",
        "done",
        "finished",
        "failed",
        "succeeded",
        "cancelled",
    }
)
_ID_FACTORIES = frozenset(
    {"uuid.uuid4", "uuid.uuid1", "secrets.token_hex", "secrets.token_urlsafe"}
)
_SHOWN = 3
_FINDINGS = "FTL302.findings"


@dataclass(frozen=True)
class _Finding:
    container: SharedContainer
    writes: list[Access]
    reads: list[Access]


def _project_findings(project: ProjectIndex) -> list[_Finding]:
    """The run's findings, found once for the whole program."""
    return project.memo(_FINDINGS, lambda: _findings(project))


class InMemoryTaskState(Rule):
    code = "FTL302"
    name = "in-memory-task-state"
    summary = "job status or a job queue kept in process memory, shared across requests"
    triggers = CONTAINER_TRIGGERS
    facts = (_project_findings,)
    docs = RuleDocs(
        what=(
            "Whole-program: flags a module-level or class-level mutable container (dict, list, "
            "set, `defaultdict`, `deque`, `asyncio.Queue`, `queue.Queue`) used as task state: "
            "written inside a scheduled task (BackgroundTasks, a queue, APScheduler, an asyncio "
            "task) or inside a handler that schedules one (also through a helper they call), "
            'with status-like values (`"pending"`, '
            '`"running"`, `"done"`, `"failed"`, ..., or a member of a `*Status` enum) or '
            "with keys from `uuid4()`/task ids, and read in another route handler (or a helper it "
            "calls). Also flags an "
            "`asyncio.Queue`/`queue.Queue` that route handlers put work into. Caches are not "
            "flagged: `functools.lru_cache`, TTL cache libraries, and containers filled at "
            "startup or with plain data and only read by handlers. Nor is a registry of live "
            "asyncio tasks by id (`RUNNING[task_id] = asyncio.create_task(...)`, read to list "
            "or cancel them): a task handle cannot leave its process, and keeping it is what "
            "FTL307 asks for."
        ),
        why=(
            "Each worker process has its own copy of the container (`uvicorn --workers 4`, "
            "gunicorn, several pods): a status written by the task in one process is not there "
            "when the next request lands on another, so clients see 'unknown job' at random. A "
            "restart or deploy empties it, losing every queued job and every status."
        ),
        example=(
            "JOBS: dict[str, str] = {}  # FTL302\n\n"
            "def run_import(job_id: str) -> None:\n"
            '    JOBS[job_id] = "running"\n'
            "    ...\n"
            '    JOBS[job_id] = "done"\n\n'
            '@router.get("/imports/{job_id}")\n'
            "def import_status(job_id: str) -> dict[str, str]:\n"
            '    return {"status": JOBS[job_id]}'
        ),
        remedy=(
            "Keep job state where every process sees it and restarts keep it: a database row "
            "(`Job(id, status)`) updated by the task, Redis, or the queue's result backend "
            "(Celery `AsyncResult`). Put work on a durable queue, not an in-process one."
        ),
        references=(
            "https://www.uvicorn.org/deployment/#running-with-multiple-workers",
            "https://fastapi.tiangolo.com/deployment/server-workers/",
        ),
    )

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        """Findings are reported where the container is defined: only there is a parse due."""
        key = path.absolute()
        if project.unread(path, _FINDINGS):
            return False  # the project's findings were computed without this module
        return super().wants(data, path, project) and any(
            finding.container.model.path.absolute() == key for finding in _project_findings(project)
        )

    def check(self, ctx: RuleContext) -> None:
        for finding in _project_findings(ctx.model.project):
            if finding.container.model is ctx.model:
                ctx.report(finding.container.node, _message(finding))


def _findings(project: ProjectIndex) -> list[_Finding]:
    state = program_state(project, _is_state_write, _may_write_state)
    readers = state.handlers | state.handler_helpers
    writers = state.task_functions | state.scheduling_handlers | state.task_helpers
    found: list[_Finding] = []
    for container in state.containers:
        accesses = state.accesses[container.qualname]
        puts = [
            a
            for a in accesses
            if container.is_queue and a.method in PUT_METHODS and id(a.function) in state.handlers
        ]
        if puts:
            found.append(_Finding(container, puts, []))
            continue
        writes = [a for a in accesses if id(a.function) in writers and _is_state_write(a)]
        writing = {id(a.function) for a in writes}
        reads = [
            a
            for a in accesses
            if not a.write and id(a.function) in readers and id(a.function) not in writing
        ]
        if writes and reads:
            found.append(_Finding(container, writes, reads))
    return found


def _is_state_write(access: Access) -> bool:
    """A write of a status (`"running"`, `JobStatus.DONE`) or under a job id / `uuid4()` key."""
    if not access.write:
        return False
    scope = access.function.scope
    if any(_is_status(access.model, v) for v in access.values):
        return True
    if access.values and all(is_task_handle(access.model, v, scope) for v in access.values):
        return False  # live task handles by id: the keep-alive FTL307 asks for, not a status
    return access.key is not None and _is_job_key(access.model, access.key, scope)


_STATUS_LITERALS = tuple(f"{q}{value}{q}".encode() for value in STATUS_VALUES for q in "\"'")
_ID_FACTORY_NAMES = tuple(name.rsplit(".", 1)[1].encode() for name in _ID_FACTORIES)


def _may_write_state(data: bytes) -> bool:
    """Whether a module's bytes can hold a write `_is_state_write` accepts: a status
    literal (in any case), a `*Status` member, an id factory, or words of a task or job id."""
    if b"Status" in data or any(name in data for name in _ID_FACTORY_NAMES):
        return True
    lower = data.lower()
    return any(literal in lower for literal in _STATUS_LITERALS) or (
        b"id" in lower and (b"task" in lower or b"job" in lower)
    )


def _is_status(model: ModuleModel, value: cst.BaseExpression) -> bool:
    for item in flatten_literal(value):
        if isinstance(item, cst.SimpleString):
            text = item.evaluated_value
            if isinstance(text, str) and text.lower() in STATUS_VALUES:
                return True
        elif isinstance(item, cst.Attribute):
            # `JobStatus.RUNNING` or `JobStatus.RUNNING.value`
            base = item.value if item.attr.value == "value" else item
            owner = base.value if isinstance(base, cst.Attribute) else None
            if owner is not None and model.code_for(owner).rsplit(".", 1)[-1].endswith("Status"):
                return True
    return False


def _is_job_key(model: ModuleModel, key: cst.BaseExpression, scope: Scope) -> bool:
    """A key made by `uuid4()` (directly or through a local), or named like a task/job id."""
    expr = key
    if isinstance(key, cst.Name):
        binding = scope.lookup(key.value)
        if binding is not None and binding.value is not None:
            expr = binding.value
    if _calls_id_factory(model, expr, scope):
        return True
    parts = word_parts(model.code_for(key).replace(".", "_"))
    return "id" in parts and bool({"task", "job"} & set(parts))


def _calls_id_factory(model: ModuleModel, expr: cst.BaseExpression, scope: Scope) -> bool:
    finder = _Calls()
    walk(expr, finder)
    return any(model.qualified_name(call.func, scope) in _ID_FACTORIES for call in finder.calls)


class _Calls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)


def _message(finding: _Finding) -> str:
    container = finding.container
    what = (
        f"`{container.label}` (a {'class' if container.klass else 'module'}-level {container.kind})"
    )
    if not finding.reads:
        return (
            f"{what} is a job queue in process memory: {_places(finding.writes)} put work into "
            "it; each worker process has its own queue and a restart loses every queued job; "
            "use a durable queue (Celery, ARQ, RQ, Dramatiq)"
        )
    return (
        f"{what} holds task state across requests: written by {_places(finding.writes)}, read "
        f"by {_places(finding.reads)}; each worker process has its own copy and a restart "
        "loses it; keep job state in the database, Redis or the queue's result backend"
    )


def _places(accesses: list[Access]) -> str:
    """`name` (file:line) for each function, at its first access."""
    first: dict[int, str] = {}
    for access in accesses:
        if id(access.function) not in first:
            line = access.model.position(access.node).start.line
            first[id(access.function)] = f"`{access.function.name}` ({_path(access)}:{line})"
    shown = list(first.values())
    more = f" and {len(shown) - _SHOWN} more" if len(shown) > _SHOWN else ""
    return ", ".join(shown[:_SHOWN]) + more


def _path(access: Access) -> str:
    try:
        relative = os.path.relpath(access.model.path)
    except ValueError:
        return str(access.model.path)
    return str(access.model.path) if relative.startswith("..") else relative

"""FTL202: an async route handler or dependency blocks the event loop."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs
from fastapi_task_lint.semantics.blocking import (
    ALLOWED_BLOCKING_CALLS,
    EXTRA_BLOCKING_CALLS,
    BlockingPolicy,
    BlockingUse,
    blocking_uses,
    call_label,
)
from fastapi_task_lint.semantics.dependencies import (
    defines_dependencies,
    dependency_functions,
    dependency_scan,
)
from fastapi_task_lint.semantics.functions import FunctionInfo
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.routes import may_define_routes


class BlockingCallInAsyncRoute(Rule):
    code = "FTL202"
    name = "blocking-call-in-async-route"
    summary = "async route handler or dependency makes a blocking call on the event loop"
    triggers = (b"async",)
    facts = (dependency_scan,)
    apart = True  # its dependency scan is its own, and its checks a fifth of a run
    options = (EXTRA_BLOCKING_CALLS, ALLOWED_BLOCKING_CALLS)
    docs = RuleDocs(
        what=(
            "Flags a blocking call inside an `async def` route handler (`@app.get`, "
            '`@router.post`, `websocket`, ..., also called by hand, `app.get("/x")(handler)`, '
            "and on the parameter without an annotation of a helper that some call in the run "
            "hands an app or router, `def register_endpoints(router): @router.get(...)`, "
            "or one annotated with a union of them, `app: FastAPI | APIRouter`; "
            "`add_api_route`, `add_api_websocket_route`, `APIRoute(...)` or a project "
            "subclass of it, and Starlette's `Route(...)`, "
            "`WebSocketRoute(...)` and `add_route`, the endpoint also through "
            "`functools.partial`; the request methods of a Starlette `HTTPEndpoint` or "
            "`WebSocketEndpoint` subclass, however it is registered) or an `async def` "
            "dependency named by some "
            "`Depends(...)`/`Security(...)` in the run, directly or through the project "
            "functions it calls, a built class's `__init__` included (the message shows the "
            "shortest chain; a branch that a call's arguments rule out is not followed, as in "
            "FTL201). The most common case "
            "is a sync "
            "SQLAlchemy `Session` in an async handler: `db: Session = Depends(get_db)` in "
            "`async def create_user`. The catalogue of blocking calls, the `to_thread` "
            "exemptions and the options are those of FTL201; the two rules are separate so a "
            "team can adopt one before the other."
        ),
        why=(
            "FastAPI runs an `async def` handler on the event loop and a plain `def` handler "
            "in its threadpool. A blocking call in an async handler holds the loop: every "
            "other request on the worker waits, and throughput drops to one request at a time "
            "while the call runs."
        ),
        example=(
            '@router.post("/users")\n'
            "async def create_user(data: UserIn, db: Session = Depends(get_db)):\n"
            "    db.add(User(email=data.email))\n"
            "    db.commit()  # FTL202"
        ),
        remedy=(
            "Make the handler a plain `def` (FastAPI runs it in the threadpool), or use the "
            "async API (`AsyncSession`, `httpx.AsyncClient`, `asyncio.sleep`). A WebSocket "
            "handler must stay `async def` (FastAPI awaits it), and so must a handler that "
            "awaits, or enters `async with`/`async for`, itself (the message says so): move "
            "the blocking work to `await asyncio.to_thread(...)`:"
        ),
        use_instead=(
            '@router.post("/users")\n'
            "def create_user(data: UserIn, db: Session = Depends(get_db)):\n"
            "    db.add(User(email=data.email))\n"
            "    db.commit()"
        ),
        references=(
            "https://fastapi.tiangolo.com/async/#path-operation-functions",
            "https://fastapi.tiangolo.com/async/#dependencies",
        ),
    )

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        return super().wants(data, path, project) and (
            may_define_routes(data) or defines_dependencies(project, path)
        )

    def check(self, ctx: RuleContext) -> None:
        policy = BlockingPolicy.from_config(ctx.config)
        entries: dict[int, tuple[FunctionInfo, str]] = {}
        for route in ctx.model.routes:
            if ctx.model.function_for_node(route.function.node) is route.function:
                kind = "WebSocket handler" if "websocket" in route.methods else "route handler"
                entries.setdefault(id(route.function), (route.function, kind))
        for function in dependency_functions(ctx.model):
            entries.setdefault(id(function), (function, "dependency"))
        for function, kind in entries.values():
            if not function.is_async:
                continue
            for use in blocking_uses(ctx.model, function, policy):
                ctx.report(use.call.node, _message(ctx, function, kind, use))


def _message(ctx: RuleContext, function: FunctionInfo, kind: str, use: BlockingUse) -> str:
    what = call_label(ctx.model, use.call.node)
    via = f" (`{use.chain(function.name)}`)" if use.via else ""
    if kind == "WebSocket handler" or use.coroutine or function.awaits:
        # FastAPI awaits a WebSocket handler: a plain `def` one fails; and a plain `def`
        # cannot await the coroutine that blocks, nor anything the handler awaits itself.
        remedy = f"{use.offload()} or use the async API"
    else:
        remedy = (
            f"make `{function.name}` a plain `def` (FastAPI runs it in the threadpool) or use "
            "the async API"
        )
    return (
        f"{what} blocks the event loop{via} inside the async {kind} `{function.name}`: other "
        f"requests wait until it returns; {remedy}"
    )

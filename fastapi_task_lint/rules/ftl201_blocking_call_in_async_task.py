"""FTL201: an async task blocks the event loop it runs on."""

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
from fastapi_task_lint.semantics.guards import task_context
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.task_definitions import (
    ScheduledFunction,
    defines_tasks,
    may_register_tasks,
    task_scan,
    tasks_in,
)


class BlockingCallInAsyncTask(Rule):
    code = "FTL201"
    name = "blocking-call-in-async-task"
    summary = "async task makes a blocking call on the event loop"
    # Only a file with an `async def` can define an async task; where it is scheduled
    # (maybe another module) is asked of the project's task index.
    triggers = (b"async",)
    facts = (task_scan,)
    options = (EXTRA_BLOCKING_CALLS, ALLOWED_BLOCKING_CALLS)
    docs = RuleDocs(
        what=(
            "Flags a blocking call inside an `async def` that runs as a task on an event "
            "loop: scheduled with `BackgroundTasks.add_task`/`BackgroundTask` (also the "
            "nested `def` a project factory returns, `add_task(make_task(run_id))`), an ARQ job "
            "(`WorkerSettings.functions`/`cron_jobs`), a Taskiq task, an APScheduler job on "
            "an `AsyncIOScheduler`, or the coroutine given to `asyncio.create_task` or, from "
            "another thread, to `asyncio.run_coroutine_threadsafe` (also through a helper "
            "such as `spawn(coro)`), and a coroutine made for an async task's arguments, "
            "which runs when the task awaits it on its loop (`add_task(run_session, bot(...))`). "
            "The "
            "call may block directly "
            "(`time.sleep`, `requests.*`, `httpx.get`/`httpx.Client`, `urllib`, `urllib3`, "
            "`smtplib`, `subprocess`, `os.system`/`os.wait*` (not with `os.WNOHANG`), "
            "sockets (not in the body of a `try` that catches `BlockingIOError`: a "
            "non-blocking socket), `open`, `pathlib.Path` reads, writes and listings, `os.listdir`/"
            "`scandir`/`walk`, `glob.glob`/`iglob`, `fsspec.open`, `shutil`'s copies, moves, "
            "removals and "
            "archives, "
            "`zipfile`/`tarfile` extraction, `tempfile`'s files on disk, `os.fsync`, reads and "
            "writes of an `UploadFile`'s `file` (spooled to disk past 1 MiB), "
            "a sync SQLAlchemy "
            "`Session`/`Engine`/`Connection` (SQLModel's `Session.exec` too, and a legacy "
            "`Query` where it runs: `.all()`, `.first()`, ..., or iterated; the `Inspector` "
            "of `sqlalchemy.inspect(engine)`), `psycopg2`/`sqlite3` connections and "
            "cursors, `redis.Redis` (not the methods a project subclass defines: those are "
            "followed), RQ's `Job.fetch`/`fetch_many`/`exists` and a job's `get_status`, "
            "`refresh`, `latest_result`, `save` and `cancel` (the sync Redis connection), "
            "`huggingface_hub.InferenceClient`, `HfApi`, its downloads, uploads "
            "and queries (`snapshot_download`, `repo_exists`, ...) and `get_session()`, a "
            "Celery `AsyncResult`'s `get`/`wait` (they wait for the task), waits for "
            "another thread (`Thread.join`, `threading.Event.wait`, `queue.Queue.get`, "
            "the `result` of a pool's future or of `run_coroutine_threadsafe`'s, but for a "
            "zero timeout, `block=False`, or an object tested as finished (`done()`, "
            "`is_alive()`) or awaited (`asyncio.wrap_future`) before), a TCP socket's "
            "`connect` (a UDP one's sends nothing), `boto3` "
            "clients, Alembic's `ScriptDirectory.from_config` and commands, `input`) or "
            "through the project functions it calls, in any module (a "
            "class it builds runs its `__init__`, an instance it calls its `__call__`, a "
            "`with` it enters the class's `__enter__` and `__exit__` (`__aenter__` and "
            "`__aexit__` for `async with`); sync "
            "ones, but for a generator function whose generator is handed to a "
            "`StreamingResponse`, which Starlette iterates in its threadpool, and async ones "
            "it awaits (also through `asyncio.gather`, `wait_for` and `shield`), since they "
            "run on the same loop, and an async generator where an "
            "`async for` or a `StreamingResponse` iterates it; not a function cached with "
            "`functools.cache`/`lru_cache`, whose body runs once per process and argument, "
            "nor the fill of a cache that outlives every call, which runs on the first "
            "call only (per key): a module global (`if _client is None: _client = "
            "Client()`, or `if _version is not None: return _version` before `_version = "
            "...`, also tested under a lock, `with _lock: if _initialized: return`), an "
            "item of a module dict that the function gives back (`if key not in "
            "_pages: _pages[key] = ...`, then `return _pages[key]`; or read with "
            "`page = _pages.get(key)`, then `if page is None:`, or `try: return "
            "_pages[key]` / `except KeyError: pass` before the fill) or whose key is not a "
            "parameter (the thread's id), "
            "or an attribute or item of the instance or class a method fills (`if "
            "self._executor is None:`; an instance built for each call, which would fill "
            "it each time, is not told apart); nor code after a statement "
            "that always leaves its block (`return`, `raise`, `if True: return`); "
            "ten calls deep at most): the "
            "message shows the shortest chain "
            "(`send_digest -> render_pdf -> requests.get`). A branch that a call's "
            "arguments rule out is not followed: `cluster_name(name, add_hash=False)` skips "
            "`if add_hash:`, `logs_prefix(user)` with `user: str` skips `if user is "
            'None:`, and `get_secret("API_KEY")` skips `if name.startswith("oidc/"):` '
            "(also `==`, `!=`, `in` and `not in` a string literal, a tuple of them or a "
            "module constant holding them; `==`, `is` and `in` a member of a project "
            "`Enum` where the argument is another member of it, `refresh(NodeType.METRIC)` "
            "skipping `if kind == NodeType.SOURCE:`; `isinstance(msg, C)` where the "
            "caller built the object of a project class (`handle(QueryMsg(ip))` skips `if "
            "isinstance(msg, LookupMsg):`; a subclass passes its bases' tests, and a test "
            "naming a library class decides nothing); "
            "after an early `return` in the function's own "
            "body, the rest of it too; after an `if` nested in a block whose arm ends in "
            "`break`, `continue`, `return` or `raise` (`if not busy_loop: break` in a "
            "loop), the rest of that block; the right operand of `p and f()` or `p or f()` that "
            "`p` rules out; the body of a loop over a parameter that is empty, "
            "`for k, v in uploads.items():` after `uploads = uploads or {}` with `uploads` "
            "left out; "
            "literal arguments, the literal defaults of omitted ones, values passed "
            "on unchanged, an object a class call built (`repo=Repo()`, not `None`), and the "
            "task's or route's own annotations that exclude `None`; "
            "in a method, also an attribute it set from them first: `self.path = path`, then "
            "`if self.path is not None:`, and one that only `__init__` sets from a parameter, "
            "or a plain dataclass field, as the call that built the instance gave it: "
            '`Eval(name="x").run()` skips `if self.save_path is not None:`); '
            "a task knows what every `add_task(fn, ...)` and `create_task(fn(...))` that "
            "schedules it agrees on. Calls are resolved by qualified name and receiver type "
            "(a parameter's or variable's annotation, what it was assigned, a method's "
            "return annotation, `next(get_db())` the session a generator dependency "
            "yields, and for `self.client` the class's annotation or what every "
            "`self.client = ...` of the class assigns, when they agree, or the getter's "
            "type when it is a `@property`/`@cached_property`; a parameter a project "
            "decorator fills, `@with_session` calling `f(session, *args)`, what it is given "
            "there; a helper's parameter without an annotation, what its caller hands it "
            "(a session or client of the catalogue, or an instance of a project class): "
            "`save(db, item)` from a route whose `db: Session`; `request.app.state.x`, "
            "what every `app.state.x = ...` of the run assigns when they agree; a `Union` of "
            "different classes types nothing), so `httpx.AsyncClient`, `redis.asyncio`, "
            "`AsyncSession` and `asyncio.sleep` are not reported, nor is work handed to "
            "`asyncio.to_thread`, `loop.run_in_executor`, `run_in_threadpool` or "
            "`anyio.to_thread.run_sync`. Sync tasks are not reported: Starlette runs them in "
            "the threadpool.\n\n"
            "The finding is reported once per call in the task's own body, in the file that "
            "defines the task (where the fix and a `# noqa: FTL201` go), however many places "
            "schedule it; lint the whole app so the scheduling sites are seen."
        ),
        why=(
            "Starlette awaits an `async def` task on the event loop that serves requests. "
            "While a blocking call runs, that loop runs nothing else: one `time.sleep(3)` in "
            "a background task stalls every request of the worker for 3 seconds, after the "
            "response that scheduled it was already sent, so it shows up as random latency. "
            "A task on a loop the code made itself (`asyncio.new_event_loop()`, often run "
            "in a daemon thread: `loop.create_task(...)`, or "
            "`run_coroutine_threadsafe(..., loop)`) stalls every other task on that loop "
            "instead; the message says so."
        ),
        example=(
            "async def send_digest(user_id: int) -> None:\n"
            "    pdf = render_pdf(user_id)  # FTL201: send_digest -> render_pdf -> requests.get\n"
            "    await mailer.send(pdf)\n\n"
            "background_tasks.add_task(send_digest, user.id)"
        ),
        remedy=(
            "Move the blocking work to a thread, use the library's async API, or make the "
            "task a plain `def` (BackgroundTasks runs it in the threadpool):"
        ),
        use_instead=(
            "async def send_digest(user_id: int) -> None:\n"
            "    pdf = await asyncio.to_thread(render_pdf, user_id)\n"
            "    await mailer.send(pdf)"
        ),
        references=(
            "https://fastapi.tiangolo.com/async/",
            "https://www.starlette.io/background/",
            "https://docs.python.org/3/library/asyncio-dev.html#running-blocking-code",
        ),
    )

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        return super().wants(data, path, project) and (
            may_register_tasks(project, path, data)
            or defines_tasks(project, path, lambda use: use.on_event_loop)
        )

    def check(self, ctx: RuleContext) -> None:
        policy = BlockingPolicy.from_config(ctx.config)
        for task in tasks_in(ctx.model):
            if not task.runs_on_event_loop:
                continue
            known = task_context(ctx.model, task.function, task.uses)
            for use in blocking_uses(ctx.model, task.function, policy, known):
                ctx.report(use.call.node, _message(ctx, task, use))


def _message(ctx: RuleContext, task: ScheduledFunction, use: BlockingUse) -> str:
    name = task.function.name
    on_loop = [u for u in task.uses if u.on_event_loop]
    launch = on_loop[0]
    waits = (
        "every other task on that loop waits"
        if all(u.own_loop for u in on_loop)
        else "every request on this worker waits"
    )
    what = call_label(ctx.model, use.call.node)
    via = f" (`{use.chain(name)}`)" if use.via else ""
    remedy = f"{use.offload()} or use an async client"
    if launch.in_process:
        remedy += f", or make `{name}` a plain `def` so BackgroundTasks runs it in the threadpool"
    return (
        f"{what} blocks the event loop{via} inside the async task `{name}`, scheduled with "
        f"{launch.label}: {waits} until it returns; {remedy}"
    )

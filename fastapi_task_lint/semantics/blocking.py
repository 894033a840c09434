"""Calls that block the event loop, and the wrappers that move work off it.

Resolution goes by qualified name (`import time as t; t.sleep(1)` is `time.sleep`) and,
for methods, by the receiver's inferred type (`requests.Session().get` blocks,
`httpx.AsyncClient().get` does not). An unknown receiver is never blocking.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.config import Config, RuleOption
from fastapi_task_lint.semantics import names
from fastapi_task_lint.semantics.callgraph import (
    Chain,
    ChainMemo,
    Edge,
    Target,
    callees,
    constructor_edges,
    entered_edges,
    find_chain,
    inherited_method,
    method_of,
    super_class,
)
from fastapi_task_lint.semantics.functions import CallInfo, FunctionInfo
from fastapi_task_lint.semantics.guards import (
    Context,
    Instance,
    Known,
    Value,
    call_context,
    entry_context,
    exit_context,
    handed_arguments,
    literal_value,
    ruled_out,
    runs,
)
from fastapi_task_lint.semantics.model import TypeRef, agreed, returns_values
from fastapi_task_lint.semantics.scope import BindingKind, Scope
from fastapi_task_lint.semantics.uses import (
    NameUse,
    assigned_targets,
    call_parents,
    local_uses,
    parent_chains,
)
from fastapi_task_lint.source import one_line

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel

_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
_HTTPX = ("httpx", "httpx2")  # httpx2 is the maintained continuation of httpx
_FILE_METHODS = frozenset(
    {
        "read",
        "read1",
        "readall",
        "readline",
        "readlines",
        "readinto",
        "write",
        "writelines",
        "flush",
        "truncate",
        "seek",
    }
)

# Functions that block, by qualified name; `*` matches any attribute of a module.
BLOCKING_FUNCTIONS: tuple[str, ...] = (
    "time.sleep",
    *(f"requests.{verb}" for verb in _HTTP_VERBS),
    *(f"{httpx}.{verb}" for httpx in _HTTPX for verb in (*_HTTP_VERBS, "stream")),
    "urllib.request.urlopen",
    "urllib.request.urlretrieve",
    "urllib3.request",
    "smtplib.SMTP",
    "smtplib.SMTP_SSL",
    "smtplib.LMTP",
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "os.system",
    "os.popen",
    "os.wait",
    "os.wait3",
    "os.wait4",
    "os.waitid",
    "os.waitpid",
    *(f"os.spawn{suffix}" for suffix in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")),
    "os.posix_spawn",
    "os.posix_spawnp",
    "socket.create_connection",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyname_ex",
    "socket.gethostbyaddr",
    "builtins.open",
    # Directory listings and whole-file copies, as `pathlib.Path.iterdir`/`glob` below.
    "os.listdir",
    "os.scandir",
    "os.walk",
    "glob.glob",
    "glob.iglob",
    *(
        f"shutil.{name}"
        for name in (
            "copy",
            "copy2",
            "copyfile",
            "copyfileobj",
            "copytree",
            "rmtree",
            "move",
            "make_archive",
            "unpack_archive",
        )
    ),
    # A temporary file is created on disk as `open` creates one; `fsync` waits for the disk.
    "tempfile.NamedTemporaryFile",
    "tempfile.TemporaryFile",
    "tempfile.mkstemp",
    "os.fsync",
    "builtins.input",
    # fsspec's `open` on a local or remote path: its `with` opens and transfers the file.
    "fsspec.open",
    "io.open",
    "io.open_code",
    "os.fdopen",
    # Alembic reads its ini file and every migration script; its commands run the migrations.
    "alembic.script.ScriptDirectory.from_config",
    "alembic.script.base.ScriptDirectory.from_config",
    "alembic.command.*",
    # RQ's job lookups read the job's hash on a sync Redis connection, as `redis.Redis` does.
    "rq.job.Job.fetch",
    "rq.job.Job.fetch_many",
    "rq.job.Job.exists",
    "psycopg2.connect",
    "psycopg.connect",
    "pymysql.connect",
    "sqlite3.connect",
    # The Hugging Face Hub's functions are `HfApi` methods bound at import: sync HTTP.
    *(
        f"huggingface_hub.{name}"
        for name in (
            "hf_hub_download",
            "snapshot_download",
            "upload_file",
            "upload_folder",
            "create_repo",
            "delete_repo",
            "repo_exists",
            "file_exists",
            "list_models",
            "list_repo_files",
            "model_info",
            "whoami",
        )
    ),
)

_INSPECTOR = "sqlalchemy.engine.reflection.Inspector"
# A DB-API cursor runs its statement on `execute`: that is the call to move off the loop
# (a psycopg2 client-side cursor has every row in memory by the time it is fetched).
_CURSOR_METHODS = frozenset({"execute", "executemany", "executescript", "callproc"})
_UPLOAD = "starlette.datastructures.UploadFile"
_UPLOAD_SPOOL = f"{_UPLOAD}.file"  # what `upload.file` is: a `SpooledTemporaryFile`
# Blocking methods by receiver class (canonical qualified name, subclasses included).
BLOCKING_METHODS: dict[str, frozenset[str]] = {
    "requests.Session": frozenset({*_HTTP_VERBS, "send"}),
    "httpx.Client": frozenset({*_HTTP_VERBS, "send", "stream", "close"}),
    "urllib3.PoolManager": frozenset({"request", "urlopen", "request_encode_url"}),
    "urllib3.HTTPConnectionPool": frozenset({"request", "urlopen"}),
    "urllib3.HTTPSConnectionPool": frozenset({"request", "urlopen"}),
    "socket.socket": frozenset(
        {"connect", "accept", "recv", "recv_into", "recvfrom", "send", "sendall", "sendto"}
    ),
    "subprocess.Popen": frozenset({"wait", "communicate"}),
    "io.TextIOWrapper": _FILE_METHODS,
    "io.BufferedReader": _FILE_METHODS,
    "io.BufferedWriter": _FILE_METHODS,
    "io.BufferedRandom": _FILE_METHODS,
    "io.FileIO": _FILE_METHODS,
    "pathlib.Path": frozenset(
        {"read_text", "read_bytes", "write_text", "write_bytes", "open", "iterdir", "glob", "rglob"}
    ),
    "sqlalchemy.orm.Session": frozenset(
        {
            "execute",
            "commit",
            "rollback",
            "flush",
            "get",
            "get_one",
            "scalar",
            "scalars",
            "refresh",
            "merge",
            "connection",
            "bulk_save_objects",
            "bulk_insert_mappings",
            "bulk_update_mappings",
            "exec",  # SQLModel's `Session.exec(select(...))`
        }
    ),
    # What `sqlalchemy.inspect(engine)` returns: each of these reads the database's catalogue.
    _INSPECTOR: frozenset(
        {
            "get_schema_names",
            "get_table_names",
            "get_view_names",
            "get_columns",
            "get_pk_constraint",
            "get_foreign_keys",
            "get_indexes",
            "get_unique_constraints",
            "get_check_constraints",
            "get_table_comment",
            "has_table",
            "has_schema",
            "reflect_table",
        }
    ),
    # `Session.query()` only builds a Query; these run its SQL (iterating one does too).
    "sqlalchemy.orm.Query": frozenset(
        {
            "all",
            "first",
            "one",
            "one_or_none",
            "scalar",
            "count",
            "get",
            "delete",
            "update",
            "value",
            "values",
        }
    ),
    "sqlalchemy.engine.Engine": frozenset({"connect", "begin", "execute", "raw_connection"}),
    "sqlalchemy.engine.Connection": frozenset(
        {"execute", "exec_driver_sql", "scalar", "scalars", "commit", "rollback"}
    ),
    "sqlite3.Connection": frozenset({"execute", "executemany", "executescript", "commit"}),
    "sqlite3.Cursor": _CURSOR_METHODS,
    "psycopg2.extensions.connection": frozenset({"commit", "rollback"}),
    "psycopg2.extensions.cursor": _CURSOR_METHODS,
    # An upload's file: Starlette spools one over 1 MiB to disk (`await upload.read()` reads
    # it in the threadpool). Moving its offset (`seek(0)`) transfers nothing.
    _UPLOAD_SPOOL: _FILE_METHODS - {"seek", "truncate", "flush"},
    # Waiting for a Celery task's result waits for the task itself.
    "celery.result.AsyncResult": frozenset({"get", "wait"}),
    # Extracting writes every member to disk, whether the archive was read from disk or bytes.
    "zipfile.ZipFile": frozenset({"extract", "extractall"}),
    "tarfile.TarFile": frozenset({"extract", "extractall"}),
    # An RQ job reads and writes its hash on the queue's sync Redis connection.
    "rq.job.Job": frozenset({"refresh", "get_status", "latest_result", "save", "cancel"}),
    "rq.Queue": frozenset({"fetch_job"}),
    # Waiting for another thread: the loop stops until it acts (`_THREAD_WAITS`).
    "threading.Thread": frozenset({"join"}),
    # (Not `Condition.wait`: read-write locks are built on it, and lock waits are short,
    # as `Lock.acquire`'s are.)
    "threading.Event": frozenset({"wait"}),
    "queue.Queue": frozenset({"get", "join"}),
    "queue.SimpleQueue": frozenset({"get"}),
    "concurrent.futures.Future": frozenset({"result", "exception"}),
}
# The waits above that do not wait given a zero timeout (`join(0)`, `wait(timeout=0)`) or,
# for a queue, `block=False` (`get(False)`): what `_waits` tells apart.
_THREAD_WAITS = frozenset(
    {
        "threading.Thread",
        "threading.Event",
        "queue.Queue",
        "queue.SimpleQueue",
        "concurrent.futures.Future",
    }
)
# Classes whose every public method does I/O, but for these (they build or describe).
ALL_METHODS_BLOCK_EXCEPT: dict[str, frozenset[str]] = {
    "smtplib.SMTP": frozenset({"set_debuglevel", "has_extn"}),
    "smtplib.SMTP_SSL": frozenset({"set_debuglevel", "has_extn"}),
    "smtplib.LMTP": frozenset({"set_debuglevel", "has_extn"}),
    "redis.Redis": frozenset({"pipeline", "pubsub", "lock", "register_script", "close"}),
    "botocore.client.BaseClient": frozenset(
        {"get_paginator", "get_waiter", "can_paginate", "close", "meta", "exceptions"}
    ),
    # Every inference call is a sync HTTP request (`AsyncInferenceClient` is the async one).
    "huggingface_hub.InferenceClient": frozenset(),
    "huggingface_hub.HfApi": frozenset(),
}

# Spellings of the same classes, mapped to the keys above.
_TYPE_ALIASES: dict[str, str] = {
    "requests.sessions.Session": "requests.Session",
    "requests.session": "requests.Session",
    "httpx._client.Client": "httpx.Client",
    "httpx2.Client": "httpx.Client",
    "_io.TextIOWrapper": "io.TextIOWrapper",
    "_io.BufferedReader": "io.BufferedReader",
    "_io.BufferedWriter": "io.BufferedWriter",
    "_io.BufferedRandom": "io.BufferedRandom",
    "_io.FileIO": "io.FileIO",
    "urllib3.ProxyManager": "urllib3.PoolManager",
    "urllib3.poolmanager.ProxyManager": "urllib3.PoolManager",
    "urllib3.connectionpool.ConnectionPool": "urllib3.HTTPConnectionPool",
    "urllib3.request.RequestMethods": "urllib3.PoolManager",
    "urllib3._request_methods.RequestMethods": "urllib3.PoolManager",
    "urllib3.poolmanager.PoolManager": "urllib3.PoolManager",
    "urllib3.connectionpool.HTTPConnectionPool": "urllib3.HTTPConnectionPool",
    "urllib3.connectionpool.HTTPSConnectionPool": "urllib3.HTTPSConnectionPool",
    "sqlalchemy.Engine": "sqlalchemy.engine.Engine",
    "sqlalchemy.engine.base.Engine": "sqlalchemy.engine.Engine",
    "sqlalchemy.Connection": "sqlalchemy.engine.Connection",
    "sqlalchemy.orm.query.Query": "sqlalchemy.orm.Query",
    "sqlalchemy.engine.base.Connection": "sqlalchemy.engine.Connection",
    "redis.StrictRedis": "redis.Redis",
    "redis.client.Redis": "redis.Redis",
    "redis.client.StrictRedis": "redis.Redis",
    "pathlib.PosixPath": "pathlib.Path",
    "pathlib.WindowsPath": "pathlib.Path",
    "asyncio.tasks.Task": "asyncio.Task",
    "fastapi.UploadFile": _UPLOAD,
    "fastapi.datastructures.UploadFile": _UPLOAD,
    "asyncio.futures.Future": "asyncio.Future",
    "threading.Timer": "threading.Thread",
    "queue.LifoQueue": "queue.Queue",
    "queue.PriorityQueue": "queue.Queue",
    "concurrent.futures._base.Future": "concurrent.futures.Future",
    "rq.Job": "rq.job.Job",
}

# Query methods that return a new Query without running SQL.
_QUERY_BUILDERS = (
    "filter",
    "filter_by",
    "where",
    "order_by",
    "join",
    "outerjoin",
    "limit",
    "offset",
    "slice",
    "options",
    "group_by",
    "having",
    "distinct",
    "with_entities",
    "add_columns",
    "add_entity",
    "select_from",
    "correlate",
    "execution_options",
    "params",
    "populate_existing",
    "with_for_update",
    "yield_per",
    "enable_eagerloads",
    "autoflush",
    "union",
    "union_all",
    "intersect",
    "except_",
    "with_parent",
    "with_session",
    "set_label_style",
    "prefix_with",
    "suffix_with",
    "from_statement",
)

# What a library call returns, when the callee's name does not say it.
_FACTORIES: dict[str, str] = {
    "requests.session": "requests.Session",
    "redis.from_url": "redis.Redis",
    "redis.Redis.from_url": "redis.Redis",
    "redis.StrictRedis.from_url": "redis.Redis",
    "boto3.client": "botocore.client.BaseClient",
    "boto3.session.Session.client": "botocore.client.BaseClient",
    "boto3.Session.client": "botocore.client.BaseClient",
    "sqlalchemy.create_engine": "sqlalchemy.engine.Engine",
    "sqlalchemy.engine.create_engine": "sqlalchemy.engine.Engine",
    "sqlite3.connect": "sqlite3.Connection",
    "rq.job.Job.fetch": "rq.job.Job",
    "psycopg2.connect": "psycopg2.extensions.connection",
    "socket.socket": "socket.socket",
    "socket.create_connection": "socket.socket",
    "urllib3.PoolManager": "urllib3.PoolManager",
    "subprocess.Popen": "subprocess.Popen",
    "tarfile.open": "tarfile.TarFile",
    "huggingface_hub.utils.get_session": "requests.Session",
    "asyncio.create_task": "asyncio.Task",
    "asyncio.ensure_future": "asyncio.Future",
    # A coroutine handed to another thread's loop: the caller gets a thread's future.
    "asyncio.run_coroutine_threadsafe": "concurrent.futures.Future",
    "asyncio.tasks.run_coroutine_threadsafe": "concurrent.futures.Future",
}
# Methods whose result has a known blocking type (`engine.connect()` gives a Connection).
_METHOD_RESULTS: dict[tuple[str, str], str] = {
    ("sqlalchemy.engine.Engine", "connect"): "sqlalchemy.engine.Connection",
    ("sqlalchemy.engine.Engine", "begin"): "sqlalchemy.engine.Connection",
    ("sqlite3.Connection", "cursor"): "sqlite3.Cursor",
    ("sqlite3.Connection", "execute"): "sqlite3.Cursor",
    ("psycopg2.extensions.connection", "cursor"): "psycopg2.extensions.cursor",
    ("sqlalchemy.orm.Session", "connection"): "sqlalchemy.engine.Connection",
    ("sqlalchemy.orm.Session", "query"): "sqlalchemy.orm.Query",
    **{("sqlalchemy.orm.Query", method): "sqlalchemy.orm.Query" for method in _QUERY_BUILDERS},
    ("celery.Celery", "AsyncResult"): "celery.result.AsyncResult",
    ("pathlib.Path", "joinpath"): "pathlib.Path",
    ("pathlib.Path", "with_suffix"): "pathlib.Path",
    ("pathlib.Path", "with_name"): "pathlib.Path",
    ("pathlib.Path", "resolve"): "pathlib.Path",
    ("pathlib.Path", "absolute"): "pathlib.Path",
    **{
        (f"concurrent.futures.{pool}", "submit"): "concurrent.futures.Future"
        for pool in ("ThreadPoolExecutor", "ProcessPoolExecutor", "Executor")
    },
}
_PATH_ATTRIBUTES = frozenset({"parent"})

# Calls that run the callable they are given in a worker thread (or another process).
OFFLOAD_FUNCTIONS = frozenset(
    {
        "asyncio.to_thread",
        "starlette.concurrency.run_in_threadpool",
        "fastapi.concurrency.run_in_threadpool",
        "anyio.to_thread.run_sync",
        "asyncer.asyncify",
        "asgiref.sync.sync_to_async",
    }
)
OFFLOAD_METHODS = frozenset({"run_in_executor"})


# Shared by FTL201 and FTL202: one catalogue, one pair of settings.
EXTRA_BLOCKING_CALLS = RuleOption(
    "extra-blocking-calls",
    list,
    [],
    "More blocking calls, as qualified-name patterns: `mylib.sync_client.*`, "
    "`mylib.Client.fetch` (a method of that class and its subclasses).",
)
ALLOWED_BLOCKING_CALLS = RuleOption(
    "allowed-blocking-calls",
    list,
    [],
    "Qualified-name patterns never reported as blocking, e.g. `builtins.open` for small "
    "local files, or `sqlalchemy.orm.Session.*`.",
)


@dataclass(frozen=True)
class BlockingCall:
    """A call that blocks, named the way messages show it (`requests.get`, `Session.execute`)."""

    call: cst.Call
    name: str


@dataclass(frozen=True)
class BlockingPolicy:
    """The catalogue plus the user's `extra-blocking-calls` and `allowed-blocking-calls`."""

    extra: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Config) -> BlockingPolicy:
        """The policy the run's `extra-blocking-calls`/`allowed-blocking-calls` ask for."""
        return cls(
            tuple(config.option(EXTRA_BLOCKING_CALLS)), tuple(config.option(ALLOWED_BLOCKING_CALLS))
        )

    def function_blocks(self, qualname: str) -> bool:
        if _matches(qualname, self.allowed):
            return False
        return _matches(qualname, BLOCKING_FUNCTIONS) or _matches(qualname, self.extra)

    def method_blocks(self, classes: Iterable[str], method: str) -> str | None:
        """The class whose `method` blocks, if any of `classes` has one."""
        for klass in classes:
            key = _TYPE_ALIASES.get(klass, klass)
            qualname = f"{key}.{method}"
            if _matches(qualname, self.allowed):
                return None
            if method in BLOCKING_METHODS.get(key, ()):
                return key
            exceptions = ALL_METHODS_BLOCK_EXCEPT.get(key)
            if exceptions is not None and method not in exceptions and not method.startswith("_"):
                return key
            if _matches(qualname, self.extra):
                return key
        return None


def _matches(qualname: str, patterns: tuple[str, ...]) -> bool:
    exact, wildcards = _matcher(patterns)
    return qualname in exact or (wildcards is not None and wildcards(qualname) is not None)


@cache
def _matcher(
    patterns: tuple[str, ...],
) -> tuple[frozenset[str], Callable[[str], re.Match[str] | None] | None]:
    """`patterns` as a set of plain names and one regex of the `fnmatch` ones.

    Every call of an async task's body is looked up here: an `fnmatch` per pattern per call
    cost seconds on a large project.
    """
    wild = [p for p in patterns if any(c in p for c in "*?[")]
    regex = "|".join(f"(?:{fnmatch.translate(p)})" for p in wild)
    return frozenset(patterns), re.compile(regex).match if wild else None


def blocking_call(
    model: ModuleModel, call: CallInfo, policy: BlockingPolicy
) -> BlockingCall | None:
    """The blocking operation `call` performs on its own (not through project functions)."""
    if call.awaited:
        return None  # an awaited call returns an awaitable: it is not the sync API
    func = call.node.func
    qualname = model.resolve_call(call)
    # A project function of the same name (a `requests.py` of your own) is not it.
    if (
        qualname is not None
        and policy.function_blocks(qualname)
        and model.project.resolve(qualname) is None
        and not (qualname in _WAITS and _polls(model, call))
        and not (qualname in _OPENS and _kernel_file(call))
    ):
        return BlockingCall(call.node, qualname.removeprefix("builtins."))
    if not isinstance(func, cst.Attribute):
        return None
    method = func.attr.value
    if qualname is not None and model.project.resolve(qualname) is None:
        # `redis.Redis.get(self, key)`: a library class's method, called through the class
        named = policy.method_blocks((qualname.rpartition(".")[0],), method)
        if named is not None:
            return BlockingCall(call.node, f"{_class_label(named)}.{method}")
    above = super_class(model, func.value, call.scope, call.order)
    if above is not None:  # `super().get(key)` in an override: the bases' method
        if inherited_method(model, above, method) is not None:
            return None  # a project base's: the chain search follows it
        bases = model.ancestors(above) - {names.canonical(above)}
        named = policy.method_blocks(sorted(bases), method)
        return BlockingCall(call.node, f"{_class_label(named)}.{method}") if named else None
    receiver = receiver_type(model, func.value, call.scope, call.order)
    return None if receiver is None else _method_call(model, call, receiver, method, policy)


def _method_call(
    model: ModuleModel, call: CallInfo, receiver: str, method: str, policy: BlockingPolicy
) -> BlockingCall | None:
    """What calling `method` on a `receiver` object blocks on, if anything."""
    if method_of(model, receiver, method) is not None:
        return None  # a project subclass's own method: the chain search follows it
    owner = policy.method_blocks(model.ancestors(receiver), method)
    if owner == _SOCKET and _would_block_caught(model, call):
        return None
    if owner in _THREAD_WAITS and (not _waits(call.node) or _known_finished(model, call)):
        return None
    if owner == _SOCKET and method == "connect" and _datagram(model, call):
        return None
    if owner is not None:
        return BlockingCall(call.node, f"{_class_label(owner)}.{method}")
    produced = _METHOD_RESULTS.get((_canonical_type(receiver), method))
    if produced == _QUERY and not _matches(f"{_QUERY}.__iter__", policy.allowed):
        return BlockingCall(call.node, "Query.__iter__") if _query_iterated(model, call) else None
    return None


def _waits(call: cst.Call) -> bool:
    """Whether a wait for another thread (`_THREAD_WAITS`) may wait: not with a zero timeout
    (`join(0)`, `wait(timeout=0)`, `result(timeout=0)`) or `block=False` (`get(False)`)."""
    for position, arg in enumerate(call.args):
        keyword = arg.keyword.value if arg.keyword is not None else None
        value = literal_value(arg.value)
        if keyword in ("timeout", None) and value is Value.FALSY and _is_number(arg.value):
            return False  # the one positional parameter of join, wait and result
        flag = keyword == "block" or (keyword is None and position == 0)
        if flag and value is Value.FALSY and isinstance(arg.value, cst.Name):  # `False`
            return False
    return True


# Tests that a future, thread or event is done: a wait after one on the same object (in a
# loop that exits only then, or a branch) finds it finished.
_FINISHED_TESTS = frozenset({"done", "is_alive", "is_set"})
_WRAPS_FUTURE = frozenset({"asyncio.wrap_future", "asyncio.futures.wrap_future"})


def _known_finished(model: ModuleModel, call: CallInfo) -> bool:
    """Whether the object a wait is called on (`fut.result()`, `thread.join()`) was tested
    for being finished (`fut.done()`, `thread.is_alive()`) or awaited (`await
    asyncio.wrap_future(fut)`) earlier in the same function: written that way, the wait
    returns at once. The object is told by the binding its name reads."""
    func = call.node.func
    assert isinstance(func, cst.Attribute)
    receiver = _receiver_binding(func.value, call)
    function = call.scope.enclosing_function()
    if receiver is None or function is None:
        return False
    for earlier in function.calls:
        if earlier.order >= call.order:
            continue
        tested = earlier.node.func
        if isinstance(tested, cst.Attribute) and tested.attr.value in _FINISHED_TESTS:
            checked: cst.BaseExpression | None = tested.value
        elif earlier.awaited and earlier.node.args and model.resolve_call(earlier) in _WRAPS_FUTURE:
            checked = earlier.node.args[0].value
        else:
            checked = None
        if checked is not None and _receiver_binding(checked, earlier) == receiver:
            return True
    return False


def _receiver_binding(expression: cst.BaseExpression, call: CallInfo) -> object | None:
    """What names the object `expression` is: its local's binding, or `self.<name>`."""
    if isinstance(expression, cst.Name):
        return call.scope.lookup(expression.value, call.order)
    if isinstance(expression, cst.Attribute) and isinstance(expression.value, cst.Name):
        owner = call.scope.lookup(expression.value.value, call.order)
        return None if owner is None else (owner, expression.attr.value)
    return None


def _datagram(model: ModuleModel, call: CallInfo) -> bool:
    """Whether the socket `connect` is called on was built for datagrams (`SOCK_DGRAM`):
    connecting one only records the address ("what is my IP" lookups), with nothing sent."""
    func = call.node.func
    assert isinstance(func, cst.Attribute)
    built = model.building_calls(func.value, call.scope, call.order)
    return bool(built) and all(
        any(
            owner.qualified_name(arg.value, scope, position) == "socket.SOCK_DGRAM"
            for arg in node.args
        )
        for owner, node, scope, position in built or ()
    )


def _is_number(expression: cst.BaseExpression) -> bool:
    return isinstance(expression, cst.Integer | cst.Float)


def _instances(known: Context) -> dict[str, str] | None:
    """The class of each parameter `known` holds an `Instance` for, by name; None when it
    holds none, as most contexts (every call a search passes asks: a plain loop over a few
    pairs costs less than hashing the context)."""
    found: dict[str, str] | None = None
    for name, value in known:
        if type(value) is Instance:
            found = {} if found is None else found
            found[name] = value.qualname
    return found


def _handed_call(
    model: ModuleModel, call: CallInfo, policy: BlockingPolicy, instances: dict[str, str]
) -> BlockingCall | None:
    """What `call` blocks on when its receiver is a parameter without an annotation that the
    caller handed an object of a catalogued class (`Instance`, `instances` by name):
    `db.commit()` in `def save(db, item)`, called with a `Session`; `db.query(User).first()`
    too."""
    func = call.node.func
    if call.awaited or not isinstance(func, cst.Attribute):
        return None
    receiver = _handed_type(func.value, call, instances)
    if receiver is None:
        return None
    return _method_call(model, call, receiver, func.attr.value, policy)


def _handed_type(
    expression: cst.BaseExpression, call: CallInfo, instances: dict[str, str]
) -> str | None:
    """The class of `expression` (in `call`'s scope): a parameter without an annotation that
    `instances` types, or what a catalogued method of it returns (`db.query(User)`)."""
    if isinstance(expression, cst.Name):
        binding = call.scope.lookup(expression.value, call.order)
        if binding is None or binding.kind is not BindingKind.PARAM or binding.param is None:
            return None
        return instances.get(expression.value) if binding.param.annotation is None else None
    if isinstance(expression, cst.Call) and isinstance(expression.func, cst.Attribute):
        owner = _handed_type(expression.func.value, call, instances)
        if owner is not None:
            return _METHOD_RESULTS.get((_canonical_type(owner), expression.func.attr.value))
    return None


_EXITS = frozenset({"__exit__", "__aexit__"})


def _told(
    call: CallInfo, target: Target, caller: FunctionInfo, known: Context, model: ModuleModel
) -> Context:
    """What `target` knows when `call` runs it: `call_context`, with the class of what
    `call` hands its parameters without an annotation (`Instance`: a catalogued session or
    client, or a project object); for the `__exit__` of a `with`, a normal exit's."""
    if call.entered and target.function.name in _EXITS:
        return exit_context(target.function)  # `Store()` tells `__exit__` nothing else
    told = call_context(call, target, caller, known, model)
    used = _used_objects(target.model, target.function)
    handed = handed_arguments(call, target.function, caller, known) if used else {}
    instances: dict[str, Instance] = {}
    for name, given in handed.items():
        if name not in used:
            continue
        if isinstance(given, Instance):
            instances[name] = given
        elif isinstance(given, cst.Name):  # a session, client or manager the caller holds
            klass = receiver_type(model, given, call.scope, call.order)
            if klass is not None and _worth_typing(model, klass):
                instances[name] = Instance(klass)
    if not instances:
        return told
    values: dict[str, Known] = dict(told)
    for name, instance in instances.items():
        # What the call tells of it stays told: that it is not None (`Value.SOME`).
        present = instance.present or values.get(name) is Value.SOME
        values[name] = Instance(instance.qualname, present)
    return tuple(sorted(values.items(), key=lambda item: item[0]))


def _used_objects(model: ModuleModel, function: FunctionInfo) -> frozenset[str]:
    """The names `function` calls methods on (`db.commit()`, `db.query(x).first()`) or hands
    to calls as they are (`helper(db)`): the parameters worth typing by what callers pass."""
    known: dict[int, frozenset[str]] = model.project.memo(f"{__name__}.used objects", dict)
    found = known.get(id(function))
    if found is None:
        used: set[str] = set()
        for call in function.calls:  # told by class name first: `isinstance` is slow here
            receiver: cst.BaseExpression = call.node.func
            while True:
                kind = type(receiver).__name__
                if kind == "Attribute" and isinstance(receiver, cst.Attribute):
                    receiver = receiver.value
                elif kind == "Call" and isinstance(receiver, cst.Call):
                    receiver = receiver.func
                else:
                    break
            if kind == "Name" and isinstance(receiver, cst.Name) and receiver is not call.node.func:
                used.add(receiver.value)
            for arg in call.node.args:
                value = arg.value
                if type(value).__name__ == "Name" and isinstance(value, cst.Name):
                    used.add(value.value)
        found = known[id(function)] = frozenset(used)
    return found


# The classes some of whose methods block, or return an object whose methods do.
_CATALOGUED = frozenset(
    {*BLOCKING_METHODS, *ALL_METHODS_BLOCK_EXCEPT, *(klass for klass, _ in _METHOD_RESULTS)}
)


def _worth_typing(model: ModuleModel, klass: str) -> bool:
    """Whether an object of `klass` may block in a helper: a catalogued class (or a subclass
    of one), or a project class, whose methods the search follows."""
    if any(_canonical_type(ancestor) in _CATALOGUED for ancestor in model.ancestors(klass)):
        return True
    return model.project.resolve_class(klass) is not None


def _handed_edges(model: ModuleModel, function: FunctionInfo, known: Context) -> list[Edge]:
    """The methods of project classes that calls in `function` run on parameters without an
    annotation that its caller handed an instance of one (`Instance`): `db.get(...)` in
    `def load(user_id, db)` called with the route's `DatabaseManager`."""
    instances = _instances(known) if known else None
    if not instances:
        return []
    edges: list[Edge] = []
    for call in function.calls:
        func = call.node.func
        if not isinstance(func, cst.Attribute):
            continue
        receiver = _handed_type(func.value, call, instances)
        target = None if receiver is None else method_of(model, receiver, func.attr.value)
        if target is not None:
            edges.append(Edge(call, target))
    return edges


def _class_label(klass: str) -> str:
    """A catalogue class as messages name it: by its own name (`Session.execute`), with its
    library's where another library's class has the same name (`requests.Session.get`,
    `sqlite3.Connection.execute`). SQLAlchemy's keep the short name: a FastAPI app's
    `Session` is most often SQLAlchemy's."""
    if klass == _UPLOAD_SPOOL:
        return "UploadFile.file"
    library, _, short = klass.rpartition(".")
    if short in _SHARED_CLASS_NAMES and not library.startswith("sqlalchemy"):
        return f"{library.partition('.')[0]}.{short}"
    return short


_SHARED_CLASS_NAMES = frozenset(
    name
    for name, count in Counter(
        klass.rpartition(".")[2] for klass in (*BLOCKING_METHODS, *ALL_METHODS_BLOCK_EXCEPT)
    ).items()
    if count > 1
)

_QUERY = "sqlalchemy.orm.Query"
_INSPECT = frozenset({"sqlalchemy.inspect", "sqlalchemy.inspection.inspect"})
_INSPECTABLE = frozenset({"sqlalchemy.engine.Engine", "sqlalchemy.engine.Connection"})
# Calls that iterate the iterable they are given (a Query runs its SQL when iterated).
_ITERATING = frozenset(
    {f"builtins.{name}" for name in ("list", "tuple", "set", "sorted", "iter", "next", "enumerate")}
)


def _query_iterated(model: ModuleModel, call: CallInfo) -> bool:
    """Whether the Query `call` builds is iterated (`for row in query`, a comprehension over
    it, `list(query)`), itself or through the local it is assigned to. A Query whose method
    is called (`.all()`, `.filter(...)`) is that call's business, and one that is only
    built (`str(query)`, `run_in_threadpool(query.all)`) runs no SQL here."""
    parents = call_parents(model.tree, [call]).get(id(call.node), ())
    if _iterates(model, call, call.node, parents):
        return True
    targets = assigned_targets(call.node, parents)
    target = targets[0] if len(targets) == 1 else None
    function = call.scope.enclosing_function()
    if function is None or not isinstance(target, cst.Name):
        return False
    bindings = function.scope.bindings.get(target.value, [])
    chains = parent_chains(function.node, [b.node for b in bindings])

    def reached(use: NameUse) -> bool:
        """Whether the Query's binding of the name reaches `use`: no binding after it runs
        on every way to `use` (one in a block that holds `use`), as in `rows =
        rows.limit(10).all()` before a loop that iterates the list."""
        at = _start(model, use.name)
        for binding in reversed([b for b in bindings if _start(model, b.node) < at]):
            if binding.value is call.node:
                return True
            parents = chains.get(id(binding.node), ())
            block = next((p for p in reversed(parents) if isinstance(p, _BLOCKS)), None)
            if any(p is block for p in use.parents):
                return False
        return False

    return any(
        reached(use) and _iterates(model, call, use.name, use.parents)
        for use in local_uses(function, target.value)
    )


_BLOCKS = (cst.IndentedBlock, cst.SimpleStatementSuite)


def _start(model: ModuleModel, node: cst.CSTNode) -> tuple[int, int]:
    start = model.position(node).start
    return start.line, start.column


def _iterates(
    model: ModuleModel, call: CallInfo, node: cst.CSTNode, parents: tuple[cst.CSTNode, ...]
) -> bool:
    parent = parents[-1] if parents else None
    if isinstance(parent, cst.For | cst.CompFor):
        return parent.iter is node
    if isinstance(parent, cst.Arg) and len(parents) >= 2 and isinstance(parents[-2], cst.Call):
        iterating = parents[-2]
        first = iterating.args[0] if iterating.args else None
        return (
            first is parent
            and model.qualified_name(iterating.func, call.scope, call.order) in _ITERATING
        )
    return False


# Waits for a child process that take options: with `os.WNOHANG` among them they return at
# once (a poll for zombies, not a wait).
_WAITS = frozenset({"os.waitpid", "os.wait3", "os.wait4", "os.waitid"})


_OPENS = frozenset({"builtins.open", "io.open"})
_KERNEL_FILES = ("/proc/", "/sys/")


_SOCKET = "socket.socket"
# What a non-blocking socket raises instead of waiting.
_WOULD_BLOCK = frozenset(
    {"builtins.BlockingIOError", "ssl.SSLWantReadError", "ssl.SSLWantWriteError"}
)


def _would_block_caught(model: ModuleModel, call: CallInfo) -> bool:
    """Whether `call` is in the body of a `try` that catches `BlockingIOError`: the socket
    is a non-blocking one (`setblocking(False)`), whose `accept`/`recv` return or raise at
    once, as an event loop's reader callback expects."""
    parents = call_parents(model.tree, [call]).get(id(call.node), ())
    for outer, inner in pairwise(parents):
        if not isinstance(outer, cst.Try) or inner is not outer.body:
            continue
        for handler in outer.handlers:
            if any(name in _WOULD_BLOCK for name in model.caught(handler, call.scope) or ()):
                return True
    return False


def _kernel_file(call: CallInfo) -> bool:
    """Whether `call` opens a literal `/proc/...` or `/sys/...` path: the kernel answers
    those from memory, with no disk or network to wait for."""
    first = call.node.args[0].value if call.node.args else None
    if isinstance(first, cst.FormattedString):  # `f"/proc/{pid}/status"`: its literal start
        parts = first.parts
        path = parts[0].value if parts and isinstance(parts[0], cst.FormattedStringText) else ""
    elif isinstance(first, cst.SimpleString):
        evaluated = first.evaluated_value
        path = evaluated if isinstance(evaluated, str) else ""
    else:
        return False
    return path.startswith(_KERNEL_FILES) and ".." not in path


def _polls(model: ModuleModel, call: CallInfo) -> bool:
    """Whether an argument of `call` is `os.WNOHANG`, alone or or-ed with other flags."""

    def no_hang(expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
            return no_hang(expr.left) or no_hang(expr.right)
        return model.qualified_name(expr, call.scope, call.order) == "os.WNOHANG"

    return any(no_hang(arg.value) for arg in call.node.args)


_MAX_RECEIVER_DEPTH = 16


def receiver_type(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None, _depth: int = 0
) -> str | None:
    """The class of a method call's receiver, also for library factories the model does not know.

    `boto3.client("s3")`, `redis.from_url(...)`, `engine.connect()` and `Path(p) / "x"` are
    typed here, since their names do not say what they return.

    Each step goes to a smaller expression or an earlier binding, so the search ends; the
    depth only bounds its cost. List routes reassign a query once per optional filter
    (`query = query.filter(...)`): sixteen of them are followed.
    """
    if _depth > _MAX_RECEIVER_DEPTH:
        return None
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
        left = receiver_type(model, expr.left, scope, order, _depth + 1)
        return left if left is not None and _canonical_type(left) == "pathlib.Path" else None
    if isinstance(expr, cst.Attribute) and expr.attr.value == "file":
        upload = receiver_type(model, expr.value, scope, order, _depth + 1)
        if upload is not None and _canonical_type(upload) == _UPLOAD:
            return _UPLOAD_SPOOL
    if isinstance(expr, cst.Attribute) and expr.attr.value in _PATH_ATTRIBUTES:
        base = receiver_type(model, expr.value, scope, order, _depth + 1)
        if base is not None and _canonical_type(base) == "pathlib.Path":
            return base
    if isinstance(expr, cst.Call):
        produced = _produced_by(model, expr, scope, order, _depth)
        if produced is not None:
            return produced
    if isinstance(expr, cst.Name):
        binding = scope.lookup(expr.value, order)
        if (
            binding is not None
            and binding.kind in (BindingKind.ASSIGN, BindingKind.WITH)
            and binding.value is not None
            and binding.annotation is None
        ):
            owner = model.scope_of_binding(binding)
            found = receiver_type(model, binding.value, owner, binding.order, _depth + 1)
            if found is not None:
                return found
    inferred: TypeRef | None = model.infer_type(expr, scope, order)
    if (inferred is None or inferred.qualname == names.ANY) and isinstance(expr, cst.Call):
        return _returned_by(model, expr, scope, order, _depth)
    if inferred is None and isinstance(expr, cst.Attribute):
        return _assigned_receiver(model, expr, scope, order, _depth)
    if inferred is None or inferred.container:
        return None
    return _canonical_type(inferred.qualname)


def _returned_by(
    model: ModuleModel, call: cst.Call, scope: Scope, order: int | None, depth: int
) -> str | None:
    """What a project function without a class in its annotation (none, or `Any`) returns,
    when every `return` of it gives the same class: `def get_client(): return boto3.client(...)`.
    """
    qualname = model.qualified_name(call.func, scope, order)
    found = model.project.resolve_function(qualname) if qualname is not None else None
    if found is None:
        return None
    owner, function = found
    if not returns_values(function):
        return None
    return agreed(
        receiver_type(owner, value, function.scope, None, depth + 1) if value else None
        for value in function.return_values
    )


def _assigned_receiver(
    model: ModuleModel, expr: cst.Attribute, scope: Scope, order: int | None, depth: int
) -> str | None:
    """`self.conn` when every `self.conn = ...` of its class but `None` gives the same
    library object (`sqlite3.connect(path)`, `self.conn.cursor()`), which the model's
    types do not know."""
    found = model.attribute_assignments(model.infer_type(expr.value, scope, order), expr.attr.value)
    if found is None:
        return None
    owner, assignments = found
    return agreed(
        receiver_type(owner, a.value, a.scope, a.order, depth + 1) if a.value is not None else None
        for a in assignments
        if not names.is_none(a.value)
    )


def _produced_by(
    model: ModuleModel, call: cst.Call, scope: Scope, order: int | None, depth: int
) -> str | None:
    qualname = model.qualified_name(call.func, scope, order)
    if qualname is not None and qualname in _FACTORIES:
        return _FACTORIES[qualname]
    if qualname in _INSPECT and call.args:
        # `inspect(engine)` reads the catalogue; `inspect(user)` of a model instance does not.
        inspected = receiver_type(model, call.args[0].value, scope, order, depth + 1)
        if inspected is not None and _canonical_type(inspected) in _INSPECTABLE:
            return _INSPECTOR
    if isinstance(call.func, cst.Attribute):
        # The receiver is a smaller part of the same expression, so the descent ends without
        # spending depth, which a long `db.query(User).filter(...)...` chain would run out of.
        owner = receiver_type(model, call.func.value, scope, order, depth)
        if owner is not None:
            return _METHOD_RESULTS.get((_canonical_type(owner), call.func.attr.value))
    return None


def _canonical_type(qualname: str) -> str:
    return _TYPE_ALIASES.get(qualname, qualname)


def offload_call(model: ModuleModel, call: CallInfo) -> bool:
    """Whether `call` hands a callable to a thread (`asyncio.to_thread`, `run_in_executor`)."""
    func = call.node.func
    if isinstance(func, cst.Attribute) and func.attr.value in OFFLOAD_METHODS:
        return True
    return model.qualified_name(func, call.scope, call.order) in OFFLOAD_FUNCTIONS


@dataclass(frozen=True)
class BlockingUse:
    """A call in a function that blocks, itself or through project functions (`via`)."""

    call: CallInfo
    via: tuple[str, ...]
    blocking: BlockingCall
    # The chain runs a coroutine (or an async generator) that blocks further down: the
    # call is not the one to hand to `asyncio.to_thread`, the blocking one inside is (a
    # plain `def` handler would still run a streamed generator's body on the loop).
    coroutine: bool = False

    def chain(self, start: str) -> str:
        """`send_digest -> render_pdf -> requests.get`."""
        return " -> ".join((start, *self.via, self.blocking.name))

    def offload(self) -> str:
        """What to move to `await asyncio.to_thread(...)`: the call itself, or, when it is a
        coroutine's, the blocking call inside it."""
        if not self.coroutine:
            return "move it to `await asyncio.to_thread(...)`"
        return f"move `{self.blocking.name}` in `{self.via[-1]}` to `await asyncio.to_thread(...)`"


def blocking_uses(
    model: ModuleModel,
    function: FunctionInfo,
    policy: BlockingPolicy,
    known: Context | None = None,
) -> list[BlockingUse]:
    """Calls in `function`'s body that block the thread running it.

    Calls handed to `asyncio.to_thread` and friends are references, not calls, and code in
    nested defs and lambdas runs only if called, so neither counts. Project functions are
    followed down the call graph: sync ones always (a generator function's but where its
    generator is handed to a response that iterates it in the threadpool), async ones where
    they are awaited (an un-awaited coroutine is someone else's task). `known` is what
    `function` is told of its parameters (`guards`; by default, its annotations).
    """

    # Each call's own answer, kept for the run: a function is searched again for each
    # context it is entered with (`guards`) and each deeper depth.
    answers: dict[BlockingPolicy, dict[int, BlockingCall | None]] = model.project.memo(
        f"{__name__}.leaves", dict
    )
    leaves = answers.setdefault(policy, {})

    def leaf(owner: ModuleModel, call: CallInfo, told: Context) -> BlockingCall | None:
        key = id(call)
        if key not in leaves:
            leaves[key] = None if _runs_once(call) else blocking_call(owner, call, policy)
        found = leaves[key]
        instances = _instances(told) if found is None and told else None
        if instances and not _runs_once(call):
            return _handed_call(owner, call, policy, instances)
        return found

    def follow(caller: ModuleModel, target: Target, call: CallInfo) -> bool:
        if memoized(target) or _runs_once(call):
            return False
        if target.function.is_async:  # awaited (an `async with` too), or iterated here
            if target.function.is_generator:
                return call.awaited or _iterated_on_loop(caller, call)
            return call.awaited or _awaited_through(caller, call)
        return not (target.function.is_generator and _iterated_later(caller, call))

    chains: dict[BlockingPolicy, ChainMemo[BlockingCall]] = model.project.memo(
        f"{__name__}.chains", dict
    )
    memo = chains.setdefault(policy, {})
    found: list[BlockingUse] = []
    known = entry_context(model, function) if known is None else known
    edges: dict[int, list[Edge]] = {}
    for edge in _edges(model, function, known):
        edges.setdefault(id(edge.call), []).append(edge)
    spans = ruled_out(model, function, known)
    for call in function.calls:
        if not runs(call, spans):
            continue
        direct = leaf(model, call, known)
        if direct is not None:
            found.append(BlockingUse(call, (), direct))
            continue
        shortest: tuple[Edge, Chain[BlockingCall]] | None = None
        for edge in edges.get(id(call), ()):  # `Store()` in a `with`: three methods it runs
            if not follow(model, edge.target, call):
                continue
            told = _told(call, edge.target, function, known, model)
            chain = find_chain(edge.target, leaf, follow, _edges, _told, memo, told)
            if chain is not None and (
                shortest is None or len(chain.edges) < len(shortest[1].edges)
            ):
                shortest = (edge, chain)
        if shortest is not None:
            edge, chain = shortest
            names = (edge.target.function.name, *chain.names())
            runs_later = any(e.target.function.is_async for e in (edge, *chain.edges))
            found.append(BlockingUse(call, names, chain.leaf, runs_later))
    return found


# Decorators that keep a function's result: its body runs once per process (and argument).
_MEMOIZING = frozenset({"functools.cache", "functools.lru_cache"})


def _runs_once(call: CallInfo) -> bool:
    """Whether `call` fills a cache lazily (`if _client is None: _client = Client()`, or
    per key, `if key not in self._cache:`): it runs on the first call of its function
    only (for that key), like a cached one's body."""
    function = call.scope.enclosing_function()
    return function is not None and any(first < call.order <= last for first, last in function.once)


def memoized(target: Target) -> bool:
    """Whether `@functools.cache`/`@lru_cache(...)` decorates `target`: what its body
    blocks on (a prompt file, a settings read), it blocks on once, on the first call, not
    per request or task run."""
    function = target.function
    known: dict[int, bool] = target.model.project.memo(f"{__name__}.memoized", dict)
    found = known.get(id(function))
    if found is None:
        found = known[id(function)] = any(
            target.model.decorator_name(decorator, function.parent_scope) in _MEMOIZING
            for decorator in function.decorators
        )
    return found


# Responses that iterate a sync iterable body in Starlette's threadpool, not on the loop.
_ITERATED_IN_THREADPOOL = frozenset(
    {
        "starlette.responses.StreamingResponse",
        "sse_starlette.EventSourceResponse",
        "sse_starlette.sse.EventSourceResponse",
    }
)


def _iterated_later(model: ModuleModel, call: CallInfo) -> bool:
    """Whether the generator `call` makes is the body of a response that iterates it in the
    threadpool (`StreamingResponse(read_chunks())`, also through a local bound once to it
    and read only there): its function's body does not run here."""
    response = call.argument_of
    if response is not None:
        return _iterates_in_threadpool(model, response, call)
    function = call.scope.enclosing_function()
    local = _bound_once_to(function, call) if function is not None else None
    if function is None or local is None:
        return False
    uses = local_uses(function, local)
    return bool(uses) and all(
        (outer := use.argument_of()) is not None and _iterates_in_threadpool(model, outer, call)
        for use in uses
    )


def _iterates_in_threadpool(model: ModuleModel, response: cst.Call, call: CallInfo) -> bool:
    qualname = model.qualified_name(response.func, call.scope, call.order)
    return names.canonical(qualname or "") in _ITERATED_IN_THREADPOOL


def _bound_once_to(function: FunctionInfo, call: CallInfo) -> str | None:
    """The local of `function` whose one binding is `name = <call>`, if any."""
    for name, bindings in function.scope.bindings.items():
        if len(bindings) == 1 and bindings[0].value is call.node:
            return name if bindings[0].kind is BindingKind.ASSIGN else None
    return None


def _awaited_through(model: ModuleModel, call: CallInfo) -> bool:
    """Whether the coroutine `call` makes is handed to `asyncio.gather`, `wait_for` or
    `shield`, which run it on the loop of the coroutine awaiting them."""
    outer = call.argument_of
    return outer is not None and (
        model.qualified_name(outer.func, call.scope, call.order) in names.AWAITING_COROUTINES
    )


def _iterated_on_loop(model: ModuleModel, call: CallInfo) -> bool:
    """Whether the async generator `call` makes runs its body on this loop: iterated by an
    `async for` here, or the body of a streaming response, which Starlette iterates on the
    loop as it sends it (an async iterable never goes to the threadpool)."""
    if _iterated_later(model, call):
        return True
    known: dict[int, bool] = model.project.memo(f"{__name__}.async for", dict)
    found = known.get(id(call))
    if found is None:
        parents = call_parents(model.tree, [call]).get(id(call.node), ())
        loop = parents[-1] if parents else None
        found = known[id(call)] = (
            isinstance(loop, cst.For) and loop.asynchronous is not None and loop.iter is call.node
        )
    return found


def _edges(model: ModuleModel, function: FunctionInfo, known: Context) -> list[Edge]:
    """The project functions a call in `function` runs, constructors included, and the
    methods it runs on objects its caller handed it (`_handed_edges`)."""
    edges = [
        *callees(model, function),
        *constructor_edges(model, function),
        *entered_edges(model, function),
    ]
    handed = _handed_edges(model, function, known)
    if handed:
        resolved = {id(edge.call) for edge in edges}
        edges.extend(edge for edge in handed if id(edge.call) not in resolved)
    return edges


def call_label(model: ModuleModel, call: cst.Call) -> str:
    """A call as messages show it: `` `time.sleep(3)` ``, or `` `emails.send(...)` `` when long
    (`` `emails.send()` `` when it has no arguments, which `(...)` would suggest)."""
    code = one_line(model.code_for(call))
    return f"`{code if len(code) <= 40 else _shortened(model, call)}`"


def _shortened(model: ModuleModel, expr: cst.BaseExpression) -> str:
    """`expr` with every call's arguments shown as `(...)`: `db.query(...).filter(...).first()`."""
    if isinstance(expr, cst.Call):
        return _shortened(model, expr.func) + ("(...)" if expr.args else "()")
    if isinstance(expr, cst.Attribute):
        return f"{_shortened(model, expr.value)}.{expr.attr.value}"
    return one_line(model.code_for(expr))

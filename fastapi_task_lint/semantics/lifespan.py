"""The app's lifecycle: its lifespan, its startup/shutdown handlers, and what they call.

A call runs in one or more contexts: at import (module level), under the `__main__` guard,
in the lifespan before or after its `yield`, or in an `on_event("startup"/"shutdown")`
handler. Functions called from a hook take the context of the call site, a few levels down
and across modules. Hooks are found in every module of the run, once per run: given to an
app's constructor, or to an app factory that hands its parameter on to one
(`create_app(lifespan=lifespan)`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import libcst as cst

from fastapi_task_lint.semantics import names
from fastapi_task_lint.semantics.byte_filters import static_filter
from fastapi_task_lint.semantics.callgraph import (
    Target,
    callees,
    resolve_callee,
    resolve_function_ref,
)
from fastapi_task_lint.semantics.calls import made_function
from fastapi_task_lint.semantics.functions import CallInfo, FunctionInfo, ParamInfo
from fastapi_task_lint.semantics.mentions import assigning, naming
from fastapi_task_lint.semantics.routes import _APP_TYPES
from fastapi_task_lint.semantics.scheduling import bind_call_arguments, partial_parts
from fastapi_task_lint.semantics.scope import BindingKind, Scope
from fastapi_task_lint.semantics.uses import assigned_targets, call_parents, is_local, local_uses
from fastapi_task_lint.semantics.walk import OwnCodeVisitor, walk

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel
    from fastapi_task_lint.semantics.project import ProjectIndex

APP_CLASSES = names.APP_CLASSES
_ROUTER_CLASSES = frozenset({"fastapi.APIRouter", "starlette.routing.Router"})
# How far calls are followed from a hook (the lifespan calls `start_jobs()`, which calls ...).
_MAX_LEVELS = 3
# A hook is registered by a keyword of an app's or router's constructor (`lifespan=...`) or
# by a method that adds a handler, each a whole identifier.
_HOOK_KEYWORDS = ("lifespan", "on_startup", "on_shutdown")
_HOOK_METHODS = ("on_event", "add_event_handler")
# Starlette's router keeps the lifespan in `lifespan_context`, which an app's code may set
# itself (`app.router.lifespan_context = lifespan`).
_LIFESPAN_ATTRIBUTE = "lifespan_context"
_GIVES_HOOK = assigning((*_HOOK_KEYWORDS, _LIFESPAN_ATTRIBUTE))
_NAMES_HOOK_METHOD = naming(_HOOK_METHODS)


def may_register_hooks(data: bytes) -> bool:
    """The lifecycle scan's prefilter: a hook keyword given a value, or a hook method.

    A module that only names `lifespan` (Starlette's own machinery, a lifespan function
    another module's app is given, a read of `lifespan_context`) registers none: 14 of the
    corpus's files pass (one sets `lifespan_context`), against 51 that name a hook and 99
    that spell one. Each test searches for
    the names first and tries its regex only where one occurs: half the time of one regex
    searched over every file (0.06 s against 0.12 s on the corpus).
    """
    return _GIVES_HOOK(data) or _NAMES_HOOK_METHOD(data)


_HOOK_REGISTRATIONS = static_filter("hook registrations", may_register_hooks)


class Context(Enum):
    IMPORT = "import"  # module level: runs on every import of the module
    MAIN = "main"  # under `if __name__ == "__main__":`
    LIFESPAN_STARTUP = "lifespan-startup"  # in the lifespan, before `yield`
    LIFESPAN_SHUTDOWN = "lifespan-shutdown"  # in the lifespan, after `yield`
    STARTUP_EVENT = "startup-event"  # in an `on_event("startup")` handler
    SHUTDOWN_EVENT = "shutdown-event"  # in an `on_event("shutdown")` handler


STARTUP = frozenset({Context.LIFESPAN_STARTUP, Context.STARTUP_EVENT})
SHUTDOWN = frozenset({Context.LIFESPAN_SHUTDOWN, Context.SHUTDOWN_EVENT})


@dataclass(frozen=True)
class Hook:
    """A function the app runs around its life: `kind` is lifespan, startup or shutdown."""

    model: ModuleModel
    function: FunctionInfo
    kind: str
    registration: cst.CSTNode

    def describe(self) -> str:
        if self.kind == "lifespan":
            return f"lifespan `{self.function.name}`"
        return f"{self.kind} handler `{self.function.name}`"


@dataclass
class Lifecycle:
    """Every hook of the run, and the contexts in which hooks reach other functions."""

    hooks: list[Hook] = field(default_factory=list)
    reached: dict[FunctionInfo, set[Context]] = field(default_factory=dict)
    # The hook each reached function was first reached from (for messages).
    reached_from: dict[FunctionInfo, Hook] = field(default_factory=dict)
    hook_of: dict[FunctionInfo, list[Hook]] = field(default_factory=dict)
    # id(call node) -> before/after `yield`, for calls in a lifespan function or in a
    # `@asynccontextmanager` the lifespan enters.
    lifespan_phase: dict[int, Context] = field(default_factory=dict)
    models: list[ModuleModel] = field(default_factory=list)


def lifecycle(project: ProjectIndex) -> Lifecycle:
    return project.memo("lifespan.lifecycle", lambda: _build(project))


def call_contexts(model: ModuleModel, call: CallInfo) -> frozenset[Context]:
    """Every context in which `call` runs, as far as the project shows."""
    function = call.scope.enclosing_function()
    if function is None:
        return frozenset({Context.MAIN if id(call.node) in _main_calls(model) else Context.IMPORT})
    return function_contexts(model, function, call.node)


def function_contexts(
    model: ModuleModel, function: FunctionInfo, node: cst.CSTNode | None = None
) -> frozenset[Context]:
    """The contexts `function`'s body runs in; `node` picks the lifespan phase of a call."""
    found = lifecycle(model.project)
    contexts = set(found.reached.get(function, ()))
    for hook in found.hook_of.get(function, ()):
        if hook.kind == "startup":
            contexts.add(Context.STARTUP_EVENT)
        elif hook.kind == "shutdown":
            contexts.add(Context.SHUTDOWN_EVENT)
        else:
            contexts.add(Context.LIFESPAN_STARTUP)
    after_yield = node is not None and (
        found.lifespan_phase.get(id(node)) is Context.LIFESPAN_SHUTDOWN
    )
    if after_yield and Context.LIFESPAN_STARTUP in contexts:
        # The lifespan (or a context manager it enters) runs this part at shutdown.
        contexts.discard(Context.LIFESPAN_STARTUP)
        contexts.add(Context.LIFESPAN_SHUTDOWN)
    return frozenset(contexts)


def hook_for(model: ModuleModel, function: FunctionInfo) -> Hook | None:
    """The hook `function` is, or the first one that reaches it."""
    found = lifecycle(model.project)
    hooks = found.hook_of.get(function)
    return hooks[0] if hooks else found.reached_from.get(function)


def shows_lifecycle(model: ModuleModel) -> bool:
    """Whether the run shows the lifespan or startup handlers of `model`'s application: a
    hook registered in a module imported from the same directory. Applications checked in one
    run (a monorepo's services, several projects) do not vouch for each other's lifecycle."""
    root = _import_root(model)
    return any(_import_root(hook.model) == root for hook in lifecycle(model.project).hooks)


def _import_root(model: ModuleModel) -> Path:
    """The directory `model` is imported from: its top-level package's parent."""
    return model.absolute_path.parents[model.module_name.count(".") + model.is_package]


def creates_app(model: ModuleModel) -> bool:
    """Whether the module builds a FastAPI/Starlette application."""
    return any(model.resolve_call(call) in APP_CLASSES for call in model.calls)


def imports_fastapi(model: ModuleModel) -> bool:
    """Whether the module imports FastAPI or Starlette: it is part of a web app."""
    return any(
        binding.kind is BindingKind.IMPORT
        and (binding.imported or "").split(".", 1)[0] in ("fastapi", "starlette")
        for bindings in model.module_scope.bindings.values()
        for binding in bindings
    )


# -- building -------------------------------------------------------------------------------
def _build(project: ProjectIndex) -> Lifecycle:
    result = Lifecycle()
    for model in project.models(where=_HOOK_REGISTRATIONS):
        result.hooks.extend(_module_hooks(model))
    for hook in result.hooks:
        result.hook_of.setdefault(hook.function, []).append(hook)
        if hook.kind == "lifespan":
            result.lifespan_phase.update(_yield_phases(hook.function))
    models: dict[int, ModuleModel] = {id(h.model): h.model for h in result.hooks}
    for hook in result.hooks:
        for model, function, context in _reached(hook, result.lifespan_phase):
            result.reached.setdefault(function, set()).add(context)
            result.reached_from.setdefault(function, hook)
            models.setdefault(id(model), model)
    result.models = list(models.values())
    return result


def _reached(
    hook: Hook, phases: dict[int, Context]
) -> list[tuple[ModuleModel, FunctionInfo, Context]]:
    """Functions called from `hook` (up to `_MAX_LEVELS` deep) and the context of each.

    A function passed by reference (`asyncio.to_thread(start_jobs)`) counts as called. In a
    `@contextmanager` the lifespan enters, calls after its `yield` run at shutdown; `phases`
    receives their split.
    """
    base = {"startup": Context.STARTUP_EVENT, "shutdown": Context.SHUTDOWN_EVENT}.get(hook.kind)
    found: list[tuple[ModuleModel, FunctionInfo, Context]] = []
    queue: deque[tuple[ModuleModel, FunctionInfo, Context | None, int]] = deque(
        [(hook.model, hook.function, base, 0)]
    )
    seen: set[tuple[int, Context | None]] = {(id(hook.function), base)}
    while queue:
        model, function, context, level = queue.popleft()
        if level >= _MAX_LEVELS:
            continue
        for call, callee in _called(model, function):
            here = phases.get(id(call.node), context or Context.LIFESPAN_STARTUP)
            if context not in (None, Context.LIFESPAN_STARTUP):
                here = context
            key = (id(callee.function), here)
            if key in seen:
                continue
            seen.add(key)
            if here is Context.LIFESPAN_STARTUP and _is_context_manager(callee):
                phases.update(_yield_phases(callee.function))
            found.append((callee.model, callee.function, here))
            queue.append((callee.model, callee.function, here, level + 1))
    return found


def _called(model: ModuleModel, function: FunctionInfo) -> list[tuple[CallInfo, Target]]:
    """Project functions `function` calls, or hands to a call as an argument."""
    result = [(edge.call, edge.target) for edge in callees(model, function)]
    for call in function.calls:
        for arg in call.node.args:
            if isinstance(arg.value, (cst.Name, cst.Attribute)):
                target = resolve_function_ref(model, arg.value, call.scope, call.order)
                if target is not None:
                    result.append((call, target))
    return result


def _is_context_manager(target: Target) -> bool:
    function = target.function
    return function.is_generator and any(
        target.model.decorator_name(decorator, function.parent_scope) in _CONTEXT_MANAGER_DECORATORS
        for decorator in function.decorators
    )


_CONTEXT_MANAGER_DECORATORS = frozenset(
    {"contextlib.asynccontextmanager", "contextlib.contextmanager"}
)


def _module_hooks(model: ModuleModel) -> list[Hook]:
    hooks: list[Hook] = []
    for call in model.calls:
        if _builds_app(model, call):
            hooks.extend(_constructor_hooks(model, call))
        elif _is_app_method(model, call.node, call.scope, call.order, "add_event_handler"):
            args = [a.value for a in call.node.args if a.keyword is None]
            kind = _string(args[0]) if args else None
            if kind in ("startup", "shutdown") and len(args) > 1:
                hooks.extend(_hook(model, args[1], call.scope, call.order, kind, call.node))
        elif next(_hook_arguments(call.node), None) is not None:
            hooks.extend(_factory_hooks(model, call))
    for owner, assignment in model.assignments_to(_LIFESPAN_ATTRIBUTE):
        if owner.rpartition(".")[2] == "router" and assignment.value is not None:
            value = assignment.value
            hooks.extend(_hook(model, value, assignment.scope, assignment.order, "lifespan", value))
    for function in model.functions:
        for decorator in function.decorators:
            if not isinstance(decorator, cst.Call) or not _is_app_method(
                model, decorator, function.parent_scope, None, "on_event"
            ):
                continue
            args = [a.value for a in decorator.args if a.keyword is None]
            kind = _string(args[0]) if args else None
            if kind in ("startup", "shutdown"):
                hooks.append(Hook(model, function, kind, decorator))
    return hooks


def _builds_app(model: ModuleModel, call: CallInfo) -> bool:
    """Whether `call` builds an app or a router: of their classes, or, when it is given
    hooks, of a project subclass of one (cowork-server's `LoggingApp(lifespan=...)`, whose
    constructor takes the same hooks; most calls are not asked for their bases)."""
    qualname = model.resolve_call(call)
    if qualname in APP_CLASSES or qualname in _ROUTER_CLASSES:
        return True
    if qualname is None or next(_hook_arguments(call.node), None) is None:
        return False
    bases = model.ancestors(qualname)
    return bool(bases & APP_CLASSES or bases & _ROUTER_CLASSES)


def _constructor_hooks(model: ModuleModel, call: CallInfo) -> list[Hook]:
    hooks: list[Hook] = []
    for keyword, value in _hook_arguments(call.node):
        hooks.extend(_given_hooks(model, keyword, value, call.scope, call.order, call.node))
    return hooks


def _hook_arguments(node: cst.Call) -> Iterator[tuple[str, cst.BaseExpression]]:
    """`(keyword, value)` of each `lifespan=`, `on_startup=` or `on_shutdown=` of a call."""
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value in _HOOK_KEYWORDS:
            yield arg.keyword.value, arg.value


def _given_hooks(
    model: ModuleModel,
    keyword: str,
    value: cst.BaseExpression,
    scope: Scope,
    order: int | None,
    registration: cst.CSTNode,
) -> list[Hook]:
    """The hooks `value`, given to an app's constructor as `keyword=`, registers."""
    if keyword == "lifespan":
        return _hook(model, value, scope, order, "lifespan", registration)
    if not isinstance(value, (cst.List, cst.Tuple)):
        return []
    kind = keyword[3:]
    return [
        hook
        for element in value.elements
        for hook in _hook(model, element.value, scope, order, kind, registration)
    ]


def _factory_hooks(model: ModuleModel, call: CallInfo) -> list[Hook]:
    """The hooks `call` hands an app factory that gives them on to the app it builds:
    `create_app(lifespan=lifespan)` with `def create_app(lifespan): return FastAPI(...,
    lifespan=lifespan)`. One level: a factory that hands them to another is not followed."""
    factory = resolve_callee(model, call)
    if factory is None:
        return []
    bound = bind_call_arguments(factory.function, call.node.func, call.node.args)
    hooks: list[Hook] = []
    for inner in factory.function.calls:
        if not _builds_app(factory.model, inner):
            continue
        for keyword, value in _hook_arguments(inner.node):
            param = _parameter_named(factory.model, factory.function, value, inner)
            if param is None:
                continue
            for given in bound.get(param, ()):
                hooks.extend(
                    _given_hooks(model, keyword, given.value, call.scope, call.order, call.node)
                )
    return hooks


def _parameter_named(
    model: ModuleModel, function: FunctionInfo, expr: cst.BaseExpression, call: CallInfo
) -> str | None:
    """The parameter of `function` that `expr`, an argument of `call` in its body, names."""
    if not isinstance(expr, cst.Name):
        return None
    binding = call.scope.lookup(expr.value, call.order)
    if binding is None or binding.kind is not BindingKind.PARAM or binding.param is None:
        return None
    if binding.param.star or model.scope_of_binding(binding).function is not function:
        return None
    return binding.param.name


def _hook(
    model: ModuleModel,
    expr: cst.BaseExpression,
    scope: Scope,
    order: int | None,
    kind: str,
    registration: cst.CSTNode,
) -> list[Hook]:
    """The hook `expr` names: a function by any name, a `def` nested in the app factory
    (`FastAPI(lifespan=lifespan)` in `create_app`), one a `functools.partial` wraps
    (llamafactory's `partial(lifespan, chat_model=...)`), or the one a factory's call
    makes (`FastAPI(lifespan=build_lifespan())`)."""
    partial = partial_parts(model, expr, scope, order)
    if partial is not None:
        expr = partial.wrapped
    if isinstance(expr, cst.Call):
        found = made_function(model, expr, scope, order)
    else:
        target = resolve_function_ref(model, expr, scope, order)
        found = (target.model, target.function) if target is not None else None
    return [Hook(found[0], found[1], kind, registration)] if found else []


def _is_app_method(
    model: ModuleModel, call: cst.Call, scope: Scope, order: int | None, method: str
) -> bool:
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value != method:
        return False
    receiver = func.value
    if isinstance(receiver, cst.Attribute) and receiver.attr.value == "router":
        receiver = receiver.value  # `app.router.add_event_handler(...)`
    return model.is_instance(model.infer_type(receiver, scope, order), _APP_TYPES)


def _string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _yield_phases(function: FunctionInfo) -> dict[int, Context]:
    """Calls of a lifespan function before and after its (first) `yield`, in source order."""
    visitor = _YieldPhases()
    walk(function.node.body, visitor)
    return visitor.phases


class _YieldPhases(OwnCodeVisitor):
    def __init__(self) -> None:
        self.phases: dict[int, Context] = {}
        self.after = False

    def leave_Yield(self, original_node: cst.Yield) -> None:
        self.after = True

    def visit_Call(self, node: cst.Call) -> None:
        self.phases[id(node)] = (
            Context.LIFESPAN_SHUTDOWN if self.after else Context.LIFESPAN_STARTUP
        )


def _main_calls(model: ModuleModel) -> set[int]:
    """Calls under a module-level `if __name__ == "__main__":`."""
    cached = _MAIN_CALLS.get(model)
    if cached is None:
        collector = _CallIds()
        for statement in model.tree.body:
            if isinstance(statement, cst.If) and _is_main_guard(statement.test):
                walk(statement.body, collector)
        cached = _MAIN_CALLS[model] = collector.ids
    return cached


_MAIN_CALLS: WeakKeyDictionary[ModuleModel, set[int]] = WeakKeyDictionary()


def _is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    left, right = test.left, test.comparisons[0].comparator
    sides = {
        left.value if isinstance(left, cst.Name) else _string(left),
        right.value if isinstance(right, cst.Name) else _string(right),
    }
    return sides == {"__name__", "__main__"}


class _CallIds(cst.CSTVisitor):
    def __init__(self) -> None:
        self.ids: set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        self.ids.add(id(node))


def object_key(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None
) -> str | None:
    """A name for the object `expr` denotes that is the same wherever the code reaches it.

    `scheduler` (module-level, or imported from there), `app.state.scheduler` and a local
    of one function each get one key, so a `.start()` can be matched with its `.shutdown()`
    in another function or module. None when the object cannot be named.
    """
    if isinstance(expr, cst.Attribute):
        base = object_key(model, expr.value, scope, order)
        return f"{base}.{expr.attr.value}" if base else None
    if not isinstance(expr, cst.Name):
        return None
    if model.is_instance(model.infer_type(expr, scope, order), APP_CLASSES):
        return "<app>"  # the lifespan's `app` parameter is the module's `app`
    binding = scope.lookup(expr.value, order)
    if binding is None:
        return None
    if binding.kind is BindingKind.IMPORT and binding.imported:
        return names.canonical(binding.imported)
    owner = model.scope_of_binding(binding)
    if owner.parent is None:
        return f"{model.module_name}.{expr.value}"
    function = owner.function
    if (
        binding.kind is BindingKind.PARAM
        and function is not None
        and function.klass is not None
        and binding.param is not None
        and binding.param.position == 0
    ):
        return f"{function.klass.qualname}.<self>"
    if binding.kind is BindingKind.PARAM and function is not None and binding.param is not None:
        return f"{function.qualname}.<param {binding.param.position}>"
    if (
        binding.kind is BindingKind.ASSIGN
        and isinstance(binding.value, cst.Name | cst.Attribute)
        and (
            binding.annotation is None
            or model.qualified_name(binding.annotation, owner) in names.TYPE_QUALIFIERS
        )
    ):
        # `task = c.monitor_task` (or `task: Final = ...`): a local that names another
        # object's attribute is it.
        aliased = object_key(model, binding.value, owner, binding.order)
        if aliased is not None:
            return aliased
    return f"{function.qualname if function else model.module_name}.<local {expr.value}>"


def object_keys(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None
) -> frozenset[str] | None:
    """`object_key` of `expr`, plus where a local holding it is stored (`app.state.x = s`),
    and where callers keep the result of the function `expr` is in when it returns the object
    (`scheduler = start_jobs()`).

    None when the object cannot be named, or when a local holding it is handed to other
    code (an argument, a container, a return): that code may release it.
    """
    key = object_key(model, expr, scope, order)
    if key is None:
        return None
    function = scope.enclosing_function()
    if function is None:
        return frozenset({key})
    if not isinstance(expr, cst.Name) or not is_local(function, expr.value):
        keys = {key, *_returned_to(model, function, frozenset({key}))}
        return frozenset(keys) | _as_handed(_application_models(model), function, keys)
    keys = {key}
    for use in local_uses(function, expr.value):
        parent = use.parent
        if use.nested:
            return None
        if use.method_call() is not None or isinstance(parent, cst.Await):
            continue
        if _only_tested(parent, use.name):  # `assert task is not None`: handed to no code
            continue
        if isinstance(parent, cst.Assign) and parent.value is use.name:
            for target in parent.targets:
                alias = object_key(model, target.target, scope, None)
                if alias is None:
                    return None
                keys.add(alias)
            continue
        return None
    return frozenset(keys) | _as_handed(_application_models(model), function, keys)


def _only_tested(parent: cst.CSTNode | None, name: cst.Name) -> bool:
    """Whether the read `name` (under `parent`) only tests the object: compared (`is not
    None`), negated, or the test of an `assert`, `if` or `while`."""
    if isinstance(parent, cst.Comparison):
        return True
    if isinstance(parent, cst.UnaryOperation):
        return isinstance(parent.operator, cst.Not)
    return isinstance(parent, cst.Assert | cst.If | cst.While) and parent.test is name


def release_calls(
    model: ModuleModel, keys: frozenset[str], methods: frozenset[str], anywhere: bool = False
) -> list[tuple[ModuleModel, CallInfo]]:
    """`<obj>.shutdown()`-style calls on the object `keys` name that may run at shutdown.

    Searched in `model` and in every module of its application (imported from the same
    directory) with a hook or a function a hook reaches. A call counts after the lifespan's
    `yield`, in a shutdown handler, in `atexit.register`, or in a function the lifecycle does
    not reach (its caller is unknown); with `anywhere`, wherever it is. A receiver that cannot
    be named may be the object, so it counts too; so does a parameter (or its attribute) of a
    helper that some call hands the object to: `stop_jobs(scheduler)`.
    """
    candidates = _application_models(model)
    result: list[tuple[ModuleModel, CallInfo]] = []
    for candidate in candidates:
        for call in candidate.calls:
            func = _released_method(candidate, call)
            if func is None or func.attr.value not in methods:
                continue
            other = object_key(candidate, func.value, call.scope, call.order)
            if (
                other is not None
                and other not in keys
                and not _handed_in(candidates, call, other, keys)
            ):
                continue
            if other is None and _own_method(candidate, func, call):
                continue
            contexts = call_contexts(candidate, call)
            at_exit = func is not call.node.func
            if anywhere or at_exit or not contexts or contexts & SHUTDOWN:
                result.append((candidate, call))
    return result


def _own_method(model: ModuleModel, func: cst.Attribute, call: CallInfo) -> bool:
    """Whether the receiver that cannot be named is typed as a project class that defines
    the method itself (`players[did].stop()` with `players: dict[str, Player]`): that is
    the class's own release, not the released object's."""
    receiver = model.infer_type(func.value, call.scope, call.order)
    return receiver is not None and model.method_of(receiver, func.attr.value) is not None


def _application_models(model: ModuleModel) -> list[ModuleModel]:
    """`model` first, then every module of its application (imported from the same
    directory) with a hook or a function a hook reaches: where its object may be released."""
    root = _import_root(model)
    return list(
        {
            id(model): model,
            **{id(m): m for m in lifecycle(model.project).models if _import_root(m) == root},
        }.values()
    )


def _returned_to(
    model: ModuleModel, function: FunctionInfo, keys: frozenset[str]
) -> frozenset[str]:
    """Where callers keep the result of `function` (`object_key` of `s` in `s = start()`,
    `s = await start()`, `app.state.s = start()`) when it returns the object `keys` name:
    a release of what a helper returns releases the object the helper started."""
    if not any(
        value is not None and object_key(model, value, function.scope, None) in keys
        for value in function.return_values
    ):
        return frozenset()
    models = _application_models(model)
    known: dict[tuple[int, int], frozenset[str]] = model.project.memo(
        f"{__name__}.returned_to", dict
    )
    memo_key = (id(function), id(models[0]))
    found = known.get(memo_key)
    if found is None:
        found = known[memo_key] = frozenset(_result_holders(models, function))
    return found


def _result_holders(models: Sequence[ModuleModel], function: FunctionInfo) -> set[str]:
    """`object_key` of each target that calls among `models` assign `function`'s result to,
    awaited or not."""
    holders: set[str] = set()
    for model in models:
        calls = [
            call
            for call in model.calls
            if _may_call(model, call, function.name)
            and (callee := resolve_callee(model, call)) is not None
            and callee.function is function
        ]
        chains = call_parents(model.tree, calls)
        for call in calls:
            for target in assigned_targets(call.node, chains.get(id(call.node), ())):
                key = object_key(model, target, call.scope, None)
                if key is not None:
                    holders.add(key)
    return holders


def _handed_in(
    models: Sequence[ModuleModel], release: CallInfo, key: str, keys: frozenset[str]
) -> bool:
    """Whether `key`, the receiver of `release`, is a parameter (or its attribute) of the
    function `release` is in, and some call among `models` hands that function the object
    `keys` name (positionally or by keyword)."""
    function = release.scope.enclosing_function()
    return function is not None and not _as_handed(models, function, {key}).isdisjoint(keys)


def _as_handed(
    models: Sequence[ModuleModel], function: FunctionInfo, keys: Iterable[str]
) -> frozenset[str]:
    """Each of `keys` that is a parameter of `function` (or its attribute), named as the
    objects calls among `models` hand to it: `client.task` in `start(client)` is also
    `app_client.task` where `start(app_client)` is called."""
    named: set[str] = set()
    for key in keys:
        for param in function.params:
            own = f"{function.qualname}.<param {param.position}>"
            if param.star or not (key == own or key.startswith(f"{own}.")):
                continue
            suffix = key[len(own) :]
            named.update(f"{handed}{suffix}" for handed in _handed(models, function, param))
    return frozenset(named)


def _handed(
    models: Sequence[ModuleModel], function: FunctionInfo, param: ParamInfo
) -> frozenset[str]:
    """The objects (`object_key`) calls among `models` hand to `function` as `param`; kept
    per function for the run, as every start of a scheduler or task asks again."""
    known: dict[tuple[int, int, int], frozenset[str]] = models[0].project.memo(
        f"{__name__}.handed", dict
    )
    memo_key = (id(function), param.position, id(models[0]))
    found = known.get(memo_key)
    if found is None:
        handed: set[str] = set()
        for model in models:
            for call in model.calls:
                if not _may_call(model, call, function.name):
                    continue
                target = resolve_callee(model, call)
                if target is None or target.function is not function:
                    continue
                arguments = bind_call_arguments(function, call.node.func, call.node.args)
                for argument in arguments.get(param.name, ()):
                    key = object_key(model, argument.value, call.scope, call.order)
                    if key:
                        handed.add(key)
        found = known[memo_key] = frozenset(handed)
    return found


def _may_call(model: ModuleModel, call: CallInfo, name: str) -> bool:
    """Whether `call` may call a function called `name`: it says the name, or calls a name
    imported as it (`from jobs import stop as stop_jobs`). Spares resolving every call."""
    func = call.node.func
    if isinstance(func, cst.Attribute):
        return func.attr.value == name
    if not isinstance(func, cst.Name):
        return False
    if func.value == name:
        return True
    binding = call.scope.lookup(func.value, call.order)
    return (
        binding is not None
        and binding.kind is BindingKind.IMPORT
        and (binding.imported or "").rpartition(".")[2] == name
    )


def _released_method(model: ModuleModel, call: CallInfo) -> cst.Attribute | None:
    """`obj.method` of `obj.method()`, or of `atexit.register(obj.method)`."""
    func = call.node.func
    if isinstance(func, cst.Attribute):
        if func.attr.value != "register" or (
            model.qualified_name(func, call.scope, call.order) != "atexit.register"
        ):
            return func
        args = call.node.args
        if args and isinstance(args[0].value, cst.Attribute):
            return args[0].value
    return None


# -- background loops the app starts ------------------------------------------------------
SLEEPS = frozenset({"asyncio.sleep", "asyncio.tasks.sleep", "anyio.sleep", "trio.sleep"})
# Decorators that turn a function into an endless loop started with `ensure_future`.
REPEAT_DECORATORS = frozenset(
    {
        "fastapi_utils.tasks.repeat_every",
        "fastapi_utilities.repeat_every",
        "fastapi_utilities.repeat_utils.repeat_every.repeat_every",
    }
)


def periodic_loop(model: ModuleModel, function: FunctionInfo) -> cst.While | None:
    """The `while True:` of an `async def` that sleeps each round and never breaks out."""
    if not function.is_async or not isinstance(function.node, cst.FunctionDef):
        return None
    finder = _LoopFinder()
    walk(function.node.body, finder)
    for loop in finder.loops:
        sleeps = _LoopBody()
        walk(loop.body, sleeps)
        if sleeps.exits:
            continue
        if any(
            model.qualified_name(call.func, function.scope) in SLEEPS for call in sleeps.awaited
        ):
            return loop
    return None


def repeat_decorator(model: ModuleModel, function: FunctionInfo) -> cst.BaseExpression | None:
    """A `@repeat_every(...)` decorator on `function` (fastapi-utils, fastapi-utilities)."""
    for decorator in function.decorators:
        if model.decorator_name(decorator, function.parent_scope) in REPEAT_DECORATORS:
            return decorator
    return None


def repeat_wrapped(model: ModuleModel, call: CallInfo) -> cst.Call | None:
    """The `repeat_every(...)` call that wrapped what `call` runs, applied as a call rather
    than with `@`: `refresh = repeat_every(seconds=60)(refresh)`, then `await refresh()`."""
    func = call.node.func
    binding = call.scope.lookup(func.value, call.order) if isinstance(func, cst.Name) else None
    value = binding.value if binding is not None and binding.kind is BindingKind.ASSIGN else None
    if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Call):
        return None
    maker = value.func
    owner = model.scope_of_binding(binding) if binding is not None else call.scope
    return maker if model.qualified_name(maker.func, owner) in REPEAT_DECORATORS else None


class _LoopFinder(OwnCodeVisitor):
    def __init__(self) -> None:
        self.loops: list[cst.While] = []

    def visit_While(self, node: cst.While) -> None:
        test = node.test
        if (isinstance(test, cst.Name) and test.value == "True") or (
            isinstance(test, cst.Integer) and test.value == "1"
        ):
            self.loops.append(node)


class _LoopBody(OwnCodeVisitor):
    """Awaited calls in a loop body, and whether it can leave the loop."""

    def __init__(self) -> None:
        self.awaited: list[cst.Call] = []
        self.exits = False
        self.inner_loops = 0

    def visit_Await(self, node: cst.Await) -> None:
        if isinstance(node.expression, cst.Call):
            self.awaited.append(node.expression)

    def visit_Return(self, node: cst.Return) -> None:
        self.exits = True

    def visit_Break(self, node: cst.Break) -> None:
        if not self.inner_loops:
            self.exits = True

    def visit_For(self, node: cst.For) -> None:
        self.inner_loops += 1

    def leave_For(self, original_node: cst.For) -> None:
        self.inner_loops -= 1

    def visit_While(self, node: cst.While) -> None:
        self.inner_loops += 1

    def leave_While(self, original_node: cst.While) -> None:
        self.inner_loops -= 1

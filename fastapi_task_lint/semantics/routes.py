"""Route handlers: functions FastAPI calls per request, found through their app or router."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics.byte_filters import static_filter
from fastapi_task_lint.semantics.callgraph import resolve_function_ref
from fastapi_task_lint.semantics.functions import CallInfo, FunctionInfo
from fastapi_task_lint.semantics.mentions import calling
from fastapi_task_lint.semantics.names import written_name
from fastapi_task_lint.semantics.scheduling import bind_call_arguments
from fastapi_task_lint.semantics.scope import BindingKind, Scope

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel

HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "options", "head", "trace"})
_ROUTE_DECORATORS = HTTP_METHODS | {"api_route", "websocket"}


def _registration(decorators: frozenset[str]) -> Callable[[bytes], bool]:
    """Route decorators (`@router.get`, spaces where Python allows them, or called by hand),
    `add_api_route` and Starlette's registrations (`Route(...)`, `add_route`, an
    `HTTPEndpoint` subclass).

    A decorator in parentheses or continued with a backslash may hold one on a later line.
    Every alternative of the regex starts with `@`, so it jumps from one `@` to the next;
    with `add_api_route` among them it tried every position (6x slower on the corpus).
    """
    names = "|".join(sorted(decorators)).encode()
    decorator = re.compile(rb"@[^\n]*\.\s*(?:" + names + rb")\b|@\s*\(|@[^\n]*\\\r?\n").search
    # The decorator called by hand: `app.get("/x")(handler)`.
    called = re.compile(rb"\.\s*(?:" + names + rb")\s*\([^()]*\)\(").search

    def registers(data: bytes) -> bool:
        return (
            b"add_api_route" in data
            or b"add_route" in data
            or b"websocket_route" in data
            or b"Route(" in data
            or b"HTTPEndpoint" in data
            or b"WebSocketEndpoint" in data
            or decorator(data) is not None
            or (b")(" in data and called(data) is not None)
        )

    return registers


# A file without a match registers no route (of any method, or that can answer a GET).
_ANY_ROUTE = _registration(_ROUTE_DECORATORS)
_GET_ROUTE = _registration(frozenset({"get", "api_route"}))
_APP_TYPES = frozenset({"fastapi.FastAPI", "fastapi.APIRouter", "starlette.applications.Starlette"})


def may_define_routes(data: bytes) -> bool:
    """The prefilter of rules about route handlers: can this file register a route?"""
    return _ANY_ROUTE(data)


def may_define_get_routes(data: bytes) -> bool:
    """Like `may_define_routes`, for routes that can answer a GET."""
    return _GET_ROUTE(data)


ROUTES = static_filter("routes", may_define_routes)  # for whole-program scans
GET_ROUTES = static_filter("get routes", may_define_get_routes)


@dataclass(frozen=True)
class Route:
    function: FunctionInfo
    methods: tuple[str, ...]
    path: str | None
    decorator: cst.BaseExpression
    owner: ModuleModel  # where `function` is defined (`add_api_route` may name an import)

    def keyword(self, name: str) -> cst.BaseExpression | None:
        """A keyword argument of the route decorator, e.g. `status_code`."""
        if isinstance(self.decorator, cst.Call):
            for arg in self.decorator.args:
                if arg.keyword is not None and arg.keyword.value == name:
                    return arg.value
        return None


def find_routes(model: ModuleModel) -> list[Route]:
    routes: list[Route] = []
    for function in model.functions:
        for decorator in function.decorators:
            route = _route_from_decorator(model, function, decorator)
            if route is not None:
                routes.append(route)
                break
    routes.extend(_added_routes(model))
    routes.extend(_endpoint_routes(model))
    return routes


def _is_app(model: ModuleModel, expr: cst.BaseExpression, function: FunctionInfo) -> bool:
    return _registers_on(model, expr, function.parent_scope, None) or (
        isinstance(expr, cst.Name) and _handed_app(model, expr, function.parent_scope)
    )


def _registers_on(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None
) -> bool:
    """Whether `expr` is an app or a router: by its type, or as a parameter annotated with a
    union of them (`app: FastAPI | APIRouter`, langserve's `add_routes`)."""
    type_ref = model.infer_type(expr, scope, order)
    if type_ref is not None or not isinstance(expr, cst.Name):
        return model.is_instance(type_ref, _APP_TYPES)
    binding = scope.lookup(expr.value, order)
    if binding is None or binding.kind is not BindingKind.PARAM or binding.param is None:
        return False
    annotation = binding.param.annotation
    members = None if annotation is None else model.union_types(annotation, scope)
    return bool(members) and all(model.is_instance(m, _APP_TYPES) for m in members or ())


def _handed_app(model: ModuleModel, name: cst.Name, scope: Scope) -> bool:
    """Whether `name` is a parameter without an annotation of a function that some call in
    the run hands an app or a router: `def register_endpoints(cls, router):` registers its
    nested handlers on the router of `Config.register_endpoints(runs_router)`."""
    binding = scope.lookup(name.value)
    if binding is None or binding.kind is not BindingKind.PARAM or binding.param is None:
        return False
    registrar = model.scope_of_binding(binding).function
    if registrar is None or binding.param.annotation is not None:
        return False
    param = binding.param.name
    known: dict[tuple[int, str], bool] = model.project.memo(f"{__name__}.handed apps", dict)
    key = (id(registrar), param)
    if key not in known:
        known[key] = False  # a registrar that calls itself is not asked again meanwhile
        spellings = tuple(model.project.renamings((registrar.name,)))  # also imported renamed
        known[key] = any(
            _hands_app(caller, call, registrar, param)
            for caller in model.project.models(where=calling(spellings))
            for call in caller.calls
            if written_name(call.node.func) in spellings
        )
    return known[key]


def _hands_app(caller: ModuleModel, call: CallInfo, registrar: FunctionInfo, param: str) -> bool:
    """Whether `call`, in `caller`, calls `registrar` with an app or router for `param`."""
    target = resolve_function_ref(caller, call.node.func, call.scope, call.order, call)
    if target is None or target.function is not registrar:
        return False
    handed = bind_call_arguments(registrar, call.node.func, call.node.args).get(param, [])
    return len(handed) == 1 and caller.is_instance(
        caller.infer_type(handed[0].value, call.scope, call.order), _APP_TYPES
    )


def _route_from_decorator(
    model: ModuleModel, function: FunctionInfo, decorator: cst.BaseExpression
) -> Route | None:
    if not isinstance(decorator, cst.Call) or not isinstance(decorator.func, cst.Attribute):
        return None
    method = decorator.func.attr.value
    if method not in _ROUTE_DECORATORS or not _is_app(model, decorator.func.value, function):
        return None
    return Route(
        function, _decorator_methods(decorator), _string_arg(decorator, "path"), decorator, model
    )


def _decorator_methods(decorator: cst.Call) -> tuple[str, ...]:
    """The methods a route decorator (`@app.get(...)`, `@app.api_route(..., methods=[...])`)
    answers."""
    assert isinstance(decorator.func, cst.Attribute)
    method = decorator.func.attr.value
    if method != "api_route":
        return (method,)
    methods = next(
        (a.value for a in decorator.args if a.keyword and a.keyword.value == "methods"), None
    )
    return _string_list(methods) or ("get",)


def _added_routes(model: ModuleModel) -> list[Route]:
    """`app.add_api_route("/x", endpoint, methods=[...])` and Starlette's ways to the same:
    `app.add_route(...)`, `Route("/x", endpoint)` (and `APIRoute`, `WebSocketRoute`) in a
    route list. The endpoint may be a `functools.partial` of the handler."""
    from fastapi_task_lint.semantics.scheduling import partial_parts

    routes: list[Route] = []
    for call in model.calls:
        func = call.node.func
        methods: tuple[str, ...] = ("get",)
        decorating = _decorator_called(model, call)
        if decorating is not None:  # `app.get("/x")(handler)`: the decorator, called by hand
            found = resolve_function_ref(model, call.node.args[0].value, call.scope, call.order)
            if found is not None:
                decorator, methods = decorating
                path = _string_arg(decorator, "path")
                routes.append(Route(found.function, methods, path, decorator, found.model))
            continue
        if isinstance(func, cst.Attribute) and func.attr.value in _ADDING_METHODS:
            if not _registers_on(model, func.value, call.scope, call.order):
                continue
            methods = _ADDING_METHODS[func.attr.value] or methods
        elif isinstance(func, cst.Name | cst.Attribute):
            built = _route_class(model, call)
            if built is None:
                continue
            methods = built or methods
        else:
            continue
        positional = [a.value for a in call.node.args if a.keyword is None]
        keyword = {a.keyword.value: a.value for a in call.node.args if a.keyword}
        endpoint = keyword.get("endpoint", positional[1] if len(positional) > 1 else None)
        if endpoint is None:
            continue
        partial = partial_parts(model, endpoint, call.scope, call.order)
        if partial is not None:
            endpoint = partial.wrapped
        path = _string_arg(call.node, "path")
        # `endpoint`, `views.endpoint` or a bound method (`self.health`)
        found = resolve_function_ref(model, endpoint, call.scope, call.order)
        if found is None:
            continue  # a class-based endpoint is found with its class: `_endpoint_routes`
        methods = _string_list(keyword.get("methods")) or methods
        owner, endpoint_function = found.model, found.function
        routes.append(Route(endpoint_function, methods, path, call.node, owner))
    return routes


# Starlette's class-based endpoints: the methods that answer a request, by base class.
_ENDPOINT_METHODS = {
    "starlette.endpoints.HTTPEndpoint": {m: (m,) for m in HTTP_METHODS},
    "starlette.endpoints.WebSocketEndpoint": {
        m: ("websocket",) for m in ("on_connect", "on_receive", "on_disconnect")
    },
}


def _endpoint_routes(model: ModuleModel) -> list[Route]:
    """The methods of `model`'s Starlette endpoint classes that answer a request (`get`,
    `post`, ... of an `HTTPEndpoint`; `on_receive`, ... of a `WebSocketEndpoint`), however
    the class is registered: Starlette calls them per request or message."""
    routes: list[Route] = []
    for klass in model.classes:
        if not any(_spelled_endpoint(base) for base in klass.bases):
            continue  # spares resolving the bases of every class
        ancestors = model.ancestors(klass.qualname)
        for base, answering in _ENDPOINT_METHODS.items():
            if base not in ancestors:
                continue
            for name, methods in answering.items():
                method = klass.methods.get(name)
                if method is not None:
                    routes.append(Route(method, methods, None, klass.node.name, model))
    return routes


def _decorator_called(
    model: ModuleModel, call: CallInfo
) -> tuple[cst.Call, tuple[str, ...]] | None:
    """`app.get("/x")` and the methods it answers, when `call` is `app.get("/x")(handler)`."""
    decorator = call.node.func
    if not (
        isinstance(decorator, cst.Call)
        and isinstance(decorator.func, cst.Attribute)
        and decorator.func.attr.value in _ROUTE_DECORATORS
        and len(call.node.args) == 1
        and call.node.args[0].keyword is None
        and not call.node.args[0].star
    ):
        return None
    if not _registers_on(model, decorator.func.value, call.scope, call.order):
        return None
    return decorator, _decorator_methods(decorator)


def _route_class(model: ModuleModel, call: CallInfo) -> tuple[str, ...] | None:
    """The methods a route built by `call` answers unless given `methods`, when `call` builds
    one of `_ROUTE_CLASSES` or a project subclass of one (mlserver's own `APIRoute`, told
    by a name ending in `Route` first: most calls build no route)."""
    qualname = model.resolve_call(call)
    if qualname is None:
        return None
    built = _ROUTE_CLASSES.get(qualname)
    if built is not None or not qualname.endswith("Route"):
        return built
    ancestors = model.ancestors(qualname)
    return next((m for base, m in _ROUTE_CLASSES.items() if base in ancestors), None)


def _spelled_endpoint(base: cst.BaseExpression) -> bool:
    """Whether a base class is named `...Endpoint` (`HTTPEndpoint`, `endpoints.X_Endpoint`)."""
    name = written_name(base)
    return name is not None and name.endswith("Endpoint")


# The methods that add a route to an app or router, and the methods a route they add answers
# unless given `methods` (empty: GET).
_ADDING_METHODS = {
    "add_api_route": (),
    "add_route": (),
    "add_websocket_route": ("websocket",),
    "add_api_websocket_route": ("websocket",),
}
# Route classes whose instances go in an app's route list, and their methods likewise.
_ROUTE_CLASSES = {
    "starlette.routing.Route": (),
    "fastapi.routing.APIRoute": (),
    "starlette.routing.WebSocketRoute": ("websocket",),
    "fastapi.routing.APIWebSocketRoute": ("websocket",),
}


def _string_arg(call: cst.Call, keyword: str) -> str | None:
    for arg in call.args:
        if (arg.keyword is None or arg.keyword.value == keyword) and isinstance(
            arg.value, cst.SimpleString
        ):
            value = arg.value.evaluated_value
            return value if isinstance(value, str) else None
    return None


def _string_list(node: cst.BaseExpression | None) -> tuple[str, ...]:
    if not isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return ()
    values = [
        e.value.evaluated_value for e in node.elements if isinstance(e.value, cst.SimpleString)
    ]
    return tuple(v.lower() for v in values if isinstance(v, str))

"""Responses a handler returns: which class built them, their `background=` and status.

`return JSONResponse(..., background=tasks)`, `resp = Response(...); resp.background = t;
return resp`, and a module-level `Response` object returned from every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics.functions import FunctionInfo
from fastapi_task_lint.semantics.scope import BindingKind, Scope
from fastapi_task_lint.semantics.uses import assigned_attribute

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel

RESPONSE_BASE = "starlette.responses.Response"
_RESPONSE_MODULES = ("starlette.responses.", "fastapi.responses.")
# Position of `background` among the positional parameters, where it differs from 4.
_BACKGROUND_POSITION = {"starlette.responses.RedirectResponse": 3}
_STATUS_POSITION = 1


@dataclass(frozen=True)
class ReturnedResponse:
    """A response object a function returns."""

    value: cst.BaseExpression  # the expression after `return`
    call: cst.Call  # the constructor call that built it
    klass: str  # canonical class name, e.g. starlette.responses.JSONResponse
    module_level: bool  # built once at import time and shared by every request
    background: cst.BaseExpression | None  # `background=` or a later `.background = ...`

    @property
    def class_name(self) -> str:
        return self.klass.rsplit(".", 1)[-1]

    @property
    def status_code(self) -> cst.BaseExpression | None:
        return call_argument(self.call, "status_code", _STATUS_POSITION)


def call_argument(call: cst.Call, keyword: str, position: int) -> cst.BaseExpression | None:
    """The argument of `call` for a parameter, given by keyword or by position."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[position].value if len(positional) > position else None


def response_class(
    model: ModuleModel, func: cst.BaseExpression, scope: Scope, order: int | None
) -> str | None:
    """The canonical class name when calling `func` builds a Starlette/FastAPI response."""
    qualname = model.qualified_name(func, scope, order)
    if qualname is None:
        return None
    if any(a.startswith(_RESPONSE_MODULES) for a in model.ancestors(qualname)):
        return qualname
    return None


def returned_responses(model: ModuleModel, function: FunctionInfo) -> list[ReturnedResponse]:
    found: list[ReturnedResponse] = []
    for value in function.return_values:
        if value is None:
            continue
        response = _response_for(model, function, value)
        if response is not None:
            found.append(response)
    return found


def _response_for(
    model: ModuleModel, function: FunctionInfo, value: cst.BaseExpression
) -> ReturnedResponse | None:
    call: cst.BaseExpression = value
    scope, order = function.scope, None
    holder: str | None = None
    if isinstance(value, cst.Name):
        binding = function.scope.lookup(value.value)
        if binding is None or binding.kind is not BindingKind.ASSIGN or binding.value is None:
            return None
        call, scope, order = binding.value, model.scope_of_binding(binding), binding.order
        holder = value.value if scope is function.scope else None
    if not isinstance(call, cst.Call):
        return None
    klass = response_class(model, call.func, scope, order)
    if klass is None:
        return None
    module_level = scope is model.module_scope
    background = call_argument(call, "background", _BACKGROUND_POSITION.get(klass, 4))
    if holder is not None:
        background = assigned_attribute(function, holder, "background") or background
    return ReturnedResponse(value, call, klass, module_level, background)

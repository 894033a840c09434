"""Calls and their callees: which project function a call runs, and what it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics import names
from fastapi_task_lint.semantics.functions import ClassInfo, FunctionInfo
from fastapi_task_lint.semantics.scope import BindingKind, Scope

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel

# Return values that are certainly not callable.
_PLAIN_VALUES = (
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.List,
    cst.Tuple,
    cst.Dict,
    cst.Set,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.Comparison,
    cst.BooleanOperation,
    cst.BinaryOperation,
    cst.UnaryOperation,
)
_PLAIN_TYPES = frozenset(
    {
        "builtins.None",
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.bytes",
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.set",
    }
)


@dataclass(frozen=True)
class CallResult:
    """A value that is the result of calling a project function."""

    call: cst.Call
    function: FunctionInfo
    model: ModuleModel
    may_return_callable: bool


def resolve_callee(
    model: ModuleModel, call: cst.Call, scope: Scope, order: int | None
) -> tuple[ModuleModel, FunctionInfo] | None:
    """The project function `call` runs, in this module or another one of the run."""
    qualname = model.qualified_name(call.func, scope, order)
    return model.project.resolve_function(qualname) if qualname else None


def returned_function(
    model: ModuleModel, returned: cst.BaseExpression, helper: FunctionInfo
) -> FunctionInfo | None:
    """The lambda or nested `def` that `returned`, a return value of `helper`, is."""
    if isinstance(returned, cst.Lambda):
        return model.function_for_node(returned)
    if isinstance(returned, cst.Name):
        binding = helper.scope.lookup(returned.value)
        if binding is not None and binding.kind is BindingKind.FUNCTION:
            return binding.function
    return None


def made_function(
    model: ModuleModel, call: cst.Call, scope: Scope, order: int | None
) -> tuple[ModuleModel, FunctionInfo] | None:
    """The nested `def` a project factory's call makes (`make_resume_task(run_id)`), when
    every `return` of the factory gives that one."""
    found = resolve_callee(model, call, scope, order)
    if found is None or found[1].is_async:
        return None
    owner, factory = found
    made = {
        id(function): function
        for value in factory.return_values
        if value is not None and (function := returned_function(owner, value, factory))
    }
    if len(made) != 1 or len(factory.return_values) != 1:
        return None
    (function,) = made.values()
    return None if function.is_lambda else (owner, function)


# What a dataclass's generated `__init__` runs besides storing its fields.
_INIT_HOOKS = frozenset({"__init__", "__post_init__", "__new__", "__setattr__"})
_DATACLASS = "dataclasses.dataclass"


def built_plain_dataclass(
    model: ModuleModel, call: cst.Call, scope: Scope, order: int | None = None
) -> tuple[ModuleModel, ClassInfo] | None:
    """The project `@dataclass` `call` builds when it has no base class and none of the
    hooks its `__init__` would run (`__post_init__`, ...): the call only stores its fields."""
    qualname = model.qualified_name(call.func, scope, order)
    found = model.project.resolve_class(qualname) if qualname else None
    if found is None:
        return None
    owner, klass = found
    if klass.bases or klass.keywords or _INIT_HOOKS & klass.methods.keys():
        return None
    if any(
        owner.decorator_name(d.decorator, klass.parent_scope) == _DATACLASS
        for d in klass.node.decorators
    ):
        return found
    return None


def call_result_of(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None
) -> CallResult | None:
    """When `expr` is (or names) the result of calling a project function, that call."""
    call: cst.Call | None = None
    if isinstance(expr, cst.Call):
        call = expr
    elif isinstance(expr, cst.Name):
        assigned = model.assigned_value(expr, scope, order)
        if assigned is not None and isinstance(assigned[0], cst.Call):
            call, scope, order = assigned[0], assigned[1], assigned[2]
    if call is None or model.qualified_name(call.func, scope, order) == names.PARTIAL:
        return None
    found = resolve_callee(model, call, scope, order)
    if found is None:
        return None
    owner, function = found
    may_return = not function.is_async and returns_callable(owner, function)
    return CallResult(call, function, owner, may_return)


def returns_callable(model: ModuleModel, function: FunctionInfo) -> bool:
    """Whether calling `function` may give a callable: when unsure, say yes."""
    if function.is_generator:
        return False
    if function.returns is not None:
        declared = model.annotation_type(function.returns, function.parent_scope)
        if declared is None:
            return not names.is_none(function.returns)
        if declared.qualname in _PLAIN_TYPES:
            return False
        klass = model.project.resolve_class(declared.qualname)
        # A project class is callable only with `__call__`; an unknown type may be.
        return klass is None or "__call__" in klass[1].methods
    return any(not _plain_value(model, function, value) for value in function.return_values)


def _plain_value(
    model: ModuleModel, function: FunctionInfo, value: cst.BaseExpression | None
) -> bool:
    if value is None or names.is_none(value) or isinstance(value, _PLAIN_VALUES):
        return True
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return True
    if isinstance(value, cst.Await):
        return False
    type_ref = model.infer_type(value, function.scope)
    return type_ref is not None and type_ref.qualname in _PLAIN_TYPES

"""The values a task receives at a scheduling site, as separate expressions.

Arguments (also inside list/tuple/set/dict literals and partials) and the names a
lambda passed as the task captures from the scheduling function. Attribute reads
(`user.id`) and called names are not captured values: `lambda: send(user.id)` hands
over an id, not `user`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics.scheduling import SchedulingSite
from fastapi_task_lint.semantics.walk import walk

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel


def task_values(model: ModuleModel, site: SchedulingSite) -> list[cst.BaseExpression]:
    values: list[cst.BaseExpression] = []
    for argument in site.arguments:
        values.extend(flatten_literal(argument.value))
    if isinstance(site.callable, cst.Lambda):
        values.extend(captured_names(site.callable))
    return values


def task_label(model: ModuleModel, site: SchedulingSite) -> str | None:
    """How to name the task in a message: the function a lambda calls, or the callable."""
    target = site.callable
    if isinstance(target, cst.Lambda) and isinstance(target.body, cst.Call):
        target = target.body.func
    if target is None:
        return site.task_name
    return model.code_for(target)


def flatten_literal(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The elements of list/tuple/set/dict literals, recursively; else the expression itself."""
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        return [v for element in expr.elements for v in flatten_literal(element.value)]
    if isinstance(expr, cst.Dict):
        return [v for element in expr.elements for v in flatten_literal(element.value)]
    return [expr]


def captured_names(
    function: cst.Lambda | cst.FunctionDef, receivers: bool = False
) -> list[cst.Name]:
    """Names the body uses as whole values that its own parameters do not bind.

    With `receivers`, a name whose method the body calls counts too: `db.commit()` in a
    deferred function uses the session itself, where `user.id` only reads a value.
    """
    collector = _CapturedNames(receivers)
    walk(function.body, collector)
    own = {p.name.value for p in _all_params(function.params)}
    return [name for name in collector.names if name.value not in own]


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    result = [*params.posonly_params, *params.params, *params.kwonly_params]
    if isinstance(params.star_arg, cst.Param):
        result.append(params.star_arg)
    if params.star_kwarg is not None:
        result.append(params.star_kwarg)
    return result


class _CapturedNames(cst.CSTVisitor):
    def __init__(self, receivers: bool) -> None:
        self.names: list[cst.Name] = []
        self.receivers = receivers

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if not isinstance(node.value, cst.Name):
            walk(node.value, self)
        return False

    def visit_Call(self, node: cst.Call) -> bool:
        func = node.func
        if self.receivers and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            self.names.append(func.value)
        elif not isinstance(func, cst.Name):
            walk(func, self)
        for arg in node.args:
            walk(arg.value, self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        walk(node.value, self)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

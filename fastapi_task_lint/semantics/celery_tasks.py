"""Celery task definitions: how a task is declared and what its `self` is.

A task gets its own `Task` instance as first argument only with `@app.task(bind=True)`
(or as the `run` method of a `Task` subclass); otherwise the first parameter receives
the caller's first argument, whatever it is named.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics.functions import FunctionInfo, ParamInfo
from fastapi_task_lint.semantics.scheduling import Mechanism, task_decorator
from fastapi_task_lint.semantics.scope import BindingKind
from fastapi_task_lint.semantics.walk import walk

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel

TASK_CLASSES = frozenset({"celery.Task"})
# Attributes that exist only on the task instance of a bound task.
TASK_INSTANCE_ATTRIBUTES = frozenset({"retry", "request"})


@dataclass(frozen=True)
class CeleryTask:
    """A function Celery runs as a task; `decorator` is None for a `Task.run` method."""

    function: FunctionInfo
    decorator: cst.BaseExpression | None
    bound: bool

    @property
    def first_param(self) -> ParamInfo | None:
        first = self.function.params[0] if self.function.params else None
        return first if first is not None and not first.star else None

    @property
    def self_param(self) -> ParamInfo | None:
        """The parameter that receives the task instance, when there is one."""
        return self.first_param if self.bound else None


@dataclass(frozen=True)
class TaskSelfUse:
    """`<name>.retry(...)` or `<name>.request` written inside a task's body."""

    attribute: cst.Attribute
    name: cst.Name
    # The parameter of the task the name resolves to; None when it resolves to nothing.
    param: ParamInfo | None

    @property
    def method(self) -> str:
        return self.attribute.attr.value


def celery_tasks(model: ModuleModel) -> list[CeleryTask]:
    """Every Celery task defined in the module, decorated or as a `Task` subclass."""
    tasks: list[CeleryTask] = []
    for function in model.functions:
        found = task_decorator(model, function)
        if found is not None and found[1] is Mechanism.CELERY:
            decorator = found[0]
            tasks.append(CeleryTask(function, decorator, _binds(decorator)))
        elif function.name == "run" and function.klass is not None:
            bases = model.ancestors(function.klass.qualname)
            if bases & TASK_CLASSES:
                tasks.append(CeleryTask(function, None, bound=True))
    return tasks


def _binds(decorator: cst.BaseExpression) -> bool:
    if not isinstance(decorator, cst.Call):
        return False
    for arg in decorator.args:
        if arg.keyword is not None and arg.keyword.value == "bind":
            return not (isinstance(arg.value, cst.Name) and arg.value.value in ("False", "None"))
    return False


def task_self_uses(model: ModuleModel, task: CeleryTask) -> Iterator[TaskSelfUse]:
    """Uses of `self.retry`/`self.request` (or the bound parameter's) in the task's body.

    `self` counts when it resolves to a parameter of the task or to nothing at all; a
    nested function's own `self` parameter does not.
    """
    names = {"self"}
    if task.self_param is not None:
        names.add(task.self_param.name)
    collector = _AttributeCollector(names)
    walk(task.function.node, collector)
    for attribute, value, function_node in collector.found:
        if attribute.attr.value not in TASK_INSTANCE_ATTRIBUTES:
            continue
        scope = model.scope_for_node(function_node)
        if scope is None:
            continue
        binding = scope.lookup(value.value)
        if binding is None:
            yield TaskSelfUse(attribute, value, None)
        elif binding.kind is BindingKind.PARAM and binding.param in task.function.params:
            yield TaskSelfUse(attribute, value, binding.param)


class _AttributeCollector(cst.CSTVisitor):
    """`name.attr` nodes for the given names, with the innermost def or lambda around each."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.stack: list[cst.CSTNode] = []
        self.found: list[tuple[cst.Attribute, cst.Name, cst.CSTNode]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            self.stack.append(node)
        elif (
            isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Name)
            and node.value.value in self.names
        ):
            self.found.append((node, node.value, self.stack[-1]))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if self.stack and original_node is self.stack[-1]:
            self.stack.pop()

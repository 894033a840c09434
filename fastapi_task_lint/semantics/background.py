"""A handler's `BackgroundTasks`: the one FastAPI injects, and ones the handler builds itself.

FastAPI runs only the injected object (after the response, unless the response carries its
own `background`). A `BackgroundTasks()` or `BackgroundTask(...)` built in the handler runs
only when it becomes a response's `background` or is handed to something that runs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics import names
from fastapi_task_lint.semantics.functions import FunctionInfo, ParamInfo
from fastapi_task_lint.semantics.uses import is_local, local_uses, parent_chains

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel

_TASK_CLASSES = frozenset({names.BACKGROUND_TASKS, names.BACKGROUND_TASK})
_MAX_DEPTH = 4


@dataclass(frozen=True)
class InjectedTasks:
    """The injected `BackgroundTasks` a handler uses: its parameter, or a dependency's."""

    param: str
    dependency: str | None = None  # the dependency function that receives it


def injected_tasks(
    model: ModuleModel,
    function: FunctionInfo,
    dependencies: Sequence[cst.BaseExpression] = (),
    _depth: int = 0,
) -> InjectedTasks | None:
    """The injected `BackgroundTasks` that `function` (or a dependency of it) uses, if any.

    `dependencies` are extra `Depends(...)` calls, e.g. the route's `dependencies=[...]`.
    """
    if _depth > _MAX_DEPTH:
        return None
    for param in function.params:
        type_ref = model.param_type(function, param.name)
        if model.is_instance(type_ref, {names.BACKGROUND_TASKS}):
            if local_uses(function, param.name):
                return InjectedTasks(param.name)
            continue
        inner = _through_dependency(model, function, _param_dependencies(param), _depth)
        if inner is not None:
            return inner
    return _through_dependency(model, function, dependencies, _depth)


def _through_dependency(
    model: ModuleModel,
    function: FunctionInfo,
    candidates: Sequence[cst.BaseExpression],
    depth: int,
) -> InjectedTasks | None:
    for candidate in candidates:
        found = _dependency_function(model, function, candidate)
        if found is not None:
            owner, target = found
            inner = injected_tasks(owner, target, (), depth + 1)
            if inner is not None:
                return InjectedTasks(inner.param, inner.dependency or target.name)
    return None


def is_injected_param(model: ModuleModel, function: FunctionInfo, expr: cst.BaseExpression) -> bool:
    """Whether `expr` names the `BackgroundTasks` parameter FastAPI injects into `function`."""
    if not isinstance(expr, cst.Name) or function.param(expr.value) is None:
        return False
    return model.is_instance(model.param_type(function, expr.value), {names.BACKGROUND_TASKS})


def _param_dependencies(param: ParamInfo) -> list[cst.BaseExpression]:
    """`Depends(dep)` candidates of a parameter: its default, or inside `Annotated[...]`."""
    candidates: list[cst.BaseExpression] = []
    if param.default is not None:
        candidates.append(param.default)
    annotation = param.annotation
    if isinstance(annotation, cst.Subscript):
        candidates.extend(
            e.slice.value for e in annotation.slice[1:] if isinstance(e.slice, cst.Index)
        )
    return candidates


def _dependency_function(
    model: ModuleModel, function: FunctionInfo, candidate: cst.BaseExpression
) -> tuple[ModuleModel, FunctionInfo] | None:
    """The project function behind a `Depends(dep)` call."""
    if not isinstance(candidate, cst.Call):
        return None
    target = model.depends_target(candidate, function.parent_scope)
    qualname = model.qualified_name(target, function.parent_scope) if target else None
    return model.project.resolve_function(qualname) if qualname else None


@dataclass(frozen=True)
class BuiltTasks:
    """`BackgroundTasks()`/`BackgroundTask(...)` constructed in a function."""

    call: cst.Call
    klass: str
    holder: str | None  # the local it is assigned to
    added: int  # `add_task` calls on it
    escapes: bool  # returned, passed on, stored or run: it may still run

    @property
    def class_name(self) -> str:
        return self.klass.rsplit(".", 1)[-1]

    @property
    def has_work(self) -> bool:
        """A `BackgroundTask` always has its function; `BackgroundTasks([...])` its list."""
        return self.klass == names.BACKGROUND_TASK or self.added > 0 or bool(self.call.args)


def built_tasks(model: ModuleModel, function: FunctionInfo) -> list[BuiltTasks]:
    constructed: list[tuple[cst.Call, str]] = []
    for call in function.calls:
        qualname = model.resolve_call(call)
        if qualname is None:
            continue
        klass = next((k for k in _TASK_CLASSES if k in model.ancestors(qualname)), None)
        if klass is not None:
            constructed.append((call.node, klass))
    if not constructed:
        return []
    chains = parent_chains(function.node, [node for node, _ in constructed])
    return [_built(function, node, klass, chains.get(id(node), ())) for node, klass in constructed]


def _built(
    function: FunctionInfo, node: cst.Call, klass: str, parents: tuple[cst.CSTNode, ...]
) -> BuiltTasks:
    parent = parents[-1] if parents else None
    if isinstance(parent, cst.Expr):
        return BuiltTasks(node, klass, None, 0, escapes=False)
    holder = _assigned_local(function, parent, node)
    if holder is None:
        return BuiltTasks(node, klass, None, 0, escapes=True)
    added = 0
    for use in local_uses(function, holder):
        method = use.method_call()
        if not use.nested and method is not None and method[0] == "add_task":
            added += 1
            continue
        return BuiltTasks(node, klass, holder, added, escapes=True)
    return BuiltTasks(node, klass, holder, added, escapes=False)


def _assigned_local(
    function: FunctionInfo, parent: cst.CSTNode | None, node: cst.CSTNode
) -> str | None:
    target: cst.BaseExpression | None = None
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and parent.value is node:
        target = parent.targets[0].target
    elif isinstance(parent, cst.AnnAssign) and parent.value is node:
        target = parent.target
    if isinstance(target, cst.Name) and is_local(function, target.value):
        return target.value
    return None


def adds_to_unrun_tasks(model: ModuleModel, node: cst.CSTNode) -> bool:
    """Whether `node` is `tasks.add_task(...)` on a `BackgroundTasks` its function builds and
    never hands to anything that runs it (FTL305's finding): the task it adds never runs."""
    if not (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and isinstance(node.func.value, cst.Name)
    ):
        return False
    holder = node.func.value.value
    function = next((f for f in model.functions if any(c.node is node for c in f.calls)), None)
    if function is None:
        return False
    return any(
        built.holder == holder and built.has_work and not built.escapes
        for built in built_tasks(model, function)
    )

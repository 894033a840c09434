"""FastAPI dependencies: the functions some `Depends(...)`/`Security(...)` in the run names.

Like tasks, a dependency is usually defined in one module (`deps.py`) and named in
another (the routes), so the answer comes from one scan per project of the files that
mention `Depends` or `Security`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics import names
from fastapi_task_lint.semantics.callgraph import resolve_function_ref
from fastapi_task_lint.semantics.functions import FunctionInfo
from fastapi_task_lint.semantics.mentions import naming
from fastapi_task_lint.semantics.observations import LastingUnion, register_lasting

if TYPE_CHECKING:
    from fastapi_task_lint.cache import Fact
    from fastapi_task_lint.semantics.model import ModuleModel
    from fastapi_task_lint.semantics.project import ProjectIndex

_DEPENDENCY_MARKERS = frozenset({names.DEPENDS, "fastapi.Security", "fastapi.params.Security"})
_MARKER_NAMES = naming(("Depends", "Security"))  # an import alias still spells the name


def dependency_functions(model: ModuleModel) -> list[FunctionInfo]:
    """The functions defined in `model` that some route or dependency depends on."""
    used = dependency_scan(model.project)
    path = str(model.path.absolute())
    return [f for f in model.functions if (path, f.qualname) in used]


def defines_dependencies(project: ProjectIndex, path: Path) -> bool:
    """Whether the module at `path` defines a dependency: a prefilter, before it is parsed."""
    key = str(path.absolute())
    return any(where == key for where, _ in dependency_scan(project))


def dependency_scan(project: ProjectIndex) -> Fact:
    """The (path, qualname) of every function some `Depends(...)` in the run names."""
    return project.lasting(__name__)


def _contribution(model: ModuleModel) -> Iterator[tuple[str, str]]:
    """The (path, qualname) of each function a `Depends(...)` or `Security(...)` in `model`
    names."""
    for call in model.calls:
        if model.resolve_call(call) not in _DEPENDENCY_MARKERS:
            continue
        dependency = _dependency_argument(call.node)
        if dependency is None:
            continue
        target = resolve_function_ref(model, dependency, call.scope, call.order)
        if target is not None:
            yield (str(target.model.path.absolute()), target.function.qualname)


register_lasting(__name__, LastingUnion(_MARKER_NAMES, _contribution))


def _dependency_argument(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value == "dependency":
            return arg.value
    return None

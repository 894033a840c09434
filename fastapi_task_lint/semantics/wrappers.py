"""Helpers that schedule their own parameters: calls to them are scheduling sites too.

`def run_later(bg, fn, *args): bg.add_task(fn, *args)` hands `fn` and `args` to a task,
so `run_later(background_tasks, send, user)` schedules `send(user)`. Each project
function is examined once (which parameter becomes the task callable, which are
forwarded as task arguments); a call to it anywhere in the run then becomes a site whose
callable and arguments are the caller's own expressions, so every rule sees them.
Only one level is followed: a helper that calls another helper is not a wrapper.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import libcst as cst

from fastapi_task_lint.semantics.callgraph import Target, calls_one_of, worth_resolving
from fastapi_task_lint.semantics.functions import CallInfo, FunctionInfo, ParamInfo
from fastapi_task_lint.semantics.guards import Spans, call_context, entry_context, ruled_out, runs
from fastapi_task_lint.semantics.observations import RunGlobal, register_global
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.scheduling import (
    SITE_TRIGGERS,
    SchedulingSite,
    TaskArgument,
    bind_arguments,
    direct_sites,
    hands_none,
    open_partial,
    site_filter,
)
from fastapi_task_lint.semantics.scope import BindingKind, Scope

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel


@dataclass(frozen=True)
class WrapperSpec:
    """One scheduling site inside a helper, in terms of the helper's parameters."""

    model: ModuleModel
    function: FunctionInfo
    site: SchedulingSite
    callable_param: ParamInfo | None
    # `bg` of `bg.add_task(...)` when it is a parameter: a call that leaves it out (it is
    # optional, `background_tasks=None`) or passes `None` schedules nothing there.
    receiver: ParamInfo | None
    # Each task argument of the inner site: the helper parameter it forwards, or None.
    forwarded: tuple[tuple[TaskArgument, ParamInfo | None], ...]

    def where(self) -> str:
        """The inner site for messages: "`bg.add_task` in `run_later` at app/util.py:12"."""
        line = self.model.position(self.site.node).start.line
        return (
            f"`{self.site.describe(self.model)}` in `{self.function.name}` "
            f"at {shown_path(self.model.path)}:{line}"
        )


_SPECS: WeakKeyDictionary[ModuleModel, dict[int, list[WrapperSpec]]] = WeakKeyDictionary()
_RESOLVED: WeakKeyDictionary[ProjectIndex, dict[str, tuple[ModuleModel, FunctionInfo] | None]] = (
    WeakKeyDictionary()
)


def wrapper_sites(model: ModuleModel) -> list[SchedulingSite]:
    """The calls in `model` of project helpers that schedule their parameters."""
    names = helper_names(model.project)
    sites: list[SchedulingSite] = []
    if not model.spells(tuple(name.encode() for name in names)):
        return sites  # a call of a helper, even through an alias, spells its name
    for call in model.calls:
        if not call.node.args or not calls_one_of(model, call, names):
            continue
        found = _callee(model, call)
        if found is None:
            continue
        owner, function, bound_self = found
        specs = wrapper_specs(owner, function)
        spans = _ruled_out_by(model, call, owner, function) if specs else ()
        for spec in specs:
            if not runs(spec.site.call, spans):
                continue  # `if update_ast and bg:` with `update_ast` left False
            site = _site_for(model, call, spec, bound_self)
            if site is not None:
                sites.append(site)
    return sites


def _ruled_out_by(
    model: ModuleModel, call: CallInfo, owner: ModuleModel, helper: FunctionInfo
) -> Spans:
    """The code of `helper` (in `owner`) that what `call` passes rules out (`guards`)."""
    caller = call.scope.enclosing_function()
    if not helper.branches or caller is None:
        return ()
    known = entry_context(model, caller)
    context = call_context(call, Target(owner, helper), caller, known, model)
    return ruled_out(owner, helper, context)


def helper_names(project: ProjectIndex) -> frozenset[str]:
    """The names of the run's helpers that schedule a parameter.

    Helpers live in modules with a scheduling call of their own, which the project's task
    scan parses anyway. Names they are imported under count too (`renamings`); a call by
    any other name is not resolved (resolving every call of a file parsed the callee's
    module, a third of the scan's parses).
    """

    def find() -> frozenset[str]:
        helpers = {
            site.function.name
            for owner in project.models(SITE_TRIGGERS, site_filter(project))
            for site in direct_sites(owner)
            if site.function is not None and wrapper_specs(owner, site.function)
        }
        return frozenset(project.renamings(helpers))  # also as re-exported

    return project.memo(f"{__name__}.names", find)


def wrapper_specs(model: ModuleModel, function: FunctionInfo) -> list[WrapperSpec]:
    """How `function` schedules its parameters; empty when it is not such a helper."""
    per_module = _SPECS.setdefault(model, {})
    key = id(function.node)
    if key not in per_module:
        per_module[key] = _compute_specs(model, function)
    return per_module[key]


def _compute_specs(model: ModuleModel, function: FunctionInfo) -> list[WrapperSpec]:
    if function.is_lambda:
        return []
    specs: list[WrapperSpec] = []
    for site in direct_sites(model):
        if site.function is not function:
            continue
        callable_param = (
            own_param(model, function, site.callable, site.callable_scope, site.callable_order)
            if site.callable is not None
            else None
        )
        forwarded = tuple(
            (argument, own_param(model, function, argument.value, site.scope, site.order))
            for argument in site.arguments
        )
        if callable_param is None and not any(param for _, param in forwarded):
            continue
        func = site.node.func
        receiver = (
            own_param(model, function, func.value, site.scope, site.order)
            if isinstance(func, cst.Attribute)
            else None
        )
        specs.append(WrapperSpec(model, function, site, callable_param, receiver, forwarded))
    return specs


def own_param(
    model: ModuleModel,
    function: FunctionInfo,
    expr: cst.BaseExpression,
    scope: Scope,
    order: int | None,
) -> ParamInfo | None:
    """The parameter of `function` that `expr` names where it is used, if any."""
    if not isinstance(expr, cst.Name):
        return None
    binding = scope.lookup(expr.value, order)
    if binding is None or binding.kind is not BindingKind.PARAM or binding.param is None:
        return None
    if model.scope_of_binding(binding) is not function.scope:
        return None
    return binding.param


def _site_for(
    model: ModuleModel, call: CallInfo, spec: WrapperSpec, bound_self: bool
) -> SchedulingSite | None:
    bound = bind_arguments(spec.function, call.node.args, bound_self)
    if spec.receiver is not None and hands_none(bound, spec.receiver):
        return None
    target: cst.BaseExpression | None = None
    if spec.callable_param is not None:
        given = bound.get(spec.callable_param.name)
        if not given or given[0].star:
            return None
        target = given[0].value
    arguments: list[TaskArgument] = []
    for inner, param in spec.forwarded:
        if param is None:
            continue
        for value in bound.get(param.name, []):
            if param.star:
                arguments.append(value)
            else:
                arguments.append(TaskArgument(value.value, inner.keyword, inner.star))
    site = SchedulingSite(
        call,
        spec.site.mechanism,
        spec.site.api,
        target,
        arguments,
        helper_site=spec.where,
    )
    if target is None:
        inner_callable = spec.site.callable
        site.task_name = (
            spec.model.code_for(inner_callable)
            if inner_callable is not None
            else spec.site.task_name
        )
    return open_partial(model, site)


def _callee(model: ModuleModel, call: CallInfo) -> tuple[ModuleModel, FunctionInfo, bool] | None:
    """The project function or method a call runs, and whether an instance fills `self`."""
    func = call.node.func
    if isinstance(func, cst.Name):
        # A function of this module: no detour through module names, which collide
        # between same-named files of namespace packages.
        binding = call.scope.lookup(func.value, call.order)
        if binding is not None and binding.kind is BindingKind.FUNCTION:
            return (model, binding.function, False) if binding.function is not None else None
    qualname = model.qualified_name(func, call.scope, call.order)
    if qualname is None:
        return _method(model, call) if isinstance(func, cst.Attribute) else None
    cache = _RESOLVED.setdefault(model.project, {})
    if qualname not in cache:
        # Every call of a linted file is a candidate, and resolving one parses its module: a
        # module without a scheduling call cannot hold a wrapper (a re-export is followed).
        may_schedule = worth_resolving(model.project, qualname, site_filter(model.project))
        cache[qualname] = model.project.resolve_function(qualname) if may_schedule else None
    found = cache[qualname]
    return (*found, False) if found is not None else None


def _method(model: ModuleModel, call: CallInfo) -> tuple[ModuleModel, FunctionInfo, bool] | None:
    """`self.schedule(...)` or `service.schedule(...)` on an instance of a project class."""
    func = call.node.func
    assert isinstance(func, cst.Attribute)
    receiver = model.infer_type(func.value, call.scope, call.order)
    found = model.method_of(receiver, func.attr.value)
    return (*found, not found[1].is_static) if found is not None else None


def has_callers(model: ModuleModel, function: FunctionInfo) -> bool:
    """Whether any file of the run may call `function`, defined in `model` (its name
    followed by `(`; for a module-level function, in its own module or in one that names
    that module or imports the name: another module's function of the same name is not it).

    A helper's own parameters are reported at its calls; when the run holds none (one
    file linted on its own), they are reported inside the helper instead.
    """
    if function.klass is not None:  # a method: called through instances, anywhere
        return model.project.run_global("callers", function.name) == "yes"
    return model.project.run_global("callers", function.name, model.module_name) == "yes"


def _calls(module: str, data: bytes, name: str, defining: str = "") -> tuple[str, ...]:
    """("yes",) when the module may call `name`: more `name(` than `def name(`, and, for a
    function of the module `defining`, the module is that one, names its last part
    (`from shop import app`, `from shop.app import ...`) or imports the name."""
    called = f"{name}(".encode()
    if called not in data:  # `in` first: one pass over most files, not two
        return ()
    if data.count(called) <= data.count(f"def {name}(".encode()):
        return ()
    if defining and module != defining:
        last = re.escape(defining.rpartition(".")[2].encode())
        spelled = re.escape(name.encode())
        imports = rb"import[^\n]*\b%s\b|import\s*\([^)]*\b%s\b" % (spelled, spelled)
        if not re.search(rb"\b%s\b" % last, data) and not re.search(imports, data):
            return ()
    return ("yes",)


register_global("callers", RunGlobal(_calls, lambda found, *_: "yes" if found else "no"))


def shown_path(path: Path) -> str:
    """A path as messages show it: relative to the working directory when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative

"""Which classes are ORM models: instances of them are bound to a session."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics import names
from fastapi_task_lint.semantics.scope import BindingKind

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel, TypeRef

_MAX_DEPTH = 10


class OrmModels:
    """Answers "is this class an ORM model?" for names seen from one module."""

    def __init__(self, model: ModuleModel) -> None:
        self.model = model
        self._configured = frozenset(
            names.canonical(name) for name in model.project.config.orm_base_classes
        )
        self._cache: dict[str, bool] = {}

    def is_model(self, type_ref: TypeRef | None) -> bool:
        return type_ref is not None and self.is_model_class(type_ref.qualname)

    def is_model_class(self, qualname: str) -> bool:
        if qualname not in self._cache:
            self._cache[qualname] = False  # cycles end here
            self._cache[qualname] = self._check(qualname, 0, table=False)
        return self._cache[qualname]

    def _check(self, qualname: str, depth: int, table: bool) -> bool:
        qualname = names.canonical(qualname)
        if qualname in self._configured or (qualname in names.ORM_BASE_CLASSES and depth > 0):
            return True
        if qualname in names.DECLARATIVE_ROOTS:
            return depth > 1
        if qualname == names.SQLMODEL:
            return table
        if depth > _MAX_DEPTH:
            return False
        found = self.model.project.resolve(qualname)
        if found is None or found.binding is None:
            return False
        owner = found.model
        binding = found.binding
        if binding.kind is BindingKind.ASSIGN and isinstance(binding.value, cst.Call):
            # `Base = declarative_base()` or `Base = registry().generate_base()`.
            if depth == 0:
                return False
            scope = owner.scope_of_binding(binding)
            factory = owner.qualified_name(binding.value.func, scope, binding.order)
            if factory in names.DECLARATIVE_BASE_FACTORIES:
                return True
            func = binding.value.func
            return isinstance(func, cst.Attribute) and func.attr.value == "generate_base"
        klass = found.klass
        if klass is None:
            return False
        table = table or _is_true(klass.keywords.get("table"))
        for base in klass.bases:
            base_name = owner.qualified_name(base, klass.parent_scope)
            if base_name is not None and self._check(base_name, depth + 1, table):
                return True
        return False


def _is_true(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"

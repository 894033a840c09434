"""Value origins: what a name handed to a task was bound to where it was handed over.

An ORM instance (a query result, `Model(...)`, a function annotated `-> Model`), a DB
session, a request-scoped object, or something plain. Rules ask this; they do not
chase assignments themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics import names
from fastapi_task_lint.semantics.scope import BindingKind, Scope

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel, TypeRef

_MAX_DEPTH = 8
_INSTANCE_TERMINALS = frozenset(
    {
        "first",
        "one",
        "one_or_none",
        "get",
        "scalar",
        "scalar_one",
        "scalar_one_or_none",
        "first_or_404",
        "get_or_404",
        "get_or_none",
        "find_one",
        "latest",
        "earliest",
    }
)
_COLLECTION_TERMINALS = frozenset({"all", "fetchall", "to_list", "filter", "filter_by"})
_QUERY_ENTRY = frozenset(
    {"query", "get", "select", "scalars", "execute", "exec", "scalar", "get_one"}  # exec: SQLModel
)


class OriginKind(Enum):
    ORM_INSTANCE = "ORM model instance"
    ORM_COLLECTION = "collection of ORM model instances"
    SESSION = "DB session"
    REQUEST_OBJECT = "request-scoped object"


@dataclass(frozen=True)
class Origin:
    kind: OriginKind
    type_name: str  # short name for messages, e.g. `User`, `Session`, `UploadFile`
    qualname: str


def value_origin(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None
) -> Origin | None:
    """The interesting origin of `expr` at walk position `order`, or None if plain."""
    type_ref = model.infer_type(expr, scope, order)
    origin = _origin_from_type(model, type_ref) or _held_by_parameter(
        model, expr, type_ref, scope, order
    )
    if origin is not None:
        return origin
    return _query_origin(model, expr, scope, order, 0)


def _held_by_parameter(
    model: ModuleModel,
    expr: cst.BaseExpression,
    type_ref: TypeRef | None,
    scope: Scope,
    order: int | None,
) -> Origin | None:
    """A parameter that keeps a DB session (`dao: Dao = Depends(get_dao)`): a repository
    or DAO built from the session elsewhere. One built here (`Repo(db)`) is followed to the
    session it is given instead."""
    binding = scope.lookup(expr.value, order) if isinstance(expr, cst.Name) else None
    if binding is None or binding.kind is not BindingKind.PARAM:
        return None
    held = None if type_ref is None or type_ref.container else held_session(model, type_ref)
    if type_ref is None or held is None:
        return None
    short = type_ref.qualname.rsplit(".", 1)[-1]
    return Origin(
        OriginKind.SESSION, f"a {short} that keeps one in `self.{held}`", type_ref.qualname
    )


def _origin_from_type(model: ModuleModel, type_ref: TypeRef | None) -> Origin | None:
    if type_ref is None:
        return None
    short = type_ref.qualname.rsplit(".", 1)[-1]
    if model.orm.is_model(type_ref):
        kind = OriginKind.ORM_COLLECTION if type_ref.container else OriginKind.ORM_INSTANCE
        return Origin(kind, short, type_ref.qualname)
    ancestors = model.ancestors(type_ref.qualname)
    if ancestors & names.SESSION_TYPES and not type_ref.container:
        return Origin(OriginKind.SESSION, short, type_ref.qualname)
    for qualname, display in names.REQUEST_OBJECT_TYPES.items():
        if qualname in ancestors:
            # `files: list[UploadFile]` carries request-scoped objects as much as one does.
            shown = f"list[{display}]" if type_ref.container else display
            return Origin(OriginKind.REQUEST_OBJECT, shown, type_ref.qualname)
    return None


def held_session(model: ModuleModel, type_ref: TypeRef) -> str | None:
    """The attribute in which an instance of a project class keeps a DB session (`self.db =
    db` in a repository or DAO), if any: handing the instance hands the session."""
    found = model.project.resolve_class(type_ref.qualname)
    if found is None:
        return None
    for attribute in found[1].attributes:
        held = model.attribute_type(type_ref, attribute)
        kinds = model.ancestors(held.qualname) if held is not None and not held.container else ()
        if names.SESSION_TYPES.intersection(kinds):
            return attribute
    return None


def _query_origin(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None, depth: int
) -> Origin | None:
    """ORM query results: `db.get(User, 1)`, `db.query(User).first()`, `scalars(...).all()`."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, cst.Await):
        return _query_origin(model, expr.expression, scope, order, depth + 1)
    if isinstance(expr, cst.Name):
        binding = scope.lookup(expr.value, order)
        if binding is None:
            return None
        owner = model.scope_of_binding(binding)
        if binding.kind in (BindingKind.ASSIGN, BindingKind.WITH) and binding.value is not None:
            return _query_origin(model, binding.value, owner, binding.order, depth + 1)
        if binding.kind is BindingKind.LOOP and binding.iterable is not None:
            found = _query_origin(model, binding.iterable, owner, binding.order, depth + 1)
            if found is not None and found.kind is OriginKind.ORM_COLLECTION:
                return Origin(OriginKind.ORM_INSTANCE, found.type_name, found.qualname)
        return None
    if not isinstance(expr, cst.Call) or not isinstance(expr.func, cst.Attribute):
        return None
    terminal = expr.func.attr.value
    if terminal in _INSTANCE_TERMINALS:
        kind = OriginKind.ORM_INSTANCE
    elif terminal in _COLLECTION_TERMINALS:
        kind = OriginKind.ORM_COLLECTION
    else:
        return None
    queried = _queried_model(model, expr, scope, order)
    if queried is None:
        return None
    return Origin(kind, queried.rsplit(".", 1)[-1], queried)


def _queried_model(
    model: ModuleModel, call: cst.Call, scope: Scope, order: int | None
) -> str | None:
    """The ORM class a query chain selects from (`db.query(User)`, `User.objects`), also
    through the locals it is built in (`query = db.query(User)...; query.first()`)."""
    node: cst.BaseExpression = call
    hops = 0
    while True:
        if isinstance(node, cst.Await):
            node = node.expression
            continue
        if isinstance(node, cst.Name) and hops < _MAX_DEPTH:
            assigned = model.assigned_value(node, scope, order)
            if assigned is None:
                return None
            node, scope, order = assigned
            hops += 1
            continue
        if isinstance(node, cst.Call):
            func = node.func
            name = (
                func.attr.value
                if isinstance(func, cst.Attribute)
                else func.value
                if isinstance(func, cst.Name)
                else ""
            )
            if name in _QUERY_ENTRY or name in _INSTANCE_TERMINALS:
                for arg in node.args[:1]:
                    found = _orm_class_in(model, arg.value, scope, order, 0)
                    if found is not None:
                        return found
            node = func
            continue
        if isinstance(node, cst.Attribute):
            found = _orm_class_in(model, node.value, scope, order, _MAX_DEPTH)
            if found is not None:
                return found
            node = node.value
            continue
        return None


def _orm_class_in(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None, depth: int
) -> str | None:
    """`User` or `select(User)`: the ORM class named, if any; also through a local
    (`stmt = select(User).where(...)`) up to `_MAX_DEPTH` assignments back."""
    if isinstance(expr, cst.Call):
        if model.qualified_name(expr.func, scope, order) == "sqlalchemy.select":
            if not expr.args:
                return None
            return _orm_class_in(model, expr.args[0].value, scope, order, depth)
        if isinstance(expr.func, cst.Attribute):  # `select(User).where(...)`
            return _orm_class_in(model, expr.func.value, scope, order, depth)
        return None
    if not isinstance(expr, (cst.Name, cst.Attribute)):
        return None
    qualname = model.qualified_name(expr, scope, order)
    if qualname is not None and model.orm.is_model_class(qualname):
        return qualname
    if isinstance(expr, cst.Name) and depth < _MAX_DEPTH:
        assigned = model.assigned_value(expr, scope, order)
        if assigned is not None:
            return _orm_class_in(model, assigned[0], assigned[1], assigned[2], depth + 1)
    return None

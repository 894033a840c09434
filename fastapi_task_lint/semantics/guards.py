"""Branches that a call's constant arguments rule out, for the call-chain searches.

`cluster_name(name, add_hash=False)` never runs the `if add_hash:` branch of
`cluster_name`, and `logs_prefix(user)` with a `user: str` never runs `if user is None:`.
A search down the call graph (`callgraph.find_chain`) knows, on entering a function, what
some of its parameters hold: a literal argument, the literal default of an omitted one, or a
value the caller itself knew and passes on; the route or task a search starts at knows its
annotations that rule out `None`. Calls in a branch those values decide against do not
run on that path. (Annotations deeper down are not read: they would give most typed
functions a context of their own, and each context is searched apart.)

The builder records, per function, each `if` and conditional expression whose test reads a
parameter (`FunctionInfo.branches`), with the walk orders its two arms span, so ruling an
arm out is a range test on `CallInfo.order`, with no second walk of the function.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics import names
from fastapi_task_lint.semantics.calls import built_plain_dataclass
from fastapi_task_lint.semantics.functions import (
    AttributeAssignment,
    Branch,
    CallInfo,
    ClassInfo,
    FunctionInfo,
    ParamInfo,
)
from fastapi_task_lint.semantics.observations import RunGlobal, register_global
from fastapi_task_lint.semantics.scheduling import bind_arguments
from fastapi_task_lint.semantics.scope import Binding, BindingKind, Scope
from fastapi_task_lint.semantics.uses import built_once, local_uses
from fastapi_task_lint.semantics.walk import walk

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.callgraph import Target
    from fastapi_task_lint.semantics.model import ModuleModel
    from fastapi_task_lint.semantics.task_definitions import TaskUse


class Value(Enum):
    """What is known of a parameter's value."""

    NONE = "None"
    FALSY = "falsy"  # not None: False, 0, "", an empty display
    TRUTHY = "truthy"
    SOME = "not None"  # truthiness unknown


@dataclass(frozen=True, slots=True)
class Instance:
    """An object of a known class that a caller hands a parameter without an annotation
    (`save(db, item)` from a route whose `db: Session`): the blocking-call search types the
    parameter's method calls by it. Whether it is None is known only where `present` says
    so (the caller built it): the class may come from an `Optional[...]` annotation. Its
    truth is not known."""

    qualname: str
    present: bool = False


@dataclass(frozen=True, slots=True)
class Member:
    """A member of an `Enum` that a caller hands a parameter (`NodeType.SOURCE`): its class's
    qualified name and the member's name (an alias is named as the member it aliases). It
    is never None; its truth is not known (a `str` mixin's empty value is falsy)."""

    klass: str
    name: str


@dataclass(frozen=True, slots=True)
class Built:
    """An object a caller built by calling a project class and hands a parameter
    (`manager.handle(QueryInstMsg(ip))`): of that class exactly, so `isinstance` tests of
    the parameter are decided by its bases. Never None; its truth is not known."""

    klass: str


# What is known of a value: one of `Value`, the text of a string literal it is (`"oidc/x"`),
# which `truth` can test with `startswith`, `endswith`, `==` and `in`, an `Instance`, an
# enum `Member`, which `truth` can test with `==`, `is` and `in` against its class's
# members, or a `Built` object, which it can test with `isinstance`.
Known = Value | str | Instance | Member | Built
# What a search knows on entering a function: (parameter, value) pairs, sorted (a memo key).
Context = tuple[tuple[str, Known], ...]
# Per parameter that matters: its name, and what its literal default and annotation tell.
Inputs = tuple[tuple[str, Known | None, Value | None], ...]
# Walk-order spans (first, last] of code a context rules out.
Spans = tuple[tuple[int, int], ...]

_NAMED = {"None": Value.NONE, "True": Value.TRUTHY, "False": Value.FALSY}
# Class names of the literals `literal_value` reads, but for the names in `_NAMED`.
_LITERALS = frozenset(
    {
        "Integer",
        "Float",
        "Imaginary",
        "SimpleString",
        "FormattedString",
        "ConcatenatedString",
        "List",
        "Tuple",
        "Set",
        "Dict",
        "UnaryOperation",
    }
)
# Annotations that admit None or say nothing.
_OPEN_TYPES = frozenset({"None", "Any", "object", "Optional", "Union"})


def tested_names(test: cst.BaseExpression) -> set[str]:
    """The names a test reads in a form `truth` can decide: `p`, `not p`, `p is None`,
    `p is not None`, and `and`/`or` of those; `p` may also be an attribute of a name
    (`self.path`), named with its dot.

    The builder asks this of every `if` in every module: other tests are turned down by
    class name first (built trees keep libcst's names), since `isinstance` on libcst's
    abstract bases is slow.
    """
    kind = type(test).__name__
    if kind == "Name" and isinstance(test, cst.Name):
        return {test.value}
    if kind == "Attribute":
        subject = _subject(test)
        return {subject} if subject is not None else set()
    if kind == "UnaryOperation" and isinstance(test, cst.UnaryOperation):
        return tested_names(test.expression) if isinstance(test.operator, cst.Not) else set()
    if kind == "BooleanOperation" and isinstance(test, cst.BooleanOperation):
        return tested_names(test.left) | tested_names(test.right)
    if kind == "Call":
        tested = _text_method_test(test) or _isinstance_test(test)
        return {tested[0]} if tested is not None else set()
    if kind != "Comparison":
        return set()
    compared = (
        _compared_with_none(test)
        or _compared_with_text(test)
        or _compared_with_class(test)
        or _compared_with_member(test)
    )
    return {compared[0]} if compared is not None else set()


def _subject(expression: cst.BaseExpression) -> str | None:
    """`p` or `p.name` as `tested_names` names them; None for anything else."""
    if isinstance(expression, cst.Name):
        return expression.value
    if isinstance(expression, cst.Attribute) and isinstance(expression.value, cst.Name):
        return f"{expression.value.value}.{expression.attr.value}"
    return None


# The string literals a constant holds, by its name where a test reads it (`_constant_texts`).
Constants = Callable[[cst.Name], tuple[str, ...] | None]
# The enum member an expression names where a test reads it (`enum_member`).
Members = Callable[[cst.BaseExpression], Member | None]
# Whether a built object is an instance of one of the classes a test names (`instance_of`).
Classes = Callable[[Built, cst.Call], bool | None]


def truth(
    test: cst.BaseExpression,
    values: Mapping[str, Known],
    constants: Constants | None = None,
    members: Members | None = None,
    classes: Classes | None = None,
) -> bool | None:
    """The test's outcome under `values`; None when they do not decide it. `constants`
    tells the texts of a constant it may test against (`key in PROMPTS`), `members` the
    enum member an attribute names (`kind == NodeType.SOURCE`), `classes` whether a built
    object passes an `isinstance` test."""
    if isinstance(test, cst.Name | cst.Attribute):
        subject = _subject(test)
        value = values.get(subject) if subject is not None else None
        if isinstance(value, str):
            return bool(value)
        if value is Value.TRUTHY:
            return True
        return False if value in (Value.NONE, Value.FALSY) else None
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = truth(test.expression, values, constants, members, classes)
        return None if inner is None else not inner
    if isinstance(test, cst.BooleanOperation):
        left = truth(test.left, values, constants, members, classes)
        right = truth(test.right, values, constants, members, classes)
        deciding = isinstance(test.operator, cst.Or)  # what settles it: True for or
        if deciding in (left, right):
            return deciding
        return None if None in (left, right) else not deciding
    if isinstance(test, cst.Call):
        dispatch = _isinstance_test(test)
        if dispatch is not None:
            built = values.get(dispatch[0])
            if not isinstance(built, Built) or classes is None:
                return None
            return classes(built, test)
        method_test = _text_method_test(test)
        if method_test is None:
            return None
        name, method, literals = method_test
        text = values.get(name)
        if not isinstance(text, str):
            return None
        return text.startswith(literals) if method == "startswith" else text.endswith(literals)
    compared = _compared_with_none(test)
    if compared is not None:
        name, negated = compared
        value = values.get(name)
        if value is None or (isinstance(value, Instance) and not value.present):
            return None  # the class alone says nothing of whether it is None
        return (value is Value.NONE) != negated
    member_test = _compared_with_member(test)
    if member_test is not None and members is not None:
        name, negated, comparators = member_test
        value = values.get(name)
        if isinstance(value, Member):
            found = [members(comparator) for comparator in comparators]
            if all(f is not None and f.klass == value.klass for f in found):
                return (value in found) != negated  # another enum's members may compare equal
    class_test = _compared_with_class(test)
    if class_test is not None:  # `exc_type != ModuleNotFoundError` with `exc_type` None
        name, negated = class_test
        return negated if values.get(name) is Value.NONE else None
    text_test = _compared_with_text(test, constants)
    if text_test is None:
        return None
    subject, is_negated, texts = text_test
    value = values.get(subject)
    if texts is None or not isinstance(value, str):
        return None
    return (value in texts) != is_negated


def _isinstance_test(test: cst.BaseExpression) -> tuple[str, tuple[cst.BaseExpression, ...]] | None:
    """`(p, classes)` for `isinstance(p, C)` and `isinstance(p, (C, D))`, each class a
    dotted name (whether `isinstance` is the builtin, `instance_of` tells)."""
    if not isinstance(test, cst.Call) or len(test.args) != 2:
        return None
    func, (subject_arg, classes_arg) = test.func, test.args
    if not isinstance(func, cst.Name) or func.value != "isinstance":
        return None
    if subject_arg.keyword or classes_arg.keyword or subject_arg.star or classes_arg.star:
        return None
    subject = _subject(subject_arg.value)
    kinds = classes_arg.value
    found = tuple(e.value for e in kinds.elements) if isinstance(kinds, cst.Tuple) else (kinds,)
    if subject is None or not all(_dotted(kind) for kind in found):
        return None
    return subject, found


def _dotted(expression: cst.BaseExpression) -> bool:
    """Whether `expression` is a name or an attribute of a dotted name."""
    return isinstance(expression, cst.Name) or _dotted_attribute(expression)


def instance_of(model: ModuleModel, scope: Scope, built: Built, test: cst.Call) -> bool | None:
    """Whether the object `built` passes `isinstance(p, ...)` read in `scope` of `model`:
    True when a class the test names is among its class's bases; False when none is and
    each is a project class (a library class may be a virtual base: `collections.abc`'s
    register theirs); None when that is not known."""
    if model.qualified_name(test.func, scope) != "builtins.isinstance":
        return None
    found = _isinstance_test(test)
    assert found is not None
    kinds = [model.qualified_name(kind, scope) for kind in found[1]]
    if any(kind is None for kind in kinds):
        return None
    ancestors = model.ancestors(built.klass)
    if any(kind in ancestors for kind in kinds):
        return True
    if all(model.project.resolve_class(kind or "") is not None for kind in kinds):
        return False
    return None


def _text_method_test(test: cst.BaseExpression) -> tuple[str, str, tuple[str, ...]] | None:
    """`(p, method, texts)` for `p.startswith("a")`, `p.endswith(("a", "b"))`."""
    if not isinstance(test, cst.Call) or len(test.args) != 1 or test.args[0].keyword:
        return None
    func = test.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in ("startswith", "endswith"):
        return None
    subject = _subject(func.value)
    literals = _texts(test.args[0].value)
    if subject is None or literals is None:
        return None
    return subject, func.attr.value, literals


def _compared_with_text(
    test: cst.BaseExpression, constants: Constants | None = None
) -> tuple[str, bool, tuple[str, ...] | None] | None:
    """`(p, negated, texts)` for `p == "a"`, `p != "a"`, `p in ("a", "b")`, `p not in ...`,
    and `p in NAMES` with `NAMES` a constant of string literals, whose texts `constants`
    tells (None without it: the builder asks only whether the test has that form)."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    target = test.comparisons[0]
    operator = target.operator
    subject = _subject(test.left)
    if subject is None or not isinstance(operator, cst.Equal | cst.NotEqual | cst.In | cst.NotIn):
        return None
    negated = isinstance(operator, cst.NotEqual | cst.NotIn)
    comparator = target.comparator
    if isinstance(operator, cst.In | cst.NotIn) and isinstance(comparator, cst.Name):
        return subject, negated, None if constants is None else constants(comparator)
    literals = _texts(comparator)
    if literals is None or (isinstance(operator, cst.Equal | cst.NotEqual) and len(literals) != 1):
        return None
    if isinstance(operator, cst.In | cst.NotIn) and isinstance(comparator, cst.SimpleString):
        return None  # `p in "abc"` tests a substring
    return subject, negated, literals


def _constant_texts(model: ModuleModel, scope: Scope, name: cst.Name) -> tuple[str, ...] | None:
    """The string literals a module-level constant holds, here or in the project module it
    is imported from: the keys of a dict display, the items of a tuple, list or set display;
    None when the name is bound otherwise, or twice."""
    binding = scope.lookup(name.value)
    owner = scope.module_scope()
    if binding is not None and binding.kind is BindingKind.IMPORT and binding.imported:
        source = model.project.resolve(names.canonical(binding.imported))
        if source is None or source.binding is None:
            return None
        binding, owner = source.binding, source.model.module_scope
    if binding is None or binding.kind is not BindingKind.ASSIGN or binding.value is None:
        return None
    if owner.bindings.get(binding.name) != [binding]:  # bound once, at the module's top level
        return None
    value = binding.value
    if isinstance(value, cst.Dict):
        keys = [e.key for e in value.elements if isinstance(e, cst.DictElement)]
        if len(keys) != len(value.elements):
            return None  # a `**spread` adds keys not shown
        return _literal_texts(keys)
    return _texts(value)


def _texts(expression: cst.BaseExpression) -> tuple[str, ...] | None:
    """The string literals `expression` is: one, or a tuple, list or set of them."""
    if isinstance(expression, cst.Tuple | cst.List | cst.Set):
        return _literal_texts(e.value for e in expression.elements) or None
    return _literal_texts((expression,))


def _literal_texts(expressions: Iterable[cst.BaseExpression]) -> tuple[str, ...] | None:
    """The texts of `expressions` when every one is a string literal; None otherwise."""
    texts: list[str] = []
    for expression in expressions:
        text = literal_value(expression)
        if not isinstance(text, str):
            return None
        texts.append(text)
    return tuple(texts)


def _compared_with_class(test: cst.BaseExpression) -> tuple[str, bool] | None:
    """`(p, negated)` for `p == C` / `p is C` (negated: `!=`, `is not`) where `C` is spelled
    as a class (`ModuleNotFoundError`, `errors.Timeout`: capitalized, not all capitals),
    which is never None: the test is decided where `p` is None."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    target = test.comparisons[0]
    operator, comparator = target.operator, target.comparator
    if isinstance(comparator, cst.Name):
        spelled = comparator.value
    elif isinstance(comparator, cst.Attribute):
        spelled = comparator.attr.value
    else:
        return None
    subject = _subject(test.left)
    if (
        subject is None
        or not spelled[:1].isupper()
        or spelled.isupper()
        or not isinstance(operator, cst.Is | cst.IsNot | cst.Equal | cst.NotEqual)
    ):
        return None
    return subject, isinstance(operator, cst.IsNot | cst.NotEqual)


def _compared_with_none(test: cst.BaseExpression) -> tuple[str, bool] | None:
    """`(p, negated)` for `p is None` / `p == None` (negated: `is not`, `!=`); `p` as
    `_subject` names it."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    target = test.comparisons[0]
    operator = target.operator
    subject = _subject(test.left)
    if not (
        subject is not None
        and names.is_none(target.comparator)
        and isinstance(operator, cst.Is | cst.IsNot | cst.Equal | cst.NotEqual)
    ):
        return None
    return subject, isinstance(operator, cst.IsNot | cst.NotEqual)


def _compared_with_member(
    test: cst.BaseExpression,
) -> tuple[str, bool, tuple[cst.BaseExpression, ...]] | None:
    """`(p, negated, members)` for `p == E.A`, `p is E.A` (negated: `!=`, `is not`) and
    `p in (E.A, E.B)`, `p not in ...`, where each of `members` is an attribute of a dotted
    name: an enum member or not, which `enum_member` tells."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    target = test.comparisons[0]
    operator, comparator = target.operator, target.comparator
    subject = _subject(test.left)
    if subject is None:
        return None
    if isinstance(operator, cst.Equal | cst.NotEqual | cst.Is | cst.IsNot):
        comparators: tuple[cst.BaseExpression, ...] = (comparator,)
    elif isinstance(operator, cst.In | cst.NotIn) and isinstance(
        comparator, cst.Tuple | cst.List | cst.Set
    ):
        comparators = tuple(e.value for e in comparator.elements)
    else:
        return None
    if not comparators or not all(_dotted_attribute(c) for c in comparators):
        return None
    negated = isinstance(operator, cst.NotEqual | cst.IsNot | cst.NotIn)
    return subject, negated, comparators


def _member_spelled(expression: cst.BaseExpression) -> bool:
    """Whether `expression` is spelled as an enum member: `NodeType.SOURCE`, `m.Kind.A`."""
    return (
        isinstance(expression, cst.Attribute)
        and expression.attr.value.isupper()
        and _dotted_attribute(expression)
    )


def _dotted_attribute(expression: cst.BaseExpression) -> bool:
    """Whether `expression` is `a.b` or `a.b.c`: an attribute of a dotted name."""
    if not isinstance(expression, cst.Attribute):
        return False
    value = expression.value
    return isinstance(value, cst.Name) or _dotted_attribute(value)


# The classes whose subclasses' members are enum members.
_ENUM_BASES = frozenset({"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag"})
_UNIQUE = object()  # the value of `auto()`: another for each member


def enum_member(model: ModuleModel, scope: Scope, expression: cst.BaseExpression) -> Member | None:
    """The member of a project `Enum` that `expression` (read in `scope` of `model`) names:
    `NodeType.SOURCE`, through imports; None for anything else. A member's value must be a
    literal or `auto()`, so aliases (two members of one value) are told apart."""
    if type(expression).__name__ != "Attribute" or not isinstance(expression, cst.Attribute):
        return None  # told by class name first: asked of arguments a search passes
    owner = model.qualified_name(expression.value, scope)
    found = model.project.resolve_class(owner) if owner is not None else None
    if found is None or not _is_enum(*found):
        return None
    home, klass = found
    wanted = _member_value(home, klass, expression.attr.value)
    if wanted is None:
        return None
    if wanted is _UNIQUE:
        return Member(klass.qualname, expression.attr.value)
    for name in klass.scope.bindings:  # in the order they are first bound: the first is it
        if _member_value(home, klass, name) == wanted:
            return Member(klass.qualname, name)
    return None


def _member_value(model: ModuleModel, klass: ClassInfo, name: str) -> object | None:
    """The value of the member `name` of `klass` (bound once, to a literal or `auto()`):
    the literal's value, `_UNIQUE` for `auto()`; None for anything else."""
    bindings = klass.scope.bindings.get(name, ())
    if len(bindings) != 1 or bindings[0].kind is not BindingKind.ASSIGN:
        return None
    value = bindings[0].value
    if isinstance(value, cst.SimpleString | cst.Integer | cst.Float):
        try:
            literal: object = ast.literal_eval(value.value)
            return literal  # equal values alias, as `Enum` has it (`1` and `1.0`)
        except (ValueError, SyntaxError):
            return None
    if isinstance(value, cst.Call) and not value.args:
        called = model.qualified_name(value.func, klass.scope)
        return _UNIQUE if called == "enum.auto" else None
    return None


def _is_enum(model: ModuleModel, klass: ClassInfo, depth: int = 0) -> bool:
    """Whether `klass` (of `model`) derives from `enum.Enum`, also through project classes."""
    for base in klass.bases:
        qualname = model.qualified_name(base, klass.parent_scope)
        if qualname is None:
            continue
        if qualname in _ENUM_BASES:
            return True
        found = model.project.resolve_class(qualname) if depth < 4 else None
        if found is not None and _is_enum(*found, depth=depth + 1):
            return True
    return False


def ruled_out(model: ModuleModel, function: FunctionInfo, context: Context) -> Spans:
    """The spans of `function`'s body (in `model`) that `context` rules out, and those
    that cannot run in any context (`FunctionInfo.unreachable`)."""
    if not context or not function.branches:
        return function.unreachable
    values = dict(context)
    constants = functools.partial(_constant_texts, model, function.scope)
    members = functools.partial(enum_member, model, function.scope)
    classes = functools.partial(instance_of, model, function.scope)
    spans: list[tuple[int, int]] = list(function.unreachable)
    # In the order of the tests: an assignment in code an earlier test rules out does not
    # happen (`if name.startswith("os.environ/"): name = ...` before `if name.startswith(...)`).
    for branch in sorted(function.branches, key=lambda b: b.order):
        holding: dict[str, Known] = {}
        for name, passed in values.items():
            value = _value_at(function, name, branch.order, branch.in_loop, spans, passed)
            if value is not None:
                holding[name] = value
        for name in tested_names(branch.test):
            if "." in name:
                value = _attribute_value(function, name, branch, values)
                if value is not None:
                    holding[name] = value
        verdict = truth(branch.test, holding, constants, members, classes) if holding else None
        if verdict is None:
            continue
        if not verdict:
            spans.append(branch.taken)
        elif branch.one_armed:
            continue  # the taken arm runs: nothing is ruled out
        elif branch.leaves and function.end_order:
            spans.append((branch.skipped[0], function.end_order))  # the rest of the body too
        elif branch.rest_until:
            spans.append((branch.skipped[0], branch.rest_until))  # the rest of its block
        else:
            spans.append(branch.skipped)
    return tuple(spans)


def runs(call: CallInfo, spans: Spans) -> bool:
    """Whether `call` lies outside every ruled-out span."""
    return not any(first < call.order <= last for first, last in spans)


def _value_at(
    function: FunctionInfo,
    name: str,
    order: int,
    in_loop: bool,
    spans: Sequence[tuple[int, int]],
    passed: Known,
) -> Known | None:
    """What parameter `name` holds where walk order `order` reads it (in a loop, when
    `in_loop`): `passed`, the caller's value, unless an assignment before that, in code
    `spans` do not rule out, gave it another; None when that is not known."""
    if not _reassigned(function, name):
        return passed
    normalized = _normalized(function, name, passed, order, in_loop)
    if normalized is not None:
        return normalized  # `if name is None: name = []` before the read
    if in_loop or name in function.rebound_inside:
        return None  # a later assignment in the loop reaches the read next time round
    for binding in reversed(function.scope.bindings.get(name, ())):
        if binding.order >= order:
            continue  # after the read
        if binding.kind is BindingKind.PARAM:
            return passed
        if not any(first < binding.order <= last for first, last in spans):
            return _defaulted(function, name, binding, spans, passed)
    return None


def _defaulted(
    function: FunctionInfo,
    name: str,
    binding: Binding,
    spans: Sequence[tuple[int, int]],
    passed: Known,
) -> Known | None:
    """What `p = p or <literal>` gives `p`: what it held, when that was truthy, else the
    literal's value (`uploads = uploads or {}` with `uploads` None: an empty dict). None for
    any other assignment."""
    value = binding.value
    if not (
        binding.kind is BindingKind.ASSIGN
        and isinstance(value, cst.BooleanOperation)
        and isinstance(value.operator, cst.Or)
        and isinstance(value.left, cst.Name)
        and value.left.value == name
    ):
        return None
    default = literal_value(value.right)
    before = _value_at(function, name, binding.order, False, spans, passed)
    if default is None or before is None or before is Value.SOME:
        return None
    if isinstance(before, Instance | Member | Built):
        return None  # its truth is not known
    truthy = before is Value.TRUTHY or (isinstance(before, str) and before != "")
    return before if truthy else default


def _attribute_value(
    function: FunctionInfo, name: str, branch: Branch, values: Mapping[str, Known]
) -> Known | None:
    """What `self.name` holds where `branch` tests it, when the method itself gave it its
    value from its parameters: one assignment, in the method's body itself (no `if` or loop
    around it), before the test, with no call in between that could assign it again
    (`self.path = Path(path) if path is not None else None`): one that names the instance
    (`self.load()`, `register(self)`, `super().__init__()`)."""
    assignment = _attribute_source(function, name)
    if assignment is None or branch.in_loop or assignment.order >= branch.order:
        return None
    instance = name.partition(".")[0]
    if any(
        assignment.order < call.order < branch.order and _reaches(call.node, instance)
        for call in function.calls
    ):
        return None
    assert assignment.value is not None  # `_attribute_source` finds only assignments of one
    kept = {n: v for n, v in values.items() if not _reassigned(function, n)}
    return _evaluated(assignment.value, kept)


def _reaches(call: cst.Call, instance: str) -> bool:
    """Whether `call` names `instance` (or `super`, which is it) anywhere in it."""
    finder = _NameFinder(frozenset({instance, "super"}))
    walk(call, finder)
    return finder.found


class _NameFinder(cst.CSTVisitor):
    """Whether a tree names one of `names`; the walk stops at the first."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names
        self.found = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Name) and node.value in self.names:
            self.found = True
        return not self.found


def _attribute_source(function: FunctionInfo, name: str) -> AttributeAssignment | None:
    """The one assignment of `name` (`self.path`) in `function`, when it assigns the method's
    own instance and stands in its body itself, outside any `if`, loop, `with` or `try`."""
    receiver, _, attribute = name.partition(".")
    klass = function.klass
    if klass is None or not function.params or function.params[0].name != receiver:
        return None
    own = [a for a in klass.attributes.get(attribute, ()) if a.scope is function.scope]
    if len(own) != 1 or own[0].value is None or not isinstance(function.node, cst.FunctionDef):
        return None
    body = function.node.body
    statements = body.body if isinstance(body, cst.IndentedBlock) else (body,)
    for statement in statements:
        if not isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign | cst.AnnAssign) and small.value is own[0].value:
                return own[0]
    return None


def _evaluated(expression: cst.BaseExpression, values: Mapping[str, Known]) -> Known | None:
    """What `expression` holds under `values`: a literal, a parameter's value, or the arm a
    conditional expression's test picks."""
    if isinstance(expression, cst.IfExp):
        verdict = truth(expression.test, values)
        if verdict is None:
            return None
        return _evaluated(expression.body if verdict else expression.orelse, values)
    return _argument_value(expression, values)


def _reads(expression: cst.BaseExpression) -> set[str]:
    """The names `_evaluated` may read in `expression`."""
    if isinstance(expression, cst.IfExp):
        return tested_names(expression.test) | _reads(expression.body) | _reads(expression.orelse)
    return {expression.value} if isinstance(expression, cst.Name) else set()


def _reassigned(function: FunctionInfo, name: str) -> bool:
    if name in function.rebound_inside:
        return True
    return any(b.kind is not BindingKind.PARAM for b in function.scope.bindings.get(name, ()))


def entry_context(model: ModuleModel, function: FunctionInfo) -> Context:
    """What a search starting at `function` (run by the framework, whose arguments are
    not seen) knows: its annotations that rule out None."""
    return _context(_inputs(model, function), {}, {}, omitted_known=False, annotations=True)


def task_context(model: ModuleModel, task: FunctionInfo, uses: Sequence[TaskUse]) -> Context:
    """What a task knows of its parameters from every place that schedules it
    (`add_task(fn, flag=False)`, `create_task(run(show_banner=False))`): the values they
    all agree on, and its annotations; only its annotations when one of them is not told,
    or when the run mentions the task anywhere else (a helper this tool does not see as
    scheduling may pass other values)."""
    inputs = _inputs(model, task)
    told: list[dict[str, Known]] = []
    for use in uses:
        launch = use.launch
        bound_self = None if launch is None else _self_bound(launch[0], task)
        if launch is None or bound_self is None or any(arg.star for arg in launch[1]):
            return entry_context(model, task)
        passed = _passed(task, launch[1], bound_self)
        told.append(dict(_context(inputs, passed, {}, annotations=True)))
    entry = entry_context(model, task)
    if not told:
        return entry
    first, *others = told
    agreed = tuple((name, v) for name, v in first.items() if all(o.get(name) == v for o in others))
    if agreed != entry and not _only_launched(model, task, uses):
        return entry
    return agreed


def _only_launched(model: ModuleModel, task: FunctionInfo, uses: Sequence[TaskUse]) -> bool:
    """Whether the run hands the task over nowhere but at `uses`: every mention of its name
    that is not a call (`fn`, not `fn(...)`) is one of them, or the import that brings it
    into a module that schedules it. Calling it runs it in its caller, not as the task; a
    mention that is not a call may give it to a scheduler this tool does not see."""
    expected: dict[str, int] = {}
    for use in uses:
        if use.model is None or use.launch is None:
            return False
        name = use.model.module_name
        if name != model.module_name:
            expected.setdefault(name, 1)  # the import
        handed = isinstance(use.node, cst.Call) and any(
            arg.value is use.launch[0] for arg in use.node.args
        )
        if handed:  # `add_task(fn, ...)`, not `create_task(fn(...))`
            expected[name] = expected.get(name, 0) + 1
    found = dict(
        line.split("\0") for line in model.project.run_global("mentions", task.name).splitlines()
    )
    return {name: str(count) for name, count in expected.items() if count} == found


def _mentions(module: str, data: bytes, name: str) -> tuple[str, ...]:
    """The module and how many times it spells `name` other than in a call (`mentions`)."""
    encoded = name.encode()
    if encoded not in data:  # `in` first: one pass over most files
        return ()
    count = len(re.findall(rb"\b%s\b(?!\s*\()" % re.escape(encoded), data))
    return (f"{module}\0{count}",) if count else ()


register_global("mentions", RunGlobal(_mentions, lambda found, name: "\n".join(found)))


def call_context(
    call: CallInfo, target: Target, caller: FunctionInfo, known: Context, model: ModuleModel
) -> Context:
    """What `target` knows when `call` (in `caller`, of `model`, which knows `known`) runs
    it: of its parameters, and of its instance's attributes (`_instance_context`)."""
    told = _argument_context(call, target, caller, known, model)
    instance = _instance_context(model, call, target, caller, known)
    return tuple(sorted({**dict(told), **instance}.items())) if instance else told


def _argument_context(
    call: CallInfo, target: Target, caller: FunctionInfo, known: Context, model: ModuleModel
) -> Context:
    """What `target` knows of its parameters when `call` runs it."""
    inputs = _inputs(target.model, target.function)
    if not inputs:
        return ()
    dispatched = _dispatched(target.function)
    told_nothing = all(default is None for _, default, _ in inputs) and not dispatched
    if told_nothing and not _tells(call, known):
        return ()
    bound_self = _binds_self(call, target.function)
    if bound_self is None or any(arg.star for arg in call.node.args):
        return ()
    forwarded = {name: v for name, v in known if not _reassigned(caller, name)}
    for name, value in known:
        if name not in forwarded:
            normalized = _normalized(caller, name, value, call.order, call.in_loop)
            if normalized is not None:
                forwarded[name] = normalized
    passed = _passed(target.function, call.node.args, bound_self)

    def told(name: str, expression: cst.BaseExpression) -> Known | None:
        member = enum_member(model, call.scope, expression)
        if member is not None:
            return member
        built = _built_class(model, expression, call, caller)
        if built is None:
            return None
        klass, in_project = built
        # Only a parameter an `isinstance` test reads is told the class: each class passed
        # would split the searches of the function for nothing anywhere else.
        return Built(klass) if in_project and name in dispatched else Value.SOME

    return _context(inputs, passed, forwarded, told)


def _dispatched(function: FunctionInfo) -> frozenset[str]:
    """The parameters an `isinstance` test of `function`'s branches reads (kept on it: asked
    at every call a search passes)."""
    if function.dispatched is None:
        function.dispatched = _isinstance_tested(function)
    return function.dispatched


def _isinstance_tested(function: FunctionInfo) -> frozenset[str]:
    found: set[str] = set()
    for branch in function.branches:
        pending = [branch.test]
        while pending:
            test = pending.pop()
            if isinstance(test, cst.BooleanOperation):
                pending += [test.left, test.right]
            elif isinstance(test, cst.UnaryOperation):
                pending.append(test.expression)
            elif (dispatch := _isinstance_test(test)) is not None:
                found.add(dispatch[0])
    return frozenset(found)


def _normalized(
    function: FunctionInfo, name: str, passed: Known, order: int, in_loop: bool
) -> Known | None:
    """What parameter `name` holds at walk order `order` after the one assignment before
    it that replaces a missing value, `if name is None: name = []` (or `if not name:`),
    outside any loop: the literal when `passed` makes the test hold (`truth`), else
    `passed`. An assignment after the read counts only where the read is in a loop."""
    if name in function.rebound_inside:
        return None
    assigned = [b for b in function.scope.bindings.get(name, ()) if b.kind is not BindingKind.PARAM]
    before = [b for b in assigned if b.order < order]
    if len(before) != 1 or before[0].kind is not BindingKind.ASSIGN:
        return None
    if in_loop and len(assigned) > 1:
        return None
    binding = before[0]
    literal = literal_value(binding.value) if binding.value is not None else None
    branch = next((b for b in function.branches if b.taken[0] < binding.order <= b.taken[1]), None)
    if literal is None or branch is None or branch.in_loop or order <= branch.taken[1]:
        return None
    if tested_names(branch.test) != {name}:
        return None  # the test reads more than the parameter: its outcome is not told
    replaced = truth(branch.test, {name: passed})
    if replaced is None:
        return None
    return literal if replaced else passed


def _built_class(
    model: ModuleModel, expression: cst.BaseExpression, call: CallInfo, caller: FunctionInfo
) -> tuple[str, bool] | None:
    """The class that built `expression`, an argument of `call`, and whether it is the
    project's: `Repo()`, or a local bound once to one (`repo = Repo()`); a project class,
    or a library name spelled as a class (`Path(p)`). Such an object is never None."""
    built = expression if isinstance(expression, cst.Call) else built_once(caller, expression, call)
    if built is None:
        return None
    qualname = model.qualified_name(built.func, call.scope, call.order)
    if qualname is None:
        return None
    found = model.project.resolve(qualname)
    if found is not None:
        return (found.klass.qualname, True) if found.klass is not None else None
    return (qualname, False) if qualname.rpartition(".")[2][:1].isupper() else None


def _instance_context(
    model: ModuleModel, call: CallInfo, target: Target, caller: FunctionInfo, known: Context
) -> dict[str, Known]:
    """What `target`, a method called on an instance, knows of the attributes of that
    instance that only its class's `__init__` sets (`_fixed_attributes`), by the name its
    first parameter gives them (`self.db`): from the call that built the instance, a local
    bound once in `caller` and never assigned an attribute there (`ev = Eval(name="x")`,
    then `await ev.run()`), or from `caller` when it calls a method of its own instance."""
    function, func = target.function, call.node.func
    if (
        not isinstance(func, cst.Attribute)
        or function.klass is None
        or not function.params
        or function.receives_class
        or function.is_static
    ):
        return {}
    own, receiver = function.params[0].name, func.value
    if isinstance(receiver, cst.Name) and caller.klass is not None and caller.params:
        mine = caller.params[0].name
        if receiver.value == mine:  # `self._history()`: the same instance, the same values
            return {
                f"{own}.{name.partition('.')[2]}": value
                for name, value in known
                if name.startswith(f"{mine}.")
            }
    sites: dict[int, list[tuple[str, cst.BaseExpression | None, Known | None]]] = (
        model.project.memo(f"{__name__}.instances", dict)
    )
    given = sites.get(id(call.node))
    if given is None:
        given = sites[id(call.node)] = _built_attributes(model, call, caller, function)
    if not given:
        return {}
    forwarded = {name: v for name, v in known if not _reassigned(caller, name)}
    values: dict[str, Known] = {}
    for attribute, argument, default in given:
        value = default if argument is None else _argument_value(argument, forwarded)
        if value is not None:
            values[f"{own}.{attribute}"] = value
    return values


def _built_attributes(
    model: ModuleModel, call: CallInfo, caller: FunctionInfo, method: FunctionInfo
) -> list[tuple[str, cst.BaseExpression | None, Known | None]]:
    """For the method call `call` in `caller`, on an instance built there: each fixed
    attribute of the instance (`_fixed_attributes`), with what the build passes for it (None
    when it passes nothing) and its default. Empty when the instance was not built there."""
    receiver = call.node.func.value if isinstance(call.node.func, cst.Attribute) else None
    built = receiver if isinstance(receiver, cst.Call) else built_once(caller, receiver, call)
    if built is None or any(arg.star for arg in built.args):
        return []
    fields = _fixed_attributes(model, built, call.scope)
    if fields is None or fields[0] is not method.klass or not fields[1]:
        return []
    if isinstance(receiver, cst.Name) and _attributes_set(model, caller, receiver.value, call):
        return []
    positional = any(arg.keyword is None for arg in built.args)
    return [
        (attribute, _given(built, argument), default)
        for attribute, (argument, default) in fields[1].items()
        if not (positional and argument[1] == _UNPLACED)  # a positional one may be it
    ]


def _attributes_set(model: ModuleModel, caller: FunctionInfo, name: str, call: CallInfo) -> bool:
    """Whether `caller`, before `call`, may give an attribute of its local `name` a value:
    it assigns one (`ev.save_path = p`), or hands the object to other code, which may (an
    argument, another name, a container)."""
    before = model.position(call.node).start
    for use in local_uses(caller, name):
        at = model.position(use.name).start
        if (at.line, at.column) >= (before.line, before.column):
            continue
        stored = use.parents[-2:]
        if (
            len(stored) == 2
            and isinstance(stored[1], cst.Attribute)
            and isinstance(stored[0], cst.AssignTarget | cst.AugAssign | cst.AnnAssign)
        ):
            return True
        if not isinstance(use.parent, cst.Attribute):  # `configure(ev)`, `other = ev`, ...
            return True
    return False


# The place of an argument that may be any positional one (`_class_fields`).
_UNPLACED = -2
# For a class: each attribute only its `__init__` sets, with the argument that gives it
# (a parameter's name and position, or a dataclass field's) and its literal default.
Fields = dict[str, tuple[tuple[str, int], Known | None]]


def _fixed_attributes(
    model: ModuleModel, built: cst.Call, scope: Scope
) -> tuple[ClassInfo, Fields] | None:
    """The class `built` makes, with the attributes whose value the call decides for the
    instance's whole life: a plain `@dataclass`'s fields that no method assigns, or what the
    class's own `__init__` sets once, at its top level, from one of its parameters
    (`self.db = db`) when no other method assigns it. None for a class with a base (whose
    methods may assign them too) or not of the project. Kept per class for the run."""
    qualname = model.qualified_name(built.func, scope)
    if qualname is None:
        return None
    known: dict[str, tuple[ClassInfo, Fields] | None] = model.project.memo(
        f"{__name__}.fixed attributes", dict
    )
    if qualname not in known:
        known[qualname] = _class_fields(model, built, scope, qualname)
    return known[qualname]


def _class_fields(
    model: ModuleModel, built: cst.Call, scope: Scope, qualname: str
) -> tuple[ClassInfo, Fields] | None:
    plain = built_plain_dataclass(model, built, scope)
    if plain is not None:
        owner, klass = plain
        fields = [
            b
            for bindings in klass.scope.bindings.values()
            for b in bindings
            if b.kind is BindingKind.ASSIGN and b.annotation is not None
        ]
        fields.sort(key=lambda b: b.order)
        # A `ClassVar`, `InitVar` or `KW_ONLY` annotation moves the places of the fields
        # after it (or is none): a field is then known only where the build has no
        # positional argument.
        placed = not any(
            word in owner.code_for(b.annotation)
            for b in fields
            if b.annotation is not None
            for word in ("ClassVar", "InitVar", "KW_ONLY")
        )
        return klass, {
            b.name: (
                (b.name, position if placed else _UNPLACED),
                None if b.value is None else literal_value(b.value),
            )
            for position, b in enumerate(fields)
            if not klass.attributes.get(b.name)
        }
    found = model.project.resolve_class(qualname)
    if found is None or found[1].bases or "__init__" not in found[1].methods:
        return None
    klass = found[1]
    init = klass.methods["__init__"]
    if not init.params:
        return None
    params = {p.name: p for p in init.params if not p.star}
    node = init.node
    positional = (
        [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
        if isinstance(node, cst.FunctionDef)
        else []
    )
    attributes: Fields = {}
    for attribute in klass.attributes:
        source = _attribute_source(init, f"{init.params[0].name}.{attribute}")
        if source is None or len(klass.attributes[attribute]) != 1:
            continue
        value = source.value
        param = params.get(value.value) if isinstance(value, cst.Name) else None
        if param is None or param.position == 0 or _reassigned(init, param.name):
            continue
        default = None if param.default is None else literal_value(param.default)
        place = positional.index(param.name) - 1 if param.name in positional else -1
        attributes[attribute] = ((param.name, place), default)
    return klass, attributes


def _given(built: cst.Call, argument: tuple[str, int]) -> cst.BaseExpression | None:
    """What `built` (with no `*args` or `**kwargs`) passes for the argument named and placed
    so (a place of -1: keyword only): a keyword, or a positional argument in that place;
    None when it passes none."""
    name, position = argument
    positional = 0
    for arg in built.args:
        if arg.keyword is not None:
            if arg.keyword.value == name:
                return arg.value
            continue
        if positional == position:
            return arg.value
        positional += 1
    return None


def _passed(
    function: FunctionInfo, args: Sequence[cst.Arg], bound_self: bool
) -> dict[str, cst.BaseExpression]:
    """The expression each parameter of `function` receives from `args`, where it is one."""
    return {
        name: arguments[0].value
        for name, arguments in bind_arguments(function, args, bound_self).items()
        if len(arguments) == 1 and not arguments[0].star
    }


def exit_context(function: FunctionInfo) -> Context:
    """What a `with` statement's normal exit tells `__exit__`/`__aexit__`: its exception
    parameters (all but the instance) are None."""
    return tuple(sorted((p.name, Value.NONE) for p in function.params[1:] if not p.star))


def handed_arguments(
    call: CallInfo, target: FunctionInfo, caller: FunctionInfo, known: Context
) -> dict[str, cst.BaseExpression | Instance]:
    """For each parameter of `target` without an annotation that `call` (in `caller`, which
    knows `known`) gives one argument: the `Instance` `known` holds for that argument (the
    caller's own parameter, handed on as it is), or the argument's expression."""
    untyped = {p.name for p in target.params if p.annotation is None and not p.star}
    bound_self = _binds_self(call, target) if untyped else None
    if bound_self is None or any(arg.star for arg in call.node.args):
        return {}
    instances = {
        name: v for name, v in known if isinstance(v, Instance) and not _reassigned(caller, name)
    }
    handed: dict[str, cst.BaseExpression | Instance] = {}
    for name, expression in _passed(target, call.node.args, bound_self).items():
        if name not in untyped:
            continue
        forwarded = instances.get(expression.value) if isinstance(expression, cst.Name) else None
        handed[name] = expression if forwarded is None else forwarded
    return handed


def _tells(call: CallInfo, known: Context) -> bool:
    """Whether an argument of `call` is a literal, a name whose value `known` holds, or an
    attribute spelled as an enum member (`NodeType.SOURCE`, which `enum_member` resolves)
    (told by class name first: asked of every call a search passes)."""
    names = {name for name, _ in known} | _NAMED.keys()
    for arg in call.node.args:
        kind = type(arg.value).__name__
        if kind in _LITERALS:
            return True
        if kind == "Name" and isinstance(arg.value, cst.Name) and arg.value.value in names:
            return True
        if kind == "Attribute" and _member_spelled(arg.value):
            return True
    return False


def _context(
    inputs: Inputs,
    passed: Mapping[str, cst.BaseExpression],
    forwarded: Mapping[str, Known],
    told: Callable[[str, cst.BaseExpression], Known | None] | None = None,
    omitted_known: bool = True,
    annotations: bool = False,
) -> Context:
    """What `inputs` hold: what `passed` gives them (a literal, a value `forwarded`, or what
    `told` tells of the argument: an enum member, or not None where a class call built it),
    else their defaults."""
    values: list[tuple[str, Known]] = []
    for name, default, annotated in inputs:
        expression = passed.get(name)
        if expression is not None:
            value = _argument_value(expression, forwarded)
            if value is None and told is not None:
                value = told(name, expression)
        else:
            value = default if omitted_known else None
        if value is None and annotations:
            value = annotated
        if value is not None:
            values.append((name, value))
    return tuple(values)


def _inputs(model: ModuleModel, function: FunctionInfo) -> Inputs:
    """The parameters whose values can rule out code in `function` or its callees (those
    its branches test, and those it passes on as they are to what may be a project
    function: `helper(x, flag)`, not `json.dumps(x)`), by name, each with what its default
    and its annotation tell; computed once per function.

    Each parameter that matters splits the searches of the function by what its callers
    pass: one passed only to libraries would split them for nothing."""
    found = function.guard_inputs
    if found is None:
        passed = {
            arg.value.value
            for call in function.calls
            if _may_be_project(model, call)
            for arg in call.node.args
            if isinstance(arg.value, cst.Name) and not arg.star
        }
        wanted = _tested(function) | passed
        found = function.guard_inputs = tuple(
            (p.name, None if p.default is None else literal_value(p.default), _annotated(p))
            for p in sorted(function.params, key=lambda p: p.name)
            if p.name in wanted and not p.star
        )
    return found


def _may_be_project(model: ModuleModel, call: CallInfo) -> bool:
    """Whether `call` may run a function of the run: its name does not resolve (a method of
    an object of unknown type), or resolves into a module of the run (no module is parsed:
    its name is enough)."""
    qualname = model.resolve_call(call)
    return qualname is None or model.project.defining_module(qualname) is not None


def _tested(function: FunctionInfo) -> set[str]:
    """The parameters the branches of `function` test, also through an attribute the
    method gave its value from them (`_attribute_source`)."""
    tested: set[str] = set()
    for branch in function.branches:
        for name in tested_names(branch.test):
            if "." not in name:
                tested.add(name)
                continue
            source = _attribute_source(function, name)
            if source is not None and source.value is not None:
                tested |= {read for read in _reads(source.value) if not _reassigned(function, read)}
    return tested


def _self_bound(callee: cst.BaseExpression, target: FunctionInfo) -> bool | None:
    """Whether calling `target` through `callee` (`obj.method`, `add_task(self.notify,
    ...)`) fills its first parameter; None when the spelling cannot tell: a class called
    (`Cls(...)` runs `__init__`), a method named bare or on its class (`Cls.method(obj)`)."""
    if target.klass is None or target.decorated("staticmethod"):
        return False
    if not isinstance(callee, cst.Attribute):
        return None
    through_class = isinstance(callee.value, cst.Name) and callee.value.value == target.klass.name
    return None if through_class and not target.decorated("classmethod") else True


def _binds_self(call: CallInfo, target: FunctionInfo) -> bool | None:
    """`_self_bound` for a call, which also knows a class bound in its scope under another
    name (told by the binding alone: resolving the receiver would parse modules for every
    method call a search passes)."""
    func = call.node.func
    if target.name == "__init__" and not (
        isinstance(func, cst.Attribute) and func.attr.value == "__init__"
    ):
        return True  # `Cls(...)` builds the instance its `__init__` gets as `self`
    bound = _self_bound(func, target)
    receiver = func.value if isinstance(func, cst.Attribute) else None
    if bound and isinstance(receiver, cst.Name) and not target.decorated("classmethod"):
        binding = call.scope.lookup(receiver.value, call.order)
        if binding is not None and binding.kind is BindingKind.CLASS:
            return None
    return bound


def _argument_value(expression: cst.BaseExpression, forwarded: Mapping[str, Known]) -> Known | None:
    found = literal_value(expression)
    if found is None and isinstance(expression, cst.Name):
        return forwarded.get(expression.value)
    return found


def literal_value(expression: cst.BaseExpression) -> Known | None:
    """What a literal tells of its value: `None`, `False`, `0`, `[]`, `[1]`; a string literal
    is its text (`"x"`, `""`)."""
    kind = type(expression).__name__  # asked of every argument a search passes: see above
    if kind == "Name" and isinstance(expression, cst.Name):
        return _NAMED.get(expression.value)
    if kind not in _LITERALS:
        return None
    if isinstance(expression, cst.Integer | cst.Float | cst.Imaginary | cst.SimpleString):
        try:
            value = ast.literal_eval(expression.value)
        except (ValueError, SyntaxError):
            return None
        if isinstance(value, str):
            return value
        return Value.TRUTHY if value else Value.FALSY
    if isinstance(expression, cst.UnaryOperation) and isinstance(expression.operator, cst.Minus):
        return literal_value(expression.expression)
    if isinstance(expression, cst.FormattedString | cst.ConcatenatedString):
        return Value.SOME
    if isinstance(expression, cst.List | cst.Tuple | cst.Set | cst.Dict):
        return Value.TRUTHY if expression.elements else Value.FALSY
    return None


def _annotated(param: ParamInfo) -> Value | None:
    """SOME for a parameter whose annotation rules out None and whose default is not None."""
    if param.annotation is None:
        return None
    if param.default is not None and literal_value(param.default) is Value.NONE:
        return None
    return Value.SOME if _excludes_none(param.annotation) else None


def _excludes_none(annotation: cst.BaseExpression) -> bool:
    if isinstance(annotation, cst.Name):
        return annotation.value not in _OPEN_TYPES
    if isinstance(annotation, cst.Attribute):
        return annotation.attr.value not in _OPEN_TYPES
    if isinstance(annotation, cst.Subscript):
        base = annotation.value
        name = base.value if isinstance(base, cst.Name) else None
        if isinstance(base, cst.Attribute):
            name = base.attr.value
        if name == "Annotated" and annotation.slice:
            first = annotation.slice[0].slice
            return isinstance(first, cst.Index) and _excludes_none(first.value)
        return name is not None and name not in _OPEN_TYPES
    return False

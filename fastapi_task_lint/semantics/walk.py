"""Walking one function's own code: nested functions, lambdas and classes run at another time."""

from __future__ import annotations

import libcst as cst


class OwnCodeVisitor(cst.CSTVisitor):
    """A visitor that stays in the body it is given and does not enter nested scopes."""

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

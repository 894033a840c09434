"""The floors: the least work any linter of these files must do, on one core.

Run as a subprocess so it pays the same interpreter start-up as the linters:
`python benchmarks/floors.py read|ast|libcst FILE_LIST` where FILE_LIST has one path a line,
relative to the working directory.
"""

from __future__ import annotations

import ast
import sys
import warnings
from collections.abc import Callable
from pathlib import Path


def _read(data: bytes, name: str) -> None:
    pass


def _ast(data: bytes, name: str) -> None:
    ast.parse(data, name)


def _libcst(data: bytes, name: str) -> None:
    import libcst

    libcst.parse_module(data)


FLOORS: dict[str, Callable[[bytes, str], None]] = {"read": _read, "ast": _ast, "libcst": _libcst}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in FLOORS:
        print(f"usage: floors.py {{{','.join(FLOORS)}}} FILE_LIST", file=sys.stderr)
        return 2
    work = FLOORS[argv[0]]
    if argv[0] == "libcst":
        import libcst  # noqa: F401  (imported before the loop, as a linter would)
    warnings.simplefilter("ignore")  # invalid escape sequences in old sources
    failed = 0
    for name in Path(argv[1]).read_text().splitlines():
        with open(name, "rb") as f:
            data = f.read()
        try:
            work(data, name)
        except Exception:
            failed += 1
    if failed:
        print(f"{argv[0]}: {failed} files did not parse", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

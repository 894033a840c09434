"""Which files a run checks: paths given, walked, minus excludes and git-ignored files."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)


def excluded(path: Path, patterns: Sequence[str]) -> bool:
    """Whether a pattern matches `path`'s name, the whole path, or a trailing part of it."""
    if not patterns:
        return False
    name, whole = _matchers(tuple(patterns))
    text = os.path.normcase(path.as_posix())
    return bool(name(os.path.normcase(path.name)) or whole(text))


@cache
def _matchers(patterns: tuple[str, ...]) -> tuple[Callable[[str], object], Callable[[str], object]]:
    """One regex for names and one for paths: a walk asks for every file and directory, and
    an `fnmatch` per pattern per form cost half of a warm run."""
    cased = [os.path.normcase(pattern) for pattern in patterns]
    names = "|".join(fnmatch.translate(pattern) for pattern in cased)
    paths = "|".join(fnmatch.translate(form) for p in cased for form in (p, f"*/{p}"))
    return re.compile(names).match, re.compile(paths).match


def discover(paths: Iterable[Path], exclude: Sequence[str]) -> Discovery:
    """Files to check. A file named explicitly is always checked; walked ones are filtered."""
    result = Discovery()
    roots: list[Path] = []
    for given in paths:
        if given.is_dir():
            roots.append(given)
        elif given.exists() or given.is_symlink():
            result.files.append(given)
        else:
            result.missing.append(given)
    # A directory named explicitly is checked even when git ignores it as a whole
    # (a vendored tree, a downloaded corpus); .gitignore still filters everything else.
    ignored_roots = _git_ignored(roots)
    for root in roots:
        walked = list(_walk(root, exclude))
        ignored = set() if root in ignored_roots else _git_ignored(walked)
        result.files.extend(p for p in walked if p not in ignored)
    result.files = sorted(set(result.files), key=lambda p: p.as_posix())
    return result


def _walk(root: Path, exclude: Sequence[str]) -> Iterable[Path]:
    for directory, subdirs, files in os.walk(root):
        base = Path(directory)
        subdirs[:] = sorted(d for d in subdirs if not excluded(base / d, exclude))
        for name in sorted(files):
            path = base / name
            if name.endswith(".py") and not excluded(path, exclude):
                yield path


def _git_ignored(paths: list[Path]) -> set[Path]:
    """Files `.gitignore` excludes, asked of git itself once per run; none outside a work tree."""
    if not paths:
        return set()
    try:
        completed = subprocess.run(
            ["git", "check-ignore", "--stdin", "-z"],
            input=b"\0".join(os.fsencode(p) for p in paths) + b"\0",
            capture_output=True,
            cwd=Path.cwd(),
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return set()
    if completed.returncode not in (0, 1):
        return set()
    return {Path(os.fsdecode(p)) for p in completed.stdout.split(b"\0") if p}

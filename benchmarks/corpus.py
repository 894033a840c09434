"""The benchmark corpus: pinned PyPI distributions, downloaded once, unpacked to `.py` files.

Each distribution is fetched with `pip download --no-deps` as a pure wheel (a zip) or an sdist
(a tar.gz), checked against its pinned sha256, and only its `.py` files are extracted to
`benchmarks/corpus/<dist>/`.  Both locations are git-ignored.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

BENCH_DIR = Path(__file__).resolve().parent
CORPUS_DIR = BENCH_DIR / "corpus"
DOWNLOAD_DIR = BENCH_DIR / ".peers" / "downloads"

# One distribution a line: name, exact version, role (app or lib), sha256 of the pure wheel
# (py3-none-any) that `pip download --only-binary :all: --platform any` fetches.
MANIFEST = """
# name          version   role  sha256
open-webui      0.12.4    app   02e9caba96234db3fa17a92e56163b3f7f2b8ca8227fa886b85c178d696483f6
langflow-base   1.13.0    app   e15db23e16cf27d6d1ac8fcc5030cf25ad3a04356a9581862b4e97de739dd3a2
prefect         3.9.1     app   0c662e26e971b617993eed1f3d02fb8bc3c2dd47bee521b495f6e4dfeb38ae74
opal-server     0.9.9     app   9f9307cc5432fd5a1992177a57a7eeb337e96eb554d6888a2322bb51bf1e8ff8
fastapi         0.165.0   lib   896f48462042bb4f162147eb8fac7e858753dc1f486765709baf105d70e4fc5b
starlette       1.10.0    lib   478c0ab3b4ced6e82719849c118fa406f0278a3499c1a898cd15cd31bdc38ce4
sqlalchemy      2.1.9     lib   449fed5c2caa3b278cc57499d09db001fb3f28dc7f18affc48142aee4dcc0cdf
celery          5.7.0     lib   18310a9c919f9029e4735367484d93e6a25cdfd30afdc474622cc263d9b35f6e
pydantic        2.14.3    lib   3f7b347782ab7e4cf4c798496ae3a82787d9f21ec12676a9c564355eeef8daa8
kombu           5.7.0     lib   dede73bff4c89175be382c4203d2f167cf7017c384396ec75c36a1b5678f1587
"""

# The `--quick` corpus: small distributions that still include one FastAPI application.
QUICK_DISTS = ("opal-server", "fastapi", "starlette", "kombu")

_MARKER = ".complete"


@dataclass(frozen=True)
class Dist:
    name: str
    version: str
    role: str
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def directory(self) -> Path:
        return CORPUS_DIR / self.name


@dataclass(frozen=True)
class SourceFile:
    """A corpus file: its path relative to the corpus root, and its line count."""

    path: str
    lines: int


def parse_manifest(text: str) -> list[Dist]:
    """Parse MANIFEST-style text; blank lines and `#` comments are ignored."""
    dists: list[Dist] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 4:
            raise ValueError(f"manifest line {number}: expected 4 fields, got {raw!r}")
        name, version, role, sha256 = fields
        if role not in ("app", "lib"):
            raise ValueError(f"manifest line {number}: role must be app or lib, got {role!r}")
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"manifest line {number}: bad sha256 {sha256!r}")
        dists.append(Dist(name, version, role, sha256))
    names = [d.name for d in dists]
    if len(set(names)) != len(names):
        raise ValueError("manifest names a distribution twice")
    return dists


def manifest(quick: bool = False) -> list[Dist]:
    dists = parse_manifest(MANIFEST)
    return [d for d in dists if d.name in QUICK_DISTS] if quick else dists


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(dist: Dist, pip: Sequence[str]) -> Path:
    target = DOWNLOAD_DIR / dist.name
    for existing in target.glob("*") if target.is_dir() else ():
        if _sha256(existing) == dist.sha256:
            return existing
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    # A pure wheel is platform independent, so every machine unpacks the same bytes.
    cmd = [
        *pip,
        "download",
        "--no-deps",
        "--quiet",
        "--disable-pip-version-check",
        "--only-binary",
        ":all:",
        "--platform",
        "any",
        "--implementation",
        "py",
        "--python-version",
        "3.11",
        "--dest",
        str(target),
        dist.requirement,
    ]
    subprocess.run(cmd, check=True)
    files = list(target.iterdir())
    if len(files) != 1:
        raise RuntimeError(f"{dist.requirement}: expected one downloaded file, got {files}")
    actual = _sha256(files[0])
    if actual != dist.sha256:
        raise RuntimeError(f"{files[0].name}: sha256 {actual} does not match the manifest")
    return files[0]


def _safe_relative(member: str) -> PurePosixPath | None:
    path = PurePosixPath(member)
    if path.is_absolute() or ".." in path.parts or not member.endswith(".py"):
        return None
    return path


def py_members(names: Iterable[str], strip_first: bool = False) -> dict[str, str]:
    """Map archive member names to corpus-relative paths, keeping only safe `.py` files.

    sdists wrap everything in one `name-version/` folder, which `strip_first` removes.
    """
    chosen: dict[str, str] = {}
    for member in names:
        path = _safe_relative(member)
        if path is None:
            continue
        parts = path.parts[1:] if strip_first else path.parts
        if parts:
            chosen[member] = str(PurePosixPath(*parts))
    return chosen


def _extract(archive: Path, dest: Path) -> None:
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            for member, rel in py_members(z.namelist()).items():
                out = dest / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(z.read(member))
    elif archive.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(archive, "r:gz") as t:
            files = {m.name: m for m in t.getmembers() if m.isfile()}
            for member, rel in py_members(files, strip_first=True).items():
                handle = t.extractfile(files[member])
                if handle is None:
                    continue
                out = dest / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(handle.read())
    else:
        raise RuntimeError(f"{archive.name}: not a wheel, zip or tar.gz")


def ensure(dists: Sequence[Dist], pip: Sequence[str]) -> None:
    """Download and unpack every distribution whose unpacked copy is missing or stale."""
    for dist in dists:
        marker = dist.directory / _MARKER
        if marker.is_file() and marker.read_text().strip() == dist.sha256:
            continue
        print(f"corpus: fetching {dist.requirement}", flush=True)
        archive = _download(dist, pip)
        _extract(archive, dist.directory)
        marker.write_text(dist.sha256 + "\n")


def count_lines(data: bytes) -> int:
    """Physical lines, counting a last line without a trailing newline."""
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def files(dists: Sequence[Dist]) -> list[SourceFile]:
    """Every `.py` file of the given distributions, sorted by corpus-relative path."""
    found: list[SourceFile] = []
    for dist in dists:
        for path in dist.directory.rglob("*.py"):
            rel = path.relative_to(CORPUS_DIR).as_posix()
            found.append(SourceFile(rel, count_lines(path.read_bytes())))
    found.sort(key=lambda f: f.path)
    return found


def strided_subset(corpus: Sequence[SourceFile], target_lines: int) -> list[SourceFile]:
    """A deterministic sample of about `target_lines` lines spread over the whole sorted corpus.

    Every k-th file is taken, with k chosen so the sample's expected size is `target_lines`;
    taking the first files by path instead would sample only the first distribution.
    """
    total = sum(f.lines for f in corpus)
    if total <= target_lines:
        return list(corpus)
    stride = max(1, round(total / target_lines))
    return list(corpus[::stride])


def fraction(corpus: Sequence[SourceFile], percent: int) -> list[SourceFile]:
    """Every file whose index falls in the first `percent` of each block of 100 files."""
    if percent >= 100:
        return list(corpus)
    return [f for i, f in enumerate(corpus) if i % 100 < percent]


def subpackage_fraction(corpus: Sequence[SourceFile], percent: int) -> list[SourceFile]:
    """The files of about `percent` % of the subpackages, each taken whole, spread evenly.

    A subpackage is a distribution's package's first level (`prefect/prefect/server`; a
    module directly under the package counts as the package). `fraction` cuts every package
    into pieces, so most of a piece's imports lead out of the run and resolve to nothing; a
    whole subpackage keeps its own imports, as a smaller project of the same kind would.
    """
    if percent >= 100:
        return list(corpus)
    units = sorted({_subpackage(f) for f in corpus})
    chosen = {u for i, u in enumerate(units) if (i + 1) * percent // 100 > i * percent // 100}
    return [f for f in corpus if _subpackage(f) in chosen]


def _subpackage(source: SourceFile) -> str:
    parts = source.path.split("/")
    return "/".join(parts[: min(3, len(parts) - 1)])


def routes_like(corpus: Sequence[SourceFile]) -> SourceFile | None:
    """The file the touch benchmark edits: an app's FastAPI router module, preferably one in a
    routers/routes/api folder; failing that any app module that builds a router or an app."""
    apps = {d.name for d in parse_manifest(MANIFEST) if d.role == "app"}
    app_files = [f for f in corpus if f.path.split("/", 1)[0] in apps]
    in_folder = [
        f for f in app_files if any(p in f.path for p in ("/routers/", "/routes/", "/api/"))
    ]
    for group, markers in (
        (in_folder, (b"APIRouter(",)),
        (app_files, (b"APIRouter(", b"FastAPI(")),
    ):
        for f in group:
            source = (CORPUS_DIR / f.path).read_bytes()
            if any(m in source for m in markers):
                return f
    return app_files[0] if app_files else None

"""Stage the Lambda deployment packages: the Chalice project (the API and most consumers)
and one folder per bundle (functions that need more than the shared package).

``chalice package`` only zips ``app.py``, ``chalicelib/`` and ``vendor/``. The consumers in
``handlers/`` and the code in ``payments/`` (and any other top-level package listed in
pyproject.toml) must ship too, so they go into ``vendor/``. The runtime dependencies are
installed into ``vendor/`` here as well, from Linux x86_64 wheels for ``PYTHON_VERSION``, rather
than by Chalice's own dependency builder, for two reasons:

* boto3, botocore and s3transfer come with the Lambda runtime; pynamodb pulls botocore in
  (≈ 80 MB unzipped), and Chalice cannot leave a transitive dependency out;
* the wheels are installed once per requirements.txt (cached under ``infra/build/deps-*``),
  so a synth after a code change needs no network.

The API and every consumer without a ``bundle`` (chalicelib/runtime/resources.py) run this zip. A
bundle is the same code plus its own code packages and requirements file, zipped here as its
own asset: the receipts consumer's PDF library (fpdf2 with fontTools and Pillow,
about 35 MB) would put the API package far over its 10 MB budget, so only that bundle ships it.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from chalicelib.runtime import resources

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "infra" / "build"
# The CPython every function runs (infra/functions.py RUNTIME) and the wheels are built for;
# the same minor version as .python-version, on which the project is developed and tested.
PYTHON_VERSION = "3.13"
# The python3.13 runtime runs on Amazon Linux 2023 (glibc 2.34): wheels for any manylinux up to
# 2.34 run there (Pillow 13 ships only manylinux_2_28 ones). pip expands only the legacy
# manylinux2014 tag to older ones, so the glibc versions are listed.
PLATFORMS = (*(f"manylinux_2_{minor}_x86_64" for minor in range(34, 17, -1)), "manylinux2014_x86_64")
# Shipped by the Lambda Python runtime; never bundled.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
# Top-level packages that are tools, not Lambda code (motcua imports moto; infra is this app).
DEV_ONLY_PACKAGES = ("motcua", "infra")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
# Parts of the dependencies that MotCua never loads, left out to keep the package (and the
# cold start's disk reads) small. The package smoke test imports and drives the result.
_UNUSED_POWERTOOLS = "a Powertools utility MotCua does not use (parser and its users need pydantic, not installed)"
PRUNED = {
    "aws_lambda_powertools/event_handler": "Chalice is the HTTP layer; only pydantic helpers import it",
    **{f"aws_lambda_powertools/utilities/{name}": _UNUSED_POWERTOOLS for name in (
        "parser", "feature_flags", "circuit_breaker", "auth_alpha", "kafka", "data_masking", "streaming",
        "validation")},
    "yaml/_yaml.cpython-*.so": "libyaml speed-up; only GET /openapi.json parses YAML, once per container",
    "charset_normalizer/*.cpython-*.so": "mypyc builds of md.py and cd.py, which stay next to them; only "
                                         "requests' guess at an undeclared charset runs them",
    "*.dist-info/RECORD": "pip's list of installed files, for uninstalling; nothing reads it at run time",
}
# holidays ships translations for every country; the calendar uses Vietnam's (holidays.VN), so
# only VN's catalogue in VN's languages stays.
HOLIDAY_LANGUAGES = ("vi", "en_US", "th")
HOLIDAY_CATALOGUES = ("VN.mo",)
SHARED_REQUIREMENTS = "requirements.txt"


@dataclass(frozen=True)
class Bundle:
    """A deployment package of its own: the shared code plus what only its functions need."""
    requirements: str                 # at the repository root; starts with -r requirements.txt
    packages: tuple[str, ...]         # top-level code packages that ship in this bundle only


BUNDLES: dict[str, Bundle] = {
    resources.RECEIPTS_BUNDLE: Bundle("requirements-receipts.txt", ("receipt_pdf", "paper_pdf")),
}


def code_packages(root: Path = ROOT) -> list[str]:
    """Top-level packages of the shared package besides chalicelib: pyproject's list minus
    dev tools and the bundles' own packages."""
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    names = sorted({pattern.rstrip("*").rstrip(".") for pattern in patterns})
    bundled = {package for bundle in BUNDLES.values() for package in bundle.packages}
    return [name for name in names if name not in ("chalicelib", *DEV_ONLY_PACKAGES, *bundled)]


@contextmanager
def build_lock() -> Iterator[None]:
    """One synth at a time stages into infra/build/ and reads it back (two terminals, two test
    workers): the folders there are shared, so a second synth waits for the first."""
    BUILD.mkdir(parents=True, exist_ok=True)
    with (BUILD / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def dependencies(root: Path = ROOT, requirements_file: str = SHARED_REQUIREMENTS) -> Path:
    """site-packages for Lambda from a requirements file, built once per requirements hash."""
    requirements = root / requirements_file
    pinned = b"".join((root / name).read_bytes() for name in dict.fromkeys((SHARED_REQUIREMENTS, requirements_file)))
    pruning = repr((PRUNED, HOLIDAY_LANGUAGES, HOLIDAY_CATALOGUES))   # a new rule rebuilds the folder
    digest = hashlib.sha256(pinned + f"{PYTHON_VERSION}-{PLATFORMS}{pruning}".encode()).hexdigest()[:16]
    target = BUILD / f"deps-{digest}"
    if target.is_dir():
        return target
    # Two synths may build the same folder at once (pytest workers): each builds its own
    # partial folder and the first to finish wins; the other keeps the winner's folder.
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    BUILD.mkdir(parents=True, exist_ok=True)
    constraints = BUILD / "runtime-provided.txt"
    constraints.write_text("\n".join(_runtime_pins(root)) + "\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
         "--target", str(partial), *(arg for platform in PLATFORMS for arg in ("--platform", platform)),
         "--implementation", "cp",
         "--python-version", PYTHON_VERSION, "--only-binary=:all:", "-r", str(requirements), "-c", str(constraints)],
        check=True)
    for path in list(partial.iterdir()):
        if path.name.split("-")[0].lower() in RUNTIME_PROVIDED or path.name == "bin":
            _remove(path)
    _prune(partial)
    try:
        partial.rename(target)
    except OSError:
        if not target.is_dir():
            raise
        shutil.rmtree(partial, ignore_errors=True)
    return target


def _runtime_pins(root: Path) -> list[str]:
    """The boto3/botocore pins of requirements-dev.txt, so pip resolves the versions tests use."""
    lines = (root / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.split("==")[0].strip().lower() in RUNTIME_PROVIDED]


def _remove(path: Path) -> None:
    shutil.rmtree(path) if path.is_dir() else path.unlink()


def _prune(site: Path) -> None:
    for pattern in PRUNED:
        for path in site.glob(pattern):
            _remove(path)
    locales = site / "holidays" / "locale"
    if locales.is_dir():
        for path in locales.iterdir():
            if path.name not in HOLIDAY_LANGUAGES:
                _remove(path)
        for path in locales.glob("*/LC_MESSAGES/*"):
            if path.name not in HOLIDAY_CATALOGUES:
                _remove(path)


def stage_project(root: Path = ROOT, out: Path | None = None) -> Path:
    """A Chalice project directory whose package holds everything the Lambdas import."""
    out = out or BUILD / "api"
    deps = dependencies(root)
    for stale in ("app.py", "chalicelib", "vendor", "requirements.txt"):
        path = out / stale
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    (out / ".chalice").mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / ".chalice" / "config.json", out / ".chalice" / "config.json")
    shutil.copy2(root / "app.py", out / "app.py")
    shutil.copytree(root / "chalicelib", out / "chalicelib", ignore=_IGNORE)
    shutil.copytree(deps, out / "vendor", ignore=_IGNORE)
    for package in code_packages(root):
        shutil.copytree(root / package, out / "vendor" / package, ignore=_IGNORE)
    # Dependencies are already in vendor/; an empty file keeps Chalice from building them again.
    (out / "requirements.txt").write_text("", encoding="utf-8")
    _forget_old_packages(out)
    return out


def stage_bundle(name: str, root: Path = ROOT, out: Path | None = None) -> Path:
    """The zip of the bundle ``name``, laid out like the Chalice zip (code and dependencies at
    the top), with the bundle's own packages and requirements. Entries are sorted and dated
    1980-01-01, so the same sources give the same bytes (and CDK the same asset hash)."""
    bundle = BUNDLES[name]
    out = out or BUILD / f"bundle-{name}.zip"
    deps = dependencies(root, bundle.requirements)
    sources = [(deps, path) for path in deps.rglob("*")]
    for package in ("chalicelib", *code_packages(root), *bundle.packages):
        sources += [(root, path) for path in (root / package).rglob("*")]
    files = sorted((path.relative_to(base).as_posix(), path) for base, path in sources
                   if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc")
    partial = out.with_name(f"{out.name}.partial-{os.getpid()}")   # concurrent synths: see dependencies()
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name_in_zip, path in files:
            info = zipfile.ZipInfo(name_in_zip, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    partial.replace(out)
    return out


def _forget_old_packages(project: Path, keep: int = 3) -> None:
    """Chalice caches one zip per content hash; keep only the newest few."""
    deployments = project / ".chalice" / "deployments"
    if deployments.is_dir():
        zips = sorted(deployments.glob("*.zip"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in zips[keep:]:
            old.unlink()

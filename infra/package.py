"""Stage the Chalice project that becomes the one Lambda deployment package.

``chalice package`` only zips ``app.py``, ``chalicelib/`` and ``vendor/``. The consumers in
``handlers/`` and the code in ``payments/`` (and any other top-level package listed in
pyproject.toml) must ship too, so they go into ``vendor/``. The runtime dependencies are
installed into ``vendor/`` here as well, from Linux x86_64 / CPython 3.11 wheels, rather
than by Chalice's own dependency builder, for two reasons:

* boto3, botocore and s3transfer come with the Lambda runtime; pynamodb pulls botocore in
  (≈ 80 MB unzipped), and Chalice cannot leave a transitive dependency out;
* the wheels are installed once per requirements.txt (cached under ``infra/build/deps-*``),
  so a synth after a code change needs no network.

The API and every consumer use this same zip: one artefact to build, test and deploy.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "infra" / "build"
PYTHON_VERSION = "3.11"
PLATFORM = "manylinux2014_x86_64"
# Shipped by the Lambda Python runtime; never bundled.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
# Top-level packages that are tools, not Lambda code (motcua imports moto; infra is this app).
DEV_ONLY_PACKAGES = ("motcua", "infra")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
# Parts of the dependencies that MotCua never loads, left out to keep the package (and the
# cold start's disk reads) small. The package smoke test imports and drives the result.
PRUNED = {
    "aws_lambda_powertools/event_handler": "Chalice is the HTTP layer; only pydantic helpers import it",
    "yaml/_yaml.cpython-*.so": "libyaml speed-up; only GET /openapi.json parses YAML, once per container",
}
# holidays ships translations for every country; the calendar uses Vietnam's languages only.
HOLIDAY_LANGUAGES = ("vi", "en_US", "th")


def code_packages(root: Path = ROOT) -> list[str]:
    """Top-level packages to ship besides chalicelib: pyproject's list minus dev tools."""
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    names = sorted({pattern.rstrip("*").rstrip(".") for pattern in patterns})
    return [name for name in names if name not in ("chalicelib", *DEV_ONLY_PACKAGES)]


def dependencies(root: Path = ROOT) -> Path:
    """site-packages for Lambda from requirements.txt, built once per requirements hash."""
    requirements = root / "requirements.txt"
    digest = hashlib.sha256(requirements.read_bytes() + f"{PYTHON_VERSION}-{PLATFORM}".encode()).hexdigest()[:16]
    target = BUILD / f"deps-{digest}"
    if target.is_dir():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    BUILD.mkdir(parents=True, exist_ok=True)
    constraints = BUILD / "runtime-provided.txt"
    constraints.write_text("\n".join(_runtime_pins(root)) + "\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
         "--target", str(partial), "--platform", PLATFORM, "--implementation", "cp",
         "--python-version", PYTHON_VERSION, "--only-binary=:all:", "-r", str(requirements), "-c", str(constraints)],
        check=True)
    for path in list(partial.iterdir()):
        if path.name.split("-")[0].lower() in RUNTIME_PROVIDED or path.name == "bin":
            _remove(path)
    _prune(partial)
    partial.rename(target)
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


def _forget_old_packages(project: Path, keep: int = 3) -> None:
    """Chalice caches one zip per content hash; keep only the newest few."""
    deployments = project / ".chalice" / "deployments"
    if deployments.is_dir():
        zips = sorted(deployments.glob("*.zip"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in zips[keep:]:
            old.unlink()

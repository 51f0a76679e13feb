"""A PEP 517 build backend for the copies of flagops that tests/test_gitlab_ci.py commits into
its origin repositories, so that `pip install <worktree>` works with no package index.

The project's own backend (setuptools>=77, for the PEP 639 `license = "MIT"`) is not in the test
venv (its setuptools comes from ensurepip) and cannot be downloaded in a test. This backend packs
the same packages from the same pyproject.toml: the top-level folders that
[tool.setuptools.packages.find] `include` names, every file in them but caches, and the
[project.scripts] as console scripts. Only the build is replaced; the worktree, the venv, pip and
the installed `flagops` are the real ones."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import tomllib
import zipfile
from pathlib import Path
from typing import Any


def _pyproject() -> dict[str, Any]:
    with open("pyproject.toml", "rb") as stream:
        return tomllib.load(stream)


def _package_files(config: dict[str, Any]) -> list[Path]:
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    roots = sorted(path for path in Path().iterdir()
                   if path.is_dir() and (path / "__init__.py").is_file()
                   and any(fnmatch.fnmatch(path.name, pattern) for pattern in include))
    return sorted(file for root in roots for file in root.rglob("*")
                  if file.is_file() and "__pycache__" not in file.parts
                  and file.suffix != ".pyc")


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                metadata_directory: str | None = None) -> str:
    config = _pyproject()
    project = config["project"]
    name, version = project["name"], project["version"]
    info = f"{name}-{version}.dist-info"
    metadata = [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"]
    metadata += [f"Requires-Dist: {requirement}\n" for requirement in project["dependencies"]]
    scripts = "".join(f"{script} = {target}\n"
                      for script, target in project.get("scripts", {}).items())
    entries: list[tuple[str, bytes]] = [
        (file.as_posix(), file.read_bytes()) for file in _package_files(config)]
    entries += [
        (f"{info}/METADATA", "".join(metadata).encode()),
        (f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: ci_backend\n"
                          b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
        (f"{info}/entry_points.txt", f"[console_scripts]\n{scripts}".encode()),
    ]
    record = [_record_line(entry, data) for entry, data in entries] + [f"{info}/RECORD,,"]
    wheel_name = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(Path(wheel_directory) / wheel_name, "w") as wheel:
        for entry, data in entries:
            wheel.writestr(entry, data)
        wheel.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel_name


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    return []

"""`flagops import gitlab PATH...`: GitLab's feature flag definitions as flagops flag files.

All or nothing: every definition is read and checked first; if GitLab would refuse any of them,
or a target exists (without --force), each is named and nothing is written.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from validator.cli import PathError
from validator.config_file import read_regular_file
from validator.errors import UserError
from validator.files import stem, walk_flags
from validator.importers.gitlab import DefinitionError, Imported, import_definition
from validator.model import Stage
from validator.output import atomic_write
from validator.reports.escape import escape

MAX_DEFINITION_BYTES = 1024 * 1024


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    stage = Stage(args.stage) if args.stage else None
    imported, errors = _import_all(args.paths, stage)
    errors += _collisions(imported, root, force=args.force)
    for error in errors:
        print(f"{escape(error.path)}: error: {escape(str(error))}", file=sys.stderr)
    if errors:
        print(f"flagops: error: {len(errors)} definition(s) not imported; nothing written",
              file=sys.stderr)
        return 1
    for item in imported:
        if not args.dry_run:
            atomic_write(root / item.target, item.text, root=root, flag_file=True)
        out.write(f"{'would write' if args.dry_run else 'wrote'} {escape(item.target)} "
                  f"(from {escape(item.source)})\n")
    out.write(f"{len(imported)} definition(s) imported; run `flagops validate`\n")
    return 0


def _import_all(paths: list[str], stage: Stage | None) -> tuple[list[Imported], list[PathError]]:
    imported: list[Imported] = []
    errors: list[PathError] = []
    for path in _definitions(paths):
        shown = path.as_posix()
        try:
            raw = read_regular_file(path, shown, MAX_DEFINITION_BYTES,
                                    what="a GitLab flag definition")
            imported.append(import_definition(raw, shown, stage=stage))
        except DefinitionError as error:
            errors.append(PathError(error.path, str(error)))
        except UserError as error:
            errors.append(PathError(shown, str(error)))
    return imported, errors


def _definitions(paths: list[str]) -> Iterator[Path]:
    """Files as given; folders searched for *.yml, in a stable order."""
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from sorted(found for found in path.rglob("*.yml") if found.is_file())
        else:
            yield path


def _collisions(imported: list[Imported], root: Path, *, force: bool) -> list[PathError]:
    """Targets taken: by another import, by a file there (without --force), or the name by a
    flag file at another path (names are unique across flags/, FO111: a definition GitLab
    moved from development/ to beta/ would be a second file of its name)."""
    errors: list[PathError] = []
    first: dict[str, str] = {}
    elsewhere = _paths_by_name(root)
    for item in imported:
        if item.target in first:
            errors.append(PathError(item.source, f"{item.target} is also the import of "
                                    f"{first[item.target]}"))
        first.setdefault(item.target, item.source)
        linked = _symlink_on(root, item.target)
        if linked is not None:
            errors.append(PathError(item.source, f"{linked} is a symlink, and flag files are "
                                    "written only as files in folders of the repository "
                                    "(FO009): the import would write where it points"))
        elif not force and os.path.lexists(root / item.target):
            errors.append(PathError(item.source, f"{item.target} exists; --force replaces it"))
        other = next((path for path in elsewhere.get(item.name, ()) if path != item.target),
                     None)
        if other is not None:
            errors.append(PathError(item.source, f"{item.name} is defined by {other} already, "
                                    f"and a flag's name is unique across flags/ (FO111): move "
                                    f"that file to {item.target}, or remove it, first"))
    return errors


def _symlink_on(root: Path, target: str) -> str | None:
    """The first of the target's folders, or the target itself, that is a symlink (a dangling
    one too): written through, the import filled another file (ci/hook.sh, pyproject.toml)."""
    parts = target.split("/")
    return next(("/".join(parts[:end]) for end in range(1, len(parts) + 1)
                 if os.path.islink(root.joinpath(*parts[:end]))), None)


def _paths_by_name(root: Path) -> dict[str, list[str]]:
    """Every flag file under flags/ by the name its file gives it."""
    found: dict[str, list[str]] = {}
    for path in walk_flags(root)[0]:
        found.setdefault(stem(path), []).append(path)
    return found

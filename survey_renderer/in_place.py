"""Updating a rendered site in place: only where the folder holds exactly what the last render
left (site_state.SiteState.holds_exactly), so nothing in it is foreign and every file is one
render wrote. Pages whose bytes are the same are left alone; a changed page is replaced
atomically (a reader sees the old page or the new one); a page no longer written, a flag's
that was removed, is deleted, and so is a folder left empty."""

from __future__ import annotations

import os
from pathlib import Path

from survey_renderer.site_state import SiteState
from validator.atomic import install


def update_in_place(files: dict[str, str], target: Path, previous: SiteState) -> None:
    """The folder ends up holding `files` and nothing else, as a fresh render would leave it."""
    for folder in sorted(_folders(files)):
        if folder not in previous.folders:
            os.mkdir(target / folder)
    for name, text in files.items():
        data = text.encode("utf-8")
        if name not in previous.files or not _holds(target / name, data, previous.files[name][1]):
            install(target / name, data, None, durable=False)
    for name in previous.files.keys() - files.keys():
        os.unlink(target / name)
    for folder in sorted(previous.folders.keys() - _folders(files), reverse=True):
        os.rmdir(target / folder)


def _folders(files: dict[str, str]) -> set[str]:
    """Every folder the files are in, below the target (`flags`, `-`, `-/survey_responses`)."""
    found: set[str] = set()
    for name in files:
        parent = os.path.dirname(name)
        while parent and parent not in found:
            found.add(parent)
            parent = os.path.dirname(parent)
    return found


def _holds(path: Path, data: bytes, size: int) -> bool:
    """The file already has exactly these bytes (its size first: most changes change it)."""
    if len(data) != size:
        return False
    with open(path, "rb") as stream:
        return stream.read(size + 1) == data

"""Where reports and generated files go: the terminal or files written atomically."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from validator.errors import UsageError
from validator.reports import Report, renderer


def atomic_write(path: Path, text: str) -> None:
    """Write beside the target and rename over it, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def pair_reports(
    formats: Sequence[str] | None, outputs: Sequence[str] | None
) -> list[tuple[str, str | None]]:
    """Pairs the i-th --format with the i-th --output; the text report always reaches a screen."""
    formats, outputs = list(formats or []), list(outputs or [])
    if len(outputs) > len(formats):
        raise UsageError("each --output needs a --format before it")
    pairs: list[tuple[str, str | None]] = [
        (name, outputs[index] if index < len(outputs) else None)
        for index, name in enumerate(formats)
    ]
    to_terminal = [name for name, target in pairs if target is None]
    if len(to_terminal) > 1:
        raise UsageError(f"only one report can go to the terminal, got {', '.join(to_terminal)}")
    if not to_terminal:
        pairs.insert(0, ("text", None))
    return pairs


def emit(report: Report, pairs: Sequence[tuple[str, str | None]], out: TextIO) -> None:
    for name, target in pairs:
        text = renderer(name)(report)
        if target is None:
            out.write(text)
        else:
            atomic_write(Path(target), text)
    if any(name == "text" and target is None for name, target in pairs):
        from validator.reports.text import summary

        for note in report.notes:
            print(f"flagops: {note}", file=sys.stderr)
        print(summary(report), file=sys.stderr)

"""Packs: one JSON file per kind of entry, read whole or not at all, written by rename; and
the entries' encoding, decoded only into exactly the shapes a fresh run gives."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from validator.cache.code import ran_as_digested
from validator.cache.keys import FORMAT
from validator.check import FileSummary, TreeVerdict
from validator.digits import whole_number
from validator.files import stem
from validator.findings import RULES, Finding, Position, Severity

MAX_PACK_BYTES = 1 << 30
"""A pack of 100,000 flags' data is about 100 MB; past this a pack is not read at all."""


def read_kept(path: Path) -> Any:
    """The JSON of a file the cache keeps, or None when it is missing, not a regular file
    (a link is not followed; a FIFO would block, /dev/zero never end), too large or not
    JSON."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        with os.fdopen(descriptor, "rb") as stream:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_PACK_BYTES:
                return None
            # the size it has, and a byte more should it have grown: read(MAX) would reserve
            # a gigabyte of address space for every pack
            return json.loads(stream.read(info.st_size + 1))
    except (OSError, ValueError, RecursionError):
        return None


def read_pack(path: Path, context: str) -> dict[str, Any]:
    """A pack's entries, or none when it is missing, not ours, not whole or not JSON."""
    pack = read_kept(path)
    if not isinstance(pack, dict) or pack.get("format") != FORMAT or \
            pack.get("context") != context or not isinstance(pack.get("entries"), dict):
        return {}
    return pack["entries"]  # type: ignore[no-any-return]


def write_pack(path: Path, context: str, entries: dict[str, Any]) -> bool:
    """Whole or not at all: a temporary file renamed into place; the last writer wins.
    Nothing at all when the validator's code may have changed while this run used it: its
    results would be filed under a context that does not describe them (code.py). Whether
    it was written."""
    import tempfile  # only when something is written: a warm run writes nothing

    if not ran_as_digested(context):
        return False

    text = json.dumps({"format": FORMAT, "context": context, "entries": entries},
                      separators=(",", ":"))
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return True


def encode(key: str, summary: FileSummary) -> list[Any] | str:
    """Most files, a flag without findings, as one line: "key TAB path TAB flag TAB line TAB
    column" (a pack of 10,000 lines parses ten times faster than one of nested lists);
    anything else as a list."""
    where = summary.name_at
    if not summary.findings and where is not None and "\t" not in summary.path + summary.flag:
        return f"{key}\t{summary.path}\t{summary.flag}\t{where.line}\t{where.column}"
    at = None if where is None else [where.line, where.column]
    return [key, summary.path, summary.flag, at, encode_findings(summary.findings)]


def encode_findings(findings: tuple[Finding, ...] | list[Finding]) -> list[list[Any]]:
    return [[f.path, f.line, f.column, f.severity.value, f.rule, f.message, f.flag]
            for f in findings]


def encode_verdict(verdict: TreeVerdict) -> list[Any]:
    """The findings, and of the files only the count and the flags not named as their files
    are: the paths are the ones the verdict's key was made of, given again to decode it."""
    other = {str(index): flag for index, (path, flag) in enumerate(verdict.checked)
             if flag != stem(path)}
    return [encode_findings(verdict.findings), len(verdict.checked), other]


def decode_verdict(value: Any, paths: list[str]) -> TreeVerdict | None:
    """A verdict as `encode_verdict` wrote it, of these files; None unless every part is of
    that shape."""
    if type(value) is not list or len(value) != 3 or value[1] != len(paths) or \
            type(value[2]) is not dict:
        return None
    findings = decode_findings(value[0])
    other: dict[str, Any] = value[2]
    if findings is None or not all(type(flag) is str for flag in other.values()):
        return None
    checked = [(path, path.rpartition("/")[2].removesuffix(".yml")) for path in paths]
    for index, flag in other.items():  # the rare flag named otherwise than its file
        position = whole_number(index)  # int() of 4,301 digits raised: no such index
        if position is None or str(position) != index or position >= len(paths):
            return None
        checked[position] = (paths[position], flag)
    return TreeVerdict(findings, checked)


def decode(entry: Any, key: str, path: str) -> FileSummary | None:
    """An entry back to the summary it was made from; None unless every part is as written."""
    if type(entry) is str:
        return _decode_line(entry, key, path)
    if type(entry) is not list or len(entry) != 5 or entry[0] != key or entry[1] != path:
        return None
    _, _, flag, where, findings = entry
    if type(flag) is not str or type(findings) is not list:
        return None
    name_at = None
    if where is not None:
        line, column = where
        if not _is_position(line, column):
            return None
        name_at = Position(line, column)
    if not findings:  # most files: nothing to decode
        return FileSummary(path, flag, (), name_at)
    decoded = decode_findings(findings)
    if decoded is None or any(finding.path != path for finding in decoded):
        return None
    return FileSummary(path, flag, tuple(decoded), name_at)


def _decode_line(entry: str, key: str, path: str) -> FileSummary | None:
    parts = entry.split("\t")
    if len(parts) != 5 or parts[0] != key or parts[1] != path:
        return None
    line, column = _number(parts[3]), _number(parts[4])
    return None if line is None or column is None else \
        FileSummary(path, parts[2], (), Position(line, column))


def _number(text: str) -> int | None:
    """A line or column exactly as written: the number whose own text it is (no sign, space,
    underscore, leading zero or non-ASCII digit), at least 1."""
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value >= 1 and str(value) == text else None


def decode_findings(items: Any) -> list[Finding] | None:
    """Findings as `encode_findings` wrote them; None if any is not of exactly that shape."""
    if type(items) is not list:
        return None
    found: list[Finding] = []
    for item in items:
        finding = _finding(item)
        if finding is None:
            return None
        found.append(finding)
    return found


def _finding(item: Any) -> Finding | None:
    if type(item) is not list or len(item) != 7:
        return None
    path, line, column, severity, rule, message, flag = item
    if type(path) is not str or not _is_position(line, column) or rule not in RULES or \
            type(message) is not str or not (flag is None or type(flag) is str) or \
            severity not in ("error", "warning"):
        return None
    return Finding(path, line, column, Severity(severity), rule, message, flag)


def _is_position(line: Any, column: Any) -> bool:
    return type(line) is int and type(column) is int and line >= 1 and column >= 1

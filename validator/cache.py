"""A content-addressed store of per-file results, so that a file not changed since the last run
is not parsed again.

An entry is keyed by a digest of everything that decides the file's verdict: the file's bytes
(hashed on every run: a size and mtime can be reset after an edit, a hash cannot), its path,
and the context: the bytes of pyproject.toml (the policy), the merged config's schema, the
validator's own source files, the parser and model libraries' versions, Python's version and
this format. Whatever changes any of these is a miss.

The store keeps one pack per repository and context, outside the tree: a JSON file of the
summaries (what `validate` needs) and one of the documents' data (what `build` needs), written
to a temporary file and renamed, so a reader sees a whole pack or none and concurrent runs
cannot tear one. Every entry carries its key and path; an entry that does not match what is
asked for, or does not decode to exactly the types a fresh run gives, is a miss, never an
error: a corrupt, truncated or foreign cache is rebuilt, not trusted.

What the cache cannot defend against is someone who can write the cache folder and compute
keys; that is why the gate (`--base`, `--staged`) never reads it, and why CI uses it only
when asked (README, "The cache").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator.check import FileSummary
from validator.findings import RULES, Finding, Position, Severity

FORMAT = 1
MAX_PACK_BYTES = 1 << 30
"""A pack of 100,000 flags' data is about 100 MB; past this a pack is not read at all."""
_LIBRARIES = ("pydantic", "pydantic_core", "ruamel.yaml", "ruamel_yaml", "flagops")
_FALSE = ("", "0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the cache lives, or None for no cache; from the command line and environment."""

    directory: Path | None

    @classmethod
    def of(cls, option: str | None, disabled: bool,
           environ: Mapping[str, str] | None = None) -> Settings:
        """--cache-dir, else FLAGOPS_CACHE_DIR, else the user's cache folder, except in CI.

        In CI (CI set and not false) the cache is used only when named: a runner's home may
        be shared between projects, and a cache restored from another pipeline is input
        that the change under review may have written.
        """
        env = os.environ if environ is None else environ
        if disabled or env.get("FLAGOPS_NO_CACHE", "").lower() not in _FALSE:
            return cls(None)
        named = option or env.get("FLAGOPS_CACHE_DIR")
        if named:
            return cls(Path(named))
        if env.get("CI", "").lower() not in _FALSE:
            return cls(None)
        return cls(_user_cache(env))


def _user_cache(env: Mapping[str, str]) -> Path | None:
    xdg = env.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):  # the XDG spec: a relative value is invalid and ignored
        return Path(xdg) / "flagops"
    home = env.get("HOME", "")
    return Path(home) / ".cache" / "flagops" if os.path.isabs(home) else None


def file_key(context: str, path: str, raw: bytes) -> str:
    """The key of one file's result: its bytes, its path, the context."""
    digest = hashlib.blake2b(raw, digest_size=20)
    digest.update(b"\0" + path.encode("utf-8", "surrogatepass") + b"\0" + context.encode())
    return digest.hexdigest()


def context_digest(root: Path, *, package: Path | None = None,
                   version: str | None = None) -> str:
    """Everything besides a file's bytes and path that decides its result.

    `version` stands in for the source digest in tests (a flagops version change).
    """
    digest = hashlib.blake2b(f"flagops-cache {FORMAT} {sys.version}".encode(), digest_size=20)
    digest.update(version.encode() if version is not None
                  else _source_digest(package or Path(__file__).parent))
    for name in ("pyproject.toml", "schema/flags-config.schema.json"):
        digest.update(b"\0" + name.encode() + b"\0" + _file_digest(root / name))
    digest.update("\0".join(_library_versions()).encode())
    return digest.hexdigest()


def _source_digest(package: Path) -> bytes:
    """Every source file of the validator: an edited checkout never reuses stale results."""
    digest = hashlib.blake2b(digest_size=20)
    for folder, folders, files in os.walk(package):
        folders.sort()
        for name in sorted(files):
            if name.endswith((".py", ".json", ".toml")):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, package).encode() + b"\0")
                with open(path, "rb") as stream:
                    digest.update(hashlib.blake2b(stream.read(), digest_size=20).digest())
    return digest.digest()


def _file_digest(path: Path) -> bytes:
    """A file's bytes digested; what it is instead when it is not a regular file."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        return f"unreadable {error.errno}".encode()
    with os.fdopen(descriptor, "rb") as stream:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            return f"mode {mode:o}".encode()
        return hashlib.blake2b(stream.read(), digest_size=20).digest()


def _library_versions() -> list[str]:
    """The installed distributions that parse and validate, by their metadata folders' names
    (`pydantic-2.11.7.dist-info`): read with one listing, without importing anything."""
    found: list[str] = []
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        found += [name for name in names if name.endswith((".dist-info", ".egg-info"))
                  and name.lower().replace("-", "_").startswith(_LIBRARIES)]
    return sorted(found)


@dataclass(slots=True)
class Cache:
    """The packs of one repository and context: read once, looked up, written back once."""

    directory: Path
    shard: str
    context: str
    with_data: bool
    summaries: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    fresh: dict[str, FileSummary] = field(default_factory=dict)
    hits: int = 0
    used: frozenset[str] = frozenset()
    """The keys of the files the last check used: what a derived output is made of."""

    @classmethod
    def open(cls, settings: Settings, root: Path, *, with_data: bool,
             version: str | None = None) -> Cache | None:
        """The cache for this tree, or None where there is none or its folder is unsafe."""
        if settings.directory is None or not _safe_folder(settings.directory):
            return None
        context = context_digest(root, version=version)
        shard = hashlib.blake2b(f"{os.path.realpath(root)}\0{context}".encode("utf-8",
                                "surrogatepass"), digest_size=16).hexdigest()
        cache = cls(settings.directory, shard, context, with_data)
        cache.summaries = _read_pack(cache._pack("summaries"), context)
        if with_data:
            cache.data = _read_pack(cache._pack("data"), context)
        return cache

    def key(self, path: str, raw: bytes) -> str:
        return file_key(self.context, path, raw)

    def get(self, key: str, path: str, *, with_data: bool = False) -> FileSummary | None:
        """The stored result for key, only if it is exactly of the shape a fresh run gives;
        `with_data`: with the flag's data too (the build's), which only a data pack holds."""
        try:
            summary = _decode(self.summaries.get(key), key, path)
            if summary is not None and with_data and summary.name_at is not None:
                data = self.data.get(key)
                if not isinstance(data, list) or len(data) != 2 or data[0] != key or \
                        not isinstance(data[1], dict):
                    return None
                summary = FileSummary(summary.path, summary.flag, summary.findings,
                                      summary.name_at, data[1])
        except (TypeError, ValueError, KeyError, IndexError):
            return None
        if summary is not None:
            self.hits += 1
        return summary

    def put(self, key: str, summary: FileSummary) -> None:
        self.fresh[key] = summary

    def save(self, used: set[str], *, complete: bool) -> None:
        """Writes the packs back when anything was new: the entries used by this run, and the
        others too when it checked only some files. Failures leave the old packs."""
        self.used = frozenset(used)
        if not self.fresh and (not complete or used == set(self.summaries)):
            return
        kept = used if complete else used | set(self.summaries)
        summaries = {key: self.summaries[key] for key in kept if key in self.summaries}
        summaries.update({key: _encode(key, s) for key, s in self.fresh.items()})
        with contextlib.suppress(OSError, ValueError):
            _write_pack(self._pack("summaries"), self.context, summaries)
            if self.with_data:
                data = {key: self.data[key] for key in kept if key in self.data}
                data.update({key: [key, s.data] for key, s in self.fresh.items()
                             if s.data is not None})
                _write_pack(self._pack("data"), self.context, data)

    def derived_key(self, *parts: str) -> str:
        """The key of an output made from every file of the last check (the merged config),
        the context and `parts` (its options)."""
        digest = hashlib.blake2b(self.context.encode(), digest_size=20)
        for part in (*parts, *sorted(self.used)):
            digest.update(b"\0" + part.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def derived(self, name: str, key: str) -> Any:
        """The output stored under key, or None (a different key is a miss, as in a pack)."""
        stored = _read_pack(self._pack(name), self.context)
        entry = stored.get(key)
        return entry[1] if isinstance(entry, list) and len(entry) == 2 and \
            entry[0] == key else None

    def keep_derived(self, name: str, key: str, value: Any) -> None:
        """One output per name and repository: the last one made."""
        with contextlib.suppress(OSError, ValueError):
            _write_pack(self._pack(name), self.context, {key: [key, value]})

    def _pack(self, kind: str) -> Path:
        return self.directory / f"{self.shard}.{kind}.json"


def _safe_folder(directory: Path) -> bool:
    """Creates the folder (private); refuses a symlink, another user's folder, or one that
    others may write to: their entries would be taken for ours."""
    with contextlib.suppress(OSError):
        os.makedirs(directory, mode=0o700, exist_ok=True)
    try:
        info = os.lstat(directory)
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _read_pack(path: Path, context: str) -> dict[str, Any]:
    """A pack's entries, or none when it is missing, not ours, not whole or not JSON."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return {}
    try:
        with os.fdopen(descriptor, "rb") as stream:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_PACK_BYTES:
                return {}
            pack = json.loads(stream.read(MAX_PACK_BYTES + 1))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(pack, dict) or pack.get("format") != FORMAT or \
            pack.get("context") != context or not isinstance(pack.get("entries"), dict):
        return {}
    return pack["entries"]  # type: ignore[no-any-return]


def _write_pack(path: Path, context: str, entries: dict[str, Any]) -> None:
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


def _encode(key: str, summary: FileSummary) -> list[Any]:
    where = None if summary.name_at is None else [summary.name_at.line, summary.name_at.column]
    findings = [[f.line, f.column, f.severity.value, f.rule, f.message, f.flag]
                for f in summary.findings]
    return [key, summary.path, summary.flag, where, findings]


def _decode(entry: Any, key: str, path: str) -> FileSummary | None:
    """An entry back to the summary it was made from; None unless every part is as written."""
    if not isinstance(entry, list) or len(entry) != 5 or entry[0] != key or entry[1] != path:
        return None
    _, _, flag, where, findings = entry
    if not isinstance(flag, str) or not isinstance(findings, list):
        return None
    name_at = None
    if where is not None:
        line, column = where
        if not _is_position(line, column):
            return None
        name_at = Position(line, column)
    if not findings:  # most files: nothing to decode
        return FileSummary(path, flag, (), name_at)
    decoded = tuple(_finding(path, item) for item in findings)
    if any(finding is None for finding in decoded):
        return None
    return FileSummary(path, flag, decoded, name_at)  # type: ignore[arg-type]


def _finding(path: str, item: Any) -> Finding | None:
    line, column, severity, rule, message, flag = item
    if not _is_position(line, column) or rule not in RULES or not isinstance(message, str) \
            or not (flag is None or isinstance(flag, str)):
        return None
    return Finding(path, line, column, Severity(severity), rule, message, flag)


def _is_position(line: Any, column: Any) -> bool:
    return type(line) is int and type(column) is int and line >= 1 and column >= 1

"""Every flag's landing, creation and release times at one commit, kept between runs, so that
a second `status` of the same HEAD reads neither the history's log nor its blobs.

The times are a function of what `git log --first-parent` gives for the commit and of how its
blobs parse. The parsing is the states cache's context (`validator.cache.context_digest`:
the validator's source, the libraries, Python, the policy and schema files); the log is the
commit id, and everything git lets change the log of one commit id: replace refs (and
`core.useReplaceRefs`, `GIT_NO_REPLACE_OBJECTS`, `GIT_REPLACE_REF_BASE`), grafts
(`info/grafts`, `GIT_GRAFT_FILE`) and a shallow clone's cut (`shallow`, `GIT_SHALLOW_FILE`).
The key digests all of them with the policy the clock is read by and the flags asked about,
so an entry is only ever read back for the same question.

An entry is decoded strictly: one that is not exactly a time or null for each flag asked
about, and no other, is a miss and is computed again, never trusted. The pack is written
whole and renamed, beside the states pack (`state_cache`), and keeps the last few commits'
entries (a branch switched back and forth stays warm). The gate never reads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from validator import git
from validator.cache.keys import parts_key
from validator.cache.packs import read_pack, write_pack
from validator.lifecycle.state_cache import KIND as STATES_KIND
from validator.lifecycle.state_cache import StateStore
from validator.lifecycle.status import Facts
from validator.policy import Policy

KIND = "facts-1"
"""The pack's name and format: another format of entry is another file."""
KEEP = 4
"""Entries kept: the last few commits asked about."""
_ENVIRONMENT = ("GIT_NO_REPLACE_OBJECTS", "GIT_REPLACE_REF_BASE", "GIT_GRAFT_FILE",
                "GIT_SHALLOW_FILE", "GIT_DIR", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY",
                "GIT_ALTERNATE_OBJECT_DIRECTORIES")
"""Variables that can change what git reads for one commit id."""


def history_key(root: Path, commit: str, policy: Policy, names: list[str],
                context: str) -> str:
    """The key of one commit's facts: everything that decides them (see the module)."""
    paths = git.git(root, "rev-parse", "--git-path", "info/grafts", "--git-path",
                    "shallow").decode("utf-8", "surrogateescape").splitlines()
    base = os.environ.get("GIT_REPLACE_REF_BASE") or "refs/replace/"
    replaced = git.git(root, "for-each-ref", "--format=%(refname) %(objectname)", base)
    parts = [commit, policy.model_dump_json(), *names, "\0".join(
        f"{name}={os.environ.get(name)!r}" for name in _ENVIRONMENT),
        _config(root, "core.useReplaceRefs"), replaced.hex(),
        *(_file_hex(root / path) for path in paths)]
    for variable in ("GIT_GRAFT_FILE", "GIT_SHALLOW_FILE"):
        if os.environ.get(variable):
            parts.append(_file_hex(root / os.environ[variable]))
    return parts_key(context, parts)


def _config(root: Path, name: str) -> str:
    """A config value as git reads it ('' when unset: `git config` exits 1)."""
    try:
        return git.git(root, "config", "--get", name).decode("utf-8", "replace").strip()
    except git.GitError:
        return ""


def _file_hex(path: Path) -> str:
    """A file's bytes digested ('-' when there is none)."""
    try:
        data = path.read_bytes()
    except OSError:
        return "-"
    return hashlib.blake2b(data, digest_size=20).hexdigest()


class FactsStore:
    """The facts pack of one repository and context, beside its states pack."""

    def __init__(self, states: StateStore) -> None:
        self.path = states.path.with_name(
            states.path.name.replace(f".{STATES_KIND}.", f".{KIND}."))
        self.context = states.context
        self.entries = read_pack(self.path, self.context)

    def get(self, key: str, names: list[str]) -> dict[str, Facts] | None:
        """The facts stored under key for exactly these names; None when not stored or
        not exactly as written."""
        return decode(self.entries.get(key), names)

    def put(self, key: str, facts: Mapping[str, Facts]) -> None:
        """Keeps these facts under key (with the newest few others); a failure to write
        leaves the old pack."""
        kept = {name: value for name, value in list(self.entries.items())[-(KEEP - 1):]
                if name != key}
        kept[key] = encode(facts)
        with contextlib.suppress(OSError, ValueError):
            write_pack(self.path, self.context, kept)
            self.entries = kept


def encode(facts: Mapping[str, Facts]) -> list[Any]:
    """Names and their three times, in one flat list: [name, landed, added, released, ...]."""
    flat: list[Any] = []
    for name, fact in facts.items():
        flat += [name, fact.landed_at, fact.added_at, fact.released_at]
    return flat


def decode(entry: Any, names: list[str]) -> dict[str, Facts] | None:
    """An entry back to its facts, when it holds exactly these names, each with an int or
    null for each time (a bool is no time: JSON keeps them apart, a corrupt pack may not)."""
    if type(entry) is not list or len(entry) != 4 * len(names):
        return None
    found: dict[str, Facts] = {}
    for index in range(0, len(entry), 4):
        name, landed, added, released = entry[index:index + 4]
        if type(name) is not str or name in found or \
                not all(value is None or type(value) is int for value in (landed, added,
                                                                          released)):
            return None
        found[name] = Facts(landed, added, released_at=released)
    if found.keys() != set(names):
        return None
    return {name: found[name] for name in names}

"""Rollout states of historical blobs, each read once, for the commands that read whole
histories (status, the catalog's summaries).

Read by the gate's own reader (`validator.landings.state_at`), so a state here is the state
the gate reads; cached by object id, since a flag's history and the head share blobs, and,
with a `StateStore`, between runs too (`state_cache`).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from validator import git
from validator.fork_pool import can_fork, cores, fork_pool
from validator.landings import flag_in, state_at
from validator.lifecycle.state_cache import MISS, Miss, StateStore, decode, encode, entry_key
from validator.model import Flag
from validator.parallel import PARALLEL_FROM
from validator.transitions import RolloutState

StateOf = Callable[[git.Entry], RolloutState | None]
"""Reads the rollout state of one side of a change (None: no flag there, or unreadable)."""

Key = tuple[str, str, str]
"""A blob as one path reads it: object id, path, mode."""


@dataclass(frozen=True, slots=True)
class Packed:
    """A head flag not made yet: its name, its state and its document's data, pickled.

    A validated flag holds about 3 KB, its pickled data under 1 KB: 10,000 flags held whole
    through a history walk were a quarter of status's peak, so the walk keeps these and the
    flags are made (`unpacked`) once it is over, validated as they would have been."""

    name: str
    state: RolloutState
    data: bytes


Head = Flag | Packed
"""A head blob's flag, made or not yet (`Packed`)."""


def unpacked(head: Head) -> Flag:
    """The flag itself: a packed one validated from its data, as the pool's are."""
    return Flag.model_validate(pickle.loads(head.data)) if isinstance(head, Packed) else head


def head_state(head: Head) -> RolloutState:
    return head.state if isinstance(head, Packed) else RolloutState.of(head)


LOAD_AT_ONCE = 5000
"""Blobs read and parsed at a time: their bytes and results are held only that long (a
whole first round of a 10,000-flag walk held 20 MB more), and a pool still pays."""


class States:
    """A `StateOf` that remembers every state it read, and can read many at once: those
    the store has are not read at all, the others in one stream of blobs, parsed on every
    core when there are enough of them."""

    def __init__(self, reader: git.BlobReader, store: StateStore | None = None) -> None:
        self._reader = reader
        self._store = store
        self._known: dict[Key, RolloutState | None] = {}
        self._same: dict[RolloutState, RolloutState] = {}
        """One object for equal states: a flag's blobs mostly differ in what is no state."""

    def _one(self, state: RolloutState | None) -> RolloutState | None:
        """The state kept for this one's equals (states are immutable, so any will do)."""
        return None if state is None else self._same.setdefault(state, state)

    def __call__(self, entry: git.Entry) -> RolloutState | None:
        if entry.oid is None:
            return None
        key = (entry.oid, entry.path, entry.mode)
        if key not in self._known:
            self.load([entry])
        return self._known[key]

    def has(self, entry: git.Entry) -> bool:
        """Whether this entry's state is known without reading git."""
        if entry.oid is None:
            return True
        key = (entry.oid, entry.path, entry.mode)
        return key in self._known or self._stored(key)

    def remember(self, entry: git.Entry, state: RolloutState | None) -> None:
        """A state read elsewhere (a head flag parsed whole), kept like one read here."""
        if entry.oid is not None:
            key = (entry.oid, entry.path, entry.mode)
            if key not in self._known and self._store is not None:
                self._store.put(entry_key(*key), state)
            self._known[key] = state

    def flags(self, entries: Iterable[git.Entry]) -> dict[Key, Head | None]:
        """The flags of these blobs (a tree's flag files): from the store where it has them,
        the others read in one stream and parsed on every core, whose flags come back
        `Packed`. Their states are known afterwards too."""
        found: dict[Key, Head | None] = {}
        missing: list[git.Entry] = []
        for entry in entries:
            if entry.oid is None or not entry.is_regular:
                continue
            stored = MISS if self._store is None else self._store.flag(entry_key(*_key(entry)))
            if isinstance(stored, Flag) or stored is None:
                found[_key(entry)] = stored
            else:
                missing.append(entry)
        self._reader.prefetch(entry.oid for entry in missing if entry.oid is not None)
        raw = [(entry.path, self._reader.read(entry.oid)) for entry in missing
               if entry.oid is not None]
        for entry, (head, data) in zip(missing, heads_of(raw), strict=True):
            found[_key(entry)] = head if head is None else self._shared(head)
            if self._store is not None:
                self._store.put_flag(entry_key(*_key(entry)), data_of(head, data),
                                     head is not None)
        for key, head in found.items():
            self._known[key] = None if head is None else self._one(head_state(head))
        return found

    def _shared(self, head: Head) -> Head:
        """A packed head whose state is the one kept for its equals."""
        if isinstance(head, Flag):
            return head
        state = self._same.setdefault(head.state, head.state)
        return head if state is head.state else Packed(head.name, state, head.data)

    def load(self, entries: Iterable[git.Entry]) -> None:
        """Knows the states of all these entries afterwards, reading git once for them."""
        missing: dict[Key, git.Entry] = {}
        for entry in entries:
            if entry.oid is None:
                continue
            key = (entry.oid, entry.path, entry.mode)
            if key not in self._known and not self._stored(key):
                missing[key] = entry
        readable = [entry for entry in missing.values() if entry.is_regular]
        parsed: dict[Key, RolloutState | None] = {}
        for start in range(0, len(readable), LOAD_AT_ONCE):
            part = readable[start:start + LOAD_AT_ONCE]
            self._reader.prefetch(entry.oid for entry in part if entry.oid is not None)
            raw = [(entry.path, self._reader.read(entry.oid)) for entry in part
                   if entry.oid is not None]
            parsed.update(zip(map(_key, part), map(self._one, states_of(raw)), strict=True))
        for key, entry in missing.items():
            state = self._one(parsed[key] if key in parsed else state_at(self._reader, entry))
            self._known[key] = state
            if self._store is not None:
                self._store.put(entry_key(*key), state)

    def _stored(self, key: Key) -> bool:
        """Takes the state from the store when it has it."""
        if self._store is None:
            return False
        found = self._store.get(entry_key(*key))
        if found is MISS:
            return False
        self._known[key] = self._one(found)  # type: ignore[arg-type]
        return True


def _key(entry: git.Entry) -> Key:
    assert entry.oid is not None
    return (entry.oid, entry.path, entry.mode)


def state_of_bytes(item: tuple[str, bytes | None]) -> RolloutState | None:
    """The state in one blob's bytes read at a path, as `landings.state_at` reads it."""
    flag = flag_in(*item)[0]
    return RolloutState.of(flag) if flag is not None else None


def flag_of_bytes(item: tuple[str, bytes | None]) -> tuple[Flag | None, dict[str, Any] | None]:
    """The flag in one blob's bytes read at a path, as `landings.flag_at` reads it, and the
    document's data it was validated from (None: no document)."""
    return flag_in(*item)


Item = tuple[str, bytes | None]
"""A blob's path and bytes (None: no blob)."""
Result = TypeVar("Result")


def states_of(items: Sequence[Item]) -> list[RolloutState | None]:
    """Each blob's state, in order; on every core when there are enough blobs (parsing is
    nearly all of a cold history walk, and each blob is independent). The workers send
    the states back as the store's plain lists: pickling a state whole costs a third of
    parsing it."""
    if not _pooled(items):
        return [state_of_bytes(item) for item in items]
    return [_decoded(entry) for entry in _each(_plain_state, items)]


def heads_of(items: Sequence[Item]) -> Iterator[tuple[Head | None, dict[str, Any] | None]]:
    """Each blob's flag (None: none) and its document's data, in order, as they come; on
    every core when there are enough blobs, whose workers send back each valid flag's name,
    state and pickled data, made `Packed` here with no data besides (`data_of` reads it):
    a caller that keeps only the flags holds the small pickles through a long walk, not
    10,000 flags."""
    if not _pooled(items):
        return (flag_of_bytes(item) for item in items)
    return ((_unsent(sent), None) for sent in _each_lazily(_packed, items))


def data_of(head: Head | None, data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The document's data of a head from `heads_of` (a packed one's, unpickled)."""
    return pickle.loads(head.data) if isinstance(head, Packed) else data


Sent = tuple[str, list[Any], bytes]
"""A valid head flag as a worker sends it: name, plain state, pickled document data."""
PROTOCOL = pickle.HIGHEST_PROTOCOL


def _packed(item: Item) -> Sent | None:
    flag, data = flag_of_bytes(item)
    if flag is None:
        return None
    return flag.name, encode("", RolloutState.of(flag)), pickle.dumps(data, PROTOCOL)


def _unsent(sent: Sent | None) -> Packed | None:
    if sent is None:
        return None
    state = _decoded(sent[1])
    assert state is not None  # encoded from a valid flag's state a moment ago
    return Packed(sent[0], state, sent[2])


def _plain_state(item: Item) -> list[Any]:
    return encode("", state_of_bytes(item))


def _decoded(entry: list[Any]) -> RolloutState | None:
    state = decode(entry, "")
    assert not isinstance(state, Miss)  # encoded by this module a moment ago
    return state


def _pooled(items: Sequence[Item]) -> bool:
    """Whether a pool pays: enough blobs, more than one core, and fork to start it."""
    return len(items) >= PARALLEL_FROM and cores() >= 2 and can_fork()


def _each(work: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
    """`work` over the items in a fork pool of one worker a core (the items are forked into
    the workers, not pickled to them)."""
    workers = cores()
    chunk = max(50, len(items) // (workers * 8))
    _WORK[:] = [(work, items)]
    try:
        with fork_pool(workers) as pool:
            return list(pool.map(_at_index, range(len(items)), chunksize=chunk))
    finally:
        _WORK.clear()


def _each_lazily(work: Callable[[Item], Result], items: Sequence[Item]) -> Iterator[Result]:
    """`_each` whose results are handed out in order as the workers finish them."""
    workers = cores()
    chunk = max(50, len(items) // (workers * 8))
    _WORK[:] = [(work, items)]
    try:
        with fork_pool(workers) as pool:
            yield from pool.map(_at_index, range(len(items)), chunksize=chunk)
    finally:
        _WORK.clear()


_WORK: list[tuple[Callable[[Item], Any], Sequence[Item]]] = []
"""The work and the blobs of the running `_each`, as its forked workers see them."""


def _at_index(index: int) -> Any:
    work, items = _WORK[0]
    return work(items[index])


def cached_states(reader: git.BlobReader, store: StateStore | None = None) -> States:
    """States by object id, read as the gate reads them (`landings.state_at`): a walk over
    tens of thousands of historical blobs keeps a small state for each, not a whole flag."""
    return States(reader, store)

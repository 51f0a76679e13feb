"""What is under flags/ at the head of a change, asked by name.

A change is judged against the whole head: does another file carry the name of a flag it
touched, is a removed flag's name still there, is a folder above a changed file named *.yml,
which .gitattributes apply. At 100,000 flags, turning git's listing into one object per file
costs more than judging the change, so the listing is kept as git's text and each question
is answered by `str.find` over it (in C, at memory speed) for the few names a change touched;
only a question about every file (`--all-files`, a checkout that converts flag files) parses
every record.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

from validator import git
from validator.files import ATTRIBUTES, MAX_PATH_BYTES, stem

FOLDER_MODE = git.FOLDER_MODE
WORKTREE_MODES = {"a symlink": "120000", "a folder": FOLDER_MODE}
"""The git mode a working-tree walk's irregular entry stands for (others: no mode)."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the object id sits in one record's space-separated info, as git lists it."""

    oid_field: int | None


_RECORD_REACH = MAX_PATH_BYTES + 200
"""How far back from a folder's name its record may start: a record's info (mode, type,
object id, stage) and a folder path no longer than MAX_PATH_BYTES."""
_FEW_NAMES = 64
"""Up to this many names are looked up one search each; for more, the listing is parsed once:
a search per name over the whole listing was quadratic in the files of a change (a change of
thousands of files in a tree of thousands searched gigabytes)."""
INDEX = Layout(1)  # `git ls-files --stage -z`: "<mode> <oid> <stage>\t<path>"
TREE = Layout(2)  # `git ls-tree -r -z`: "<mode> <type> <oid>\t<path>"
WORKTREE = Layout(None)  # a walk of the working tree: "<mode>\t<path>", no object


class Listing:
    """Every entry under flags/ at the head (and the .gitattributes that apply): flag files,
    strays, symlinks, submodules, as NUL-separated records `<info>\\t<path>`."""

    def __init__(self, records: str, layout: Layout) -> None:
        self._text = "\0" + records.strip("\0") + "\0"  # every record between two NULs
        self._layout = layout

    @classmethod
    def of_worktree(cls, files: Iterable[str], irregular: Iterable[tuple[str, str]]) -> Listing:
        """A walk's regular files and its irregular entries, with the modes git would give."""
        records = [f"100644\t{path}" for path in files]
        records += [f"{WORKTREE_MODES.get(kind, git.MISSING_MODE)}\t{path}"
                    for path, kind in irregular]
        return cls("\0".join(records), WORKTREE)

    @cached_property
    def entries(self) -> dict[str, git.Entry]:
        """Every entry, folders named *.yml included: for questions about every file."""
        found: dict[str, git.Entry] = {}
        for record in self._text.split("\0"):
            if record:
                info, _, path = record.partition("\t")
                found.setdefault(path, self._entry(info, path))
        return with_folders(found)

    def flag_entries_named(self, names: Iterable[str]) -> dict[str, git.Entry]:
        """The flag files (and whatever else sits at flags/…/<name>.yml) whose stem is one
        of names, by path; the first record of a path wins, as in a conflicted index."""
        wanted = {name for name in names if "/" not in name and "\0" not in name}
        if len(wanted) > _FEW_NAMES:  # one pass over every record, not one search per name
            return {path: entry for path, entry in self.entries.items()
                    if git.is_flag_path(path) and stem(path) in wanted}
        found: dict[str, git.Entry] = {}
        for name in sorted(wanted):
            for info, path in self._records_ending(f"/{name}.yml"):
                if git.is_flag_path(path):
                    found.setdefault(path, self._entry(info, path))
            for folder in self._folders_named(f"/{name}.yml/"):  # a checkout makes the
                found[folder] = git.Entry(folder, FOLDER_MODE, None)  # folder, not the file
        return found

    def flag_paths_named(self, names: Iterable[str]) -> list[str]:
        """The flag paths at the head whose stem is one of names, sorted."""
        return sorted(self.flag_entries_named(names))

    def names_still_there(self, names: Iterable[str]) -> frozenset[str]:
        """Those of names that a regular flag file at the head still carries."""
        return frozenset(stem(path) for path, entry in self.flag_entries_named(names).items()
                         if entry.is_regular)

    def case_twins(self, paths: Collection[str]) -> dict[str, list[str]]:
        """Of paths (at the head, under flags/), those that a case-insensitive checkout
        (macOS, Windows) writes where another entry at the head goes: the same file
        (`demo.YML` beside `demo.yml`) or a folder of it (a file `flags/Team` beside
        `flags/team/x.yml`). Git keeps both, the checkout one, so the two checkouts build
        different flags. Searched in the folded
        listing's text for the few paths of a change; the listing is parsed only when that
        finds something, or for many paths. A listing of ASCII paths without capitals (the
        usual one: flag names are lowercase) is its own folding: no two paths in it fold
        alike, so it is not searched at all. Each colliding path maps to its group, sorted,
        itself among them: one list shared by every path that folds alike (thousands of
        twins each with a list of all the others was quadratic)."""
        if not paths or (self._text.isascii() and self._folded == self._text):
            return {}
        if len(paths) <= _FEW_NAMES and not any(self._may_collide(path) for path in paths):
            return {}
        files: dict[str, set[str]] = {}
        folders: dict[str, set[str]] = {}
        for path, entry in self.entries.items():
            if entry.mode == FOLDER_MODE:  # (a walk's folder named *.yml; its files say it)
                continue
            files.setdefault(git.fold(path), set()).add(path)
            for folder in _folders_of(path):
                folders.setdefault(git.fold(folder), set()).add(folder)
        groups: dict[tuple[str, ...], list[str]] = {}
        twins: dict[str, list[str]] = {}
        for path in paths:
            key = (git.fold(path), *map(git.fold, _folders_of(path)))
            group = groups.get(key)
            if group is None:  # made once for every path that folds alike
                found = files.get(key[0], set()) | folders.get(key[0], set())
                for folder in key[1:]:
                    found |= files.get(folder, set())
                group = groups[key] = sorted(found)
            if len(group) > 1 or (group and group[0] != path):
                twins[path] = group
        return twins

    def listed_twice(self, paths: Collection[str]) -> list[str]:
        """Of paths, those a tree listing holds more than once, sorted. Only a malformed tree
        can (git stores and sends one; only fsck calls it duplicateEntries): a checkout
        keeps one entry of the two, `ls-tree` and `merge-tree` keep both, and the gate may
        read the other, so what it judged would not be what is deployed. An index lists a
        conflicted path once per stage, and a walk cannot list one twice: neither is asked.
        A search each for a change's few paths; the listing parsed once for more."""
        if self._layout is not TREE:
            return []
        if len(paths) > _FEW_NAMES:
            return sorted(set(paths) & self._twice)
        text = self._text
        return sorted(path for path in paths if text.count(f"\t{path}\0") > 1 or (
            f"\t{path}\0" in text and f"\t{path}/" in text))  # a file, and a folder too

    def last_entry(self, path: str) -> git.Entry:
        """The entry a checkout keeps of a path the listing holds twice (`listed_twice`): the
        last, a folder where the last records are below a folder of that name."""
        text = self._text
        if text.rfind(f"\t{path}/") > text.rfind(f"\t{path}\0"):
            return git.Entry(path, FOLDER_MODE, None)
        return [self._entry(info, found) for info, found in self._records_ending(path)
                if found == path][-1]

    @cached_property
    def _twice(self) -> frozenset[str]:
        """Paths listed twice, or as a file and as a folder."""
        seen: set[str] = set()
        twice: set[str] = set()
        folders: set[str] = set()
        for record in self._text.split("\0"):
            path = record.partition("\t")[2]
            (twice if path in seen else seen).add(path)
            folders.update(_folders_of(path))
        return frozenset(twice | (seen & folders))

    def _may_collide(self, path: str) -> bool:
        text, folded = self._folded, git.fold(path)
        return text.count(f"\t{folded}\0") > 1 or f"\t{folded}/" in text or any(
            f"\t{git.fold(folder)}\0" in text for folder in _folders_of(path))

    @cached_property
    def _folded(self) -> str:
        """The listing's text folded record by record: only the records that are not ASCII
        take Unicode's folding (the whole text's cost a second per 100,000 records)."""
        if self._text.isascii():
            return self._text.lower()
        return "\0".join(git.fold(record) for record in self._text.split("\0"))

    def folders_above(self, paths: Iterable[str]) -> dict[str, git.Entry]:
        """Folders named *.yml above paths that are at the head (git lists no folders; the
        working tree's walk reports them, and a file below one proves it is there)."""
        return {folder: git.Entry(folder, FOLDER_MODE, None)
                for path in paths for folder in _yml_folders_above(path)}

    def attribute_files(self) -> list[str]:
        """The .gitattributes at the head that can apply to flags/ (see git.attribute_files)."""
        found = [path for ending in (f"\t{ATTRIBUTES}", f"/{ATTRIBUTES}")
                 for _, path in self._records_ending(ending)]
        return git.attribute_files(dict.fromkeys(found))

    def _folders_named(self, fragment: str) -> Iterator[str]:
        """Folders under flags/ that paths pass through at `fragment` (`/<name>.yml/`), up to
        MAX_PATH_BYTES long (`_yml_folders_above` says why): the start of a record is looked
        for that far back only, and a record that passes it is skipped to its end."""
        text = self._text
        at = text.find(fragment)
        while at != -1:
            start = text.rfind("\0", max(0, at - _RECORD_REACH), at)
            if start == -1:  # this folder is deeper than any path a checkout can create
                at = text.find(fragment, text.find("\0", at))
                continue
            tab = text.find("\t", start + 1)
            if -1 < tab < at:  # else the fragment is in the info, which never has one
                folder = text[tab + 1:at + len(fragment) - 1]
                if git.is_flag_path(folder):
                    yield folder
            at = text.find(fragment, at + 1)

    def _records_ending(self, ending: str) -> Iterator[tuple[str, str]]:
        """(info, path) of every record whose text ends with `ending` (a regular expression
        over 100,000 records takes a tenth of a second; this, a few milliseconds)."""
        text, tail = self._text, ending + "\0"
        at = text.find(tail)
        while at != -1:
            start = text.rfind("\0", 0, at) + 1
            info, _, path = text[start:at + len(ending)].partition("\t")
            yield info, path
            at = text.find(tail, at + 1)

    def _entry(self, info: str, path: str) -> git.Entry:
        fields = info.split(" ")
        field = self._layout.oid_field
        return git.Entry(path, fields[0], None if field is None else fields[field])


def with_folders(entries: dict[str, git.Entry]) -> dict[str, git.Entry]:
    """Git lists no folders: a folder named *.yml shows only as a prefix of its files, so
    it is added as an entry of its own, as the working tree's walk reports it (over a file of
    the same path, which only a malformed tree can hold: a checkout makes the folder)."""
    folders = {folder: git.Entry(folder, FOLDER_MODE, None) for path in entries
               if ".yml/" in path for folder in _yml_folders_above(path)}
    return {**entries, **folders}


def _folders_of(path: str) -> Iterator[str]:
    """The folders below flags/ that path passes through."""
    end = path.find("/", path.find("/") + 1)
    while end != -1:
        yield path[:end]
        end = path.find("/", end + 1)


def _yml_folders_above(path: str) -> Iterator[str]:
    """The folders named *.yml above path, up to MAX_PATH_BYTES long: a deeper one could not
    be checked out (what is below it is FO010's), and building each folder of a path from
    its parts was quadratic in the depth: a tree 2,000 folders deep with 200 files at the
    bottom (a small push) took the gate 15 s, and deeper ones held CI for hours."""
    end = path.find("/", path.find("/") + 1)  # flags/ itself is no *.yml folder
    while -1 < end <= MAX_PATH_BYTES:
        if path.endswith(".yml", 0, end):
            yield path[:end]
        end = path.find("/", end + 1)

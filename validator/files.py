"""Flag files as bytes: where they are (one walk of flags/) and what each holds, read without
the YAML parser, so that a run whose files are all in the cache never imports it.

Everything here returns a finding instead of raising: a symlink, FIFO, device or folder, a file
that cannot be read, a path with control characters.
"""

from __future__ import annotations

import errno
import os
import re
import shlex
import stat
import unicodedata
from pathlib import Path

from validator.characters import invisible_character
from validator.findings import RULES, START, Finding

MAX_BYTES = 256 * 1024
ATTRIBUTES = ".gitattributes"
"""Checked with the flag files: attributes there could make a checkout's bytes differ from the
blobs the gate judged."""
VERSION_FILE = "VERSION"
"""The policy's `version_file` where it names none (GitLab's VERSION)."""
MAX_PYPROJECT_BYTES = 1024 * 1024
"""Far above any policy; past this the policy is refused (FO301), so one byte more is read.
Here, not beside the policy's reader: the hook's shortcut reads it without that reader's
imports."""


def read_bytes(path: Path | str, display_path: str) -> bytes | Finding:
    """One regular file's bytes (at most MAX_BYTES + 1); any failure is returned as a finding.

    A symlink, FIFO, device or folder is refused before it is read: a symlink would show
    review one text and give the build another, and a FIFO would block forever.
    """
    read = read_regular(path, display_path)
    return read if isinstance(read, Finding) else read[0]


def read_regular(path: Path | str,
                 display_path: str) -> tuple[bytes, os.stat_result] | Finding:
    """As `read_bytes`, with the file's status as it was when it was opened (fstat on the
    descriptor that was read): the cache files the bytes' key under it."""
    problem = path_problem(display_path)
    if problem is not None:
        return problem
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return not_regular(display_path, "a symlink")
        return RULES["FO007"].at(display_path, START, f"cannot read file: {error.strerror}")
    try:
        info = os.fstat(descriptor)
        kind = _kind_of(info.st_mode)
        if kind is not None:
            return not_regular(display_path, kind)
        return _read_all(descriptor, info.st_size), info
    except OSError as error:
        return RULES["FO007"].at(display_path, START, f"cannot read file: {error.strerror}")
    finally:
        os.close(descriptor)


def _read_all(descriptor: int, size: int) -> bytes:
    """Up to MAX_BYTES + 1 bytes, with plain reads: no file object per file (10,000 of them
    cost more than the reads). A regular file gives its `size` in one read, usually; a file
    that grew meanwhile is read on until its end."""
    first = os.read(descriptor, min(size, MAX_BYTES) + 1)
    if len(first) <= size:  # one byte more than the size was asked for: this is the end
        return first
    return first + _rest(descriptor, MAX_BYTES + 1 - len(first))


def _rest(descriptor: int, left: int) -> bytes:
    chunks: list[bytes] = []
    while left > 0:
        chunk = os.read(descriptor, left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _kind_of(mode: int) -> str | None:
    """None for a regular file, else what the path is instead."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symlink"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    return "a device or socket"


def not_regular(display_path: str, kind: str) -> Finding:
    return RULES["FO009"].at(display_path, START, f"{display_path} is {kind}, not a regular file; "
                             "flag files are plain files")


def not_a_folder(display_path: str) -> Finding:
    """flags/ as a file, a symlink or a submodule: build walks the folder and refuses to run,
    so no later change (not even a rollback) could be built."""
    return RULES["FO009"].at(display_path, START, f"{display_path} is not a folder; flag files "
                             f"are {display_path}/<name>.yml, and build refuses to run without "
                             "the folder")


def converted(display_path: str, how: str) -> Finding:
    """A flag file that git converts on checkout: the build would read other bytes than the
    ones review and the gate judged. Or one that a merge driver other than git's own merges
    (`merge=union`): a merge would land other bytes than the gate's merge, which it judged.
    Or one whose diff review does not show (`-diff`, `linguist-generated`). The policy
    (pyproject.toml) too: the build reads it (the survey page's bucketing and invite hosts,
    the catalog's lifespans)."""
    from validator.pyproject_file import PYPROJECT  # (its dataclass: not for every hook run)

    scope = display_path if display_path == PYPROJECT else "flags/"
    harm = next((text for prefixes, text in _HARMS if how.startswith(prefixes)), _CONVERTS)
    return RULES["FO011"].at(display_path, START, f"{display_path}: {how} (.gitattributes) "
                             f"{harm}; remove that attribute for {scope}")


_HARMS = (
    (("diff=", "linguist-generated=", "gitlab-generated="),
     "hides its changes from review (shown as a binary file, or folded away as generated), so "
     "a change of it could pass unread"),
    (("merge=",), "merges it with another driver than git's own, so a merge can land other "
     "bytes (union: both sides' lines, a key twice) than the merge that was judged"),
    (("export-",), "changes it in an archive of the commit (git archive, a host's source "
     "download), so a build from one reads other bytes than were judged, or none"),
)
"""What each kind of attribute in FO011 does, by the prefix of `attribute=value`."""
_CONVERTS = "converts it on checkout, so a checkout reads other bytes than were judged"


MAX_PATH_BYTES = 1024
"""Longer flag paths are refused: git stores paths of any length, but a checkout whose folder
plus the path passes PATH_MAX (4,096 bytes on Linux) cannot open the file, and the build
would quietly lose a flag the gate saw move there."""
MAX_NAME_BYTES = 255
"""One file or folder name's limit in bytes (NAME_MAX) on Linux's file systems, and APFS's:
git stores a longer name, but a checkout fails to create it, and a flag moved there would
be lost to every build that runs on a checkout."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_UNDECODED = re.compile("[\udc80-\udcff]")
_NOT_ON_WINDOWS = re.compile(
    r'[<>:"|?*\\]|[ .](?:/|$)'
    r"|(?:^|/)(?:con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$"
    r"|conout\$) *(?:\.[^/]*)?(?:/|$)", re.IGNORECASE)
"""What git for Windows will not check out (`core.protectNTFS`, on by default): a character
NTFS refuses, a name ending in a space or a dot, or a device name (`aux`, `con.yml`,
`aux .d`: spaces after the name count for nothing there)."""


def path_problem(display_path: str) -> Finding | None:
    """Paths refused on either side of any change: a control character (a newline in a path
    hides what a change touches), or a path or name too long for every checkout
    (MAX_PATH_BYTES, MAX_NAME_BYTES). What a change may not bring is `look_alike`."""
    found = _CONTROL.search(display_path)
    problem = f"the path holds {invisible_character(found[0])}" if found is not None \
        else _too_long(display_path)
    return _path_finding(display_path, problem) if problem is not None else None


def look_alike(display_path: str) -> Finding | None:
    """FO010 for a path a change brings (added or moved to) that review would take for
    another, or that a Windows checkout cannot create: a zero-width space or a bidi control
    (`flags/team_a<U+200B>/` shows as `flags/team_a/` and escapes its CODEOWNERS rule), a name
    not in Unicode NFC (an accent typed apart looks the same), what git for Windows refuses.
    Only where a change brings the path: a file that landed before these rules (a flag named
    `aux`) is read, stepped and rolled back as before, never locked."""
    if _CONTROL.search(display_path):
        return None  # path_problem's, on either side
    hidden = invisible_character(display_path)
    problem = f"the path holds {hidden}" if hidden is not None else None
    undecoded = _UNDECODED.search(display_path) if problem is None else None
    if undecoded is not None:  # git's bytes, read with surrogateescape
        problem = (f"the path holds byte 0x{ord(undecoded[0]) - 0xDC00:02X}, which is not "
                   "UTF-8: review shows another character, and Windows and macOS cannot "
                   "create the name")
    if problem is None and not display_path.isascii() \
            and not unicodedata.is_normalized("NFC", display_path):
        problem = "the path is not in Unicode NFC: it looks like its composed form, another path"
    windows = _NOT_ON_WINDOWS.search(display_path) if problem is None else None
    if windows is not None:
        problem = (f"{windows[0].strip('/')!r} cannot be checked out on Windows (git refuses "
                   "such a path there)")
    return _path_finding(display_path, problem) if problem is not None else None


def _path_finding(display_path: str, problem: str) -> Finding:
    shown = display_path.encode("unicode_escape", "backslashreplace").decode("ascii")
    return RULES["FO010"].at(display_path, START, f"{shown}: {problem}; rename it")


def _too_long(path: str) -> str | None:
    encoded = path.encode("utf-8", "surrogateescape")
    if len(encoded) > MAX_PATH_BYTES:
        return (f"the path is {len(encoded):,} bytes long; a checkout deeper in the file "
                f"system could not open it, so flag paths stay under {MAX_PATH_BYTES:,} bytes")
    longest = max(encoded.split(b"/"), key=len)
    if len(longest) > MAX_NAME_BYTES:
        return (f"a name in the path is {len(longest):,} bytes long; file systems hold names "
                f"of at most {MAX_NAME_BYTES} bytes, so no checkout could create it")
    return None


def flag_paths(root: Path, folder: str = "flags",
               suffix: str | tuple[str, ...] = ".yml") -> list[str]:
    """Every <folder>/**/*<suffix> under root, as sorted relative POSIX paths."""
    return walk_flags(root, folder, suffix)[0]


def walk_flags(root: Path, folder: str = "flags",
               suffix: str | tuple[str, ...] = ".yml") -> tuple[list[str], list[tuple[str, str]]]:
    """Files ending in suffix under root/folder, and every entry there that is not a plain
    file or folder (symlinks, FIFOs, devices, folders named *.yml) with what it is.

    One scandir walk that never follows symlinks, with string paths: at 10,000 files
    pathlib costs tens of ms. Git's tree modes say the same things, so every mode agrees.
    """
    found: list[str] = []
    irregular: list[tuple[str, str]] = []
    top = os.path.join(root, folder)
    if os.path.islink(top) or (os.path.lexists(top) and not os.path.isdir(top)):
        return [], [(folder, "a symlink" if os.path.islink(top) else "not a folder")]
    pending = [(top, folder)] if os.path.lexists(top) else []
    while pending:
        directory, relative = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except FileNotFoundError:  # gone since its parent was listed, and its flags with it
            continue
        except OSError as error:  # a flag in there would be lost without a word
            irregular.append((relative, f"a folder that cannot be read ({error.strerror})"))
            continue
        if any(entry.name == ".git" for entry in entries):  # flags/ itself too: git lists
            irregular.append((relative, "a submodule or another repository's checkout"))
            continue  # nothing below it, and the build read flags/.git/x.yml as a flag
        for entry in entries:
            name = entry.name
            if entry.is_file(follow_symlinks=False):  # most entries: one test, no stat
                if name.endswith(suffix):
                    found.append(f"{relative}/{name}")
                continue
            path = f"{relative}/{name}"
            if entry.is_symlink():
                irregular.append((path, "a symlink"))
            elif entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, path))
                if name.endswith(suffix):
                    irregular.append((path, "a folder"))
            else:
                irregular.append((path, "a FIFO, device or socket"))
    return sorted(found), sorted(irregular)


def _cases(suffix: str) -> tuple[str, ...]:
    """Every spelling of `suffix` in upper and lower case, the suffix itself first (most
    files end in it, and `str.endswith` stops at the first that matches)."""
    spellings = [""]
    for character in suffix:
        spellings = [f"{done}{case}" for done in spellings
                     for case in dict.fromkeys((character.lower(), character.upper()))]
    return (suffix, *sorted(set(spellings) - {suffix}))


_YML_CASES = _cases(".yml")
FLAG_LIKE = (*_YML_CASES, *_cases(".yaml"))
"""Names a flag file may have been given: `.yml` in any case, and `.yaml` (FO008 but `.yml`)."""


def worktree_files(root: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """What the working tree holds for the gate's head listing, as git's listing would name
    it: the flag and attribute files under flags/, the root's .gitattributes, and what is not a
    plain file there (walk_flags). `.YML` and the other cases of `.yml` are listed too, as
    git's listing has them: a case-insensitive checkout writes `demo.YML` and `demo.yml` to
    one file (`Listing.case_twins`)."""
    found, irregular = walk_flags(root, suffix=(*_YML_CASES, ATTRIBUTES))
    if (root / ATTRIBUTES).is_file():
        found.append(ATTRIBUTES)
    return found, irregular


def not_read(paths: list[str]) -> list[Finding]:
    """Errors for files that look like flags but are not read (`.yaml` instead of `.yml`, or
    `.YML`, `.Yml`: the build, git's pathspecs and the gate match `.yml` by its case on every
    system): the flag would be missing from the merged config, off in production without a
    word."""
    return [RULES["FO008"].at(path, START, f"{path} is not read: flag files end in .yml, so "
                              "this flag would be missing from the merged config; rename it: "
                              f"{_rename(path)}")
            for path in paths if _flag_like(path)]


TRAILING = (".", " ")
"""What Windows drops from the end of a name: `demo.yml.` and `demo.yml ` are `demo.yml` in a
checkout there, and a file no build reads anywhere else."""


def _flag_like(path: str) -> bool:
    trimmed = _trimmed(path)
    return path.endswith(FLAG_LIKE[1:]) or (trimmed != path and trimmed.endswith(FLAG_LIKE))


def _trimmed(path: str) -> str:
    """The name as Windows writes it: TRAILING dropped."""
    return path.rstrip("".join(TRAILING))


def _rename(path: str) -> str:
    """The `git mv` to paste into a shell, each path quoted: a file name under flags/ comes
    with the change (`flags/$(cmd).yaml`), and would otherwise run as a command."""
    return shlex.join(["git", "mv", path, _trimmed(path).rpartition(".")[0] + ".yml"])


def stem(path: str) -> str:
    return path.rpartition("/")[2].removesuffix(".yml")

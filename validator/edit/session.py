"""One authoring command, from the working tree to the written file.

Locate the flag, compute the state asked for, edit the file at its spans, judge the result as
`flagops validate --base HEAD` would judge the working tree after the write (the file's rules,
the step from HEAD's state by HEAD's policy, soak times from HEAD's history, and with the rest
of the working tree (`validator.edit.worktree`) the lifecycle rules: freeze windows,
references left to a removed flag, one flag per change; and checkout conversions of flag
files), and only then write it atomically. Anything refused
leaves the file as it was. The clock is read once, by the command, and passed in.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from validator import git
from validator.chatops import commands
from validator.check import LoadedFlag
from validator.document import Document
from validator.edit import judge, worktree
from validator.edit.committed import (
    Committed,
    landed_at,
    read_committed,
    revert_command,
    state_on_target,
)
from validator.edit.new_flag import (
    SCHEMA_FILE,
    NewFlag,
    flag_text,
    name_problem,
    next_steps,
    normalized_name,
)
from validator.edit.report import Outcome, Refusal
from validator.edit.spans import EditError
from validator.edit.steps import StepError, Target, field_changes
from validator.edit.write import delete_file, replace_file
from validator.edit.yaml_edit import set_fields
from validator.files import MAX_BYTES, look_alike, path_problem, stem, walk_flags
from validator.findings import RULES, START, Finding, Severity
from validator.loader import load_or_finding
from validator.model import TYPE_RULES, Flag, FlagType
from validator.parse import parse_flag
from validator.policy import Policy
from validator.transitions import RolloutState, Step, classify

Compute = Callable[[Flag, Policy], Target]


@dataclass(frozen=True, slots=True)
class Options:
    root: Path
    now: int
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class Located:
    """A flag in the working tree: its file's bytes, document and model."""

    path: str
    raw: bytes
    document: Document
    flag: Flag
    others: tuple[str, ...]
    """Every other flag file of the tree, for the unique-name check."""


_BY_HAND = {
    "rollback": "edit the file by hand: `stage: off` with no actors and no percentage is a "
                "rollback the gate takes (flagops validate --base HEAD judges it)",
    "promote": "edit the file by hand to the next step; flagops validate --base HEAD judges it",
}
"""What to do where the file's layout (YAML flagops does not edit) stops the command."""


def change(command: str, name: str, compute: Compute, options: Options) -> Outcome:
    """promote and rollback: the file edited to the state `compute` asks for."""
    here = locate(options.root, name, command)
    committed = read_committed(options.root, name, here.path)
    try:
        target = compute(here.flag, committed.base.policy)
        text = set_fields(here.raw.decode("utf-8"), field_changes(here.document.data, target),
                          here.document.data)
    except StepError as error:
        raise Refusal(command, name, str(error)) from None
    except EditError as error:
        raise Refusal(command, name, f"{here.path}: flagops cannot edit this file as it is "
                      f"written ({error})", hints=[_BY_HAND[command]]) from None
    new = text.encode("utf-8")
    candidate = load_or_finding(new, here.path)
    warnings = _judged(command, name, here.path, here.flag, here.others, committed, new,
                       candidate, options)
    if command == "promote":
        warnings += _not_landed(options.root, name, committed, target.state(name))
    if not options.dry_run:
        replace_file(options.root / here.path, new, expected=here.raw, shown=here.path)
    old, after = RolloutState.of(here.flag), target.state(name)
    edited = _flag_of(candidate)
    revert = None
    if command == "rollback" and edited is not None:
        revert = revert_command(options.root, committed, name, here.raw, edited)
    change_text = f"{name}: {old.describe()} → {after.describe()}"
    return Outcome(command, name, here.path, _summary(here.path, change_text, options),
                   not options.dry_run, here.raw, new, old.describe(), after.describe(),
                   tuple(commands(name, old, after)), revert, warnings=tuple(warnings))


def _not_landed(root: Path, name: str, committed: Committed,
                after: RolloutState) -> list[Finding]:
    """promote judges from HEAD, as `validate --base HEAD` does; where HEAD's branch holds a
    step of this flag its target does not, that step has not landed (no soak has started),
    and CI judges the branch's merge request from the target: both steps at once."""
    if committed.base.flag is None:
        return []
    found = state_on_target(root, name)
    at_head = RolloutState.of(committed.base.flag.flag)
    if found is None or found[1] == at_head:
        return []
    target, landed = found
    path = committed.base.path or f"flags/{name}.yml"
    return [RULES["FO204"].at(path, START, f"{name}: {at_head.describe()} is on this branch "
                              f"only ({target} holds "
                              f"{landed.describe() if landed else 'no such flag'}): it has "
                              "not landed, so its soak has not started, and a merge request "
                              f"of this branch takes {target}'s state to {after.describe()} "
                              "in one step; merge the first step, then promote", flag=name)
            ._replace(severity=Severity.WARNING)]


def remove(name: str, options: Options) -> Outcome:
    here = locate(options.root, name, "remove")
    committed = read_committed(options.root, name, here.path)
    warnings = _judged("remove", name, here.path, here.flag, here.others, committed, None,
                       None, options)
    if not options.dry_run:
        delete_file(options.root / here.path, expected=here.raw, shown=here.path)
    state = RolloutState.of(here.flag)
    verb = "would remove" if options.dry_run else "removed"
    return Outcome("remove", name, here.path, f"{verb} {here.path}: {name} was "
                   f"{state.describe()}", not options.dry_run, here.raw, None,
                   state.describe(), None, tuple(commands(name, state, None)),
                   warnings=tuple(warnings))


def create(flag: NewFlag, options: Options, *, force: bool) -> Outcome:
    """new: a file at off; refused when the name is taken, unless `force` replaces that file."""
    every, irregular = walk_flags(options.root, suffix="")
    _refuse_odd_flags_folder("new", flag.name, irregular)
    found = [path for path in every if path.endswith((".yml", ".yaml"))]
    taken = [path for path in found if stem(path).removesuffix(".yaml") == flag.name]
    _refuse_what_new_cannot_replace(flag.name, taken, irregular)
    if taken and not force:
        raise Refusal("new", flag.name, f"{taken[0]} already exists; use --force to "
                      "overwrite it")
    path = next((p for p in taken if p.endswith(".yml")), f"flags/{flag.name}.yml")
    _refuse_case_twin(flag.name, path, every)
    old = _read_raw(options.root / path, path, "new", flag.name) if path in taken else None
    schema = Path(os.path.relpath(options.root / SCHEMA_FILE, (options.root / path).parent))
    new = flag_text(flag, schema.as_posix()).encode("utf-8")
    others = tuple(p for p in found if p.endswith(".yml") and p != path)
    committed = read_committed(options.root, flag.name)
    warnings = _judged("new", flag.name, path, None, others, committed, new,
                       load_or_finding(new, path), options)
    if not options.dry_run:
        replace_file(options.root / path, new, expected=old, shown=path)
    verb = "would create" if options.dry_run else "replaced" if old is not None else "created"
    kind = FlagType(flag.type)
    return Outcome("new", flag.name, path, f"{verb} {path}: {flag.name} at stage off",
                   not options.dry_run, old, new, None, "off",
                   next_steps=tuple(next_steps(flag, path, TYPE_RULES[kind].needs_rollout_issue)),
                   warnings=tuple(warnings), show_file=options.dry_run)


def _refuse_what_new_cannot_replace(name: str, taken: list[str],
                                    irregular: list[tuple[str, str]]) -> None:
    """`--force` replaces a regular `NAME.yml`; a link or a FIFO there (FO009), or only a
    `NAME.yaml` (FO008, a file flagops does not read, which a new `.yml` would sit beside)
    is for the user to remove or rename first."""
    odd = next(((path, what) for path, what in irregular
                if stem(path).removesuffix(".yaml") == name), None)
    if odd is not None:
        raise Refusal("new", name, f"{odd[0]} is {odd[1]}, not a regular file (FO009); "
                      f"remove it first (git rm {odd[0]})")
    if taken and not any(path.endswith(".yml") for path in taken):
        renamed = taken[0].removesuffix(".yaml") + ".yml"
        raise Refusal("new", name, f"{taken[0]} is not read as a flag (FO008); rename it "
                      f"(git mv {taken[0]} {renamed}) instead of writing another file")


def _refuse_case_twin(name: str, path: str, files: list[str]) -> None:
    """A file under flags/ that a checkout ignoring case (macOS, Windows) writes where the new
    one goes (`flags/DEMO.yml`, `flags/Demo.yml`): the gate refuses the pair (FO010)."""
    folded = git.fold(path)
    twin = next((other for other in files if other != path and git.fold(other) == folded), None)
    if twin is not None:
        raise Refusal("new", name, f"{twin} is {path} on a checkout that ignores case "
                      "(macOS, Windows), and the gate refuses the pair (FO010); rename or "
                      "remove it first")


def _refuse_odd_flags_folder(command: str, name: str,
                             irregular: list[tuple[str, str]]) -> None:
    """`flags` itself a symlink (or no folder): the walk found nothing in it, and a new file
    written to flags/NAME.yml would land wherever the link points, outside the repository."""
    for path, what in irregular:
        if path == "flags":
            raise Refusal(command, name, f"flags is {what}; flagops writes flag files only "
                          "into a flags folder of the repository")


def locate(root: Path, name: str, command: str) -> Located:
    found, irregular = walk_flags(root)
    mine = [path for path in found if stem(path) == name]
    if not mine:
        raise Refusal(command, name, _not_found(name, found, irregular))
    if len(mine) > 1:
        raise Refusal(command, name, f"{name} is defined by {' and '.join(mine)} (FO111); "
                      "keep one file")
    path = mine[0]
    raw = _read_raw(root / path, path, command, name)
    document = load_or_finding(raw, path)
    if isinstance(document, Finding):
        raise Refusal(command, name, findings=[document],
                      hints=[f"fix {path} first: flagops edits files that load"])
    flag, problems = parse_flag(document)
    if flag is None:
        raise Refusal(command, name, findings=problems,
                      hints=[f"fix {path} first: flagops edits files that parse"])
    return Located(path, raw, document, flag, tuple(p for p in found if p != path))


def _not_found(name: str, found: list[str], irregular: list[tuple[str, str]]) -> str:
    """Why there is no file to edit, and the next step: a link or a FIFO where the flag's
    file should be is replaced by hand (the gate refuses it, FO009, and `new` would not
    write over it); a name as GitLab's habits write it (`my-flag`) is the flag `my_flag`;
    `new NAME` is offered only for a name it takes."""
    odd = next(((path, what) for path, what in irregular if stem(path) == name), None)
    if odd is not None:
        path, what = odd
        return (f"{path} is {what}, not a regular file (FO009): flagops edits regular files "
                f"only; remove it (git rm {path}) and write the flag's file again at stage "
                f"off (flagops new {name}), which the gate takes as its rollback")
    meant = normalized_name(name)
    if meant != name and any(stem(path) == meant for path in found):
        return f"no flag named {name!r} under flags/; flag names are written {meant}"
    problem = name_problem(name)
    if problem is not None:
        return f"no flag named {name!r} under flags/: {problem}"
    return f"no flag named {name!r} under flags/; flagops new {name} creates one"


def _read_raw(path: Path, shown: str, command: str, name: str) -> bytes:
    """The file's bytes; a symlink, FIFO or anything but a regular file is refused unread."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise Refusal(command, name, f"cannot read {shown}: {error.strerror}") from None
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise Refusal(command, name, f"{shown} is not a regular file")
        return stream.read(MAX_BYTES + 1)


def _judged(command: str, name: str, path: str, current: Flag | None,
            others: tuple[str, ...], committed: Committed, new: bytes | None,
            candidate: Document | Finding | None, options: Options) -> list[Finding]:
    """The validator's findings on the candidate, the file's bytes `new` (None: deleted);
    raises on any error."""
    base = committed.base
    before = RolloutState.of(base.flag.flag) if base.flag is not None else None
    # The step as the gate takes it, from what HEAD's file gives (`as_reached`): judged by its
    # label, a file that says more than it gives (default_enabled below enabled) took a
    # forward step for none, and its landing was not read (FO205 in a whole clone).
    reached = before.as_reached() if before is not None else None
    edited = _flag_of(candidate)
    after = RolloutState.of(edited) if edited is not None else None
    landed = None
    if committed.head and before and reached and after and classify(
            reached, after, base.policy.bucketing) is Step.FORWARD:
        landed = landed_at(options.root, committed.head, name, before, base.policy,
                           options.now)
    findings = judge.verdict(name, candidate, base, now=options.now, landed_at=landed,
                             other_paths=others)
    findings += _path_rules(command, path)
    if not judge.errors(findings):
        findings += _tree(name, path, new, candidate, edited, committed, options)
    if not judge.errors(findings):
        return findings
    waiting = None
    if reached and after and any(f.rule == "FO204" for f in findings):
        waiting = judge.soak(reached, after, base.policy, landed, options.now)
    hints = judge.hints(name, path, findings)
    if before is not None and current is not None and RolloutState.of(current) != before:
        hints.append(f"{path} already differs from HEAD ({before.describe()}) in its rollout "
                     "state: commit that step first, one step per merge request")
    raise Refusal(command, name, findings=findings, soak=waiting, now=options.now, hints=hints)


def _path_rules(command: str, path: str) -> list[Finding]:
    """The gate's rules on the file's path (FO010): control characters or a length no checkout
    can create judge every change to the file, so a step forward or a new file there is
    refused as the gate would refuse it; a path that looks like another or that Windows
    cannot check out only where the change brings it (`new`). A rollback or a removal does
    not bring the path and stays possible, as with every error the tree already gives."""
    problem = path_problem(path) if command in ("promote", "new") else None
    if problem is None and command == "new":
        problem = look_alike(path)
    return [problem] if problem is not None else []


def _tree(name: str, path: str, new: bytes | None, candidate: Document | Finding | None,
          edited: Flag | None, committed: Committed, options: Options) -> list[Finding]:
    """What `validate --base HEAD` adds for this write from the rest of the working tree: the
    lifecycle rules over every flag it changes (a freeze window, a removal that code still
    reads, a stale or long-released flag, more than one flag stepped under
    one_flag_per_change) and checkout conversions of flag files (.gitattributes), said before
    writing rather than by CI after the push."""
    if committed.head is None:
        return []
    base = committed.base
    at_head = base.path == path
    after = LoadedFlag(edited, candidate) \
        if edited is not None and isinstance(candidate, Document) else None
    unchanged = at_head and committed.raw == new if new is not None else not at_head
    write = worktree.Write(name, path, base.flag, after, at_head, deleted=new is None,
                           unchanged=unchanged)
    return worktree.findings(options.root, committed.head, write, base.policy, options.now)


def _flag_of(candidate: Document | Finding | None) -> Flag | None:
    if not isinstance(candidate, Document):
        return None
    return parse_flag(candidate)[0]


def _summary(path: str, change_text: str, options: Options) -> str:
    return f"{path}: {change_text}" + (" (dry run: not written)" if options.dry_run else "")

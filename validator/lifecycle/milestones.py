"""What a change does to the current milestone that flags' ages are counted from: named
(FO302) where it goes back, goes away, or appears where months were counted, and where a
count in months stops with none after it. Review sees a
version file's edit, or a policy key changed, not what it does to every flag's age: a
version taken back, a `version_file` pointed at a file the base does not hold, a
`current_milestone` removed, or a VERSION added where the policy counted months (each flag's
age then its own `milestone` field's) each made a stale flag's next step pass."""

from __future__ import annotations

from pathlib import Path

from validator import git
from validator.config_file import file_start
from validator.findings import RULES, START, Finding
from validator.lifecycle.lifespan import leading_milestone, milestone_index
from validator.lifecycle.reads import VERSION_BYTES, version_at
from validator.policy import PYPROJECT, Policy


def milestone_findings(root: Path, reader: git.BlobReader, base: str,
                       changes: list[git.Change], base_policy: Policy,
                       head_policy: Policy) -> list[Finding]:
    """FO302 where the change takes the current milestone back (or away), or gives one where
    the base's policy counted months; judged from the base's milestone by the base's policy
    to the head's by the head's. Nothing is read unless the change touches the policy or a
    version file either policy names."""
    changed = {change.path for change in changes}
    if PYPROJECT not in changed and not changed & {base_policy.version_file,
                                                   head_policy.version_file}:
        return []
    was = _milestone(root, reader, base, changes, base_policy, after=False)
    now = _milestone(root, reader, base, changes, head_policy, after=True)
    where = PYPROJECT if _source(base_policy) != _source(head_policy) \
        else head_policy.version_file or PYPROJECT
    if was is not None and (now is None or now[0] < was[0]):
        back = "no milestone" if now is None else f"milestone {now[1]}"
        return [RULES["FO302"].at(where, START, f"the current milestone goes from {was[1]} "
                                  f"back to {back}: every flag's age, counted in milestones, "
                                  "shrinks with it from the next change on (this change is "
                                  "judged by the base's)")]
    if was is None and now is not None and base_policy.stale_in_months:
        return [RULES["FO302"].at(where, START, f"flags' ages will be counted in milestones "
                                  f"from {now[1]} on, where months since each flag's file was "
                                  "added were counted: a flag's age is then its own milestone "
                                  "field's (this change is judged by the base's)")]
    if was is None and now is None and base_policy.stale_in_months \
            and not head_policy.stale_in_months:
        return [RULES["FO302"].at(PYPROJECT, START, "flags' ages, counted in months since each "
                                  "flag's file was added, will be counted no more: no flag is "
                                  "stale from the next change on (this change is judged by the "
                                  "base's)")]
    return []


def _source(policy: Policy) -> tuple[str | None, str | None]:
    return policy.current_milestone, policy.version_file


def _milestone(root: Path, reader: git.BlobReader, base: str, changes: list[git.Change],
               policy: Policy, *, after: bool) -> tuple[int, str] | None:
    """The current milestone by `policy` on one side of the change (its index, and as
    written), or None: the policy's own, else its version file's, as the change leaves it
    (`after`) or as the base has it."""
    if policy.current_milestone is not None:
        text: str | None = policy.current_milestone
    elif policy.version_file is None:
        return None
    else:
        change = next((change for change in changes if change.path == policy.version_file),
                      None)
        text = version_at(reader, root, base, policy) if change is None else \
            _version_in(root, reader, change.after if after else change.before)
    index = milestone_index(text or "")
    return None if index is None or text is None else (index, leading_milestone(text) or "")


def _version_in(root: Path, reader: git.BlobReader, entry: git.Entry | None) -> str:
    """A side of the version file's change as text: a blob, or the working tree's file (the
    working-tree side of a diff has no object id); empty for what is no regular file."""
    if entry is None or not entry.is_regular:
        return ""
    raw = file_start(root / entry.path, VERSION_BYTES) if entry.oid is None \
        else reader.read(entry.oid)
    return "" if raw is None else raw[:VERSION_BYTES].decode("utf-8", "replace")

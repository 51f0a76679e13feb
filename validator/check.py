"""One state of the flags tree: documents in, parsed flags and findings out. No I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from validator.findings import RULES, Finding
from validator.loader import Document, stem
from validator.model import Flag
from validator.parse import parse_flag
from validator.policy import Policy
from validator.rules import check_flag


@dataclass(frozen=True, slots=True)
class LoadedFlag:
    flag: Flag
    document: Document


@dataclass(frozen=True, slots=True)
class CheckedFile:
    path: str
    flag: str


@dataclass(slots=True)
class Checked:
    flags: dict[str, LoadedFlag] = field(default_factory=dict)
    files: list[CheckedFile] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def check_documents(
    loaded: Iterable[Document | Finding],
    policy: Policy,
    *,
    other_paths: Sequence[str] = (),
) -> Checked:
    """Checks each file, then that names are unique here and against `other_paths` of the tree."""
    checked = Checked()
    for item in loaded:
        _check_one(item, policy, checked)
    checked.findings.extend(_duplicate_stems(checked, other_paths))
    return checked


def _check_one(item: Document | Finding, policy: Policy, checked: Checked) -> None:
    if isinstance(item, Finding):
        checked.files.append(CheckedFile(item.path, stem(item.path)))
        checked.findings.append(item)
        return
    flag, findings = parse_flag(item)
    checked.findings.extend(findings)
    if flag is None:
        checked.files.append(CheckedFile(item.path, stem(item.path)))
        return
    checked.files.append(CheckedFile(item.path, flag.name))
    checked.findings.extend(check_flag(flag, item, policy))
    earlier = checked.flags.get(flag.name)
    if earlier is not None:
        message = f"{flag.name}: also defined in {earlier.document.path}"
        position = item.value_position(("name",))
        checked.findings.append(RULES["FO111"].at(item.path, position, message, flag=flag.name))
    else:
        checked.flags[flag.name] = LoadedFlag(flag, item)


def _duplicate_stems(checked: Checked, other_paths: Sequence[str]) -> Iterable[Finding]:
    """Files outside this check that would define a flag of the same name (names equal stems)."""
    mine = {file.path for file in checked.files}
    stems: dict[str, str] = {}
    for path in other_paths:
        if path not in mine:
            stems.setdefault(stem(path), path)
    for name, loaded in checked.flags.items():
        other = stems.get(name)
        if other is not None:
            position = loaded.document.value_position(("name",))
            yield RULES["FO111"].at(loaded.document.path, position,
                                    f"{name}: also defined in {other}", flag=name)

"""One state of the flags tree: documents in, parsed flags and findings out. No I/O.

Checking is two steps so that the cache (validator/cache/) can sit between them: each file
gives a `FileSummary` (its own findings, and what the cross-file rules and the build need of
it), then the cross-file rules run on the summaries alone, fresh or cached alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from validator.files import stem
from validator.findings import RULES, START, Finding, Position

if TYPE_CHECKING:  # the parser, the model and pydantic load only when a file is parsed
    from validator.document import Document
    from validator.model import Flag
    from validator.policy import Policy


@dataclass(frozen=True, slots=True)
class LoadedFlag:
    flag: Flag
    document: Document


@dataclass(frozen=True, slots=True)
class CheckedFile:
    path: str
    flag: str


@dataclass(frozen=True, slots=True)
class FileSummary:
    """One file's verdict and what the other files' rules and the build need of it.

    `name_at` and `data` are set when the file defines a flag: where its `name` is (for
    FO111), and the document's plain data, which the build validates into a `Flag` again.
    """

    path: str
    flag: str
    findings: tuple[Finding, ...]
    name_at: Position | None = None
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TreeVerdict:
    """What a check found and of which files, without the flags: all a report needs, and what
    the cache keeps of a whole run (validator/tree.py)."""

    findings: list[Finding]
    checked: list[tuple[str, str]]
    """(path, flag name) of every file, as a report lists them."""


@dataclass(slots=True)
class Checked:
    flags: dict[str, LoadedFlag] = field(default_factory=dict)
    files: list[CheckedFile] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    defined: dict[str, FileSummary] = field(default_factory=dict)
    """The first file to define each flag; `flags` holds the parsed ones of them."""

    def flag_values(self) -> Iterator[Flag]:
        """Every defined flag, in order: parsed here, or parsed again from a summary's data.

        One at a time, so that the build never holds every flag's data and model at once.
        """
        from validator.model import Flag

        for name, summary in self.defined.items():
            loaded = self.flags.get(name)
            yield loaded.flag if loaded is not None else Flag.model_validate(summary.data)


def check_documents(
    loaded: Iterable[Document | Finding],
    policy: Policy,
    *,
    other_paths: Sequence[str] = (),
) -> Checked:
    """Checks each file, then that names are unique here and against `other_paths` of the tree."""
    summaries: list[FileSummary] = []
    parsed: dict[int, LoadedFlag] = {}
    for item in loaded:
        summary, flag = summarize(item, policy)
        if flag is not None:
            parsed[len(summaries)] = flag
        summaries.append(summary)
    checked = check_summaries(summaries, other_paths=other_paths)
    for index, flag in parsed.items():
        if checked.defined.get(flag.flag.name) is summaries[index]:
            checked.flags[flag.flag.name] = flag
    return checked


def summarize(item: Document | Finding, policy: Policy) -> tuple[FileSummary, LoadedFlag | None]:
    """One file's own rules; the flag too when it parses."""
    if isinstance(item, Finding):
        return unreadable(item), None
    from validator.parse import parse_flag
    from validator.rules import check_flag

    flag, findings = parse_flag(item)
    if flag is None:
        return FileSummary(item.path, stem(item.path), tuple(findings)), None
    findings.extend(check_flag(flag, item, policy))
    summary = FileSummary(item.path, flag.name, tuple(findings),
                          item.value_position(("name",)), item.data)
    return summary, LoadedFlag(flag, item)


def unreadable(finding: Finding) -> FileSummary:
    """A file that gave a finding instead of a document (no policy is needed to say so)."""
    return FileSummary(finding.path, stem(finding.path), (finding,))


def check_summaries(summaries: Iterable[FileSummary], *,
                    other_paths: Sequence[str] = ()) -> Checked:
    """The cross-file rules: a flag's name is defined once, here and in `other_paths`."""
    checked = Checked()
    for summary in summaries:
        checked.files.append(CheckedFile(summary.path, summary.flag))
        checked.findings.extend(summary.findings)
        if summary.name_at is None:
            continue
        earlier = checked.defined.get(summary.flag)
        if earlier is not None:
            message = f"{summary.flag}: also defined in {earlier.path}"
            checked.findings.append(RULES["FO111"].at(summary.path, summary.name_at, message,
                                                      flag=summary.flag))
        else:
            checked.defined[summary.flag] = summary
    checked.findings.extend(_duplicate_stems(checked, other_paths))
    return checked


def _duplicate_stems(checked: Checked, other_paths: Sequence[str]) -> Iterable[Finding]:
    """Files outside this check that would define a flag of the same name (names equal stems)."""
    mine = {file.path for file in checked.files}
    stems: dict[str, str] = {}
    for path in other_paths:
        if path not in mine:
            stems.setdefault(stem(path), path)
    for name, summary in checked.defined.items():
        other = stems.get(name)
        if other is not None:
            yield RULES["FO111"].at(summary.path, summary.name_at or START,
                                    f"{name}: also defined in {other}", flag=name)

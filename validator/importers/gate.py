"""How a batch of GitLab imports lands through the gate: one trailer for the whole change, and
only for files that are exactly the import of a definition. Pure: the caller reads git.

A released GitLab flag arrives at `enabled` with `default_enabled: true`, which a new name may
not (FO207), and GitLab's data has gaps our rules call errors at that stage (no cleanup issue,
no rollout issue, no expectations). A commit of the change carrying

    Flag-Import: gitlab <where the definitions come from>

turns exactly those findings into warnings that quote the trailer, for each new flag whose file
is byte for byte what `flagops import gitlab` writes at the definition's default stage, and
whose name the base branch has never had (a removed flag comes back only as the revert of its
removal). Anything edited after the import, every other file and every other rule is judged as
always; `allow_overrides = false` turns the trailer off, as it does overrides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from validator.findings import RULES, START, Finding, Severity
from validator.importers.gitlab import is_exact_import

IMPORT_TRAILER = "Flag-Import"
IMPORTERS = ("gitlab",)
EXEMPT = ("FO207", "FO122", "FO140", "FO141", "FO406")
"""What an exact import may carry in as a warning: a new flag's released state, the gaps of
GitLab's data at that stage, and counting as a step under one_flag_per_change (an import is
not counted against the one real step of its change either)."""


def import_source(values: Sequence[str]) -> str | None:
    """The first trailer value that names an importer (`gitlab ...`), as written."""
    for value in values:
        words = value.split()
        if words and words[0] in IMPORTERS:
            return value
    return None


def exact_imports(new_files: Mapping[str, tuple[str, bytes | None]],
                  names_had: Iterable[str]) -> dict[str, str]:
    """The new flags (name → (path, bytes at head)) that are exact imports of a name the base
    branch never had (`names_had`: at the base, or ever removed); name → path."""
    removed = set(names_had)
    found: dict[str, str] = {}
    for name, (path, raw) in sorted(new_files.items()):
        if name in removed or raw is None:
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if is_exact_import(text, path):
            found[name] = path
    return found


@dataclass(frozen=True, slots=True)
class Imports:
    """What a change's trailer asks for: the exact imports (name → path) and whether they
    may pass (the policy allows overrides, and the clone holds the whole history, without
    which a name the branch once had cannot be told from a new one)."""

    source: str
    paths: dict[str, str]
    allowed: bool
    whole_history: bool

    @property
    def passing(self) -> frozenset[str]:
        """The names whose exempt findings become warnings."""
        return frozenset(self.paths) if self.allowed and self.whole_history else frozenset()


def with_imports(findings: Sequence[Finding], imports: Imports) -> list[Finding]:
    """The change's findings with each exact import's exempt errors as warnings; or the
    findings as they are and one line per import saying why it does not pass."""
    named = sorted(imports.paths.items())
    if not imports.whole_history:
        return [*findings, *(RULES["FO205"].at(
            path, START, f"{name}: {IMPORT_TRAILER} needs the whole history to know the name "
            "is new, and this clone is shallow (git fetch --unshallow; GitLab CI: GIT_DEPTH: "
            "0)", flag=name) for name, path in named)]
    if not imports.allowed:
        return [*findings, *(RULES["FO210"].at(path, START, f"{name}: {IMPORT_TRAILER} "
                                                "ignored: the policy sets allow_overrides = "
                                                "false", flag=name) for name, path in named)]
    paths = set(imports.paths.values())
    note = f"imported as it is ({IMPORT_TRAILER}: {imports.source})"
    return [finding.as_warning(note) if finding.severity is Severity.ERROR
            and finding.rule in EXEMPT and finding.path in paths else finding
            for finding in findings]


"""Findings and the rule catalogue: every report format, the README and SARIF read this table."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Position(NamedTuple):
    """1-based line and column, as editors and every report format count them."""

    line: int
    column: int


START = Position(1, 1)


def text_position(text: str, offset: int) -> Position:
    """Where the character at `offset` of `text` stands."""
    before = text[:offset]
    return Position(before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


def not_utf8(raw: bytes, error: UnicodeDecodeError) -> tuple[Position, str]:
    """Where a file that is not UTF-8 fails to be, and what to say of it: flag files and the
    policy alike."""
    return (byte_position(raw, error.start),
            f"invalid UTF-8 byte 0x{raw[error.start]:02x}; save the file as UTF-8")


def byte_position(raw: bytes, offset: int) -> Position:
    """Where the byte at `offset` of `raw` stands, counted in characters as an editor counts
    them (the bytes before it on its line read as UTF-8): a file refused for a byte that is not
    UTF-8 is refused at that byte."""
    before = raw[:offset]
    line_start = before[before.rfind(b"\n") + 1:]
    return Position(before.count(b"\n") + 1, len(line_start.decode("utf-8", "replace")) + 1)


class Finding(NamedTuple):
    """One thing a file is found to have. A named tuple, as `Rule` and `Report` are: the
    pre-commit hook reports with them on every commit, and importing `dataclasses` (with
    `inspect`, `dis` and `ast`) was most of what such a run spent beyond the interpreter
    and git when it staged no flag file."""

    path: str
    line: int
    column: int
    severity: Severity
    rule: str
    message: str
    flag: str | None = None

    def as_warning(self, note: str) -> Finding:
        return self._replace(severity=Severity.WARNING, message=f"{self.message} ({note})")


class Rule(NamedTuple):
    id: str
    slug: str
    severity: Severity
    summary: str
    help: str

    def at(self, path: str, position: Position, message: str, *,
           flag: str | None = None) -> Finding:
        return Finding(path, position.line, position.column, self.severity, self.id, message,
                       flag)


def errors(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that fail a run."""
    return [finding for finding in findings if finding.severity is Severity.ERROR]


def _rule(id_: str, slug: str, summary: str, help_: str, *, warning: bool = False) -> Rule:
    return Rule(id_, slug, Severity.WARNING if warning else Severity.ERROR, summary, help_)


_CATALOGUE = (
    # Loading: bytes to a document.
    _rule("FO001", "yaml-syntax", "The file is not valid YAML.",
          "Fix the YAML syntax at the reported position; indentation must use spaces, not tabs."),
    _rule("FO002", "yaml-feature", "The file uses a YAML feature that flag files forbid.",
          "Anchors, aliases, tags, complex keys and multiple documents are rejected: a flag file "
          "needs none of them, and aliases are how alias bombs are built."),
    _rule("FO003", "duplicate-key", "A key appears twice in one mapping.",
          "YAML parsers disagree on which duplicate wins; keep exactly one."),
    _rule("FO004", "too-large", "The file is too large or nested too deeply.",
          "Flag files are small; the loader refuses oversized or deeply nested input."),
    _rule("FO005", "encoding", "The file is not plain UTF-8.",
          "Save the file as UTF-8 without a byte order mark."),
    _rule("FO006", "not-a-mapping", "The file is empty or its top level is not a mapping.",
          "A flag file is one YAML mapping of field names to values."),
    _rule("FO007", "unreadable", "The file cannot be read.",
          "The path must be a readable regular file."),
    _rule("FO008", "not-read", "A file in flags/ is not read as a flag.",
          "Flag files end in .yml, in lower case; a .yaml or .YML file would be left out of "
          "the merged config (and the flag silently off in production), so rename it: git mv "
          "<name>.yaml <name>.yml."),
    _rule("FO009", "not-a-regular-file", "A path under flags/ is a symlink, submodule, folder "
          "or device, not a regular file.",
          "A flag file is a regular file (git mode 100644 or 100755), so that what review sees, "
          "what git stores and what a checkout builds are the same bytes."),
    _rule("FO010", "path-characters", "A path under flags/ contains control or invisible "
          "characters, is not in Unicode NFC, cannot be checked out on Windows, is too long for "
          "a checkout to create, collides with another where case is ignored, "
          "is a name no checkout creates (`.git`, `..`), or is listed twice (or, at the top, "
          "out of order) in its git tree.",
          "Rename the file or folder: newlines, tabs and other control characters in paths "
          "hide what a change touches; where a change brings the path, a zero-width space, a "
          "bidi control or an accent typed apart from its letter makes a folder look like "
          "another (and escape the CODEOWNERS rule of the one it looks like), and git for "
          "Windows checks out no `*?:<>|\"\\`, no name ending in a space or a dot and no "
          "device name (`aux`, `con.yml`); a path or a "
          "name in it longer than file systems "
          "hold (the finding gives the limit) cannot be checked out, so the build would "
          "lose the flag. Paths that differ only in case (FLAGS/x.yml, demo.YML beside "
          "demo.yml, .GITATTRIBUTES) are one file on macOS and Windows checkouts, which "
          "would build other flags than git and the gate see: keep one. A tree that lists "
          "one path twice, or its top entries out of git's order (made by hand: git stores it "
          "without complaint), is read by path otherwise than it is checked out: write it "
          "again with git itself."),
    # One flag file.
    _rule("FO011", "checkout-conversion", "A flag file (or the policy) is converted when it "
          "is checked out, archived or merged, or hidden from review.",
          "A .gitattributes sets working-tree-encoding, filter or ident for flag files or "
          "pyproject.toml: the "
          "checkout (and the build) would read other bytes than review and the gate judged; "
          "or export-subst or export-ignore, so a build from an archive of the commit (git "
          "archive, a host's source download) would read other bytes, or none; "
          "or a merge driver other than git's own (merge=union), so a merge would land other "
          "bytes than the merge the gate judged; or -diff, a diff driver, linguist-generated "
          "or gitlab-generated, so review would not show the change. Remove the attribute "
          "for flags/ and pyproject.toml."),
    _rule("FO101", "missing-field", "A required field is missing.",
          "Add the field; schema/flag.schema.json lists what each field holds."),
    _rule("FO102", "invalid-value", "A value has the wrong type or is not allowed.",
          "schema/flag.schema.json gives the type and allowed values of every field."),
    _rule("FO103", "unknown-key", "A key is not a field of a flag file.",
          "Unknown keys are rejected so that typos cannot silently disable a setting."),
    _rule("FO104", "invisible-character", "A value holds invisible or direction-changing "
          "characters, or the file a line break that only YAML sees.",
          "Zero-width, bidirectional-control and other format characters make a file say "
          "something other than what a reviewer sees; type the value without them. Free text "
          "(a description, the expectations) may hold tabs, line feeds and zero-width joiners, "
          "but no bidirectional control and no other control character (an escape sequence "
          "written as `\\e`, which terminals run and pages drop). YAML "
          "breaks lines at U+0085, U+2028, U+2029 and a carriage return without a line feed, "
          "review does not: remove them. An actor a change lists is written in Unicode NFC: "
          "an accent typed apart from its letter looks the same but is another actor."),
    _rule("FO110", "name-mismatch", "The flag's name differs from its file name.",
          "Name the file <name>.yml so that the flag is found where its name says."),
    _rule("FO111", "duplicate-name", "Two files define the same flag.",
          "Flag names are unique across the whole flags/ tree, subfolders included."),
    _rule("FO112", "name-format", "The flag's name is not lowercase snake_case.",
          "Use lowercase letters, digits and single underscores, starting with a letter."),
    _rule("FO120", "default-enabled-type", "This flag type may not be default_enabled.",
          "GitLab allows default_enabled: true only for beta, ops and (deprecated) development."),
    _rule("FO121", "default-enabled-stage", "default_enabled: true outside stage enabled.",
          "A flag is default-enabled only after it is enabled everywhere."),
    _rule("FO122", "default-enabled-cleanup", "default_enabled: true without a cleanup issue.",
          "Create the cleanup issue before default-enabling, and link it as cleanup_issue_url."),
    _rule("FO130", "beta-needs-actors", "Stage beta lists no actors.",
          "List the projects, groups or users that get the flag in production."),
    _rule("FO131", "percentage-missing", "Stage percentage has no percentage.",
          "Set percentage: {of: actors, value: 10}."),
    _rule("FO132", "percentage-outside-stage", "A percentage is set outside stage percentage.",
          "Remove the percentage, or move the flag to stage percentage."),
    _rule("FO133", "duplicate-actor", "An actor is listed twice.",
          "Each actor is listed once."),
    _rule("FO140", "rollout-issue-required", "This flag type needs a rollout issue from beta on.",
          "GitLab requires rollout_issue_url for gitlab_com_derisk, beta, ops and experiment "
          "flags."),
    _rule("FO141", "expectations-required", "Expectations are missing at a production stage.",
          "From stage beta on the flag reaches production: say what is expected, the risks, "
          "and what is monitored."),
    _rule("FO142", "type-max-stage", "This flag type may not go that far.",
          "wip flags never reach production: they stay at off or staging."),
    _rule("FO150", "percentage-of-time", "Percentage of time is set.",
          "Checks within one request can disagree (GitLab incident production#4155, "
          "gitlab-org/gitlab#327117); prefer percentage of actors.", warning=True),
    _rule("FO151", "deprecated-type", "The flag type is deprecated.",
          "GitLab deprecated the development type; choose gitlab_com_derisk, wip or beta.",
          warning=True),
    _rule("FO160", "https-url", "A URL is not https.",
          "Issue and merge request links must be https URLs."),
    # Transitions between the base and the head state.
    _rule("FO201", "stage-skip", "A forward step skips a stage.",
          "Move one stage at a time: off, staging, beta, percentage, enabled."),
    _rule("FO202", "percentage-step", "A percentage step skips a policy step.",
          "Raise the percentage to the next step of the policy (by default 10, 50, 100)."),
    _rule("FO203", "percentage-kind", "A percentage switches between actors and time.",
          "Roll back to beta first, then start a new percentage rollout."),
    _rule("FO204", "soak-time", "The previous state has not soaked long enough.",
          "Wait until the base state has been live for the policy's soak time."),
    _rule("FO205", "history-missing", "Git history needed for soak times or a flag's age is "
          "missing.",
          "Fetch with full depth (git fetch --unshallow; GitLab CI: GIT_DEPTH: 0): beyond a "
          "shallow clone's cut no soak is proven, and a flag's age (FO402) or time enabled by "
          "default (FO407) cannot be told; those two are reported at the policy's "
          "stale_severity."),
    _rule("FO206", "default-enabled-step", "default_enabled turns on too early.",
          "default_enabled goes true only when the flag was already enabled at the base."),
    _rule("FO207", "new-flag-state", "A new flag does not start off.",
          "A new flag starts at stage off with default_enabled: false (or comes back at "
          "enabled with default_enabled: true when its removal is reverted)."),
    _rule("FO208", "delete-live-flag", "A flag is deleted while it is live.",
          "Delete a flag only at stage off, or after default_enabled: true and cleanup."),
    _rule("FO211", "mixed-step", "One change both widens and narrows a flag.",
          "Split it: first the rollback (always legal), then the forward step, so that "
          "either can be reverted on its own."),
    _rule("FO212", "base-unreadable", "The flag's file cannot be read at the base.",
          "With no readable state to step from, only a rollback to stage off is accepted; fix "
          "the file at off, then step forward again."),
    _rule("FO213", "author-merge", "The change carries a merge commit its author made.",
          "With require_merge_commits only the server's merge commits start a soak; a merge the "
          "author made, fast-forwarded onto the base branch, would pass for one. Rebase the "
          "branch instead of merging into it (a rollback too: fast-forwarded, the merge's "
          "date would start the rolled-back state's soak): git rebase <target> && git push "
          "--force-with-lease."),
    _rule("FO214", "rebase-lands-other", "Rebasing the change onto its target lands another "
          "tree than merging it.",
          "A rebase merge (GitHub's \"Rebase and merge\") replays each commit onto the "
          "target, and a branch whose commits undo and redo a change the target has made too "
          "lands something the judged merge does not hold. Rebase the branch onto the target "
          "(git rebase <target> && git push --force-with-lease): then merging and rebasing "
          "land the same, and that is judged."),
    _rule("FO209", "override-unused", "An override trailer has nothing to override.",
          "A Flag-Override trailer names a flag whose change has no error it may pass: "
          "transition errors and the lifecycle rules FO402-FO404 and FO406 can be overridden, "
          "file errors and freeze windows (FO401) never. The errors an override does turn "
          "into warnings keep their own rule id and quote the reason; remove the trailer, or "
          "check the flag's name.", warning=True),
    _rule("FO210", "override-refused", "An override trailer is ignored.",
          "The policy turns overrides off (allow_overrides = false).", warning=True),
    # The repository's configuration.
    _rule("FO301", "policy", "The [tool.flagops] policy is invalid.",
          "Use only the documented policy keys, with values of the documented types."),
    _rule("FO302", "policy-changed", "The change edits the policy.",
          "A change is judged by the base's policy; the edited policy applies from the next "
          "change on, once this one has merged.", warning=True),
    _rule("FO303", "gate-changed", "The change edits files outside flags/.",
          "Anything but flags and documentation may be code that CI runs (the CI file, the "
          "validator, the renderer, packaging): the target branch's flagops judges this change, "
          "and the new code applies after merge. Ask a code owner to review it.",
          warning=True),
    # A flag's life (validator/lifecycle).
    _rule("FO401", "freeze-window", "A forward step is checked inside a freeze window.",
          "The policy's [[tool.flagops.freeze]] windows stop forward steps (in their "
          "environments) while they last; rollbacks always pass. Wait until the window ends."),
    _rule("FO402", "stale-flag", "The flag has outlived its type's maximum lifespan.",
          "Counted in milestones from the flag's milestone as GitLab's triage reports count "
          "them (or in months since its file was added): enable it by default and remove it, "
          "turn it into a setting, or remove its code. A milestone later than the current "
          "one is reported too (the flag would not age until then): set the milestone it was "
          "added in. The policy's stale_severity may make it an error.", warning=True),
    _rule("FO403", "rollout-date-passed", "The flag's intended_to_rollout_by has passed.",
          "Finish the rollout, or set a new date with the reason in the rollout issue.",
          warning=True),
    _rule("FO404", "removed-while-referenced", "A flag is removed while code references it.",
          "Remove the code that reads the flag first (flagops refs NAME lists it): code that "
          "checks a flag with no definition reads it as off (GitLab), as its own default "
          "(OpenFeature, flagd: a default of true turns it on), or fails."),
    _rule("FO405", "removable", "A released flag has no code reference left.",
          "Nothing reads the flag any more: remove its file.", warning=True),
    _rule("FO406", "one-flag-per-change", "The change steps more than one flag.",
          "The policy sets one_flag_per_change: change one flag's rollout state per merge "
          "request (a change that only rolls flags back passes)."),
    _rule("FO407", "released-too-long", "The flag has been enabled by default for longer "
          "than the policy allows.", "Once default_enabled: true has landed, the flag only "
          "waits for its removal: remove the code that reads it, then its file (the policy's "
          "max_released_days; stale_severity may make it an error).", warning=True),
    _rule("FO408", "history-restart", "A commit of the change adds a file of a flag the "
          "base holds, without removing one.",
          "A flag's history follows its file through a move made in one commit (git mv). The "
          "other half of a move made in two commits, or a copy, is an add with nothing of the "
          "name removed: landed commit by commit (a fast-forward, or a rebase merge, which "
          "replays every commit but the merges), the flag's history would start there, and "
          "with it its age and oldest milestone, so a stale flag would be young again. A "
          "change that merged its target in, fast-forwarded, makes its own first-parent line "
          "the base branch's, with the same effect. Move the file in one commit, rebase onto "
          "the target rather than merging it in, or squash the change. Reported like FO402 "
          "(stale_severity may make it an error), where the base's policy counts ages, with "
          "require_merge_commits too: a rebase merge, a fast-forward merge method or a push "
          "lands the commits without a merge commit.", warning=True),
    _rule("FO409", "version-unreadable", "The policy's version file gives no milestone.",
          "Flags' ages are counted in milestones from the policy's version_file (GitLab's "
          "VERSION: `17.10.0-pre`) where current_milestone is not set. At the base the file "
          "is there but starts with no milestone (empty, other text) or is no regular file (a "
          "symlink, a folder), so no changed flag's age (FO402) can be told, and no split "
          "move (FO408) found. Fix the file, or set current_milestone. Reported for a change "
          "that is not only rollbacks, at the policy's stale_severity.", warning=True),
    # The tracker (validate --check-links, validator/trackers).
    _rule("FO501", "issue-not-found", "The linked issue does not exist.",
          "The tracker answers 404 (or GitHub's 410 for a deleted issue): a wrong URL, a "
          "deleted issue, or a private project the token cannot see (GitHub and GitLab answer "
          "alike). Fix the URL, or open the issue "
          "(flagops issue rollout|cleanup NAME --create)."),
    _rule("FO502", "issue-forbidden", "The token may not read the linked issue.",
          "The tracker answers 403: give the CI token read access to the issue's project "
          "(GitLab: Reporter; GitHub: issues: read).", warning=True),
    _rule("FO503", "cleanup-issue-closed", "The cleanup issue is closed but the flag exists.",
          "A closed cleanup issue says the flag is gone: remove the flag (flagops remove NAME) "
          "or reopen the issue."),
    _rule("FO504", "rollout-issue-closed", "The rollout issue is closed before the rollout "
          "ended.",
          "The flag is not at stage enabled (nor off) yet: reopen the rollout issue, or roll "
          "the flag back to off and say why in it."),
    _rule("FO505", "tracker-unavailable", "The tracker cannot be asked.",
          "No token, a refused token, an unreachable server, a rate limit, an answer that "
          "does not end (too large, too slow, pages without end) or a missing client "
          "library: its links are not checked, said once per tracker. Tokens: GITHUB_TOKEN, "
          "FLAGOPS_GITLAB_TOKEN or GITLAB_TOKEN.", warning=True),
    _rule("FO506", "issue-url-unknown", "The URL is not an issue on a known tracker.",
          "github.com and gitlab.com are known; list other hosts in the policy's github_hosts "
          "or gitlab_hosts. An issue URL is .../-/issues/N (GitLab) or .../issues/N (GitHub).",
          warning=True),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _CATALOGUE}

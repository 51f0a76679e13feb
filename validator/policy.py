"""The rollout policy: defaults live here and only here; `[tool.flagops]` may override them."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)

from validator import reference_syntax
from validator.engines import Bucketing
from validator.errors import UserError
from validator.files import VERSION_FILE
from validator.findings import RULES, START, Finding, Position, not_utf8, text_position
from validator.pyproject_file import MAX_PYPROJECT_BYTES as MAX_PYPROJECT_BYTES
from validator.pyproject_file import PYPROJECT as PYPROJECT
from validator.pyproject_file import PyprojectRead, read_pyproject
from validator.stages import MILESTONE_PATTERN, Environment, FlagType, Stage

Minutes = Annotated[int, Strict(), Field(ge=0)]
_HOST = r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$"
"""A lowercase host name, as URLs are compared."""


class SoakMinutes(BaseModel):
    """How long the base state must have been live before the next forward step."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    staging: Minutes = Field(default=0, description="Before off → staging.")
    beta: Minutes = Field(default=15, description="Before staging → beta.")
    percentage: Minutes = Field(
        default=15, description="Before beta → percentage and between percentage steps.")
    enabled: Minutes = Field(default=15, description="Before percentage 100% → enabled.")
    default_enabled: Minutes = Field(
        default=24 * 60, description="At enabled before default_enabled: true.")
    actors: Minutes = Field(
        default=0, description="Adding actors within beta or percentage; 0 keeps every revert "
        "of an actor swap legal at once.")


class FreezeWindow(BaseModel):
    """A time when no flag may step forward, e.g. a holiday or an incident."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: AwareDatetime = Field(description="ISO 8601 with a zone (a TOML datetime or string).")
    end: AwareDatetime = Field(description="When forward steps are accepted again.")
    reason: Annotated[str, Strict(), Field(min_length=1)]
    environments: tuple[Environment, ...] = Field(
        default=(Environment.STAGING, Environment.PRODUCTION),
        description="Where the freeze applies; a step that widens the flag only elsewhere "
        "passes.")

    @field_validator("start", "end")
    @classmethod
    def _in_utc_range(cls, moment: datetime) -> datetime:
        """The gate compares and prints a window in UTC: a moment whose offset carries it past
        year 9999 or before year 1 there (`9999-12-31T23:00:00-12:00`) would crash every
        forward step checked in the window, so the policy that names it is refused."""
        try:
            moment.astimezone(UTC)
        except OverflowError:
            raise ValueError("must lie between years 1 and 9999 in UTC") from None
        return moment

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> FreezeWindow:
        if self.end <= self.start:
            raise ValueError("a freeze window must end after it starts")
        return self


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    percentage_steps: tuple[Annotated[float, Strict(), Field(gt=0, le=100)], ...] = Field(
        default=(10, 50, 100),
        description="The percentages a rollout steps through; a forward step goes at most to "
        "the next one. Must rise and end at 100.")
    soak_minutes: SoakMinutes = SoakMinutes()
    may_skip: dict[FlagType, tuple[Stage, ...]] = Field(
        default_factory=dict,
        description="Stages a flag type may skip on a forward step, e.g. `{ops = ['beta']}`.",
    )
    allow_overrides: Annotated[bool, Strict()] = Field(
        default=True, description="Whether a `Flag-Override: <flag>: <reason>` trailer turns "
        "that flag's transition errors into warnings.")
    require_merge_commits: Annotated[bool, Strict()] = Field(
        default=False, description="Start a state's soak at the first merge commit that "
        "carries it: a fast-forward or pushed commit's date is set by its author, a merge "
        "commit's by the server that merges.")
    invite_link_hosts: tuple[Annotated[str, Strict()], ...] = Field(
        default=("calendly.com",),
        description="Hosts the survey page's invite link may point to (https only).")
    bucketing: Bucketing = Field(
        default="flipper", description="Whose percentage-of-actors rule `flagops eval` uses: "
        "`flipper` (crc32, GitLab's runtime) or `flagd` (murmur3 `fractional`, for teams that "
        "run the `flagops export` flagd file); `flagops render` builds the survey page with "
        "it too (`FlagopsProvider` takes it as an argument).")
    max_lifespan: dict[FlagType, Annotated[int, Strict(), Field(ge=1)]] = Field(
        default_factory=lambda: {
            FlagType.GITLAB_COM_DERISK: 2, FlagType.WIP: 4, FlagType.BETA: 6,
            FlagType.EXPERIMENT: 6, FlagType.DEVELOPMENT: 6, FlagType.OPS: 12},
        description="Milestones a flag of each type may live, counted from its milestone as "
        "GitLab's triage reports count them (12 a major version); without a current "
        "milestone, months since the commit that added the file. A type left out never goes "
        "stale (worker, undefined).")
    current_milestone: Annotated[str, Strict(), Field(pattern=MILESTONE_PATTERN)] | None = \
        Field(default=None, description="The milestone now, e.g. `17.10`; unset: read from "
              "`version_file`.")
    version_file: Annotated[str, Strict()] | None = Field(
        default=VERSION_FILE, description="A file in the repository (its path from the top, as "
        "git lists it) whose text starts with the current version (GitLab's VERSION, e.g. "
        "`17.10.0-pre`); used when current_milestone is unset and the file exists, and FO409 "
        "where it gives no milestone.")
    stale_severity: Literal["warning", "error"] = Field(
        default="warning", description="How `validate --base` reports a changed flag past its "
        "type's lifespan (FO402) or its intended_to_rollout_by (FO403); never for a rollback.")
    stale_in_months: Annotated[bool, Strict()] = Field(
        default=False, description="Where no current milestone is known, let `validate --base` "
        "count a flag's age in months since its file was added (`status` always does).")
    max_released_days: Annotated[int, Strict(), Field(ge=0)] = Field(
        default=60, description="Days a flag may stay `default_enabled: true` before its "
        "removal is overdue (FO407, reported like FO402; `status` lists it as stale); 0: "
        "never.")
    freeze: tuple[FreezeWindow, ...] = Field(
        default=(), description="Freeze windows, `[[tool.flagops.freeze]]` tables: no forward "
        "step is accepted while one lasts (rollbacks always are).")
    one_flag_per_change: Annotated[bool, Strict()] = Field(
        default=False, description="Refuse a change that steps or adds more than one flag "
        "(FO406); rollbacks are not counted.")
    reference_patterns: tuple[Annotated[str, Strict()], ...] = Field(
        default=(), description="More regular expressions that find a flag in code, besides "
        "GitLab's, each with one `{name}` (the flag's name) or `{camelName}` (in camelCase), "
        "outside parentheses and followed by what ends a name (README: flagops refs), in the "
        "syntax git grep -E and Python read alike (characters, escaped punctuation, brackets "
        "without classes or backslashes, groups, `|` inside them, `^`, `$`, single "
        "repetitions); others are FO301.")

    tracker: Annotated[str, Strict(), Field(pattern=r"^https://[^/\s]+/[^\s]+[^/\s]$")] | \
        None = Field(default=None, description="The project new rollout and cleanup issues go "
                     "to (`flagops issue --create`), e.g. `https://gitlab.com/gitlab-org/gitlab` "
                     "or `https://github.com/owner/repo`.")
    github_hosts: tuple[Annotated[str, Strict(), Field(pattern=_HOST)], ...] = Field(
        default=(), description="GitHub Enterprise hosts: issue URLs there go through PyGithub "
        "(github.com always does).")
    gitlab_hosts: tuple[Annotated[str, Strict(), Field(pattern=_HOST)], ...] = Field(
        default=(), description="Self-managed GitLab hosts: issue URLs there go through "
        "python-gitlab (gitlab.com always does).")

    @field_validator("version_file")
    @classmethod
    def _path_as_git_lists_it(cls, path: str | None) -> str | None:
        """A path from the repository's top as git lists it: the gate looks it up in the
        base's tree by that text, and `./VERSION` or `VERSION/` found nothing there (no
        milestone: every flag young), while the working tree's readers found the file;
        `../VERSION` or `/etc/hostname` made git refuse every later change, rollbacks too."""
        parts = None if path is None else path.split("/")
        if parts is not None and any(part in ("", ".", "..") or "\\" in part
                                     or not part.isprintable() for part in parts):
            raise ValueError("version_file must be a path in the repository from its top, as "
                             "git lists it (no leading or trailing /, no . or .. parts)")
        return path

    @field_validator("reference_patterns")
    @classmethod
    def _read_alike_by_git_and_python(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            found = reference_syntax.problem(pattern)
            if found is not None:
                raise ValueError(f"{pattern!r}: {found}")
        return patterns

    @field_validator("percentage_steps")
    @classmethod
    def _ascending_to_100(cls, steps: tuple[float, ...]) -> tuple[float, ...]:
        if not steps or list(steps) != sorted(set(steps)) or steps[-1] != 100:
            raise ValueError("percentage_steps must rise strictly and end at 100")
        return steps


DEFAULT_POLICY = Policy()


class PolicyError(UserError):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def load_policy(root: Path) -> Policy:
    """Reads `[tool.flagops]` from root/pyproject.toml; raises PolicyError with a location."""
    return policy_of_read(read_pyproject(root))


def policy_of_read(read: PyprojectRead) -> Policy:
    """The policy of one read of pyproject.toml: the defaults when there is none, FO301 when
    it cannot be the policy's source. The cache's context is made of the same read
    (validator/pyproject_file.py), so the policy judged is the one the results are filed under."""
    if read.problem is not None:
        raise PolicyError(RULES["FO301"].at(PYPROJECT, START, read.problem))
    if read.raw is None:
        return DEFAULT_POLICY
    return policy_from_bytes(read.raw)


def policy_from_bytes(raw: bytes, path: str = PYPROJECT) -> Policy:
    """The policy in a pyproject.toml's bytes, from a file or a git blob; located errors."""
    if len(raw) > MAX_PYPROJECT_BYTES:
        raise PolicyError(RULES["FO301"].at(path, START, f"{path} is larger than "
                                            f"{MAX_PYPROJECT_BYTES // 1024} KiB"))
    text = _policy_text(raw, path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
        where = Position(int(found[1]), int(found[2])) if found else _end_of(text)
        message = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "",
                         str(error))
        raise PolicyError(RULES["FO301"].at(path, where, f"invalid TOML: {message}")) from None
    except RecursionError:
        raise PolicyError(RULES["FO301"].at(path, START, "invalid TOML: nested too deeply")) \
            from None
    except ValueError:  # int() of more digits than Python converts
        raise PolicyError(RULES["FO301"].at(path, _long_number(text), "invalid TOML: an "
                                            "integer of more than 4,300 digits")) from None
    return policy_from_table(_flagops_table(document, text, path), text)


def _policy_text(raw: bytes, path: str) -> str:
    """The file as text, refused at a byte that is not UTF-8 (TOML is UTF-8): read with
    replacement characters, a key or a value would be one nobody wrote."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PolicyError(RULES["FO301"].at(path, *not_utf8(raw, error))) from None


def _long_number(text: str) -> Position:
    """Where the first run of digits longer than Python converts stands (tomllib's error
    says none)."""
    found = re.search(r"[0-9_]{4300,}", text)
    return text_position(text, found.start() if found else 0)


def _end_of(text: str) -> Position:
    lines = text.split("\n")
    return Position(len(lines), len(lines[-1]) + 1)


def _flagops_table(document: dict[str, Any], text: str, path: str) -> dict[str, Any]:
    """`[tool.flagops]`, refusing a `tool` or `flagops` that is not a table."""
    table: Any = document
    for depth, key in enumerate(("tool", "flagops")):
        table = table.get(key, {})
        if not isinstance(table, dict):
            dotted = ".".join(("tool", "flagops")[: depth + 1])
            raise PolicyError(RULES["FO301"].at(path, _line_of(text, dotted),
                                                f"{dotted} must be a table, not "
                                                f"{type(table).__name__}"))
    return dict(table)


def _line_of(text: str, dotted: str) -> Position:
    head = dotted.split(".")[-1]
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*(?:{re.escape(dotted)}|{re.escape(head)})\s*=", line):
            return Position(number, len(line) - len(line.lstrip()) + 1)
    return START


def policy_from_table(table: dict[str, Any], source: str = "") -> Policy:
    try:
        return Policy.model_validate(table)
    except ValidationError as error:
        first = error.errors()[0]
        loc = tuple(str(part) for part in first["loc"])
        dotted = ".".join(loc)
        said = first["msg"].removeprefix("Value error, ")  # a validator's own words
        message = (f"[tool.flagops] unknown policy key {dotted!r}" if first["type"] ==
                   "extra_forbidden" else f"[tool.flagops] {dotted}: {said}")
        raise PolicyError(RULES["FO301"].at("pyproject.toml", locate_key(source, loc),
                                            message)) from None


_HEADER = re.compile(r"\s*\[(?P<array>\[)?(?P<path>[^\[\]]*)\]")
_KEY = re.compile(r"(\s*)((?:[\w-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[\w-]+|\"[^\"]*\"|'[^']*'))*)"
                  r"\s*=")


def locate_key(source: str, loc: tuple[str, ...]) -> Position:
    """tomllib keeps no positions: find the key `loc` names under [tool.flagops], however the
    file spells its tables (`[tool.flagops.soak_minutes]`, `[ tool . "flagops" ]`, an array of
    tables `[[tool.flagops.freeze]]`, whose n-th table is the index n of `loc`) and keys
    (dotted, under `[tool]` or at the top).

    The deepest match wins: `soak_minutes.bogus` is found as that key, or else at the line of
    `soak_minutes` (its table's header, or its key)."""
    wanted = ("tool", "flagops", *loc)
    best, depth = START, 0
    table: tuple[str, ...] = ()
    arrays: dict[tuple[str, ...], int] = {}
    for number, line in enumerate(source.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _table_path(header["path"])
            if header["array"]:
                arrays[table] = arrays.get(table, -1) + 1
                table = (*table, str(arrays[table]))
            path, column = table, len(line) - len(line.lstrip()) + 1
        else:
            key = _KEY.match(line)
            if key is None:
                continue
            path, column = (*table, *_table_path(key[2])), len(key[1]) + 1
        if len(path) > depth and wanted[:len(path)] == path:
            best, depth = Position(number, column), len(path)
            if path == wanted:
                return best
    return best


def _table_path(dotted: str) -> tuple[str, ...]:
    parts = re.findall(r"[\w-]+|\"[^\"]*\"|'[^']*'", dotted)
    return tuple(part.strip("\"'") for part in parts)

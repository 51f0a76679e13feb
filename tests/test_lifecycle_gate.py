"""The lifecycle rules of `validate --base` on real repositories with dated commits: freeze
windows (FO401) and stale flags (FO402, FO403), judged by the base's policy; rollbacks pass."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from gitrepo import EPOCH, Repo, flag_yaml

from validator.compare import RangeRequest, compare
from validator.findings import Finding

DAY = 86_400
FREEZE = f"""[tool.flagops]
[[tool.flagops.freeze]]
start = {datetime.fromtimestamp(EPOCH - DAY, UTC).isoformat()}
end = "{datetime.fromtimestamp(EPOCH + DAY, UTC).isoformat()}"
reason = "the holiday freeze"
environments = ["production"]
"""


def _rules(repo: Repo, now: int) -> list[str]:
    found = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=now).findings
    return [f"{finding.rule}:{finding.severity}" for finding in found]


def _repo(tmp_path: Path, policy: str = "", **first: object) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    if policy:
        repo.write("pyproject.toml", policy)
    repo.write_flag("demo", **first)  # type: ignore[arg-type]
    repo.commit("add demo", at=EPOCH - 30 * DAY)
    return repo


@pytest.mark.parametrize(("milestone", "says"), [
    ("99.0", "milestone 99.0 is later than the current milestone 17.10"),
    ("17.11", "milestone 17.11 is later than the current milestone 17.10"),
    ("17.99", "milestone 17.99 is later than the current milestone 17.10"),
    ("13.9999", "this one has lived 46 of 6 milestones, end of life 14.6"),
])
def test_a_milestone_later_than_the_current_one_is_judged(tmp_path: Path, milestone: str,
                                                          says: str) -> None:
    """A flag's lifespan counts from its milestone: a new flag that said '99.0' (or '17.99',
    or '13.9999', read as 846.3) never went stale, past stale_severity = "error". A milestone
    after the current one is FO402, a minor past 12 counts as its major's last, and the flag
    that says so stays judged when it steps forward later; setting the current one passes."""
    policy = '[tool.flagops]\nstale_severity = "error"\ncurrent_milestone = "17.10"\n'
    repo = _repo(tmp_path, policy, flag_type="beta")
    future = flag_yaml("new", flag_type="beta").replace("'13.12'", f"'{milestone}'")
    repo.write("flags/new.yml", future)
    repo.commit("a new flag", at=EPOCH - 60)
    found = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH).findings
    assert [(f.rule, str(f.severity)) for f in found] == [("FO402", "error")]
    assert says in found[0].message
    repo.write("flags/new.yml", future.replace("stage: off", "stage: staging"))
    repo.commit("staging", at=EPOCH)
    assert _rules(repo, EPOCH + DAY) == ["FO402:error"]
    repo.write("flags/new.yml", future.replace("stage: off", "stage: staging")
               .replace(f"'{milestone}'", "'17.10'"))
    repo.commit("the true milestone", at=EPOCH + 60)  # 13.9999 was overdue at the base
    assert _rules(repo, EPOCH + DAY) == ([] if "later" in says else ["FO402:error"])


def test_a_freeze_blocks_a_step_and_lets_the_rollback_through(tmp_path: Path) -> None:
    repo = _repo(tmp_path, FREEZE, stage="staging")
    repo.write_flag("demo", "beta", actors=["User:1"])
    repo.commit("beta", at=EPOCH - 60)
    found = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH).findings
    assert [f.rule for f in found] == ["FO401"]
    assert "frozen until 2026-09-22 14:13 UTC (the holiday freeze)" in found[0].message
    assert _rules(repo, EPOCH + DAY) == []  # the window is over
    repo.write_flag("demo", "staging")
    repo.commit("roll back", at=EPOCH)
    assert _rules(repo, EPOCH) == []


def test_a_freeze_in_production_lets_a_staging_step_through(tmp_path: Path) -> None:
    repo = _repo(tmp_path, FREEZE)
    repo.write_flag("demo", "staging")
    repo.commit("staging", at=EPOCH - 60)
    assert _rules(repo, EPOCH) == []


def test_a_freeze_added_by_the_change_does_not_judge_it(tmp_path: Path) -> None:
    repo = _repo(tmp_path, stage="staging")
    repo.write("pyproject.toml", FREEZE)
    repo.write_flag("demo", "beta", actors=["User:1"])
    repo.commit("beta and a freeze", at=EPOCH - 3600)
    assert "FO401:error" not in _rules(repo, EPOCH)  # the base's policy has no freeze


def test_stale_in_months_since_the_file_was_added(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "[tool.flagops]\nstale_in_months = true\n", flag_type="beta")
    repo.write("flags/demo.yml", flag_yaml("demo", description="Edited."))
    repo.commit("edit", at=EPOCH)
    assert _rules(repo, EPOCH) == []  # added 30 days before EPOCH
    assert _rules(repo, EPOCH + 200 * DAY) == ["FO402:warning"]


def test_a_flag_added_in_a_commit_dated_in_the_future_still_ages(tmp_path: Path) -> None:
    """The age counts from the add or from any commit after it on the line, the earliest:
    dating the add ten years ahead does not keep the flag young."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("pyproject.toml", "[tool.flagops]\nstale_in_months = true\n")
    repo.write_flag("demo", flag_type="beta")
    repo.commit("add demo, dated ten years ahead", at=EPOCH + 3650 * DAY)
    repo.write("README.md", "docs\n")
    repo.commit("docs, landed after it", at=EPOCH - DAY)
    repo.write("flags/demo.yml", flag_yaml("demo", flag_type="beta", description="Edited."))
    repo.commit("edit", at=EPOCH)
    assert _rules(repo, EPOCH) == []
    assert _rules(repo, EPOCH + 200 * DAY) == ["FO402:warning"]


def test_stale_in_milestones_from_the_base_version_file_and_as_an_error(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "[tool.flagops]\nstale_severity = \"error\"\n", flag_type="beta")
    repo.write("VERSION", "14.6.0-pre\n")  # the flag's milestone is 13.12; beta lives 6
    repo.commit("version", at=EPOCH - DAY)
    repo.write_flag("demo", "staging", flag_type="beta")
    repo.commit("staging", at=EPOCH)
    found = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH).findings
    assert [(f.rule, str(f.severity)) for f in found] == [("FO402", "error")]
    assert "this one has lived 6 of 6 milestones, end of life 14.6" in found[0].message
    repo.write_flag("demo", "off", flag_type="beta")
    repo.commit("roll back", at=EPOCH)
    assert _rules(repo, EPOCH) == []  # a rollback is never judged stale


@pytest.mark.parametrize("version", ["\ufeff14.6.0-pre\n", "v14.6.0\n", "  14.6\r\n"])
def test_a_version_after_a_byte_order_mark_or_a_v_is_read(tmp_path: Path,
                                                          version: str) -> None:
    """An editor's byte order mark, or a tag's `v`: read as no milestone, every flag's age
    went untold, past stale_severity = "error"."""
    repo = _repo(tmp_path, "[tool.flagops]\nstale_severity = \"error\"\n", flag_type="beta")
    repo.write("VERSION", version)
    repo.commit("version", at=EPOCH - DAY)
    repo.write_flag("demo", "staging", flag_type="beta")
    repo.commit("staging", at=EPOCH)
    found = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH).findings
    assert [(f.rule, str(f.severity)) for f in found] == [("FO402", "error")]


@pytest.mark.parametrize(("label", "make", "says"), [
    ("empty", lambda repo: repo.write("VERSION", ""), "VERSION at the base holds no text"),
    ("other text", lambda repo: repo.write("VERSION", "seventeen\n"),
     "VERSION at the base starts with 'seventeen', not a milestone"),
    ("a symlink", lambda repo: (repo.write("version.txt", "14.6.0\n"),
                                (repo.path / "VERSION").symlink_to("version.txt")),
     "VERSION at the base holds no text (or is no regular file)"),
    ("a folder", lambda repo: repo.write("VERSION/x", "14.6.0\n"),
     "VERSION at the base holds no text (or is no regular file)"),
])
def test_a_version_file_that_gives_no_milestone_fails_closed(tmp_path: Path, label: str,
                                                             make: Any, says: str) -> None:
    """The base holds the version file and it gives no milestone: read as none, FO402 and
    FO408 were off for every later change without a word. FO409, at stale_severity; never
    for a rollback; a file that is not there counts nothing, as before."""
    repo = _repo(tmp_path, "[tool.flagops]\nstale_severity = \"error\"\n", flag_type="beta")
    make(repo)
    repo.commit("version", at=EPOCH - DAY)
    repo.write_flag("demo", "staging", flag_type="beta")
    repo.commit("staging", at=EPOCH)
    found = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH).findings
    assert [(f.rule, str(f.severity), f.path) for f in found] == [
        ("FO409", "error", "VERSION")], label
    assert says in found[0].message, found[0].message
    repo.write_flag("demo", "off", flag_type="beta")
    repo.commit("roll back", at=EPOCH)
    assert _rules(repo, EPOCH) == []


@pytest.mark.parametrize("path", ["./VERSION", "VERSION/", "x/../VERSION", "../VERSION",
                                  "/etc/hostname", "", "a//VERSION", "a\\VERSION"])
def test_a_version_file_not_named_as_git_lists_it_is_a_policy_error(tmp_path: Path,
                                                                    path: str) -> None:
    """The gate looks the file up in the base's tree by this text: `./VERSION` found nothing
    there (no milestone, every flag young) while `status` read the file; `../VERSION` made
    git refuse every later change, rollbacks too."""
    escaped = path.replace("\\", "\\\\")
    repo = _repo(tmp_path, f'[tool.flagops]\nversion_file = "{escaped}"\n')
    repo.write_flag("demo", "staging")
    repo.commit("staging", at=EPOCH)
    found = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH).findings
    assert [(f.rule, f.line) for f in found if f.rule == "FO301"] == [("FO301", 2)], found
    assert "version_file must be a path in the repository from its top" in found[0].message


def _removed_after_code(repo: Repo) -> list[Finding]:
    """The code written so far committed, then demo's file removed: that removal's findings."""
    repo.commit("code", at=EPOCH - DAY)
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("remove demo", at=EPOCH)
    return compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH).findings


def test_a_removal_is_blocked_by_a_ruby_reference_then_allowed(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    repo.write("app/models/user.rb", "def invite?\n  Feature.enabled?(:demo, self)\nend\n")
    found = _removed_after_code(repo)
    assert [(f.rule, f.path) for f in found] == [("FO404", "flags/demo.yml")]
    assert "app/models/user.rb:2:3" in found[0].message
    repo.write("app/models/user.rb", "def invite?\n  true\nend\n")
    repo.commit("remove the code too", at=EPOCH)
    found = compare(repo.path, RangeRequest("HEAD~2", "HEAD"), now=EPOCH).findings
    assert [f.rule for f in found] == ["FO303"]  # the code edit is named, nothing blocks


def test_a_removal_is_blocked_by_a_call_whose_flag_is_on_the_next_line(tmp_path: Path) -> None:
    """GitLab's code writes `Feature.enabled?(` and the flag on the next line; the search
    matched one line at a time and passed the removal. Judged alone, among 20 removals (one
    search for any name) and staged, as the pre-commit hook judges it."""
    repo = _repo(tmp_path)
    extra = [f"spare_{number:02}" for number in range(20)]
    for name in extra:
        repo.write_flag(name)
    repo.write("app/services/a.rb", "return unless Feature.enabled?(\n\n  :demo, project)\n"
               "::Feature.enabled? :spare_07\n")
    found = _removed_after_code(repo)
    assert [(f.rule, f.path) for f in found] == [("FO404", "flags/demo.yml")]
    assert "app/services/a.rb:1:15" in found[0].message
    for name in extra:
        (repo.path / "flags" / f"{name}.yml").unlink()
    repo.commit("remove the rest", at=EPOCH)
    found = compare(repo.path, RangeRequest("HEAD~2", "HEAD"), now=EPOCH).findings
    assert [(f.rule, f.message.split(":")[0]) for f in found] == [
        ("FO404", "demo"), ("FO404", "spare_07")]
    repo.git("rm", "-q", "--cached", "app/services/a.rb")
    repo.write("app/services/b.rb", "Feature.disabled?(\n  'demo')\n")
    repo.git("add", "app/services/b.rb")
    found = compare(repo.path, RangeRequest("HEAD~2", staged=True), now=EPOCH).findings
    [removal] = [f.message for f in found if f.rule == "FO404"]
    assert removal == "demo: removed while code still references it: app/services/b.rb:1:1"


def test_one_flag_per_change_refuses_two_steps_but_not_two_rollbacks(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "[tool.flagops]\none_flag_per_change = true\n")
    repo.write_flag("other")
    repo.commit("add other", at=EPOCH - DAY)
    assert _rules(repo, EPOCH) == []  # one new flag
    repo.write_flag("demo", "staging")
    repo.write_flag("other", "staging")
    repo.commit("both to staging", at=EPOCH)
    assert _rules(repo, EPOCH) == ["FO406:error", "FO406:error"]
    repo.write_flag("demo")
    repo.write_flag("other")
    repo.commit("both back", at=EPOCH)
    assert _rules(repo, EPOCH) == []


def test_a_flag_enabled_by_default_too_long_is_due_for_removal(tmp_path: Path) -> None:
    """FO407 counts from when default_enabled landed (70 days before EPOCH), on the trusted
    clock; a younger release, a limit of 0 and a rollback say nothing."""
    released: dict[str, Any] = {"stage": "enabled", "default_enabled": True, "cleanup": True}
    repo = _repo(tmp_path, **released)
    repo.write("app/invite.rb", "Feature.enabled?(:demo)\n")
    repo.commit("code", at=EPOCH - DAY)
    repo.write("flags/demo.yml", flag_yaml("demo", description="Later.", **released))
    repo.commit("edit", at=EPOCH)
    assert _rules(repo, EPOCH) == []  # released 30 days ago; the default allows 60
    found = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH + 40 * DAY).findings
    assert [(f.rule, str(f.severity)) for f in found] == [("FO407", "warning")]
    assert "enabled by default for 70 days; the policy allows 60" in found[0].message
    repo.write("flags/demo.yml", flag_yaml("demo", description="Later.", actors=["User:9"],
                                           **released))
    repo.commit("an actor listed: the release did not land again", at=EPOCH + 39 * DAY)
    repo.write("flags/demo.yml", flag_yaml("demo", description="Then.", actors=["User:9"],
                                           **released))
    repo.commit("touched", at=EPOCH + 39 * DAY + 60)
    later = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH + 40 * DAY).findings
    assert [f.rule for f in later] == ["FO407"] and "for 70 days" in later[0].message
    repo.git("reset", "-q", "--hard", "HEAD~2")
    repo.write("pyproject.toml", "[tool.flagops]\nmax_released_days = 0\n")
    repo.commit("no limit", at=EPOCH + DAY)
    repo.write("flags/demo.yml", flag_yaml("demo", description="Again.", **released))
    repo.commit("edit again", at=EPOCH + DAY)
    assert _rules(repo, EPOCH + 400 * DAY) == []
    repo.write("pyproject.toml", "[tool.flagops]\nstale_severity = \"error\"\n")
    repo.commit("strict", at=EPOCH + DAY)
    repo.write_flag("demo", "enabled", cleanup=True)
    repo.commit("no longer by default", at=EPOCH + DAY)
    assert _rules(repo, EPOCH + 400 * DAY) == []  # a rollback is never judged stale


def test_an_override_passes_a_removal_with_references_but_never_a_freeze(
        tmp_path: Path) -> None:
    repo = _repo(tmp_path, FREEZE, stage="staging")
    repo.write("app/models/user.rb", "Feature.enabled?(:demo)\n")
    repo.commit("code", at=EPOCH - DAY)
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("remove demo\n\nFlag-Override: demo: the reference is dead code",
                at=EPOCH - DAY // 2)
    found = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH).findings
    assert [(f.rule, str(f.severity)) for f in found] == [("FO208", "warning"),
                                                            ("FO404", "warning")]
    assert "overridden by Flag-Override: the reference is dead code" in found[1].message
    repo.write_flag("demo", "staging")
    repo.commit("back", at=EPOCH - DAY // 2 + 60)  # soaked by EPOCH, inside the freeze
    repo.write_flag("demo", "beta", actors=["User:1"])
    repo.commit("beta in the freeze\n\nFlag-Override: demo: urgent", at=EPOCH)
    found = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH).findings
    assert [f"{f.rule}:{f.severity}" for f in found] == ["FO401:error", "FO209:warning"]
    assert "Flag-Override (urgent) cannot pass FO401" in found[1].message


def test_a_flag_that_arrives_live_is_frozen_like_any_step(tmp_path: Path) -> None:
    """A new flag (let past FO207 by an override) or one whose base file cannot be read is
    judged from nobody: arriving live in a freeze is FO401, which no trailer passes."""
    repo = _repo(tmp_path, FREEZE)
    repo.write_flag("brand_new", "enabled", default_enabled=True, cleanup=True)
    repo.commit("arrives released\n\nFlag-Override: brand_new: urgent", at=EPOCH)
    assert "FO401:error" in _rules(repo, EPOCH)
    repo.write("flags/demo.yml", "name: [unclosed\n")
    repo.commit("demo breaks", at=EPOCH)
    repo.write_flag("demo", "enabled", default_enabled=True, cleanup=True)
    repo.commit("demo from unreadable to released\n\nFlag-Override: demo: urgent", at=EPOCH)
    assert "FO401:error" in _rules(repo, EPOCH)
    repo.write_flag("late", "off")
    repo.commit("a new flag at off widens nothing", at=EPOCH)
    assert "FO401:error" not in _rules(repo, EPOCH)


def test_listed_actors_are_judged_by_the_engines_buckets(tmp_path: Path) -> None:
    """With bucketing = "flagd", listing actors that Flipper's crc32 puts inside the current
    10% but flagd's murmur3 does not is a forward step (they gain the flag in flagd), so a
    freeze holds it; under Flipper nobody gains and it passes."""
    from validator.engines.bucketing import in_share

    flagd = FREEZE.replace("[tool.flagops]\n", "[tool.flagops]\nbucketing = \"flagd\"\n")
    repo = _repo(tmp_path, flagd, stage="percentage", percentage=("actors", 10))
    sneaking = [actor for actor in (f"User:{n}" for n in range(2000))
                if in_share("demo", actor, 10, "flipper")
                and not in_share("demo", actor, 10, "flagd")][:20]
    repo.write_flag("demo", "percentage", percentage=("actors", 10), actors=sneaking)
    repo.commit("list actors", at=EPOCH - 60)
    assert _rules(repo, EPOCH) == ["FO401:error"]
    repo.write("pyproject.toml", FREEZE)
    repo.commit("Flipper again", at=EPOCH - 30)
    repo.write_flag("demo", "percentage", percentage=("actors", 10))
    repo.commit("unlist", at=EPOCH - 20)
    repo.write_flag("demo", "percentage", percentage=("actors", 10), actors=sneaking)
    repo.commit("list again under Flipper", at=EPOCH - 10)
    assert _rules(repo, EPOCH) == []  # Flipper already serves them: nobody gains


def test_a_change_that_lifts_the_freeze_is_still_judged_by_it(tmp_path: Path) -> None:
    """The base's policy judges: deleting the freeze in the same change, or the whole
    pyproject.toml, does not let its forward step through."""
    repo = _repo(tmp_path, FREEZE, stage="staging")
    repo.write("pyproject.toml", "[tool.flagops]\n")
    repo.write_flag("demo", "beta", actors=["User:1"])
    repo.commit("lift the freeze and step", at=EPOCH - 60)
    assert "FO401:error" in _rules(repo, EPOCH)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    (repo.path / "pyproject.toml").unlink()
    repo.write_flag("demo", "beta", actors=["User:1"])
    repo.commit("no policy at all, and step", at=EPOCH - 60)
    assert "FO401:error" in _rules(repo, EPOCH)


def test_a_version_taken_back_to_an_earlier_milestone_is_said_so(tmp_path: Path) -> None:
    """Every flag's age counts from the version file: a change that takes it back (17.10 to
    1.2) made every flag young from the next change on, and review saw only FO303."""
    repo = _repo(tmp_path, "[tool.flagops]\n", flag_type="beta")
    repo.write("VERSION", "17.10.0-pre\n")
    repo.commit("version", at=EPOCH - DAY)
    repo.write("VERSION", "1.2.0\n")
    repo.commit("back", at=EPOCH)
    found = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH).findings
    assert [(f.rule, f.path) for f in found] == [("FO302", "VERSION"), ("FO303", "VERSION")]
    assert "the current milestone goes from 17.10 back to milestone 1.2" in found[0].message
    repo.write("VERSION", "1.3.0\n")
    repo.commit("forward", at=EPOCH)
    assert _rules(repo, EPOCH) == ["FO303:warning"]


def _with_pattern(pattern: str) -> str:
    escaped = pattern.replace("\\", "\\\\").replace('"', '\\"')
    return f'[tool.flagops]\nreference_patterns = ["{escaped}"]\n'


def _pattern_refused(tmp_path: Path, pattern: str) -> Finding:
    """The FO301 of a step judged by a base whose policy holds `pattern`."""
    repo = _repo(tmp_path, _with_pattern(pattern))
    repo.write_flag("demo", "staging")
    repo.commit("staging", at=EPOCH)
    found = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH).findings
    [policy] = [f for f in found if f.rule == "FO301"]
    return policy


@pytest.mark.parametrize(("pattern", "says"), [
    (r'isEnabled\([[:space:]]*"{name}"', "read otherwise"),
    (r'\<flagOn\("{name}"', "read otherwise"),
    (r'flag\(\d"{name}"', "read otherwise"),
    (r'flag\("{name}"\){1}{1}', "read otherwise"),
    (r'x[a\t]{name}', "read otherwise"),
    (r'(?i)x{name}', "read otherwise"),
    (r'on\({name}+', "read otherwise"),
    (r'legacyFlags\(', "exactly one {name} or {camelName}"),
    (r'on\("{name}"\) \|\| off\("{name}"\)', "exactly one {name} or {camelName}"),
    (r'on\({name}\))', "not a regular expression"),
])
def test_a_reference_pattern_git_and_python_read_otherwise_is_a_policy_error(
        tmp_path: Path, pattern: str, says: str) -> None:
    """git grep finds the matches and Python reads each again for the flag it names: where
    the two read a pattern otherwise, a match was dropped without a word and the flag removed
    though code read it, or the search raised an internal error on every removal."""
    policy = _pattern_refused(tmp_path, pattern)
    assert (policy.line, says in policy.message) == (2, True), policy.message


def test_a_match_references_each_flag_asked_about_whose_own_pattern_it_matches() -> None:
    """A match is attributed by the patterns git was given, each flag's own, matched whole:
    read again for the first name a template finds in it, `check("legacy_demo"` named
    `legacy_demo` (the first template's reading) and `get_flag_demo` named `flag_demo`, and
    removing `demo` passed. Should no pattern match it whole, it references every flag asked
    about, never none; a listing (no names asked) names what the templates read."""
    from validator.git.grep import GrepHit
    from validator.lifecycle.refs import references

    def flags(text: str, templates: list[str], *, named: list[str] | None = None,
              wanted: list[str] | None = None) -> list[str]:
        hit = GrepHit("web/app.js", 1, 1, text)
        return [ref.flag for ref in references([hit], templates, ["demo", "other"], named,
                                               wanted)]

    two = [r'check\("{name}"', r'check\("legacy_{name}"']
    assert flags('check("legacy_demo"', two, named=["demo"]) == ["demo"]
    assert flags('check("legacy_demo"', two) == ["legacy_demo"]
    assert flags('check("legacy_demo"', two, wanted=["demo", "other"]) == ["demo", "legacy_demo"]
    assert flags("get_flag_demo(", [r"(get|get_flag)_{name}"], named=["demo"]) == ["demo"]
    assert flags('flagOn("demo"', [r'\<flagOn\("{name}"'], named=["demo", "other"]) == [
        "demo", "other"]
    assert flags('isOn(x)', [r"isOn\((:{name})?"]) == []  # no name: no reference, no error


def test_a_version_file_below_a_symlinked_folder_fails_closed(tmp_path: Path) -> None:
    """`version_file = "config/VERSION"` and `config` made a symlink: the gate found no file
    (no FO409, no milestone) while `status` read one through the link."""
    policy = '[tool.flagops]\nstale_severity = "error"\nversion_file = "config/VERSION"\n'
    repo = _repo(tmp_path, policy, flag_type="beta")
    repo.write("elsewhere/VERSION", "14.6.0\n")
    (repo.path / "config").symlink_to("elsewhere")
    repo.commit("config is a link", at=EPOCH - DAY)
    repo.write_flag("demo", "staging", flag_type="beta")
    repo.commit("staging", at=EPOCH)
    found = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH).findings
    assert [(f.rule, str(f.severity), f.path) for f in found] == [
        ("FO409", "error", "config/VERSION")]
    from validator.lifecycle.reads import version_text
    from validator.policy import load_policy

    assert version_text(repo.path, load_policy(repo.path)) == ""  # status reads it alike


def test_a_split_move_under_a_version_file_without_a_milestone_is_refused(
        tmp_path: Path) -> None:
    """FO408 is asked where the base counts ages, and a version file that gives no milestone
    counts (FO409 says so for a step; a change of rollbacks only, which FO409 leaves alone,
    could carry a split move and restart a stale flag's age)."""
    repo = _repo(tmp_path, '[tool.flagops]\nstale_severity = "error"\n', stage="staging",
                 flag_type="beta")
    repo.write("VERSION", "")
    repo.commit("an empty version file", at=EPOCH - DAY)
    repo.write_flag("demo", "off", folder="flags/team", flag_type="beta")
    repo.commit("rolled back, as a copy", at=EPOCH - 60)
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("the original removed", at=EPOCH)
    found = compare(repo.path, RangeRequest("HEAD~2", "HEAD"), now=EPOCH).findings
    assert [(f.rule, str(f.severity)) for f in found] == [("FO408", "error")], found


def test_a_version_taken_back_in_the_working_tree_is_read_from_the_file(
        tmp_path: Path) -> None:
    """The working tree's side of a diff has no object id: it read as no milestone, so a
    version taken forward was "back to no milestone", and one taken back was misnamed."""
    repo = _repo(tmp_path, "[tool.flagops]\n", flag_type="beta")
    repo.write("VERSION", "17.10.0-pre\n")
    repo.commit("version", at=EPOCH - DAY)
    repo.write("VERSION", "17.11.0-pre\n")
    found = compare(repo.path, RangeRequest("HEAD"), now=EPOCH).findings
    assert [f.rule for f in found] == ["FO303"]
    repo.write("VERSION", "13.12.0\n")
    found = compare(repo.path, RangeRequest("HEAD"), now=EPOCH).findings
    assert "the current milestone goes from 17.10 back to milestone 13.12" in \
        found[0].message, found


@pytest.mark.parametrize(("pattern", "says"), [
    (r'isOn\((:{name})?', "outside parentheses"),
    (r'isEnabled\((FLAGS\.[A-Z_]+|"{name}")', "outside parentheses"),
    (r'a|b{name}', "alternatives at its top level"),
    (r'isOn\(:{name},?', "after {name}, put what no name holds"),
    (r'feature\(:{name}(_enabled)?\)', "after {name}, put what no name holds"),
    (r'isOn\( {0,40000}:{name}', "up to 255"),
    (r'([a-z]+_?)*{name}\)', "exponential time"),
    (r'(a|b)+{name}', "exponential time"),
    (r'flag\(:{name}[^a-z]', "after {name}, put what no name holds"),
    (r'feature\(:{name}((_enabled)?\))', "after {name}, put what no name holds"),
    (r'isOn\(.*"{name}"\)', "must not repeat . without a bound"),
    (r'isOn\([%-a]*"{name}"\)', "not one of letters or digits"),
    (r'isOn\([a-z-0]*"{name}"\)', "a - right after a range"),
])
def test_a_reference_pattern_whose_match_may_not_name_the_flag_is_a_policy_error(
        tmp_path: Path, pattern: str, says: str) -> None:
    """A match must name one flag, whole: a placeholder in an optional group or one branch
    named none (an internal error on every removal), one followed by an optional or
    identifier character matched the start of a longer name (`demo` in `demo_v2`), and git
    compiles no bound over 32,767 (every removal failed)."""
    assert says in _pattern_refused(tmp_path, pattern).message


@pytest.mark.parametrize("pattern", [r'isOn\(:?{name}', r'isOn\("?{name}"', r'flag\( *{name}',
                                     r'isOn\([:"]?{name}', r'check\("legacy_{name}"\)',
                                     r'(get|is)_{name}', r'flags\.{camelName}',
                                     r'^isOn\(:{name}$', r'isOn\(:{name}[^a-z0-9_]',
                                     r'isOn\(:{name}( |$)', r'isOn\(:{name}(,|\))'])
def test_ordinary_reference_patterns_are_taken_and_find_their_flag(tmp_path: Path,
                                                                   pattern: str) -> None:
    """A repetition before the placeholder was refused (`:?{name}`: the check for two in a
    row read the placeholder's brace as a second one), and so were the line's end, a bracket
    that excludes a name's characters and a group of such alternatives after it."""
    repo = _repo(tmp_path, _with_pattern(pattern))
    code = {r'isOn\(:?{name}': 'isOn(:demo)', r'isOn\("?{name}"': 'isOn("demo")',
            r'flag\( *{name}': 'flag(  demo)', r'isOn\([:"]?{name}': 'isOn(:demo)',
            r'check\("legacy_{name}"\)': 'check("legacy_demo")', r'(get|is)_{name}': 'is_demo',
            r'flags\.{camelName}': 'flags.demo', r'^isOn\(:{name}$': 'isOn(:demo',
            r'isOn\(:{name}[^a-z0-9_]': 'isOn(:demo)', r'isOn\(:{name}( |$)': 'isOn(:demo',
            r'isOn\(:{name}(,|\))': 'isOn(:demo)'}[pattern]
    repo.write("web/app.js", code + "\nnothing(:demo_v2)\n")
    found = _removed_after_code(repo)
    assert [(f.rule, "web/app.js:1:1" in f.message) for f in found] == [("FO404", True)], found


@pytest.mark.parametrize(("policy", "version", "change", "says"), [
    ('[tool.flagops]\nstale_in_months = true\n', None, ("VERSION", "17.0.0-pre\n"),
     "flags' ages will be counted in milestones from 17.0 on, where months"),
    ("[tool.flagops]\n", "18.0.0\n",
     ("pyproject.toml", '[tool.flagops]\nversion_file = "release/VERSION"\n'),
     "the current milestone goes from 18.0 back to no milestone"),
    ('[tool.flagops]\ncurrent_milestone = "18.0"\n', "17.3.0\n",
     ("pyproject.toml", "[tool.flagops]\n"),
     "the current milestone goes from 18.0 back to milestone 17.3"),
    ("[tool.flagops]\nstale_in_months = true\n", None,
     ("pyproject.toml", "[tool.flagops]\nstale_in_months = false\n"),
     "counted in months since each flag's file was added, will be counted no more"),
])
def test_what_a_change_does_to_the_current_milestone_is_named(
        tmp_path: Path, policy: str, version: str | None, change: tuple[str, str],
        says: str) -> None:
    """Each made a stale flag's next step pass, and review saw a file added (FO303) or a key
    changed (FO302 "changes version_file"), not what it does to every flag's age: a VERSION
    added where months were counted (each flag's age then its own milestone field's), a
    version_file pointed at a file the base does not hold, a current_milestone removed."""
    repo = _repo(tmp_path, policy, flag_type="beta")
    if version is not None:
        repo.write("VERSION", version)
        repo.commit("version", at=EPOCH - DAY)
    repo.write(*change)
    repo.commit("the change", at=EPOCH)
    found = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH).findings
    named = [f for f in found if f.rule == "FO302" and says in f.message]
    assert len(named) == 1, found


def test_two_references_in_one_match_of_a_greedy_pattern_are_both_found(tmp_path: Path) -> None:
    """`isOn\\([^;]*"{name}"\\)` over `isOn(ctx, "demo") || isOn(ctx, "rel")`: git's longest
    match runs over both calls, and was read for the flag at its end only, so removing `demo`
    passed (beside 19 other removals too, where any name is searched)."""
    repo = _repo(tmp_path, _with_pattern(r'isOn\([^;]*"{name}"\)'))
    spares = [f"spare_{number:02}" for number in range(19)]
    for name in ["rel", *spares]:
        repo.write_flag(name)
    repo.write("web/app.js", 'if (isOn(ctx, "demo") || isOn(ctx, "rel")) go()\n')
    found = _removed_after_code(repo)
    assert [f.rule for f in found] == ["FO404"], found
    for name in spares:
        (repo.path / "flags" / f"{name}.yml").unlink()
    repo.commit("the spares too", at=EPOCH)
    found = compare(repo.path, RangeRequest("HEAD~2", "HEAD"), now=EPOCH).findings
    assert [(f.rule, f.message.split(":")[0]) for f in found] == [("FO404", "demo")], found


@pytest.mark.parametrize("code", [
    "if Feature.enabled?(\n=begin\nwhy\n=end\n  :demo, project)\n",
    "if Feature.enabled? \\\n  (:demo)\n",
])
def test_a_call_whose_flag_follows_an_embedded_comment_or_a_backslash_is_a_reference(
        tmp_path: Path, code: str) -> None:
    """Ruby reads the flag after an `=begin`/`=end` block, and after a line ending in `\\`
    with the parenthesis on the next line: the search read neither, and the removal passed."""
    repo = _repo(tmp_path)
    repo.write("app/models/user.rb", code)
    assert [f.rule for f in _removed_after_code(repo)] == ["FO404"]


def test_a_byte_that_is_not_utf8_hides_no_reference(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """In a UTF-8 locale git's `[^…]` matches no byte that is not UTF-8: a Latin-1 letter in a
    comment before the name hid the reference, and the removal passed."""
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    repo = _repo(tmp_path, _with_pattern(r'isOn\([^)]*"{name}"\)'))
    (repo.path / "web").mkdir()
    (repo.path / "web/app.js").write_bytes(b'isOn(ctx /* caf\xe9 */, "demo")\n')
    assert [f.rule for f in _removed_after_code(repo)] == ["FO404"]

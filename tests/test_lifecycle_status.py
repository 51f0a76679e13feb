"""Lifespans (milestones as GitLab's triage reports count them, and months), `flagops status`
and `flagops refs` on real repositories with dated commits."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from gitrepo import EPOCH, Repo, flag_yaml

from validator.lifecycle.lifespan import age, milestone_index, milestone_text
from validator.lifecycle.refs import camel
from validator.lifecycle.status import Facts, row_of
from validator.loader import load_document
from validator.model import Flag
from validator.parse import parse_flag
from validator.policy import DEFAULT_POLICY

CliResult = tuple[int, str, str]
DAY = 86_400


def _flag(name: str = "demo", **fields: object) -> Flag:
    flag = parse_flag(load_document(flag_yaml(name, **fields).encode(), "flags/x.yml"))[0]  # type: ignore[arg-type]
    assert flag is not None
    return flag


@pytest.mark.parametrize(("start", "lifespan", "end"), [
    ("13.7", 6, "14.1"), ("15.3", 12, "16.3"), ("18.4", 2, "18.6"), ("17.9", 6, "18.3")])
def test_milestones_count_as_the_triage_reports_do(start: str, lifespan: int, end: str) -> None:
    """End-of-life milestones copied from GitLab's feature flag triage reports."""
    index = milestone_index(start)
    assert index is not None and milestone_text(index + lifespan) == end


def test_stale_in_milestones_and_in_months() -> None:
    flag = _flag(flag_type="beta")  # milestone 13.12, beta lives 6 milestones
    current = milestone_index("14.5.0-pre")
    lived = age(flag, DEFAULT_POLICY, current, None, EPOCH)
    assert lived is not None and lived.text() == "5 of 6 milestones, end of life 14.6"
    assert not lived.overdue
    assert age(flag, DEFAULT_POLICY, milestone_index("14.6"), None, EPOCH).overdue  # type: ignore[union-attr]
    young = age(flag, DEFAULT_POLICY, None, EPOCH - 150 * DAY, EPOCH)
    old = age(flag, DEFAULT_POLICY, None, EPOCH - 200 * DAY, EPOCH)
    assert young is not None and old is not None
    assert (young.lived, young.overdue, old.lived, old.overdue) == (4, False, 6, True)
    assert age(_flag(flag_type="worker"), DEFAULT_POLICY, current, None, EPOCH).overdue is False  # type: ignore[union-attr]


def test_a_row_says_when_the_next_step_is_legal() -> None:
    flag = _flag(stage="beta", actors=["User:1"])
    row = row_of(flag, Facts(landed_at=EPOCH - 60, added_at=EPOCH - DAY), DEFAULT_POLICY,
                 None, EPOCH)
    assert (row.production, row.next_step) == ("User:1", "beta → percentage 10% of actors")
    assert row.legal_at == EPOCH - 60 + 15 * 60 and row.action == 2 and row.in_state == "1 min"


@pytest.mark.parametrize(("fields", "state", "next_step"), [
    ({"stage": "percentage", "actors": ["User:1"]}, "beta (1 actor)",
     "beta → percentage 10% of actors"),
    ({"stage": "beta"}, "staging", "staging → beta (list the first actors)"),
    ({"stage": "percentage", "percentage": ("actors", 100), "default_enabled": True,
      "cleanup": True}, "percentage 100% of actors", "percentage 100% → enabled"),
])
def test_a_row_names_the_next_step_from_what_the_file_gives(
        fields: dict[str, object], state: str, next_step: str) -> None:
    """A file that breaks the rules of what a stage holds is stepped from as the gate judges
    it: by its label, stage percentage without a percentage was offered `percentage 100% →
    enabled`, legal now, which the gate refuses (the eighth review)."""
    flag = _flag(**fields)  # type: ignore[arg-type]
    row = row_of(flag, Facts(landed_at=EPOCH - DAY, added_at=EPOCH - DAY), DEFAULT_POLICY,
                 None, EPOCH)
    assert (row.state, row.next_step) == (state, next_step)


def test_camel_case_is_gitlabs() -> None:
    assert camel("my_flag_v2") == "myFlagV2"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """old_beta: added 200 days ago (stale by months); fresh: staged 10 minutes ago."""
    root = tmp_path_factory.mktemp("status")
    repo = Repo.create(root / "repo", root / "home")
    now = EPOCH
    repo.write_flag("old_beta", flag_type="beta")
    repo.write_flag("fresh", flag_type="ops")
    repo.commit("add both", at=now - 200 * DAY)
    repo.write_flag("fresh", "staging", flag_type="ops")
    repo.write("app/models/user.rb", "if Feature.enabled?(:fresh, user)\n  go\nend\n"
               "Feature.enabled?(:ghost_flag)\n")
    repo.write("app/assets/page.js", "if (gon.glFeatures.oldBeta) { show(); }\n")
    repo.commit("fresh to staging, code", at=now - 600)
    return repo


def test_status_rows_in_json_and_stale_first(fleet: Repo,
                                             run_cli: Callable[..., CliResult]) -> None:
    code, out, err = run_cli("-C", str(fleet.path), "status", "--format", "json")
    assert (code, err) == (0, "")
    rows = {row["name"]: row for row in json.loads(out)}
    assert list(rows) == ["old_beta", "fresh"]  # stale comes first
    assert rows["old_beta"]["stale"] and rows["old_beta"]["age"].endswith("of 6 months")
    assert rows["fresh"]["state"] == "staging" and rows["fresh"]["referenced"] is True
    assert rows["fresh"]["staging"] == "everyone" and rows["fresh"]["production"] == "nobody"
    assert rows["fresh"]["since"] == datetime.fromtimestamp(EPOCH - 600, UTC).isoformat()
    code, out, _ = run_cli("-C", str(fleet.path), "status", "--stale")
    assert code == 0 and "old_beta" in out and "fresh  " not in out


def test_status_ages_a_flag_added_in_a_commit_dated_in_the_future(
        tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    """As the gate's stale rule counts: from the add or any later commit, the earliest."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("old_beta", flag_type="beta")
    repo.commit("add, dated ten years ahead", at=EPOCH + 3650 * DAY)
    repo.write("README.md", "docs\n")
    repo.commit("docs, landed after it", at=EPOCH - 200 * DAY)
    code, out, err = run_cli("-C", str(repo.path), "status", "--format", "json")
    assert (code, err) == (0, "")
    [row] = json.loads(out)
    assert row["stale"] and row["age"].endswith("of 6 months")


@pytest.mark.parametrize(("was", "back"), [
    ("staging", "staging"), ("off", "staging"), ("staging", "off"), ("off", "off")])
def test_status_ages_a_flag_put_back_from_its_first_add(
        tmp_path: Path, run_cli: Callable[..., CliResult], was: str, back: str) -> None:
    """As the gate's stale rule counts: a flag's file added again after its deletion, at
    any state, keeps its name's age."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/old_beta.yml", flag_yaml("old_beta", was, flag_type="beta"))
    repo.commit("add", at=EPOCH - 200 * DAY)
    (repo.path / "flags/old_beta.yml").unlink()
    repo.commit("deleted", at=EPOCH - 3 * DAY)
    repo.write("flags/old_beta.yml", flag_yaml("old_beta", back, flag_type="beta"))
    repo.commit("added again", at=EPOCH - 2 * DAY)
    code, out, err = run_cli("-C", str(repo.path), "status", "--format", "json")
    assert (code, err) == (0, "")
    [row] = json.loads(out)
    assert row["stale"], row


def test_status_in_milestones_from_the_version_file(tmp_path: Path, fleet: Repo,
                                                    run_cli: Callable[..., CliResult]) -> None:
    (fleet.path / "VERSION").write_text("14.1.0-pre\n")
    try:
        _, out, _ = run_cli("-C", str(fleet.path), "status", "old_beta", "--format", "json")
    finally:
        (fleet.path / "VERSION").unlink()
    assert json.loads(out)[0]["age"] == "1 of 6 milestones, end of life 14.6"


def test_status_at_a_ref_reads_that_commits_code_and_version_file(
        tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    """`--ref main` from a branch that deleted the code and moved VERSION on: the refs column
    and the age were the working tree's (not referenced, overdue by 19.0), not main's."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("old_beta", flag_type="beta")  # milestone 13.12, 6 milestones
    repo.write("app/a.rb", "Feature.enabled?(:old_beta)\n")
    repo.write("VERSION", "14.1.0-pre\n")
    repo.commit("main: code reads old_beta, 14.1", at=EPOCH - DAY)
    repo.git("checkout", "-q", "-b", "cleanup")
    repo.git("rm", "-q", "app/a.rb")
    repo.write("VERSION", "19.0.0-pre\n")
    repo.commit("cleanup: code gone, 19.0", at=EPOCH - 600)
    _, out, _ = run_cli("-C", str(repo.path), "status", "--ref", "main", "--format", "json")
    [row] = json.loads(out)
    assert row["referenced"] is True and row["age"] == "1 of 6 milestones, end of life 14.6"
    _, out, _ = run_cli("-C", str(repo.path), "status", "--format", "json")  # the work tree's
    [row] = json.loads(out)
    assert row["referenced"] is False and row["age"].endswith("end of life 14.6") \
        and row["stale"]

def test_refs_lists_places_and_names_without_files(fleet: Repo, tmp_path: Path,
                                                  run_cli: Callable[..., CliResult]) -> None:
    other = Repo.create(tmp_path / "other", tmp_path / "home")
    other.write("lib/x.rb", "push_frontend_feature_flag(:fresh, project)\n")
    other.commit("other", at=EPOCH)
    code, out, err = run_cli("-C", str(fleet.path), "refs", "--path", str(other.path),
                             "--format", "json")
    assert (code, err) == (0, "")
    found = json.loads(out)
    assert found["flags"]["fresh"] == [  # this repository first, then each --path
        {"path": "app/models/user.rb", "line": 1, "column": 4},
        {"path": f"{other.path}/lib/x.rb", "line": 1, "column": 1}]
    assert found["flags"]["old_beta"] == [{"path": "app/assets/page.js", "line": 1,
                                           "column": 9}]
    assert list(found["without_flag_file"]) == ["ghost_flag"]
    code, out, _ = run_cli("-C", str(fleet.path), "refs", "fresh")
    assert out == "fresh: 1 reference(s)\n  app/models/user.rb:1:4\n"


MULTILINE_CALLS = """class A
  def execute
    return unless Feature.enabled?(
      :demo, project)

    ::Feature.enabled? :demo
    Feature.disabled?("demo") || bypass
    Feature.enabled?( :'demo', type: :ops)
    push_frontend_feature_flag(\r
      # the frontend reads it too\r
\r
      :"demo", project)\r
    Feature.enabled?(
      flag_name) && Feature.enabled?(:demo_v2)
    Feature.enabled?(
      :other, project)
  end
end
"""


def test_refs_finds_every_call_shape_gitlab_writes(tmp_path: Path,
                                                   run_cli: Callable[..., CliResult]) -> None:
    """`Feature.enabled?(` with the flag on the next line (GitLab's line length makes its code
    write it so), no parentheses, a string or a quoted symbol, `glFeatures?.`: `refs` saw none
    of them, so a removal passed while code still read the flag. A call whose next line does
    not start with a name (`flag_name`) is no reference; one to another flag is that flag's."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo")
    repo.write_flag("other")
    repo.write("app/services/a.rb", MULTILINE_CALLS)
    repo.write("app/assets/b.js", "if (this.glFeatures?.demo) {}\n")
    repo.commit("code", at=EPOCH)
    demo = ["app/assets/b.js:1:10", "app/services/a.rb:3:19", "app/services/a.rb:6:7",
            "app/services/a.rb:7:5", "app/services/a.rb:8:5", "app/services/a.rb:9:5"]
    code, out, _ = run_cli("-C", str(repo.path), "refs", "demo")
    assert code == 0 and out.splitlines() == ["demo: 6 reference(s)", *(f"  {place}"
                                                                       for place in demo)]
    code, out, _ = run_cli("-C", str(repo.path), "refs", "--format", "json")  # any name
    found = json.loads(out)
    assert [f"{r['path']}:{r['line']}:{r['column']}" for r in found["flags"]["demo"]] == demo
    assert found["flags"]["other"] == [{"path": "app/services/a.rb", "line": 15, "column": 5}]
    assert list(found["without_flag_file"]) == ["demo_v2"]


def test_refs_shows_a_hostile_file_stem_escaped(fleet: Repo,
                                                run_cli: Callable[..., CliResult]) -> None:
    """Without NAME, refs lists every flag file's stem: the repository's text, which must not
    reach the terminal raw (clear the screen, write the clipboard)."""
    hostile = "\x1b[2J\x1b]52;c;cm0gLXJm\x07"
    fleet.write(f"flags/{hostile}.yml", (fleet.path / "flags" / "fresh.yml").read_text())
    code, out, _ = run_cli("-C", str(fleet.path), "refs")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2J\\x1b]52;c;cm0gLXJm\\x07: none" in out


def test_a_passed_rollout_date_is_stale() -> None:
    flag = _flag().model_copy(update={"intended_to_rollout_by": date(2026, 9, 1)})
    row = row_of(flag, Facts(landed_at=EPOCH), DEFAULT_POLICY, None, EPOCH)
    assert row.stale == ["past intended_to_rollout_by 2026-09-01"] and row.action == 0


def test_a_flag_enabled_by_default_past_the_policys_days_is_stale() -> None:
    flag = _flag(stage="enabled", default_enabled=True, cleanup=True)
    fresh = row_of(flag, Facts(released_at=EPOCH - 59 * DAY), DEFAULT_POLICY, None, EPOCH)
    old = row_of(flag, Facts(landed_at=EPOCH - DAY, released_at=EPOCH - 60 * DAY),
                 DEFAULT_POLICY, None, EPOCH)
    never = row_of(flag, Facts(released_at=EPOCH - 600 * DAY),
                   DEFAULT_POLICY.model_copy(update={"max_released_days": 0}), None, EPOCH)
    assert (fresh.stale, never.stale) == ([], [])
    assert old.stale == ["enabled by default for over 60 days"] and old.action == 0


def test_status_counts_on_the_clock_of_the_refs_policy(
        tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    """With require_merge_commits (at the ref, whatever the working tree says), a state that
    landed by fast-forward has no landing time yet: status does not call the step legal,
    as the gate would refuse it."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("pyproject.toml", "[tool.flagops]\nrequire_merge_commits = true\n")
    repo.write_flag("demo", "staging")
    repo.commit("staging, fast-forwarded", at=EPOCH - 10 * DAY)
    (repo.path / "pyproject.toml").write_text("")  # the working tree's policy is not the ref's
    code, out, _ = run_cli("-C", str(repo.path), "status", "demo", "--format", "json")
    [row] = json.loads(out)
    assert code == 0 and (row["legal_at"], row["action"]) == (None, 3)


def test_a_match_as_long_as_a_minified_line_names_every_flag_it_ends_a_word_of(
        tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    """The README's pattern with a run, `isOn\\([^;]*"{name}"\\)`, matched a minified line
    from its first `isOn(` to `"xdemo")`; trying `demo`'s pattern over that match from every
    start took time that grew with the square of the line (a 1 MB line: 53 s, the eighth
    review). Past MOST_TRIED characters a match references each flag whose name ends a word
    in it, `demo` too: a removal it blocks is read in review, never a hang, never a miss."""
    from validator.lifecycle.refs import MOST_TRIED

    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("pyproject.toml", "[tool.flagops]\nreference_patterns = "
                                 "['isOn\\([^;]*\"{name}\"\\)']\n")
    repo.write_flag("demo")
    repo.write_flag("xdemo")
    line = "isOn(" * (4 * MOST_TRIED) + '"xdemo")'
    repo.write("app/bundle.js", line + "\nisOn(x, \"demo_v2\");\n")
    repo.commit("code", at=EPOCH)
    code, out, _ = run_cli("-C", str(repo.path), "refs", "demo", "xdemo")
    assert code == 0 and out.splitlines() == [
        "demo: 1 reference(s)", "  app/bundle.js:1:1", "xdemo: 1 reference(s)",
        "  app/bundle.js:1:1"], out
    repo.write("app/bundle.js", 'isOn(x, "xdemo");\n')  # short: each pattern tried
    code, out, _ = run_cli("-C", str(repo.path), "refs", "demo", "xdemo")
    assert out.splitlines()[0] == "demo: none", out


@pytest.mark.parametrize("code", [
    "if ::Feature\n    .enabled?(:demo, project)\n  run\nend\n",
    "x = ::Feature.\n  enabled?(:demo, project)\n",
    "x = Feature::enabled?(:demo)\n",
    "x = ::Feature\n  .disabled?(\n    :demo, project)\n",
    "if (gon.features?.demo) { show(); }\n",
    "if (window.gon?.features?.demo) { show(); }\n",
    "if (gon.features['demo']) { show(); }\n",
    "if (this.glFeatures?.[\"demo\"]) { show(); }\n",
])
def test_a_removal_sees_gitlabs_other_spellings_of_a_call(
        tmp_path: Path, run_cli: Callable[..., CliResult], code: str) -> None:
    """A chain broken across lines as RuboCop's dot positions write it, `Feature::enabled?`
    and `gon.features`: each read the flag, and its removal passed (the eighth review)."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo")
    repo.write("app/code.rb", code)
    repo.commit("code", at=EPOCH)
    (repo.path / "flags/demo.yml").unlink()
    code_, out, err = run_cli("-C", str(repo.path), "validate", "--base", "HEAD")
    assert code_ == 1 and " FO404 demo: removed while code still references it" in out + err

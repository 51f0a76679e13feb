"""Landing a batch of GitLab imports through the gate: one `Flag-Import` trailer for the change,
honoured only for files that are exactly the import of a definition of a name the branch never
had. Judged in real repositories, and end to end through a team's GitLab CI job."""

from __future__ import annotations

import time
from pathlib import Path

from gitrepo import EPOCH, Repo
from teamrepo import GITLAB_MR, GITLAB_PUSH, Team, flagops

from validator.compare import RangeRequest, compare
from validator.importers.gitlab import import_definition

DAY = 86_400
RELEASED = """---
name: search_suggestions
description: Shows search suggestions{TRAILING}
feature_issue_url: https://gitlab.com/gitlab-org/gitlab/-/issues/101
introduced_by_url: https://gitlab.com/gitlab-org/gitlab/-/merge_requests/202
rollout_issue_url:
milestone: '16.4'
group: group::global search
type: beta
default_enabled: true
""".format(TRAILING="  ")
"""A released definition as GitLab keeps many: an empty rollout issue, a trailing space, no
cleanup issue, no expectations."""
DORMANT = """---
name: new_navigation
introduced_by_url: https://gitlab.com/gitlab-org/gitlab/-/merge_requests/303
rollout_issue_url: https://gitlab.com/gitlab-org/gitlab/-/issues/304
milestone: '17.1'
group: group::foundations
type: wip
default_enabled: false
"""
TRAILER = "\n\nFlag-Import: gitlab gitlab-org/gitlab@1a2b3c4"


def _import(repo: Path, *definitions: str) -> None:
    for text in definitions:
        kind = text.split("type: ", 1)[1].split("\n", 1)[0]
        imported = import_definition(text.encode(), f"feature_flags/{kind}/{_name(text)}.yml")
        target = repo / imported.target
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(imported.text, encoding="utf-8")


def _name(text: str) -> str:
    return text.split("name: ", 1)[1].split("\n", 1)[0]


def _found(repo: Repo) -> list[str]:
    result = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH + DAY)
    return [f"{f.rule}:{f.severity}" for f in result.findings]


def _repo(tmp_path: Path, policy: str = "") -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("existing")
    if policy:
        repo.write("pyproject.toml", policy)
    repo.commit("start", at=EPOCH - 10 * DAY)
    return repo


def test_a_trailer_lets_exact_imports_in_released_and_only_them(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _import(repo.path, RELEASED, DORMANT)
    repo.commit("Import from GitLab", at=EPOCH)
    refused = _found(repo)
    assert "FO207:error" in refused and "FO122:error" in refused
    repo.git("commit", "-q", "--amend", "-m", "Import from GitLab" + TRAILER, at=EPOCH)
    result = compare(repo.path, RangeRequest("HEAD~1", "HEAD"), now=EPOCH + DAY)
    assert sorted(f"{f.rule}:{f.severity}" for f in result.findings) == [
        "FO122:warning", "FO140:warning", "FO141:warning", "FO207:warning"]
    assert all("imported as it is (Flag-Import: gitlab gitlab-org/gitlab@1a2b3c4)" in f.message
               for f in result.findings)


def test_an_import_given_another_state_is_judged_as_any_new_flag(tmp_path: Path) -> None:
    """Only the state GitLab's default_enabled gives passes: another stage (GitLab keeps the
    state in its database, so the file cannot vouch for it) does not."""
    repo = _repo(tmp_path)
    _import(repo.path, DORMANT)
    path = repo.path / "flags/wip/new_navigation.yml"
    imported = path.read_text()
    path.write_text(imported.replace("stage: off", "stage: enabled"))
    repo.commit("Import, switched on" + TRAILER, at=EPOCH)
    assert "FO207:error" in _found(repo)
    path.write_text(imported.replace("stage: off", "stage: staging"))
    repo.git("add", "-A")
    repo.git("commit", "-q", "--amend", "-m", "Import, in staging" + TRAILER, at=EPOCH)
    assert "FO207:error" in _found(repo)


def test_a_name_the_branch_had_comes_back_only_as_a_revert(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    repo.write_flag("search_suggestions", flag_type="beta")
    repo.commit("a flag of that name", at=EPOCH - 5 * DAY)
    (repo.path / "flags/search_suggestions.yml").unlink()
    repo.commit("removed", at=EPOCH - 4 * DAY)
    _import(repo.path, RELEASED)
    repo.commit("Import" + TRAILER, at=EPOCH)
    assert "FO207:error" in _found(repo)


def test_the_policy_that_turns_overrides_off_turns_imports_off(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "[tool.flagops]\nallow_overrides = false\n")
    _import(repo.path, RELEASED)
    repo.commit("Import" + TRAILER, at=EPOCH)
    found = _found(repo)
    assert "FO207:error" in found and "FO210:warning" in found


def test_a_trailer_naming_no_importer_does_nothing(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _import(repo.path, RELEASED)
    repo.commit("Import\n\nFlag-Import: launchdarkly", at=EPOCH)
    assert "FO207:error" in _found(repo)


def test_an_import_lands_through_the_teams_merge_request_pipeline(tmp_path: Path) -> None:
    """`flagops import gitlab` on a branch, one trailer, the GitLab CI job of `flagops init`
    judging the merge request; the same files without the trailer are refused."""
    team = Team(tmp_path, "--gitlab")
    now = int(time.time())
    assert team.commit("Start our flags", at=now - 10 * DAY).returncode == 0
    first = team.pipeline({**GITLAB_PUSH, "CI_COMMIT_BEFORE_SHA": "0" * 40}, team.push())
    assert first.returncode == 0, first.stdout + first.stderr
    definitions = tmp_path / "gitlab/config/feature_flags"
    for text, kind in ((RELEASED, "beta"), (DORMANT, "wip")):
        (definitions / kind).mkdir(parents=True, exist_ok=True)
        (definitions / kind / f"{_name(text)}.yml").write_text(text, encoding="utf-8")
    team.branch("import")
    done = flagops(team.path, "import", "gitlab", str(definitions), env=team.env)
    assert done.returncode == 0, done.stderr
    assert team.commit("Import from GitLab", at=now - DAY).returncode == 0
    refused = team.pipeline(GITLAB_MR, team.push())
    assert refused.returncode == 1 and "error FO207" in refused.stdout, refused.stdout
    team.repo.git("commit", "-q", "--amend", "-m", "Import from GitLab" + TRAILER, at=now - DAY)
    team.repo.git("push", "-q", "--force", "origin", "import")
    passed = team.pipeline(GITLAB_MR, team.repo.head())
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "warning FO207" in passed.stdout and "imported as it is" in passed.stdout


def test_a_shallow_clone_cannot_tell_a_new_name_and_lets_nothing_in(tmp_path: Path) -> None:
    """A name removed before the clone's cut looks new there: the trailer is not honoured in a
    shallow clone (FO205 says why), so a once-removed name cannot come back released."""
    repo = _repo(tmp_path)
    repo.write_flag("search_suggestions", flag_type="beta")
    repo.commit("a flag of that name", at=EPOCH - 5 * DAY)
    (repo.path / "flags/search_suggestions.yml").unlink()
    repo.commit("removed", at=EPOCH - 4 * DAY)
    repo.write("README.md", "later\n")
    repo.commit("later", at=EPOCH - 3 * DAY)
    _import(repo.path, RELEASED)
    repo.commit("Import" + TRAILER, at=EPOCH)
    clone = Repo(tmp_path / "shallow", tmp_path / "home")
    repo.git("clone", "-q", "--depth", "2", f"file://{repo.path}", str(clone.path))
    found = _found(clone)
    assert "FO205:error" in found and "FO207:error" in found
    assert "FO207:warning" not in found


def test_an_import_is_not_counted_against_the_changes_one_step(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "[tool.flagops]\none_flag_per_change = true\n")
    _import(repo.path, DORMANT)
    repo.write_flag("existing", "staging")
    repo.commit("Import, and existing to staging" + TRAILER, at=EPOCH)
    assert "FO406:error" not in _found(repo)


def test_allowing_overrides_in_the_same_change_does_not_let_imports_in(tmp_path: Path) -> None:
    """The base's policy turns the trailer off; the change cannot turn it back on for itself."""
    repo = _repo(tmp_path, "[tool.flagops]\nallow_overrides = false\n")
    repo.write("pyproject.toml", "[tool.flagops]\nallow_overrides = true\n")
    _import(repo.path, RELEASED)
    repo.commit("Import, and allow overrides" + TRAILER, at=EPOCH)
    found = _found(repo)
    assert "FO207:error" in found and "FO210:warning" in found


def test_an_import_through_a_symlink_is_no_import(tmp_path: Path) -> None:
    """A flag path that is a symlink to an exact import is not a file the trailer vouches for."""
    repo = _repo(tmp_path)
    imported = import_definition(RELEASED.encode(), "feature_flags/beta/search_suggestions.yml")
    (repo.path / "elsewhere.yml").write_text(imported.text, encoding="utf-8")
    (repo.path / "flags/beta").mkdir(parents=True)
    (repo.path / imported.target).symlink_to("../../elsewhere.yml")
    repo.commit("Import by a link" + TRAILER, at=EPOCH)
    found = _found(repo)
    assert "FO009:error" in found and not any(rule.endswith(":warning") and rule.startswith(
        ("FO207", "FO122")) for rule in found)

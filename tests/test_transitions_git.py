"""Transitions judged on real git repositories: commits with set dates, merges, reverts, clones."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from gitrepo import EPOCH, Repo, flag_yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator.compare import RangeRequest, judge_range
from validator.git import GitError, resolve
from validator.policy import DEFAULT_POLICY, load_policy
from validator.reports import Report

DAY = 24 * 3600
BETA = {"actors": ("Project:gitlab-org/gitlab",)}


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo.create(tmp_path / "repo", tmp_path / "home")


def rules(report: Report) -> list[str]:
    return [f"{f.rule}:{f.severity}" for f in report.findings]


def judge(repo: Repo, base: str, head: str | None = None, *, now: int = EPOCH,
          staged: bool = False) -> list[str]:
    request = RangeRequest(base, head, staged)
    return rules(judge_range(repo.path, request, policy=DEFAULT_POLICY, now=now))


def test_one_step_per_change_is_legal_and_a_skip_is_not(repo: Repo) -> None:
    repo.write_flag("demo", "off")
    repo.commit("add demo", at=EPOCH - 10 * DAY)
    repo.write_flag("demo", "staging")
    repo.commit("demo on staging", at=EPOCH - 9 * DAY)
    assert judge(repo, "HEAD~1", "HEAD") == []
    repo.write_flag("demo", "enabled")
    repo.commit("demo everywhere", at=EPOCH - 8 * DAY)
    assert judge(repo, "HEAD~1", "HEAD") == ["FO201:error"]


def test_soak_time_counts_from_the_commit_that_changed_the_rollout_state(repo: Repo) -> None:
    repo.write_flag("demo", "staging")
    repo.commit("add demo at staging", at=EPOCH - DAY)
    repo.write_flag("demo", "beta", **BETA)  # type: ignore[arg-type]
    repo.commit("beta", at=EPOCH - 10 * 60)
    repo.write_flag("demo", "beta", description="Reworded, no rollout change.", **BETA)  # type: ignore[arg-type]
    repo.commit("reword", at=EPOCH - 60)
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)  # type: ignore[arg-type]
    assert judge(repo, "HEAD") == ["FO204:error"]  # beta landed 10 min ago, not 1 min ago
    assert judge(repo, "HEAD", now=EPOCH + 5 * 60) == []


def test_soak_uses_the_merge_commit_time_on_the_base_branch(repo: Repo) -> None:
    repo.write_flag("demo", "staging")
    repo.commit("add demo", at=EPOCH - 5 * DAY)
    repo.git("checkout", "-q", "-b", "feature")
    repo.write_flag("demo", "beta", **BETA)  # type: ignore[arg-type]
    repo.commit("beta, written long ago", at=EPOCH - 4 * DAY)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "merge beta", "feature", at=EPOCH - 5 * 60)
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)  # type: ignore[arg-type]
    assert judge(repo, "HEAD") == ["FO204:error"]


def test_a_range_is_judged_from_base_to_head_not_commit_by_commit(repo: Repo) -> None:
    repo.write_flag("demo", "off")
    base = repo.commit("add demo", at=EPOCH - 10 * DAY)
    repo.write_flag("demo", "staging")
    repo.commit("staging", at=EPOCH - 9 * DAY)
    repo.write_flag("demo", "beta", **BETA)  # type: ignore[arg-type]
    repo.commit("beta", at=EPOCH - 8 * DAY)
    assert judge(repo, base, "HEAD") == ["FO201:error"]


def test_revert_of_a_legal_step_and_of_a_merge_pass_at_once(repo: Repo) -> None:
    repo.write_flag("demo", "beta", **BETA)  # type: ignore[arg-type]
    repo.commit("add demo", at=EPOCH - 10 * DAY)
    repo.git("checkout", "-q", "-b", "rollout")
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)  # type: ignore[arg-type]
    repo.commit("10%", at=EPOCH - 60)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "merge rollout", "rollout", at=EPOCH - 30)
    merge = repo.head()
    repo.git("revert", "--no-edit", "-m", "1", merge, at=EPOCH)
    assert judge(repo, merge, "HEAD", now=EPOCH) == []
    repo.git("revert", "--no-edit", "HEAD", at=EPOCH)  # revert the revert: forward, too soon
    assert judge(repo, "HEAD~1", "HEAD", now=EPOCH) == ["FO204:error"]


def test_renamed_file_is_the_same_flag(repo: Repo) -> None:
    repo.write_flag("demo", "staging")
    repo.commit("add", at=EPOCH - 10 * DAY)
    (repo.path / "flags/team_a").mkdir()
    repo.git("mv", "flags/demo.yml", "flags/team_a/demo.yml")
    repo.commit("move to team folder", at=EPOCH - 9 * DAY)
    assert judge(repo, "HEAD~1", "HEAD") == []
    repo.write_flag("demo", "enabled", folder="flags/team_a")
    assert judge(repo, "HEAD~1") == ["FO201:error"]


@pytest.mark.parametrize(("state", "expected"), [
    ({"stage": "off"}, []),
    ({"stage": "enabled", "default_enabled": True, "cleanup": True}, []),
    ({"stage": "beta", **BETA}, ["FO208:error"]),
    ({"stage": "enabled"}, ["FO208:error"]),
])
def test_deleting_a_flag(repo: Repo, state: dict[str, object], expected: list[str]) -> None:
    repo.write_flag("demo", **state)  # type: ignore[arg-type]
    repo.commit("state", at=EPOCH - 10 * DAY)
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("delete", at=EPOCH - DAY)
    assert judge(repo, "HEAD~1", "HEAD") == expected


def test_a_new_flag_starts_off(repo: Repo) -> None:
    repo.write_flag("keep", "off")
    repo.commit("init", at=EPOCH - DAY)
    repo.write_flag("fresh", "off")
    repo.write_flag("eager", "staging")
    assert judge(repo, "HEAD") == ["FO207:error"]


def test_shallow_clone_says_to_fetch_full_depth(repo: Repo, tmp_path: Path) -> None:
    repo.write_flag("demo", "off")
    repo.commit("add", at=EPOCH - 10 * DAY)
    repo.write_flag("demo", "staging")
    repo.commit("staging", at=EPOCH - 9 * DAY)
    clone = Repo(tmp_path / "clone", tmp_path / "home")
    repo.git("clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone.path))
    clone.write_flag("demo", "beta", **BETA)  # type: ignore[arg-type]
    report = judge_range(clone.path, RangeRequest("HEAD"), policy=DEFAULT_POLICY, now=EPOCH)
    assert rules(report) == ["FO205:error"]
    assert "GIT_DEPTH" in report.findings[0].message
    clone.git("fetch", "-q", "--unshallow")
    assert judge(clone, "HEAD") == []


def test_override_trailer_turns_errors_into_warnings(repo: Repo) -> None:
    repo.write_flag("demo", "off")
    base = repo.commit("add", at=EPOCH - DAY)
    repo.write_flag("demo", "enabled")
    repo.commit("hotfix\n\nFlag-Override: demo: incident 1234 needs it everywhere",
                at=EPOCH - 60)
    report = judge_range(repo.path, RangeRequest(base, "HEAD"), policy=DEFAULT_POLICY, now=EPOCH)
    assert rules(report) == ["FO201:warning"]
    assert "incident 1234 needs it everywhere" in report.findings[0].message


def test_staged_mode_judges_the_index_and_soak_is_only_a_warning(repo: Repo) -> None:
    repo.write_flag("demo", "staging")
    repo.commit("add", at=int(time.time()) - 60)
    repo.write_flag("demo", "beta", **BETA)  # type: ignore[arg-type]
    assert judge(repo, "HEAD", staged=True, now=int(time.time())) == []  # nothing staged yet
    repo.git("add", "-A")
    assert judge(repo, "HEAD", staged=True, now=int(time.time())) == ["FO204:warning"]


def test_first_commit_of_a_repository_is_judged_against_nothing(repo: Repo) -> None:
    repo.write_flag("demo", "off")
    repo.write_flag("early", "beta", **BETA)  # type: ignore[arg-type]
    repo.git("add", "-A")
    assert judge(repo, "HEAD", staged=True) == ["FO207:error"]


def test_the_cli_prints_a_located_message_and_exits_1(repo: Repo) -> None:
    repo.write_flag("calendly_invite_link", "beta", **BETA)  # type: ignore[arg-type]
    repo.commit("beta", at=int(time.time()) - DAY)
    repo.write_flag("calendly_invite_link", "enabled")
    done = subprocess.run([sys.executable, "-m", "validator", "validate", "--base", "HEAD"],
                          cwd=repo.path, capture_output=True, text=True, env=repo.env,
                          check=False)
    assert done.returncode == 1, done.stderr
    assert done.stdout == (
        "flags/calendly_invite_link.yml:12:8: error FO201 calendly_invite_link: beta (1 actor) "
        "→ enabled skips percentage; the next legal step is beta → percentage 10% of actors\n"
    )
    assert "Traceback" not in done.stderr


def test_unknown_base_ref_is_one_clear_line(repo: Repo) -> None:
    repo.write_flag("demo", "off")
    repo.commit("add", at=EPOCH)
    done = subprocess.run([sys.executable, "-m", "validator", "validate", "--base", "nope"],
                          cwd=repo.path, capture_output=True, text=True, env=repo.env,
                          check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == ("flagops: error: unknown git ref 'nope'; fetch it first "
                                   '(CI: GIT_DEPTH: "0")')


def test_a_tag_that_shadows_the_remote_branch_is_refused_not_judged_against(
        repo: Repo) -> None:
    """Git takes `refs/tags/origin/main` for `origin/main` before the remote branch: whoever
    can push a tag so named would choose the base the change is judged against (and, in a
    workflow that checks out the base's flagops, the judge). The short name is refused; the
    full one is judged."""
    repo.write_flag("demo", "off")
    target = repo.commit("add", at=EPOCH)
    repo.git("update-ref", "refs/remotes/origin/main", target)
    repo.write_flag("demo", "enabled")
    shadow = repo.commit("the base an attacker chose", at=EPOCH + 60)
    repo.git("tag", "origin/main", shadow)

    def validate(base: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "validator", "validate", "--base", base,
                               "--head", "HEAD"], cwd=repo.path, capture_output=True,
                              text=True, env=repo.env, check=False)

    refused = validate("origin/main")
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip() == (
        "flagops: error: git ref 'origin/main' is ambiguous: refs/tags/origin/main and "
        "refs/remotes/origin/main name different commits; give the one meant in full")
    assert "FO201" in validate("refs/remotes/origin/main").stdout
    assert validate("origin/main~0").returncode == 1  # the same name inside an expression
    repo.git("tag", "-f", "origin/main", target)  # the same commit: nothing to choose
    assert "FO201" in validate("origin/main").stdout


def test_a_hex_name_a_ref_has_is_refused(repo: Repo) -> None:
    """A short hex name may abbreviate a commit as well as name a ref, which git prefers."""
    repo.write_flag("demo", "off")
    first = repo.commit("add", at=EPOCH)
    repo.git("branch", "cafe", first)
    with pytest.raises(GitError, match="'cafe' is ambiguous: refs/heads/cafe, or a commit id"):
        resolve(repo.path, "cafe")
    assert resolve(repo.path, "refs/heads/cafe") == first
    assert resolve(repo.path, first) == first


def _tree(repo: Repo, *entries: tuple[str, str, str]) -> str:
    """A tree object written as given, malformed or not (`hash-object --literally`)."""
    data = b"".join(f"{mode} {name}".encode() + b"\0" + bytes.fromhex(oid)
                    for mode, name, oid in entries)
    done = subprocess.run(["git", "hash-object", "-w", "-t", "tree", "--literally", "--stdin"],
                          cwd=repo.path, env=repo.env, input=data, capture_output=True,
                          check=True)
    return done.stdout.decode().strip()


@pytest.mark.parametrize("all_files", [True, False])
def test_a_flag_listed_twice_in_its_tree_is_refused(repo: Repo, all_files: bool) -> None:
    """A tree holding flags/demo.yml twice, first the base's `off`, then `enabled`: git takes
    and sends it, a checkout (and so the build) keeps the second, while the listing read the
    first and saw nothing but a flag added at off. The path is refused (FO010), with or
    without --all-files (the CI job's judgement of the whole head)."""
    repo.write_flag("demo", "off")
    base = repo.commit("add", at=EPOCH)
    off = repo.git("rev-parse", "HEAD:flags/demo.yml").strip()
    repo.write_flag("demo", "enabled")
    repo.git("add", "-A")
    enabled = repo.git("rev-parse", ":flags/demo.yml").strip()
    repo.git("reset", "-q", "--hard", base)
    flags = _tree(repo, ("100644", "demo.yml", off), ("100644", "demo.yml", enabled))
    top = _tree(repo, ("40000", "flags", flags))
    head = repo.git("commit-tree", top, "-p", base, "-m", "touch demo").strip()
    report = judge_range(repo.path, RangeRequest(base, head, all_files=all_files), now=EPOCH)
    assert ("flags/demo.yml", "FO010", "error") in [
        (finding.path, finding.rule, finding.severity.value) for finding in report.findings]


def _blob(repo: Repo, text: str) -> str:
    done = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo.path, env=repo.env,
                          input=text.encode(), capture_output=True, check=True)
    return done.stdout.decode().strip()


def _off_then(repo: Repo, stage: str) -> tuple[str, str, str]:
    """A base commit with demo at off; the blobs of demo at off and at `stage`."""
    repo.write_flag("demo", "off")
    base = repo.commit("add", at=EPOCH)
    off = repo.git("rev-parse", "HEAD:flags/demo.yml").strip()
    return base, off, _blob(repo, flag_yaml("demo", stage))


def test_a_top_tree_out_of_gits_order_is_refused(repo: Repo) -> None:
    """`flags` listed after `schema` at the top: a listing by pathspec stops at `schema` and
    comes back empty, so --all-files read no flag at all while a checkout builds demo
    enabled. The top tree itself is refused (FO010)."""
    base, _, enabled = _off_then(repo, "enabled")
    schema = _tree(repo, ("100644", "x.json", _blob(repo, "{}\n")))
    top = _tree(repo, ("40000", "schema", schema),
                ("40000", "flags", _tree(repo, ("100644", "demo.yml", enabled))))
    head = repo.git("commit-tree", top, "-p", base, "-m", "unsorted").strip()
    report = judge_range(repo.path, RangeRequest(base, head, all_files=True), now=EPOCH)
    assert ("flags", "FO010", "error") in [
        (finding.path, finding.rule, finding.severity.value) for finding in report.findings]


@pytest.mark.parametrize("name", [".git", "..", ".", "git~1", ".GIT.", "/x.yml"])
def test_a_name_no_checkout_creates_under_flags_is_refused(repo: Repo, name: str) -> None:
    """git refuses to check such a tree out: merged, every checkout of the branch would fail,
    rollbacks too."""
    base, off, _ = _off_then(repo, "off")
    flags = _tree(repo, ("100644", name, _blob(repo, "x\n")), ("100644", "demo.yml", off)) \
        if name < "demo.yml" else _tree(repo, ("100644", "demo.yml", off),
                                        ("100644", name, _blob(repo, "x\n")))
    head = repo.git("commit-tree", _tree(repo, ("40000", "flags", flags)), "-p", base,
                    "-m", "odd name").strip()
    for all_files in (False, True):
        report = judge_range(repo.path, RangeRequest(base, head, all_files=all_files),
                             now=EPOCH)
        assert (f"flags/{name}", "FO010") in [(finding.path, finding.rule)
                                              for finding in report.findings], all_files


@pytest.mark.parametrize(("first", "last", "head", "errors"), [
    ("staging", "off", "beta", ["FO201"]),  # production is at off: beta skips staging
    ("off", "staging", "beta", []),  # production is at staging: beta is its next step
    ("off", "beta", "off", []),  # production is at beta: off is a rollback, never blocked
    ("beta", "off", "beta", ["FO201"]),  # the first entry is the head's: git saw a deletion
])
def test_a_base_that_lists_a_flag_twice_is_judged_from_what_its_checkout_holds(
        repo: Repo, first: str, last: str, head: str, errors: list[str]) -> None:
    """A base made by hand with flags/demo.yml twice: a checkout of it (production) holds the
    last entry, and the step is judged from that one, with a warning on the base's tree; the
    diff pairs the first with the head, which judged a skip from staging as legal."""
    actors = ("Project:gitlab-org/gitlab",)
    blobs = [_blob(repo, flag_yaml("demo", stage, actors=actors if stage == "beta" else ()))
             for stage in (first, last, head)]
    flags = _tree(repo, ("100644", "demo.yml", blobs[0]), ("100644", "demo.yml", blobs[1]))
    base = repo.git("commit-tree", _tree(repo, ("40000", "flags", flags)), "-m", "base",
                    at=EPOCH).strip()
    flags = _tree(repo, ("100644", "demo.yml", blobs[2]))
    head = repo.git("commit-tree", _tree(repo, ("40000", "flags", flags)), "-p", base,
                    "-m", "step", at=EPOCH + 30 * 86400).strip()
    report = judge_range(repo.path, RangeRequest(base, head), now=EPOCH + 31 * 86400)
    found = [(finding.rule, finding.severity.value) for finding in report.findings]
    assert [rule for rule, severity in found if severity == "error"] == errors
    assert ("FO010", "warning") in found


def test_a_base_listing_a_flag_twice_apart_is_judged_from_its_checkout(repo: Repo) -> None:
    """The two entries apart, another file between them (so out of order too): a lookup of
    the path by pathspec stopped at the file between and saw one entry, the first."""
    staging, off, zeta = (_blob(repo, flag_yaml(name, stage)) for name, stage in
                          (("demo", "staging"), ("demo", "off"), ("zeta", "off")))
    flags = _tree(repo, ("100644", "demo.yml", staging), ("100644", "zeta.yml", zeta),
                  ("100644", "demo.yml", off))
    base = repo.git("commit-tree", _tree(repo, ("40000", "flags", flags)), "-m", "base",
                    at=EPOCH).strip()
    beta = _blob(repo, flag_yaml("demo", "beta", actors=("Project:gitlab-org/gitlab",)))
    flags = _tree(repo, ("100644", "demo.yml", beta), ("100644", "zeta.yml", zeta))
    head = repo.git("commit-tree", _tree(repo, ("40000", "flags", flags)), "-p", base,
                    "-m", "step", at=EPOCH + 30 * 86400).strip()
    report = judge_range(repo.path, RangeRequest(base, head), now=EPOCH + 31 * 86400)
    assert "FO201" in [finding.rule for finding in report.findings]


@pytest.mark.parametrize(("stage", "blocked"), [("staging", True), ("off", False)])
def test_a_base_top_tree_out_of_order_refuses_forward_steps(
        repo: Repo, stage: str, blocked: bool) -> None:
    """pyproject.toml listed after schema in the base: read by path, the base's policy (a
    freeze) was not found and the defaults judged. A forward step is refused (FO010); a
    rollback still passes, the base's tree reported as a warning."""
    start = "staging" if stage == "off" else "off"
    policy = _blob(repo, '[tool.flagops]\n[[tool.flagops.freeze]]\nstart = '
                         '"2000-01-01T00:00:00Z"\nend = "2100-01-01T00:00:00Z"\n'
                         'reason = "incident"\n')
    schema = _tree(repo, ("100644", "x.json", _blob(repo, "{}\n")))

    def commit(stage_now: str, order: list[int], *parents: str) -> str:
        flags = _tree(repo, ("100644", "demo.yml", _blob(repo, flag_yaml("demo", stage_now))))
        entries = [("40000", "flags", flags), ("100644", "pyproject.toml", policy),
                   ("40000", "schema", schema)]
        top = _tree(repo, *[entries[index] for index in order])
        args = [arg for parent in parents for arg in ("-p", parent)]
        return repo.git("commit-tree", top, *args, "-m", stage_now, at=EPOCH).strip()

    base = commit(start, [0, 2, 1])  # pyproject.toml after schema: by path, no policy
    head = commit(stage, [0, 1, 2], base)  # the head's tree as git writes it
    report = judge_range(repo.path, RangeRequest(base, head), now=EPOCH + 86400)
    found = [(finding.path, finding.rule, finding.severity.value) for finding in report.findings]
    assert ("pyproject.toml", "FO010", "error" if blocked else "warning") in found
    repair = commit(start, [0, 1, 2], base)  # the tree written again, no flag changed
    report = judge_range(repo.path, RangeRequest(base, repair), now=EPOCH + 86400)
    assert [finding.rule for finding in report.findings
            if finding.severity.value == "error"] == []


def test_a_base_listing_flags_twice_apart_takes_flags_only_to_off(repo: Repo) -> None:
    """The base's top tree lists `flags` twice with `schema` between: read by pathspec, only
    the first was seen, and a skip from the checkout's off to enabled passed as a rollback
    from the first one's released state. With the base's state past telling, only changes
    that take flags to off pass (as FO212 for a base file that cannot be read)."""
    schema = _tree(repo, ("100644", "x.json", _blob(repo, "{}\n")))

    def flags(stage: str, **fields: Any) -> str:
        return _tree(repo, ("100644", "demo.yml", _blob(repo, flag_yaml("demo", stage,
                                                                          **fields))))

    top = _tree(repo, ("40000", "flags", flags("enabled", default_enabled=True, cleanup=True)),
                ("40000", "schema", schema), ("40000", "flags", flags("off")))
    base = repo.git("commit-tree", top, "-m", "base", at=EPOCH).strip()
    for stage, blocked in (("enabled", True), ("off", False)):
        head = repo.git("commit-tree", _tree(repo, ("40000", "flags", flags(stage)),
                                             ("40000", "schema", schema)),
                        "-p", base, "-m", stage, at=EPOCH).strip()
        report = judge_range(repo.path, RangeRequest(base, head), now=EPOCH + 86400)
        assert any(finding.severity.value == "error" for finding in report.findings) == blocked


def test_a_base_holding_a_flag_path_as_file_and_folder_is_judged_as_its_checkout(
        repo: Repo) -> None:
    """flags/demo.yml listed as a file and then as a folder: a checkout keeps the folder,
    so the base has no readable demo, while git's diff paired the file with the head."""
    released = _blob(repo, flag_yaml("demo", "enabled", default_enabled=True, cleanup=True))
    folder = _tree(repo, ("100644", "z", _blob(repo, "z\n")))
    flags = _tree(repo, ("100644", "demo.yml", released), ("40000", "demo.yml", folder))
    base = repo.git("commit-tree", _tree(repo, ("40000", "flags", flags)), "-m", "base",
                    at=EPOCH).strip()
    enabled = _tree(repo, ("100644", "demo.yml", _blob(repo, flag_yaml("demo", "enabled"))))
    head = repo.git("commit-tree", _tree(repo, ("40000", "flags", enabled)), "-p", base,
                    "-m", "enabled", at=EPOCH).strip()
    report = judge_range(repo.path, RangeRequest(base, head), now=EPOCH + 86400)
    assert [finding.rule for finding in report.findings
            if finding.severity.value == "error"] == ["FO212"]


def test_a_listing_finds_paths_listed_twice_by_search_and_by_parse() -> None:
    from validator.head_listing import _FEW_NAMES, INDEX, TREE, Listing

    oid = "0" * 40
    paths = [f"flags/f{index}.yml" for index in range(_FEW_NAMES + 5)]
    records = [f"100644 blob {oid}\t{path}" for path in [*paths, paths[3]]]
    listing = Listing("\0".join(records), TREE)
    assert listing.listed_twice(paths[:2]) == []
    assert listing.listed_twice(paths[:4]) == [paths[3]]
    assert listing.listed_twice(paths) == [paths[3]]  # more than a few: parsed once
    staged = [f"100644 {oid} {stage}\tflags/c.yml" for stage in (1, 2, 3)]
    assert Listing("\0".join(staged), INDEX).listed_twice(["flags/c.yml"]) == []


# An illegal change split across several commits is still judged base to head.
STAGES = ["off", "staging", "beta", "percentage", "enabled"]


def _state(stage: str) -> dict[str, object]:
    fields: dict[str, object] = {"stage": stage}
    if stage in ("beta", "percentage"):
        fields.update(BETA)
    if stage == "percentage":
        fields["percentage"] = ("actors", 10)
    return fields


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.integers(0, 2), skip=st.integers(2, 3), detours=st.lists(
    st.integers(0, 4), min_size=1, max_size=3))
def test_intermediate_commits_cannot_launder_a_skip(tmp_path_factory: pytest.TempPathFactory,
                                                     start: int, skip: int,
                                                     detours: list[int]) -> None:
    end = min(start + skip, 4)
    if end - start < 2:
        return
    root = tmp_path_factory.mktemp("launder")
    repo = Repo.create(root / "repo", root / "home")
    repo.write_flag("demo", **_state(STAGES[start]))  # type: ignore[arg-type]
    base = repo.commit("base", at=EPOCH - 30 * DAY)
    for offset, stage in enumerate(detours):
        repo.write_flag("demo", **_state(STAGES[stage]))  # type: ignore[arg-type]
        repo.commit(f"detour {offset}", at=EPOCH - (20 - offset) * DAY)
    repo.write_flag("demo", **_state(STAGES[end]))  # type: ignore[arg-type]
    repo.commit("land", at=EPOCH - 10 * DAY)
    assert "FO201:error" in judge(repo, base, "HEAD")


def test_history_is_read_only_as_far_back_as_the_longest_soak(repo: Repo) -> None:
    repo.write_flag("demo", "staging")
    repo.commit("staging, long ago", at=EPOCH - 30 * DAY)
    for minutes in (50, 40, 30):  # recent edits that leave the rollout state alone
        repo.write_flag("demo", "staging", description=f"Reworded {minutes} min ago.")
        repo.commit("reword", at=EPOCH - minutes * 60)
    repo.write_flag("demo", "beta", **BETA)  # type: ignore[arg-type]
    assert judge(repo, "HEAD") == []


def test_a_state_introduced_inside_the_window_is_timed_exactly(repo: Repo) -> None:
    repo.write_flag("demo", "staging")
    repo.commit("staging", at=EPOCH - 30 * DAY)
    repo.write_flag("demo", "beta", **BETA)  # type: ignore[arg-type]
    repo.commit("beta", at=EPOCH - 5 * 60)
    repo.write_flag("demo", "beta", description="Reworded.", **BETA)  # type: ignore[arg-type]
    repo.commit("reword", at=EPOCH - 60)
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)  # type: ignore[arg-type]
    assert judge(repo, "HEAD") == ["FO204:error"]
    assert judge(repo, "HEAD", now=EPOCH + 10 * 60) == []


def test_a_live_flag_whose_file_breaks_is_reported_broken_not_deleted(repo: Repo) -> None:
    repo.write_flag("demo", "beta", **BETA)  # type: ignore[arg-type]
    repo.commit("beta", at=EPOCH - DAY)
    repo.write("flags/demo.yml", (repo.path / "flags/demo.yml").read_text() + "stage: off\n")
    assert judge(repo, "HEAD") == ["FO003:error"]


def test_reverting_the_removal_of_a_released_flag_is_legal(repo: Repo) -> None:
    repo.write_flag("demo", "enabled", default_enabled=True, cleanup=True)
    repo.commit("released", at=EPOCH - 10 * DAY)
    (repo.path / "flags/demo.yml").unlink()
    removal = repo.commit("remove the flag", at=EPOCH - DAY)
    assert judge(repo, "HEAD~1", "HEAD") == []
    repo.git("revert", "--no-edit", removal, at=EPOCH)
    assert judge(repo, removal, "HEAD") == []


def test_a_flag_whose_base_file_is_broken_may_only_go_to_off(repo: Repo) -> None:
    """Two clean merges can leave main with a duplicate key: no state to step from, so the
    next change may not put the flag anywhere but off (gate integrity, item 7)."""
    repo.write("flags/demo.yml", "name: demo\nstage: off\nstage: off\n")
    repo.commit("broken", at=EPOCH - DAY)
    repo.write_flag("demo", "beta", **BETA)  # type: ignore[arg-type]
    assert judge(repo, "HEAD") == ["FO212:error"]
    repo.write_flag("demo", "enabled", default_enabled=True, cleanup=True)
    assert judge(repo, "HEAD") == ["FO212:error"]
    (repo.path / "flags/demo.yml").unlink()
    assert judge(repo, "HEAD") == ["FO212:error"]
    repo.write_flag("demo", "off")
    assert judge(repo, "HEAD") == []


@pytest.mark.parametrize("args", [["--base", "main"], ["--staged"]])
def test_outside_a_repository_is_one_clear_line(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "flags").mkdir()
    done = subprocess.run([sys.executable, "-m", "validator", "validate", *args], cwd=tmp_path,
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
    assert done.returncode == 1
    assert done.stderr.strip().endswith("is not in a git repository; --base, --staged and plan "
                                        "compare git states")


def test_a_staged_yaml_file_is_flagged_as_not_read(repo: Repo) -> None:
    repo.write_flag("demo", "off")
    repo.commit("add", at=EPOCH - DAY)
    repo.write("flags/other.yaml", "name: other\n")
    repo.git("add", "-A")
    assert judge(repo, "HEAD", staged=True) == ["FO008:error"]


# Every transition rule both ways, through real commits: (rule, base, failing head, passing head).
PCT = {"percentage": ("actors", 10), **BETA}
EVERY_RULE = [
    ("FO201", {"stage": "staging"}, {"stage": "percentage", **PCT}, {"stage": "beta", **BETA}),
    ("FO202", {"stage": "percentage", **PCT},
     {"stage": "percentage", **BETA, "percentage": ("actors", 100)},
     {"stage": "percentage", **BETA, "percentage": ("actors", 50)}),
    ("FO203", {"stage": "percentage", **PCT},
     {"stage": "percentage", **BETA, "percentage": ("time", 10)},
     {"stage": "percentage", **BETA, "percentage": ("actors", 50)}),
    ("FO206", {"stage": "percentage", **BETA, "percentage": ("actors", 100)},
     {"stage": "enabled", "default_enabled": True, "cleanup": True}, {"stage": "enabled"}),
    ("FO211", {"stage": "percentage", **BETA, "percentage": ("actors", 50)},
     {"stage": "percentage", "actors": ("User:1", *BETA["actors"]),
      "percentage": ("actors", 10)},
     {"stage": "percentage", **BETA, "percentage": ("actors", 10)}),
]


@pytest.mark.parametrize(("rule", "base", "bad", "good"), EVERY_RULE,
                         ids=[row[0] for row in EVERY_RULE])
def test_every_step_rule_both_ways_in_real_history(repo: Repo, rule: str,
                                                   base: dict[str, object],
                                                   bad: dict[str, object],
                                                   good: dict[str, object]) -> None:
    repo.write_flag("demo", **base)  # type: ignore[arg-type]
    start = repo.commit("base state", at=EPOCH - 10 * DAY)
    repo.write_flag("demo", **bad)  # type: ignore[arg-type]
    repo.commit("the illegal step", at=EPOCH - DAY)
    assert f"{rule}:error" in judge(repo, start, "HEAD")
    repo.git("reset", "-q", "--hard", start)
    repo.write_flag("demo", **good)  # type: ignore[arg-type]
    repo.commit("the legal step", at=EPOCH - DAY)
    assert judge(repo, start, "HEAD") == []


def test_override_trailer_is_refused_when_the_policy_says_so(repo: Repo) -> None:
    repo.write("pyproject.toml", "[tool.flagops]\nallow_overrides = false\n")
    repo.write_flag("demo", "off")
    base = repo.commit("add", at=EPOCH - DAY)
    repo.write_flag("demo", "enabled")
    repo.commit("hotfix\n\nFlag-Override: demo: please", at=EPOCH - 60)
    policy = load_policy(repo.path)
    report = judge_range(repo.path, RangeRequest(base, "HEAD"), policy=policy, now=EPOCH)
    assert rules(report) == ["FO201:error", "FO210:warning"]


def test_an_override_with_nothing_to_override_is_reported(repo: Repo) -> None:
    repo.write_flag("demo", "off")
    base = repo.commit("add", at=EPOCH - DAY)
    repo.write_flag("demo", "staging")
    repo.commit("staging\n\nFlag-Override: demo: just in case", at=EPOCH - 60)
    assert judge(repo, base, "HEAD") == ["FO209:warning"]


def _commit_object(repo: Repo, message: str, committed_at: int, extra: str = "") -> None:
    """A commit written by hand (a date git's porcelain refuses, a signature header), on main."""
    tree = repo.git("write-tree").strip()
    text = (f"tree {tree}\nparent {repo.head()}\nauthor t <t@e> {EPOCH - DAY} +0000\n"
            f"committer t <t@e> {committed_at} +0000\n{extra}\n{message}\n")
    done = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"],
                          cwd=repo.path, env=repo.env, input=text, capture_output=True,
                          text=True, check=True)
    repo.git("update-ref", "refs/heads/main", done.stdout.strip())


def test_a_date_past_what_a_commit_graph_holds_is_read_as_the_commit_says(repo: Repo) -> None:
    """The commit-graph keeps 34 bits of a date: there a commit dated in the year 2568 would
    read as long ago. The clock reads the commit's own date, whatever housekeeping ran."""
    repo.write_flag("demo", "off")
    repo.commit("add demo", at=EPOCH - 10 * DAY)
    repo.write_flag("demo", "staging")
    repo.git("add", "-A")
    _commit_object(repo, "demo on staging", 2**34 + EPOCH - 10 * DAY)
    repo.write_flag("demo", "beta", **BETA)  # type: ignore[arg-type]
    assert judge(repo, "HEAD") == ["FO204:error"]  # landed in the future: it waits
    repo.git("commit-graph", "write", "--reachable")
    assert judge(repo, "HEAD") == ["FO204:error"]


def test_a_users_log_show_signature_setting_changes_no_history_read(repo: Repo) -> None:
    """log.showSignature makes `git log` print signature checks into its output, whatever
    the format asks; every history read turns it off, so a signed commit judges the same."""
    repo.write_flag("demo", "off")
    repo.commit("add demo", at=EPOCH - 10 * DAY)
    repo.write_flag("demo", "staging")
    repo.git("add", "-A")
    signature = ("gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n"
                 " -----END PGP SIGNATURE-----\n")
    _commit_object(repo, "demo on staging", EPOCH - 9 * DAY, signature)
    repo.write_flag("demo", "beta", **BETA)  # type: ignore[arg-type]
    repo.git("config", "log.showSignature", "true")
    assert judge(repo, "HEAD") == []  # staging landed 9 days ago, in the signed commit
    assert judge(repo, "HEAD", now=EPOCH - 9 * DAY + 60) == ["FO204:error"]


def test_a_broken_base_is_stepped_from_by_what_it_gives(repo: Repo) -> None:
    """A base pushed round the gate at stage percentage without a percentage (FO131) gives its
    listed actors only: its next step is 10 %, judged with the soak of when it landed, and
    100 % or enabled are jumps. Judged by its label it had no next percentage to stop at
    (the seventh review's bypass), in the merge request's range and in CI's merged one."""
    repo.write_flag("demo", "percentage", **BETA)  # type: ignore[arg-type]
    base = repo.commit("demo at percentage, its percentage left out", at=EPOCH - DAY)
    for jump, rule in ((dict(stage="percentage", percentage=("actors", 100)), "FO202:error"),
                       (dict(stage="enabled"), "FO201:error")):
        repo.git("checkout", "-q", "-B", "jump", base)
        repo.write_flag("demo", **jump, **BETA)  # type: ignore[arg-type]
        repo.commit("straight on", at=EPOCH - 60)
        assert rule in judge(repo, base, "HEAD")
        merged = judge_range(repo.path, RangeRequest(base, "HEAD", merged=True),
                             policy=DEFAULT_POLICY, now=EPOCH)
        assert rule in rules(merged)
        assert "judged from what the base gives, beta (1 actor)" in merged.findings[0].message
    repo.git("checkout", "-q", "-B", "next", base)
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)  # type: ignore[arg-type]
    repo.commit("10 %", at=EPOCH - 60)
    assert judge(repo, base, "HEAD") == []
    assert judge(repo, base, "HEAD", now=EPOCH - DAY + 60) == ["FO204:error"]


def test_merged_names_a_side_that_is_no_commit(repo: Repo) -> None:
    """`--merged` with a tree for a side said the head "does not merge cleanly" and judged
    the tree itself: only commits merge, and the usage error says which side is not one."""
    from validator.errors import UsageError

    repo.write_flag("demo", "off")
    repo.commit("add demo", at=EPOCH - DAY)
    repo.write_flag("demo", "staging")
    repo.commit("staging", at=EPOCH - 60)
    for base, head, said in (("HEAD~1", "HEAD^{tree}", "HEAD^{tree} is a tree"),
                             ("HEAD~1^{tree}", "HEAD", "HEAD~1^{tree} is a tree")):
        with pytest.raises(UsageError, match=re.escape(said)):
            judge_range(repo.path, RangeRequest(base, head, merged=True),
                        policy=DEFAULT_POLICY, now=EPOCH)
    assert rules(judge_range(repo.path, RangeRequest("HEAD~1", "HEAD", merged=True),
                             policy=DEFAULT_POLICY, now=EPOCH)) == []


def test_a_step_forward_only_by_what_the_base_gives_is_soaked_from_its_landing(
        repo: Repo) -> None:
    """A base at beta with default_enabled (FO121, pushed round the gate) to percentage 10
    without it is mixed by the labels (default_enabled lost, a percentage gained) and forward
    by what the base gives (default_enabled below enabled releases nothing): its landing was
    not looked up, and a whole clone was told to fetch the history (FO205)."""
    repo.write_flag("demo", "beta", default_enabled=True, cleanup=True,
                    **BETA)  # type: ignore[arg-type]
    base = repo.commit("beta, default_enabled pushed round the gate", at=EPOCH - 2 * DAY)
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)  # type: ignore[arg-type]
    repo.commit("10 %", at=EPOCH - 60)
    assert judge(repo, base, "HEAD") == []
    assert judge(repo, base, "HEAD", now=EPOCH - 2 * DAY + 120) == ["FO204:error"]


@pytest.mark.parametrize("with_it", ["a move", "a looser policy", "a backdated commit"])
def test_a_broken_base_buys_no_jump_with_anything_else_in_the_change(
        repo: Repo, with_it: str) -> None:
    """The jump from a base at stage percentage without a percentage stays FO202 when the
    change also moves the file, loosens the policy (the base's judges) or is dated before
    the base landed (the trusted clock counts from the base)."""
    repo.write("pyproject.toml", "[tool.flagops]\n")
    repo.write_flag("demo", "percentage", **BETA)  # type: ignore[arg-type]
    base = repo.commit("demo at percentage, its percentage left out", at=EPOCH - DAY)
    jump = dict(percentage=("actors", 100), **BETA)
    if with_it == "a move":
        (repo.path / "flags/demo.yml").unlink()
        repo.write_flag("demo", "percentage", folder="flags/team", **jump)
    else:
        repo.write_flag("demo", "percentage", **jump)  # type: ignore[arg-type]
    if with_it == "a looser policy":
        repo.write("pyproject.toml", "[tool.flagops]\npercentage_steps = [100]\n")
    repo.commit("straight on", at=EPOCH - 2 * DAY if with_it == "a backdated commit" else
                EPOCH - 60)
    found = rules(judge_range(repo.path, RangeRequest(base, "HEAD"), now=EPOCH))
    assert "FO202:error" in found and "FO301:error" not in found, found

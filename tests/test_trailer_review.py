"""An attacker's review of the trailers the gate honours (2026-11-30): a `Flag-Override` or a
`Flag-Import` in a commit whose change has already landed (squashed, or rebased) stayed in
`base..head` of a branch used again, and passed the next change. Real repositories."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from gitrepo import Repo
from test_gate_fourth_review import DAY, NOW

from validator.cli import main

CLOCK_DATED = True  # NOW read again as each test starts (conftest)
ACTORS = ("Project:g/p",)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "off")
    repo.commit("demo", at=NOW - 30 * DAY)
    return repo


def judge(repo: Repo, base: str, head: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["-C", str(repo.path), "validate", "--base", base, "--head", head], out=out), \
        out.getvalue()


def test_an_override_for_a_step_that_landed_overrides_nothing_later(repo: Repo) -> None:
    """Change A skipped staging with an override and landed squashed; the branch was used
    again for B, beta to enabled, with no trailer of its own: A's commit, not in main's
    history, passed B's skip too."""
    repo.git("checkout", "-q", "-b", "feature")
    repo.write_flag("demo", "beta", actors=ACTORS)
    repo.commit("demo to beta\n\nFlag-Override: demo: incident 1234", at=NOW - 20 * DAY)
    code, out = judge(repo, "main", "feature")
    assert code == 0 and "overridden by Flag-Override: incident 1234" in out, out
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--squash", "feature")
    repo.commit("demo to beta", at=NOW - 19 * DAY)
    repo.git("checkout", "-q", "feature")
    repo.write_flag("demo", "enabled")
    repo.commit("demo for everyone", at=NOW - DAY)
    repo.git("merge", "-q", "-s", "ours", "--no-edit", "main", at=NOW - DAY)
    code, out = judge(repo, "main", "feature")
    assert code == 1 and "error FO201 demo: beta (1 actor) → enabled skips percentage" in out, out
    assert "warning FO209 demo: Flag-Override (incident 1234) of commit" in out, out


def _gitlab_definition(folder: Path, name: str) -> Path:
    (folder / "beta").mkdir(parents=True, exist_ok=True)
    path = folder / "beta" / f"{name}.yml"
    path.write_text(f"""---
name: {name}
introduced_by_url: https://gitlab.com/gitlab-org/gitlab/-/merge_requests/202
rollout_issue_url: https://gitlab.com/gitlab-org/gitlab/-/issues/303
milestone: '16.4'
group: group::global search
type: beta
default_enabled: true
""", encoding="utf-8")
    return path


def test_an_import_trailer_vouches_only_for_the_files_its_commit_added(
        repo: Repo, tmp_path: Path) -> None:
    """A batch imported with `Flag-Import` landed squashed; on the same branch another
    released GitLab definition came in with no trailer of its own, "imported as it is"."""
    repo.git("checkout", "-q", "-b", "feature")
    source = tmp_path / "gitlab"
    assert main(["-C", str(repo.path), "import", "gitlab",
                 str(_gitlab_definition(source, "search_suggestions"))], out=io.StringIO()) == 0
    repo.commit("import\n\nFlag-Import: gitlab gitlab-org/gitlab@1a2b3c4", at=NOW - 20 * DAY)
    code, out = judge(repo, "main", "feature")
    assert code == 0, out  # the import itself passes
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--squash", "feature")
    repo.commit("import", at=NOW - 19 * DAY)
    repo.git("checkout", "-q", "feature")
    assert main(["-C", str(repo.path), "import", "gitlab",
                 str(_gitlab_definition(source, "brand_new"))], out=io.StringIO()) == 0
    repo.commit("a new flag, released at once", at=NOW - DAY)
    code, out = judge(repo, "main", "feature")
    assert code == 1 and "error FO207 brand_new" in out, out


def test_a_name_removed_beside_the_first_parent_line_is_no_new_import(
        repo: Repo, tmp_path: Path) -> None:
    """main added and removed `search_suggestions`; a side branch merged main in and main was
    fast-forwarded to that merge, so the add and the removal sit on a second parent. The
    names "ever had" were read on the first-parent line only, and the name came back
    released as a brand-new import."""
    repo.git("checkout", "-q", "-b", "side")
    repo.write("docs/notes.md", "notes\n")
    repo.commit("docs", at=NOW - 25 * DAY)
    repo.git("checkout", "-q", "main")
    repo.write_flag("search_suggestions", "off")
    repo.commit("add search_suggestions", at=NOW - 24 * DAY)
    (repo.path / "flags/search_suggestions.yml").unlink()
    repo.commit("remove search_suggestions", at=NOW - 23 * DAY)
    repo.git("checkout", "-q", "side")
    repo.git("merge", "-q", "--no-edit", "main", at=NOW - 22 * DAY)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "side")
    repo.git("checkout", "-q", "-b", "reimport")
    assert main(["-C", str(repo.path), "import", "gitlab", str(_gitlab_definition(
        tmp_path / "gitlab", "search_suggestions"))], out=io.StringIO()) == 0
    repo.commit("import\n\nFlag-Import: gitlab gitlab-org/gitlab@1a2b3c4", at=NOW - DAY)
    code, out = judge(repo, "main", "reimport")
    assert code == 1 and "error FO207 search_suggestions" in out, out


@pytest.mark.parametrize("trailer", ["demo", "other, demo: incident 1", "de*: incident 1",
                                     "Demo: incident 1"])
def test_an_override_read_as_none_says_so(repo: Repo, trailer: str) -> None:
    """No reason, two flags, a glob, a name in another case: each was dropped without a word,
    and the author saw only the error it was meant to override."""
    repo.write_flag("demo", "beta", actors=ACTORS)
    repo.commit(f"skip\n\nFlag-Override: {trailer}", at=NOW)
    code, out = judge(repo, "HEAD~1", "HEAD")
    assert code == 1 and "FO201" in out and f"warning FO209 Flag-Override {trailer!r} " \
        "overrides nothing" in out, out


def test_a_trailer_cannot_forge_a_commit_id_git_reads_as_an_option(
        repo: Repo, tmp_path: Path) -> None:
    """Trailers were read from one log whose records split on characters a message may hold:
    `Flag-Import: gitlab<RS>--output=FILE<US>gitlab` made a record whose "commit" git read
    as `--output`, and the gate wrote its diff to FILE (the eighth review)."""
    target = tmp_path / "written-by-the-gate"
    repo.write_flag("other", "off")
    repo.commit(f"add\n\nFlag-Import: gitlab\x1e--output={target}\x1fgitlab", at=NOW - DAY)
    repo.write_flag("demo", "beta", actors=ACTORS)
    repo.commit("skip\n\nFlag-Override: demo: r\x1e--bogus\x1fdemo: r", at=NOW)
    code, out = judge(repo, "HEAD~2", "HEAD")
    assert not target.exists()
    assert code == 1 and "FO201" in out, out


def test_an_override_counts_on_the_flags_last_change_or_after_it(repo: Repo) -> None:
    """Change A: the override on its first commit, a review's fix-up after it; A landed
    squashed, and B on the same branch passed on A's override (its commit's state was not the
    base's, so it read as still to land). The trailer now counts where it comes at or after
    the flag's last change in the range: A must carry it there too."""
    repo.git("checkout", "-q", "-b", "feature")
    repo.write_flag("demo", "beta", actors=ACTORS)
    repo.commit("demo to beta\n\nFlag-Override: demo: incident 1234", at=NOW - 20 * DAY)
    repo.write_flag("demo", "beta", actors=(*ACTORS, "User:2"))
    repo.commit("review: one more actor", at=NOW - 20 * DAY + 60)
    code, out = judge(repo, "main", "feature")
    assert code == 1 and "FO201" in out and "changed the flag after it" in out, out
    repo.commit("demo to beta\n\nFlag-Override: demo: incident 1234", at=NOW - 20 * DAY + 120)
    code, out = judge(repo, "main", "feature")  # an empty commit after it, with the trailer
    assert code == 0 and "overridden by Flag-Override: incident 1234" in out, out


def test_an_override_on_a_merged_side_branch_vouches_for_no_step_of_this_one(repo: Repo) -> None:
    """A side branch's commit (an older change's, its step thrown away by the merge) sorted
    after this change's step in topological order, and its trailer passed the step (the
    eighth review's last round): the trailer's commit must hold every change of the flag."""
    repo.git("checkout", "-q", "-b", "old")
    repo.write_flag("demo", "staging")
    repo.commit("staging\n\nFlag-Override: demo: incident 1 (for the staging step)",
                at=NOW - 20 * DAY)
    repo.git("checkout", "-q", "-b", "new", "main")
    repo.write_flag("demo", "enabled", default_enabled=True, cleanup=True)
    repo.commit("everyone", at=NOW - DAY)
    subprocess.run(["git", "merge", "-q", "--no-commit", "old"], cwd=repo.path, env=repo.env,
                   capture_output=True, check=False)  # demo.yml conflicts: ours kept
    repo.git("checkout", "-q", "--ours", "--", "flags/demo.yml")
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-edit", at=NOW - DAY)
    code, out = judge(repo, "main", "HEAD")
    assert code == 1 and "error FO201 demo: off → enabled" in out, out
    assert "warning FO209 demo: Flag-Override (incident 1 (for the staging step))" in out, out

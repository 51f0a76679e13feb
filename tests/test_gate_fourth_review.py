"""The fourth review's attacks on the gate, each in a real repository through the command line:
every one of them must be refused (or judged, where it made the gate crash), and the legal
change next to it must still pass."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo, flag_yaml
from test_gate_integrity import flagops

NOW = int(time.time())
CLOCK_DATED = True  # NOW read again as each test starts (conftest)
DAY = 24 * 3600
BETA: dict[str, Any] = {"actors": ("Project:gitlab-org/gitlab",)}


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("pyproject.toml", "[tool.flagops]\n")
    return repo


# A commit whose date git cannot read.

def _commit_dated(repo: Repo, message: str, committer_date: str) -> str:
    """The index committed on main by hand, with `committer_date` as the committer line's
    date: what a push can carry, though `git commit` would not write it."""
    tree = repo.git("write-tree").strip()
    text = (f"tree {tree}\nparent {repo.head()}\nauthor t <t@e> {NOW - DAY} +0000\n"
            f"committer t <t@e> {committer_date}\n\n{message}\n")
    done = subprocess.run(["git", "hash-object", "-t", "commit", "--literally", "-w", "--stdin"],
                          cwd=repo.path, env=repo.env, input=text, capture_output=True,
                          text=True, check=True)
    repo.git("update-ref", "refs/heads/main", done.stdout.strip())
    return done.stdout.strip()


@pytest.mark.parametrize("committer_date", [f"{NOW - 5 * DAY} 0000", f"{NOW - 5 * DAY}",
                                            "+0000"], ids=["unsigned-zone", "no-zone", "no-time"])
@pytest.mark.parametrize("before", [10 * DAY, 60], ids=["soaked", "recent"])
def test_a_commit_whose_date_git_cannot_read_is_judged_not_a_crash(
        repo: Repo, committer_date: str, before: int) -> None:
    """A time zone without its sign (`… 0000`) is only fsck's badTimezone, a check hosts may
    waive; git prints such a commit's `%ct` as nothing. The clock read it with
    `int("")`: once such a commit was on the base branch, every forward step of every flag
    was an internal error (exit 3). It lands as git orders it, dated 0: no earlier than the
    commit before it, like any backdated commit, so its step soaks from that one."""
    repo.write_flag("demo", "off")
    repo.commit("add demo", at=NOW - before)
    repo.write_flag("demo", "staging")
    repo.git("add", "-A")
    sha = _commit_dated(repo, "demo on staging", committer_date)
    assert repo.git("log", "-1", "--format=%ct", sha).strip() == ""
    repo.write_flag("demo", "beta", **BETA)
    code, found, text = flagops(repo, "validate", "--base", "HEAD")
    if before > 15 * 60:
        assert (code, found) == (0, []), text
    else:  # the commit before it is a minute old: staging has not soaked
        assert code == 1 and found == ["FO204:error"], text


# A line break that YAML sees and review does not: the carriage return of old Macs.

FIFTY: dict[str, Any] = {"percentage": ("actors", 50), **BETA}


@pytest.mark.parametrize("mode", [("--base", "HEAD~1", "--head", "HEAD"), ("--staged",)])
def test_a_stage_hidden_behind_a_lone_carriage_return_is_refused(repo: Repo,
                                                                  mode: tuple[str, ...]) -> None:
    """YAML breaks lines at a CR that no LF follows; git counts lines by LF, so the diff
    shows `# rollout notes<CR>stage: enabled` as one line, and a web review renders the CR as
    a space (CSS): a comment. FO104 refused NEL, LS and PS for that, not the CR (ASCII, so
    the check was skipped). The same file with CRLF line ends (one break for everyone)
    still takes a legal step."""
    repo.write_flag("demo", "percentage", percentage=("actors", 100), **BETA)
    repo.commit("demo at 100%", at=NOW - 10 * DAY)
    text = flag_yaml("demo", "enabled", **BETA)
    repo.write("flags/demo.yml", text.replace("stage: enabled",
                                              "# rollout notes\rstage: enabled"))
    if mode[0] == "--staged":
        repo.git("add", "flags/demo.yml")
    else:
        repo.commit("notes", at=NOW - DAY)
    code, found, report = flagops(repo, "validate", *mode)
    assert code == 1 and found == ["FO104:error"], report
    line = text.splitlines().index("stage: enabled") + 1
    assert f"flags/demo.yml:{line}:{len('# rollout notes') + 1}: error FO104 U+000D " in report
    if mode[0] != "--staged":
        repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.write("flags/demo.yml", text.replace("\n", "\r\n"))
    repo.git("add", "flags/demo.yml")
    if mode[0] != "--staged":
        repo.commit("enabled, written on Windows", at=NOW - DAY)
    assert flagops(repo, "validate", *mode)[:2] == (0, [])


# A removal that proves a flag was released must follow a release that was live.

def test_a_change_that_adds_a_released_flag_and_removes_it_proves_nothing(repo: Repo) -> None:
    """Fast-forwarded, a change lands as its own commits, minutes apart by its author's
    honest clock: one adds `brand_new` released, the next removes it, and the change as a
    whole touches no flag (it passes). The release had "landed strictly before the removal",
    so the next change brought `brand_new` back released for everyone as a revert, with no
    step ever judged. A removal counts only after the release was live for the policy's
    default_enabled soak; a removal dated in the future counts from now."""
    repo.write_flag("demo", "beta", **BETA)
    base = repo.commit("demo at beta", at=NOW - 10 * DAY)
    for removed_at in (NOW - 100, NOW + 2 * DAY):
        repo.git("reset", "-q", "--hard", base)
        repo.write_flag("brand_new", "enabled", default_enabled=True, cleanup=True)
        repo.commit("add released", at=NOW - 200)
        (repo.path / "flags/brand_new.yml").unlink()
        removal = repo.commit("remove it again", at=removed_at)
        assert flagops(repo, "validate", "--base", base, "--head", removal)[:2] == (0, [])
        repo.git("revert", "--no-edit", removal, at=max(removed_at, NOW) + 60)
        code, found, text = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
        assert code == 1 and found == ["FO207:error"], text


def test_the_revert_of_the_removal_of_a_flag_released_for_a_day_passes(repo: Repo) -> None:
    """The legal revert next to it: released a day before its removal, it comes back."""
    repo.write_flag("demo", "enabled", default_enabled=True, cleanup=True)
    repo.commit("demo released", at=NOW - 3 * DAY)
    (repo.path / "flags/demo.yml").unlink()
    removal = repo.commit("remove demo", at=NOW - 2 * DAY + 60)
    repo.git("revert", "--no-edit", removal, at=NOW)
    assert flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")[:2] == (0, [])


# A blob git stores in a thousandth of its size.

def test_a_huge_flag_file_is_one_line_and_never_read_whole(repo: Repo) -> None:
    """A file of zeros compresses a thousandfold: a 16 GB "flag file" is a 16 MB push. The
    blob reader read every blob whole, so the gate asked for as much memory as the file held
    (a 300 MB file: 330 MB resident) and a big enough one got CI's job killed. It hands out
    one byte more than any reader accepts, drops the rest, and stays in step with git."""
    import tracemalloc

    from validator.files import MAX_BYTES
    from validator.git import MAX_BLOB_BYTES, BlobReader
    from validator.pyproject_file import MAX_PYPROJECT_BYTES

    # No reader of a blob may accept more than the reader hands out (a flag file, pyproject).
    limit = MAX_BLOB_BYTES
    assert limit == max(MAX_BYTES, MAX_PYPROJECT_BYTES)
    repo.write_flag("demo", "off")
    repo.commit("demo", at=NOW - DAY)
    (repo.path / "flags/huge.yml").write_bytes(bytes(32 * limit))
    repo.commit("a huge flag file", at=NOW - 60)
    code, found, text = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and found == ["FO004:error"], text
    huge = repo.git("rev-parse", "HEAD:flags/huge.yml").strip()
    small = repo.git("rev-parse", "HEAD:flags/demo.yml").strip()
    with BlobReader(repo.path) as reader:
        tracemalloc.start()
        try:
            body, after = reader.read(huge), reader.read(small)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert body == bytes(limit + 1) and peak < 4 * limit
    assert after == (repo.path / "flags/demo.yml").read_bytes()


# A stale flag stays stale whatever the change says its milestone or type is.

@pytest.mark.parametrize("edit", [{"milestone": "'99.0'"}, {"type": "worker"}],
                         ids=["milestone", "type"])
def test_a_step_cannot_make_a_stale_flag_young_by_editing_its_milestone_or_type(
        repo: Repo, edit: dict[str, str]) -> None:
    """With stale_severity = "error" a stale flag's forward step is refused (FO402). Its age
    is counted from its milestone, against its type's lifespan, and both were read from the
    head: the step that also set `milestone: '99.0'` (or `type: worker`, which never goes
    stale) passed. The base's milestone and type count too, as the base's type decides
    `may_skip`; the edit applies from the next change on."""
    repo.write("pyproject.toml", '[tool.flagops]\nstale_severity = "error"\n')
    repo.write("VERSION", "15.0.0-pre\n")  # milestone 13.12 + 6 for beta: stale since 14.6
    repo.write_flag("demo", "staging")
    repo.commit("demo on staging", at=NOW - 10 * DAY)
    text = flag_yaml("demo", "beta", **BETA)
    for key, value in edit.items():
        text = "\n".join(f"{key}: {value}" if line.startswith(f"{key}: ") else line
                         for line in text.splitlines()) + "\n"
    repo.write("flags/demo.yml", text)
    repo.commit("beta, and young again", at=NOW - 60)
    code, found, report = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and found == ["FO402:error"], report
    assert "by its milestone 13.12 and type at the base" in report
    repo.write("flags/demo.yml", text.replace("stage: beta", "stage: off")
               .replace("actors:\n  - Project:gitlab-org/gitlab\n", ""))
    repo.commit("roll back, with the edit", at=NOW - 30)
    assert flagops(repo, "validate", "--base", "HEAD~2", "--head", "HEAD")[:2] == (0, [])


def test_a_move_in_the_change_that_steps_a_stale_flag_restarts_no_count(repo: Repo) -> None:
    """Counted in months, a flag ages from the commit that added its file at its path, so a
    move starts the count again. The path was the head's: a forward step that also moved the
    file (into a team folder) was judged young. The base's path counts for that change; the
    move restarts the count from the next change on, as documented."""
    repo.write("pyproject.toml", '[tool.flagops]\nstale_in_months = true\n'
               'stale_severity = "error"\n')
    repo.write_flag("demo", "staging")
    repo.commit("demo on staging", at=NOW - 300 * DAY)  # beta flags live 6 months
    (repo.path / "flags/demo.yml").unlink()
    repo.write_flag("demo", "beta", folder="flags/team", **BETA)
    repo.commit("beta, in the team's folder", at=NOW - 60)
    code, found, report = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and found == ["FO402:error"], report
    repo.write_flag("demo", "off", folder="flags/team")
    repo.commit("moved, and back to off", at=NOW - 30)  # a rollback: never judged stale
    assert flagops(repo, "validate", "--base", "HEAD~2", "--head", "HEAD")[:2] == (0, [])


@pytest.mark.parametrize("edit", [{"milestone": "'17.10'"}, {"type": "worker"}],
                         ids=["milestone", "type"])
def test_a_rollback_that_edits_the_milestone_or_type_makes_no_stale_flag_young(
        repo: Repo, edit: dict[str, str]) -> None:
    """A rollback is never judged, so the edit it carried was never judged either: a stale
    flag rolled back 50% → 10% with `milestone: '17.10'` (or `type: worker`) in the same
    change passed, as it must, and its next forward step then saw a young flag. The rollback
    still passes; the version before it (and the oldest milestone) judges what follows."""
    repo.write("pyproject.toml", '[tool.flagops]\nstale_severity = "error"\n'
               'current_milestone = "17.10"\n')
    half = {"percentage": ("actors", 50), **BETA}
    repo.write_flag("demo", "percentage", **half)
    repo.commit("demo at 50%", at=NOW - 10 * DAY)
    text = flag_yaml("demo", "percentage", percentage=("actors", 10), **BETA)
    for key, value in edit.items():
        text = "\n".join(f"{key}: {value}" if line.startswith(f"{key}: ") else line
                         for line in text.splitlines()) + "\n"
    repo.write("flags/demo.yml", text)
    repo.commit("back to 10%, and young again", at=NOW - 3600)
    assert flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")[:2] == (0, [])
    repo.write("flags/demo.yml", text.replace("value: 10", "value: 50"))
    repo.commit("50% again", at=NOW - 60)
    code, found, report = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and found == ["FO402:error"], report
    assert "by its milestone 13.12 and type on the base branch" in report
    # Nor does a move in a change of its own, which gives no one more: the history is read
    # for it too (fast-forwarded as a removal then an add, it would be the flag's start).
    repo.git("reset", "-q", "--hard", "HEAD~1")
    (repo.path / "flags/team").mkdir()
    repo.git("mv", "flags/demo.yml", "flags/team/demo.yml")
    code, found, report = flagops(repo, "validate", "--base", "HEAD")
    assert code == 1 and found == ["FO402:error"], report


@pytest.mark.parametrize(("was", "back"), [
    ("staging", "staging"), ("off", "staging"), ("off", "off"), ("staging", "off")])
def test_a_flag_deleted_and_added_again_keeps_its_age(repo: Repo, was: str, back: str) -> None:
    """A change of two commits, fast-forwarded: the file deleted, then added again. It
    changes no flag (or is a rollback), so it passed, and the flag's life on the branch
    started at the add: a stale flag was young again. Put back at a live state, or at off (a
    rule that took an add at off for a new flag was walked round: see the next test), the
    name keeps its age."""
    repo.write("pyproject.toml", '[tool.flagops]\nstale_in_months = true\n'
               'stale_severity = "error"\n')
    repo.write_flag("demo", was)
    repo.commit(f"demo {was}", at=NOW - 300 * DAY)  # beta flags live 6 months
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("demo deleted", at=NOW - 3 * DAY)
    repo.write_flag("demo", back)
    repo.commit(f"demo back at {back}", at=NOW - 2 * DAY)
    repo.write_flag("demo", "beta" if back == "staging" else "staging", **BETA)
    repo.commit("one step on", at=NOW - 60)
    code, found, report = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert (code, found) == (1, ["FO402:error"]), report
    assert "a flag keeps its name's age: a new flag takes a new name" in report


@pytest.mark.parametrize("middle", ["off", "unreadable"])
def test_a_new_life_in_the_middle_of_a_change_is_no_new_life(repo: Repo, middle: str) -> None:
    """Three commits, fast-forwarded: the stale flag's file deleted, added at off (or as a
    file that does not parse), then the old file restored. The change as judged changed
    nothing; commit by commit, the flag was new at the add, and its next step passed."""
    repo.write("pyproject.toml", '[tool.flagops]\nstale_in_months = true\n'
               'stale_severity = "error"\n')
    half = flag_yaml("demo", "percentage", percentage=("actors", 50), **BETA)
    repo.write("flags/demo.yml", half)
    repo.commit("demo at 50%", at=NOW - 300 * DAY)
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("demo deleted", at=NOW - 3 * DAY)
    repo.write("flags/demo.yml", flag_yaml("demo", "off") if middle == "off" else "stage: [\n")
    repo.commit("demo new", at=NOW - 3 * DAY + 60)
    repo.write("flags/demo.yml", half)
    repo.commit("demo as it was", at=NOW - 3 * DAY + 120)
    assert flagops(repo, "validate", "--base", "HEAD~3", "--head", "HEAD")[:2] == (0, [])
    repo.write("flags/demo.yml", half.replace("value: 50", "value: 100"))
    repo.commit("100%", at=NOW - 60)
    code, found, report = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert (code, found) == (1, ["FO402:error"]), report


def test_a_deletion_between_does_not_forget_a_rolled_back_milestone(repo: Repo) -> None:
    """The milestone a rollback edited (never judged) is still the flag's after its file is
    deleted and put back with other words, in two fast-forwarded commits."""
    repo.write("pyproject.toml", '[tool.flagops]\nstale_severity = "error"\n'
               'current_milestone = "17.10"\n')
    repo.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    repo.commit("demo at 50%", at=NOW - 10 * DAY)
    text = flag_yaml("demo", "percentage", percentage=("actors", 10), **BETA).replace(
        "milestone: '13.12'", "milestone: '17.10'")
    repo.write("flags/demo.yml", text)
    repo.commit("back to 10%, milestone 17.10", at=NOW - 7200)
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("demo deleted", at=NOW - 3500)
    repo.write("flags/demo.yml", text.replace("description: ", "description: Now "))
    repo.commit("demo back, other words", at=NOW - 3400)
    assert flagops(repo, "validate", "--base", "HEAD~2", "--head", "HEAD")[:2] == (0, [])
    repo.write("flags/demo.yml", text.replace("description: ", "description: Now ")
               .replace("value: 10", "value: 50"))
    repo.commit("50% again", at=NOW - 60)
    code, found, report = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and found == ["FO402:error"], report


def test_a_move_carried_by_a_rollback_restarts_no_count(repo: Repo) -> None:
    """Counted in months, the age ran from the commit that added the file at its path: a move
    inside a rollback (never judged) made a stale flag new. The age follows the flag by name
    through moves, as `status` counts it."""
    repo.write("pyproject.toml", '[tool.flagops]\nstale_in_months = true\n'
               'stale_severity = "error"\n')
    repo.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    repo.commit("demo at 50%", at=NOW - 300 * DAY)  # beta flags live 6 months
    (repo.path / "flags/demo.yml").unlink()
    repo.write_flag("demo", "percentage", folder="flags/team", percentage=("actors", 10),
                    **BETA)
    repo.commit("moved, and back to 10%", at=NOW - 3600)
    assert flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")[:2] == (0, [])
    repo.write_flag("demo", "percentage", folder="flags/team", percentage=("actors", 50),
                    **BETA)
    repo.commit("50% again", at=NOW - 60)
    code, found, report = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and found == ["FO402:error"], report


# A merge driver that lands other bytes than the merge the gate judged.

def test_a_union_merge_of_flag_files_is_refused(repo: Repo) -> None:
    """`flags/.gitattributes` with `*.yml merge=union` drew no finding at all (nor FO303: it is
    under flags/, and no code owner's). Then a request stepping demo (beta → 10%) next to a
    monitoring edit on the target conflicts for the gate's merge (which reads no attributes),
    so the gate judged the request's head (legal) and passed; a merge that honours the tree's
    attributes keeps both sides' lines, `stage:` twice, and the target no longer builds.
    The attribute is FO011, like a checkout conversion; git's own drivers stay allowed."""
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo at beta", at=NOW - 10 * DAY)
    repo.write("flags/.gitattributes", "*.yml merge=union\n")
    repo.commit("merge flag files by union", at=NOW - 9 * DAY)
    code, found, text = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and found == ["FO011:error"] and "merge=union" in text, text
    repo.git("checkout", "-q", "-b", "mr")
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    repo.commit("10%", at=NOW - 3600)
    repo.git("checkout", "-q", "main")
    repo.write("flags/demo.yml", flag_yaml("demo", "beta", **BETA).replace(
        "Error rates.", "Error rates and latency."))
    repo.commit("monitoring", at=NOW - 1800)
    repo.git("checkout", "-q", "--detach", "mr")
    code, found, text = flagops(repo, "validate", "--base", "main", "--head", "HEAD",
                                "--merged")
    assert code == 1 and "FO011:error" in found, text
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-edit", "mr")
    assert (repo.path / "flags/demo.yml").read_text().count("\nstage: ") == 2  # the landing
    for harmless in ("*.yml merge", "*.yml merge=text", "*.yml -merge", "*.yml merge=binary"):
        repo.write("flags/.gitattributes", f"{harmless}\n")
        repo.write_flag("demo", "off")  # the merged file cannot be read: off is its way out
        repo.commit(f"attributes: {harmless}", at=NOW - 60)
        assert flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")[:2] == (0, [])


# A tree hundreds of folders deep, and a change of thousands of files, in a small push.

def test_a_deep_tree_of_many_files_is_judged_in_linear_time(repo: Repo) -> None:
    """Each folder named *.yml above a file was built again from the path's parts for every
    file (quadratic in the depth), and every name a change touched was one search over the
    whole listing (quadratic in its files): 3,000 files below 680 folders `a.yml`, a push of
    kilobytes that any checkout can hold, took the gate 66 s, and more files took hours. The
    folders longer than a checkout creates are left to FO010, and many names are looked up
    in one pass: the findings name each folder a checkout would make, once."""
    repo.write_flag("demo", "off")
    base = repo.commit("demo", at=NOW - DAY)
    folder = "flags/" + "/".join(["a.yml"] * 600)
    stream = [f"commit refs/heads/deep\ncommitter t <t@e> {NOW} +0000\ndata 4\ndeep\n"
              f"from {base}\n".encode()]
    stream += [f"M 100644 inline {folder}/n{i}.txt\ndata 2\nx\n".encode() for i in range(300)]
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo.path, env=repo.env,
                   input=b"".join(stream) + b"\n", check=True)
    repo.git("checkout", "-q", "deep")
    code, found, text = flagops(repo, "validate", "--base", base, "--head", "HEAD",
                                "--all-files")
    folders = [line for line in text.splitlines() if line.startswith("flags/a.yml")]
    assert code == 1 and set(found) == {"FO009:error"}, text[-300:]
    creatable = [k for k in range(1, 601) if len("flags/" + "/a.yml" * k) <= 1024 + 1]
    assert len(folders) == len(set(folders)) == len(creatable) == 169


class _CountedPath(str):
    """A path that counts how often it is asked whether it starts with something."""

    asked = 0

    def startswith(self, *args: Any) -> bool:
        _CountedPath.asked += 1
        return super().startswith(*args)


def test_whether_a_change_caused_a_finding_is_not_asked_of_every_path_it_touched() -> None:
    """A change that only rolls back (a change of broken files counts as one: it steps no flag)
    passes findings it did not cause. Each finding was compared with every path the change
    touched: a change of 10,000 broken flag files held the gate 32 s, a push of 100,000 such
    files (3 MB) most of an hour. Now a folder is looked up among the sorted paths."""
    from validator import git
    from validator.compare import _touched
    from validator.findings import RULES, START
    from validator.head_listing import TREE, Listing

    paths = [_CountedPath(f"flags/f{i}.yml") for i in range(2000)]
    changes = [git.Change(path, None, git.Entry(path, "100644", "0" * 40)) for path in paths]
    touched = _touched(changes, Listing("", TREE))
    findings = [RULES["FO001"].at(path, START, "invalid YAML") for path in paths[::100]]
    findings += [RULES["FO009"].at("flags", START, "the folder"),
                 RULES["FO009"].at("flags/elsewhere", START, "not touched")]
    _CountedPath.asked = 0
    assert [touched.caused(finding) for finding in findings] == [True] * 21 + [False]
    assert _CountedPath.asked <= 2 * len(findings)

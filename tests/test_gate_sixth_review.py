"""The sixth review's attacks on the gate and the commands around it, each in a real repository
through the command line: every one of them must be refused (or answered in one line, never a
hang), and the legal change next to it must still pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo, flag_yaml
from test_gate_fourth_review import BETA, DAY, NOW
from test_gate_integrity import flagops

CLOCK_DATED = True  # NOW read again as each test starts (conftest)

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("pyproject.toml", "[tool.flagops]\n")
    return repo


# 1. A base policy this clone cannot read is no policy: not the defaults.

def test_a_base_policy_whose_blob_is_missing_is_refused_not_read_as_the_defaults(
        repo: Repo) -> None:
    """`policy_at` read a blob git does not have (a partial clone that cannot fetch, a damaged
    one) as no bytes, which is the defaults: a step the base's policy refuses (here a soak of
    100,000 minutes) passed under the default 15. It is FO301 now, as an unreadable policy is;
    the flag turned off still passes, as there."""
    repo.write("pyproject.toml", "[tool.flagops.soak_minutes]\nbeta = 100000\n")
    repo.write_flag("demo", "staging")
    repo.commit("demo at staging", at=NOW - DAY)
    policy = repo.git("rev-parse", "HEAD:pyproject.toml").strip()
    repo.write_flag("demo", "off")
    turned_off = repo.commit("demo off", at=NOW - 120)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo at beta", at=NOW - 60)
    rangespec = ("validate", "--base", "HEAD~1", "--head", "HEAD")
    assert flagops(repo, *rangespec)[:2] == (1, ["FO204:error"])
    (repo.path / ".git" / "objects" / policy[:2] / policy[2:]).unlink()
    code, found, text = flagops(repo, *rangespec)
    assert (code, found) == (1, ["FO301:error"]) and "git has no blob" in text, text
    assert flagops(repo, "validate", "--base", "HEAD~1", "--head", turned_off)[:2] == \
        (0, ["FO301:warning"])


# 2. Never a hang: a FIFO where git opens a file by name in the working tree.

def _flagops_process(repo: Repo, *args: str) -> subprocess.CompletedProcess[str] | None:
    """`flagops -C repo ARGS` as a process; None when it is still running after 30 s."""
    try:
        return subprocess.run([sys.executable, "-m", "validator", "-C", str(repo.path), *args],
                              cwd=REPO_ROOT, env=repo.env, capture_output=True, text=True,
                              timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return None


_COMMANDS = {
    "validate --base": ("validate", "--base", "HEAD"),
    "plan": ("plan", "--base", "HEAD"),
    "new": ("new", "fresh", "-t", "beta", "-g", "group::a", "-M", "1.0"),
    "rollback": ("rollback", "demo"),
    "remove": ("remove", "keep"),
    "refs": ("refs",),
    "status": ("status",),
    "history": ("history", "demo"),
    "validate --staged": ("validate", "--staged"),
    "validate --merged": ("validate", "--base", "HEAD", "--head", "HEAD", "--merged"),
}


@pytest.mark.parametrize(("fifo", "commands"), [
    (".gitattributes", ("validate --base", "plan", "new", "rollback", "remove", "refs")),
    ("flags/.gitattributes", ("validate --base", "new", "rollback", "status")),
    (".gitignore", ("refs", "status", "remove")),
    ("notes/deep/.gitignore", ("refs", "status")),  # an untracked folder git grep walks
    ("validator/new/.gitignore", ("validate --base", "new")),  # one the diff's ls-files walks
])
def test_a_fifo_git_would_read_as_attributes_or_ignore_rules_is_one_line_not_a_hang(
        repo: Repo, fifo: str, commands: tuple[str, ...]) -> None:
    """Git 2.39 opens .gitattributes (to hash a file whose stat changed, for `git diff` against
    the working tree, and for check-attr) and .gitignore (for `ls-files --exclude-standard`
    and `grep --untracked`) in the folders it reads, FIFO or not: `validate --base HEAD`, plan
    and every authoring command (their `git diff`), refs, status and remove (their `git
    grep`) waited forever for a writer, in the root, a tracked folder or an untracked one those
    walks enter. Each now says which file, in one line, and exits 1."""
    repo.write_flag("demo", "staging")
    repo.write_flag("keep", "off")
    repo.commit("demo and keep", at=NOW - DAY)
    (repo.path / fifo).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(repo.path / fifo)
    later = (repo.path / "flags/demo.yml").stat().st_mtime + 10
    os.utime(repo.path / "flags/demo.yml", (later, later))  # git must hash it again
    for command in commands:
        done = _flagops_process(repo, *_COMMANDS[command])
        assert done is not None, f"flagops {command} hung on a FIFO at {fifo}"
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr == f"flagops: error: {fifo} is a FIFO, not a regular file: git " \
            "reads it by that name and would wait on it forever; remove it\n", command
    os.unlink(repo.path / fifo)
    done = _flagops_process(repo, "validate", "--base", "HEAD")
    assert done is not None and done.returncode == 0, done


@pytest.mark.parametrize("linked", [False, True], ids=["fifo", "link-to-fifo"])
@pytest.mark.parametrize("fifo", [".git/info/exclude", ".git/info/attributes",
                                  "~/.config/git/ignore", "~/.config/git/attributes",
                                  "excludesFile", "attributesFile"])
def test_a_fifo_git_reads_its_own_ignore_or_attributes_from_is_one_line_not_a_hang(
        repo: Repo, fifo: str, tmp_path: Path, linked: bool) -> None:
    """Beside the work tree's .gitignore and .gitattributes, git opens by name, FIFO or not,
    $GIT_DIR/info/exclude and core.excludesFile (by default $XDG_CONFIG_HOME/git/ignore) for
    every walk for untracked files, and $GIT_DIR/info/attributes and core.attributesFile (by
    default …/git/attributes) for every attribute lookup: refs, remove and `validate --base
    HEAD` waited forever on a FIFO at .git/info/exclude. Each is now refused in one line that
    names it, before git is started; through a link to a FIFO too (git follows it there), and
    for the hook (`--staged`) and a merge (`--merged`) as well."""
    repo.write_flag("demo", "staging")
    repo.write_flag("keep", "off")
    repo.write("app/user.rb", "Feature.enabled?(:demo)\n")
    repo.commit("demo and keep", at=NOW - DAY)
    if fifo.startswith("~/"):
        path = Path(repo.env["XDG_CONFIG_HOME"]) / fifo.removeprefix("~/.config/")
        shown = str(path)
    elif fifo.startswith(".git/"):
        path, shown = repo.path / fifo, fifo
    else:
        path = tmp_path / f"my-{fifo}"
        shown = str(path)
        repo.git("config", f"core.{fifo}", shown)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    if linked:
        os.mkfifo(tmp_path / "the-fifo")
        path.symlink_to(tmp_path / "the-fifo")
    else:
        os.mkfifo(path)
    later = (repo.path / "flags/demo.yml").stat().st_mtime + 10
    os.utime(repo.path / "flags/demo.yml", (later, later))  # git must hash it again
    for command in ("validate --base", "refs", "remove", "status", "validate --staged",
                    "validate --merged"):
        done = _flagops_process(repo, *_COMMANDS[command])
        assert done is not None, f"flagops {command} hung on a FIFO at {fifo}"
        assert (done.returncode, done.stderr) == (1, f"flagops: error: {shown} is a FIFO, not "
                                                  "a regular file: git reads it by that name "
                                                  "and would wait on it forever; remove it\n"), \
            command
    os.unlink(path)
    done = _flagops_process(repo, "validate", "--base", "HEAD")
    assert done is not None and done.returncode == 0, done


def test_dev_null_as_the_users_own_ignore_or_attributes_file_is_fine(repo: Repo) -> None:
    """`core.excludesFile = /dev/null` turns the user's own ignores off, and git reads it as
    empty: taken for a device git would wait on, it refused every command, rollbacks too."""
    repo.write_flag("demo", "staging")
    repo.commit("demo", at=NOW - DAY)
    repo.git("config", "core.excludesFile", os.devnull)
    repo.git("config", "core.attributesFile", os.devnull)
    for command in ("validate --base", "rollback", "refs", "status", "validate --staged"):
        done = _flagops_process(repo, *_COMMANDS[command])
        assert done is not None and done.returncode == 0, (command, done)


def test_the_reference_search_checks_only_the_folders_its_grep_walks(repo: Repo) -> None:
    """`git grep --untracked` leaves out flags/ and never walks it, nor opens an ignore file
    there; the check before it walked all of flags/ for untracked folders (0.16 s at
    100,000 flags) and refused a FIFO .gitignore the grep would never have opened. It now
    asks for the folders the grep walks: flags/ is not among them, a folder beside it is."""
    repo.write_flag("demo", "staging")
    repo.write("app/user.rb", "Feature.enabled?(:demo)\n")
    repo.commit("demo, used", at=NOW - DAY)
    (repo.path / "flags/new").mkdir()
    os.mkfifo(repo.path / "flags/new/.gitignore")
    done = _flagops_process(repo, "refs", "demo")
    assert done is not None, "refs hung on a FIFO in flags/, which its grep does not walk"
    assert (done.returncode, done.stdout) == (0, "demo: 1 reference(s)\n  app/user.rb:1:1\n")
    (repo.path / "notes/new").mkdir(parents=True)
    os.mkfifo(repo.path / "notes/new/.gitignore")
    done = _flagops_process(repo, "refs", "demo")
    assert done is not None and done.returncode == 1, done
    assert done.stderr.startswith("flagops: error: notes/new/.gitignore is a FIFO"), done


@pytest.mark.parametrize("folder", ["n*[x]", "new\nline", ":(glob)odd", "sp ace", "\u00e9t\u00e9"])
def test_an_untracked_folder_of_any_name_beside_flags_is_checked(repo: Repo,
                                                                 folder: str) -> None:
    """The root's entries go to git as literal pathspecs: a folder whose name is a glob, a
    pathspec's magic, or holds a newline is still walked, and its FIFO refused."""
    from validator import git
    from validator.git import grep

    repo.write_flag("demo", "staging")
    repo.write("app/user.rb", "Feature.enabled?(:demo)\n")
    repo.commit("demo, used", at=NOW - DAY)
    (repo.path / folder / "deep").mkdir(parents=True)
    os.mkfifo(repo.path / folder / "deep/.gitignore")
    with pytest.raises(git.BlockingFile, match="is a FIFO"):
        grep.grep(repo.path, [r"Feature\.enabled\?\(:demo"], exclude=("flags/",))


def test_a_root_of_many_entries_is_checked_whole(repo: Repo,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MOST_PATHSPECS entries in the root, the check asks about the whole tree, as it did
    before: slower, and it refuses the FIFO in flags/ that the grep would not open, but its
    command line stays within what the system takes."""
    from validator import git
    from validator.git import grep

    repo.write_flag("demo", "staging")
    repo.write("app/user.rb", "Feature.enabled?(:demo)\n")
    repo.write("lib/other.rb", "\n")
    repo.commit("demo, used", at=NOW - DAY)
    (repo.path / "flags/new").mkdir()
    os.mkfifo(repo.path / "flags/new/.gitignore")
    pattern = [r"Feature\.enabled\?\(:demo"]
    assert [hit.path for hit in grep.grep(repo.path, pattern, exclude=("flags/",))] == \
        ["app/user.rb"]
    monkeypatch.setattr(grep, "MOST_PATHSPECS", 1)
    with pytest.raises(git.BlockingFile, match=r"flags/new/\.gitignore is a FIFO"):
        grep.grep(repo.path, pattern, exclude=("flags/",))


def test_a_fifo_named_mailmap_is_not_read_by_history(repo: Repo) -> None:
    """`git log` reads the working tree's .mailmap (log.mailmap is on since git 2.29) when it
    shows an author: history, status and rollback waited forever on a FIFO there. The gate
    pins log.mailmap off (PINNED_CONFIG): authors are shown as committed."""
    repo.write_flag("demo", "staging")
    repo.commit("demo", at=NOW - DAY)
    os.mkfifo(repo.path / ".mailmap")
    for command in ("history", "status"):
        done = _flagops_process(repo, *_COMMANDS[command])
        assert done is not None, f"flagops {command} hung on a FIFO at .mailmap"
        assert done.returncode == 0, done.stderr
    shown = _flagops_process(repo, "history", "demo")
    assert shown is not None and "Flag Tester" in shown.stdout


# 3. The commits as recorded: no replacement object, no graft.

def test_a_replace_ref_in_the_clone_does_not_change_the_base_the_gate_judges(
        repo: Repo) -> None:
    """`git replace` of the base's flag blob (by any job on a runner that keeps its clone
    between jobs, or by hand) made the gate read another base state: staging → enabled, a
    skip (FO201), passed as percentage 100% → enabled. The gate reads objects as recorded
    (core.useReplaceRefs pinned off)."""
    from gitrepo import flag_yaml

    repo.write_flag("demo", "staging")
    repo.commit("demo at staging", at=NOW - 10 * DAY)
    recorded = repo.git("rev-parse", "HEAD:flags/demo.yml").strip()
    repo.write_flag("demo", "enabled")
    repo.commit("demo enabled", at=NOW - 60)
    rangespec = ("validate", "--base", "HEAD~1", "--head", "HEAD")
    assert flagops(repo, *rangespec)[:2] == (1, ["FO201:error"])
    fake = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo.path, env=repo.env,
                          input=flag_yaml("demo", "percentage", percentage=("actors", 100),
                                          actors=["Project:a/b"]),
                          capture_output=True, text=True, check=True).stdout.strip()
    repo.git("replace", recorded, fake)
    assert flagops(repo, *rangespec)[:2] == (1, ["FO201:error"])


def test_a_graft_in_the_clone_does_not_move_when_a_state_landed(repo: Repo) -> None:
    """.git/info/grafts (git 2.39 honours it) gave the commit that put demo at staging a
    minute ago a parent where demo was at staging nine days ago: the state seemed to have
    landed then, and beta passed its soak. The gate reads no grafts (GIT_GRAFT_FILE)."""
    repo.write_flag("demo", "off")
    repo.commit("demo", at=NOW - 10 * DAY)
    repo.git("checkout", "-q", "-b", "old")
    repo.write_flag("demo", "staging")
    old = repo.commit("staging long ago, elsewhere", at=NOW - 9 * DAY)
    repo.git("checkout", "-q", "main")
    repo.write_flag("demo", "staging")
    staging = repo.commit("demo at staging", at=NOW - 120)
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo at beta", at=NOW - 60)
    rangespec = ("validate", "--base", "HEAD~1", "--head", "HEAD")
    assert flagops(repo, *rangespec)[:2] == (1, ["FO204:error"])
    (repo.path / ".git/info").mkdir(exist_ok=True)
    (repo.path / ".git/info/grafts").write_text(f"{staging} {old}\n")
    assert repo.git("rev-parse", f"{staging}^").strip() == old  # git itself honours it
    assert flagops(repo, *rangespec)[:2] == (1, ["FO204:error"])


# 4. Case twins as NTFS sees them: by each character's uppercase.

# The dotless-i twin of .gitattributes (FO010) is a case of the fifth review's case-twin
# test: tests/test_gate_fifth_review.py, test_a_case_twin_of_gitattributes_is_refused.


# 5. Paths given to validate: a symlink is judged as a symlink.

@pytest.mark.parametrize("given", ["flags/loop.yml", "flags/link.yml", "flags"])
def test_a_symlink_given_to_validate_is_judged_as_a_symlink(repo: Repo, given: str) -> None:
    """`flagops validate PATH` resolved every path it was given (and every file under a folder
    given) to its target: a flag file that is a symlink to a valid flag elsewhere passed as
    that file, where the walk and `build` refuse it (FO009), and a symlink loop was an
    internal error (exit 3, RuntimeError). Both are FO009 now, in one finding each."""
    repo.write_flag("keep", "off")
    repo.write_flag("link", "off", folder="elsewhere")
    repo.commit("keep", at=NOW - DAY)
    (repo.path / "flags/link.yml").symlink_to("../elsewhere/link.yml")
    (repo.path / "flags/loop.yml").symlink_to("loop.yml")
    done = _flagops_process(repo, "validate", given)
    assert done is not None and done.returncode == 1, done
    shown = [given] if given != "flags" else ["flags/link.yml", "flags/loop.yml"]
    assert all(f"{path}:1:1: error FO009 {path} is a symlink" in done.stdout for path in shown), \
        done.stdout + done.stderr


def test_git_never_waits_on_a_person() -> None:
    """A remote asking for a password (a partial clone fetching a missing blob) prompted on
    the hook's terminal: every git process of the gate runs without a prompt."""
    from validator import git

    assert git.environment({})["GIT_TERMINAL_PROMPT"] == "0"


def test_the_judge_fetches_no_blob_it_refuses_to_read(repo: Repo,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Blobs are streamed from git a batch at a time; one of a path the judge refuses
    before reading (a control character in its name) was fetched and held to the end, a
    MiB each: a push of such files held gigabytes."""
    from validator import git

    fetched: list[str] = []
    prefetch = git.BlobReader.prefetch

    def recording(self: git.BlobReader, oids: Any) -> None:
        wanted = list(oids)
        fetched.extend(wanted)
        prefetch(self, wanted)

    monkeypatch.setattr(git.BlobReader, "prefetch", recording)
    for number in range(3):
        repo.write_flag(f"fine_{number}")
        repo.write(f"flags/tab\t{number}.yml", f"name: tab_{number}\n")
    repo.git("add", "-A")
    code, found, _ = flagops(repo, "validate", "--staged")
    assert code == 1 and found.count("FO010:error") == 3
    refused = {repo.git("rev-parse", f":flags/tab\t{number}.yml").strip() for number in range(3)}
    assert fetched and not refused & set(fetched)


def test_a_lazy_fetch_that_never_ends_is_bounded_and_a_stopped_reader_says_why(
        repo: Repo) -> None:
    """A partial clone fetches a missing blob from its remote; one that takes the connection
    and never answers held the gate without end. git gives up under a byte a second for
    30 s (http.lowSpeed*, pinned), and the reader it leaves says so in one line: it wrote
    "Broken pipe"."""
    from validator import git

    settings = dict(git.PINNED_CONFIG)
    assert (settings["http.lowSpeedLimit"], settings["http.lowSpeedTime"]) == ("1", "30")
    repo.write_flag("demo", "off")
    oid = repo.git("rev-parse", f"{repo.commit('demo', at=NOW)}:flags/demo.yml").strip()
    with git.BlobReader(repo.path) as reader:
        reader._process.kill()  # as git stops when the fetch gives up
        reader._process.wait()
        reader.prefetch([oid])  # the writer's broken pipe is no traceback
        for _ in range(2):  # never read as "no such blob", the prefetched one or any after
            with pytest.raises(git.GitError, match=r"cat-file stopped before it gave .*"
                               "--refetch"):
                reader.read(oid)


def _stale_history(repo: Repo) -> str:
    """A flag 50% on at milestone 13.12 (stale by 17.10, an error), rolled back to 10% with
    its milestone edited to 17.10 (young): the oldest version, the base's history, is what
    judges it. The oldest version's blob is returned."""
    repo.write("pyproject.toml", '[tool.flagops]\nstale_severity = "error"\n'
               'current_milestone = "17.10"\n')
    repo.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    old = repo.git("rev-parse", f"{repo.commit('50', at=NOW - 10 * DAY)}:flags/demo.yml")
    repo.write("flags/demo.yml", flag_yaml("demo", "percentage", percentage=("actors", 10),
                                           **BETA).replace("'13.12'", "'17.10'"))
    repo.commit("back to 10, young", at=NOW - 7200)
    return old.strip()


def _fifty_again(repo: Repo) -> None:
    repo.write("flags/demo.yml", flag_yaml("demo", "percentage", percentage=("actors", 50),
                                           **BETA).replace("'13.12'", "'17.10'"))
    repo.commit("50 again", at=NOW - 60)


def test_a_partial_clone_whose_fetch_fails_stops_the_gate_in_one_line(repo: Repo,
                                                                      tmp_path: Path) -> None:
    """A CI clone made with --filter=blob:none reads older versions by lazy fetch. Where the
    remote is gone, git cat-file stops in the middle of a batch: every blob left in it read
    as "none", the flag's stale version was dropped from its history and the step passed
    with no word (read one by one, it was refused). Now every read the stopped reader did
    not answer says so in one line, for the history (`validate --base`), the compare's own
    base file and the catalog's histories (`build --history` wrote one "outside a git
    repository") alike."""
    _stale_history(repo)
    origin = repo.publish(tmp_path / "origin.git")
    repo.git("-C", str(origin), "config", "uploadpack.allowFilter", "true")
    clones = []
    for name in ("ci", "ci2"):
        repo.git("clone", "-q", "--filter=blob:none", f"file://{origin}", str(tmp_path / name))
        clone = Repo(tmp_path / name, tmp_path / "home")
        clone.git("config", "commit.gpgsign", "false")
        _fifty_again(clone)
        clones.append(clone)
    code, found, text = flagops(clones[0], "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert (code, found) == (1, ["FO402:error"]), text  # the remote answers: judged
    origin.rename(tmp_path / "gone.git")
    for command in (("validate", "--base", "HEAD~1", "--head", "HEAD"),  # the history
                    ("validate", "--base", "HEAD~2", "--head", "HEAD~1"),  # the base file
                    ("build", "--history")):  # the catalog's: it said "no repository"
        done = _flagops_process(clones[1], *command)
        assert done is not None and done.returncode == 1, done
        assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, done
        assert done.stderr.startswith("flagops: error: git cat-file stopped before it gave "), \
            done.stderr


def test_a_version_of_the_history_git_does_not_have_is_no_missing_version(
        repo: Repo) -> None:
    """A version in the flag's history whose blob this clone does not hold (a damaged
    clone: git answers "missing") was read as no version, and the stale milestone it held
    judged nothing: the step passed. The history is as cut now: FO205, at stale_severity."""
    old = _stale_history(repo)
    _fifty_again(repo)
    rangespec = ("validate", "--base", "HEAD~1", "--head", "HEAD")
    assert flagops(repo, *rangespec)[:2] == (1, ["FO402:error"])
    (repo.path / ".git" / "objects" / old[:2] / old[2:]).unlink()
    code, found, text = flagops(repo, *rangespec)
    assert (code, found) == (1, ["FO205:error"]) and f"flags/demo.yml ({old})" in text, text

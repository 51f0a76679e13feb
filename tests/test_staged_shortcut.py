"""`validate --staged` with no flag file staged answers from git's list of staged paths alone;
that answer must be the full judge's, word for word, and any doubt must go to the judge."""

from __future__ import annotations

import argparse
import subprocess
import sys
import types
from pathlib import Path
from unittest import mock

import pytest
from gitrepo import EPOCH, Repo, flag_yaml

from validator.compare import RangeRequest, judge_range
from validator.staged import without_flags


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/demo.yml", flag_yaml("demo", "staging"))
    repo.write("README.md", "# flags\n")
    repo.commit("demo at staging", at=EPOCH - 86_400)
    return repo


def _judged(repo: Repo) -> tuple[object, ...]:
    report = judge_range(repo.path, RangeRequest(None, staged=True), now=EPOCH)
    return tuple(report.findings), tuple(report.checked), tuple(report.notes)


@pytest.mark.parametrize("staged", [
    {},
    {"README.md": "# flags, again\n"},
    {"docs/how.md": "how\n", "docs/img.txt": "x\n"},
    {"app/main.py": "print(1)\n", "app/other.py": "", ".gitlab-ci.yml": "x: 1\n"},
    {"flags.md": "not a flag\n", "flagsx/a.yml": "a: 1\n"},
])
def test_the_shortcut_says_what_the_judge_says(repo: Repo, staged: dict[str, str]) -> None:
    for path, text in staged.items():
        repo.write(path, text)
        repo.git("add", "--", path)
    shortcut = without_flags(repo.path)
    assert shortcut is not None
    assert (tuple(shortcut.findings), tuple(shortcut.checked), tuple(shortcut.notes)) == \
        _judged(repo)


@pytest.mark.parametrize("staged", [
    {"flags/demo.yml": flag_yaml("demo", "beta")},
    {"flags/other.yaml": "name: other\n"},
    {"pyproject.toml": "[tool.flagops]\nallow_overrides = false\n"},
    {".gitattributes": "*.yml text\n"},
])
def test_anything_about_flags_goes_to_the_judge(repo: Repo, staged: dict[str, str]) -> None:
    for path, text in staged.items():
        repo.write(path, text)
        repo.git("add", "--", path)
    assert without_flags(repo.path) is None


def test_an_attributes_file_in_flags_goes_to_the_judge_even_unchanged(repo: Repo) -> None:
    repo.write("flags/.gitattributes", "*.yml ident\n")
    repo.commit("attributes", at=EPOCH - 3_600)
    assert without_flags(repo.path) is None


def test_a_repository_without_commits_goes_to_the_judge(tmp_path: Path) -> None:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    assert without_flags(repo.path) is None


def _hook_imports(repo: Repo, *modules: str) -> tuple[str, list[str]]:
    """`validate --staged` in a fresh interpreter, in the repository as pre-commit runs it:
    its output, and which of modules it imported."""
    probe = ("import sys; from validator.cli import main; code = main(['validate', "
             "'--staged']); print(code, *[m for m in sys.argv[1:] if m in sys.modules])")
    done = _in_repo(repo, probe, *modules, check=True)
    return done.stdout, done.stdout.splitlines()[-1].split()


def _in_repo(repo: Repo, probe: str, *args: str, folder: str = "",
             check: bool = False) -> subprocess.CompletedProcess[str]:
    """`python -c probe args` in a fresh interpreter, in `folder` of the repository, where
    pre-commit runs the hook."""
    (repo.path / folder).mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                          check=check, env=repo.env, cwd=repo.path / folder)


def test_the_shortcut_imports_neither_model_nor_parser(repo: Repo) -> None:
    repo.write("app/main.py", "print(1)\n")
    repo.git("add", "--", "app/main.py")
    out, imported = _hook_imports(repo, "pydantic", "ruamel.yaml", "jsonschema",
                                  "validator.model", "dataclasses", "tempfile", "decimal",
                                  "json", "argparse", "validator.arguments")
    assert imported == ["0"]
    assert "FO303" in out


def test_the_hooks_line_is_read_as_argparse_reads_it() -> None:
    """The hook's command line is answered without argparse (validator.cli `HOOK_LINE`): the
    options its shortcut reads must be what the grammar makes of that line, and the line
    must be the one the hook definition runs."""
    from validator.arguments import build_parser
    from validator.cli import HOOK_LINE, _hook_shortcut

    parsed = vars(build_parser(HOOK_LINE).parse_args(HOOK_LINE))
    seen: dict[str, object] = {}

    def kept(args: types.SimpleNamespace, out: object) -> int:
        seen.update(vars(args))
        return 0

    with mock.patch("validator.staged.shortcut", kept), \
            mock.patch("validator.cli._settle_root", lambda args: None):
        assert _hook_shortcut(sys.stdout) == 0
    assert seen and seen == {key: parsed[key] for key in seen}
    hooks = (Path(__file__).parents[1] / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert f"entry: flagops {' '.join(HOOK_LINE)}\n" in hooks
    assert "pass_filenames: false" in hooks and "\n  args:" not in hooks


def test_the_hooks_line_with_a_flag_staged_runs_the_command_once(repo: Repo) -> None:
    """The shortcut says no once; the command then runs on the line argparse parsed, and the
    shortcut is not asked again (git's three questions twice)."""
    repo.write("flags/demo.yml", flag_yaml("demo", "beta"))
    repo.git("add", "--", "flags/demo.yml")
    probe = ("import sys, validator.staged as s; calls = []; asked = s.without_flags; "
             "s.without_flags = lambda root: calls.append(root) or asked(root); "
             "from validator.cli import main; code = main(['validate', '--staged']); "
             "print(code, len(calls))")
    done = _in_repo(repo, probe, check=True)
    assert done.stdout.splitlines()[-1] == "1 1"
    assert "FO130" in done.stdout


def test_the_judge_of_a_staged_flag_imports_no_merged_config(repo: Repo) -> None:
    """The hook judges a step with the gates (validator.gates), not with the merged config's
    models and the catalog's (about 20 ms of a hook's imports)."""
    repo.write("flags/demo.yml", flag_yaml("demo", "beta", actors=["User:1"]))
    repo.git("add", "--", "flags/demo.yml")
    _, imported = _hook_imports(repo, "validator.build", "validator.flag_summary",
                                "validator.gates")
    assert imported == ["0", "validator.gates"]


def test_the_judge_of_a_staged_flag_looks_for_no_pydantic_plugin(repo: Repo) -> None:
    """flagops's own process turns pydantic's plugins off, and pydantic's loader, which would
    only answer "none", is not imported (with it importlib.metadata and 35 modules)."""
    repo.write("flags/demo.yml", flag_yaml("demo", "beta", actors=["User:1"]))
    repo.git("add", "--", "flags/demo.yml")
    _, imported = _hook_imports(repo, "pydantic", "importlib.metadata")
    assert imported == ["0", "pydantic"]


def test_a_users_own_plugin_setting_keeps_pydantics_loader(repo: Repo) -> None:
    repo.write("flags/demo.yml", flag_yaml("demo", "beta", actors=["User:1"]))
    repo.git("add", "--", "flags/demo.yml")
    repo.env["PYDANTIC_DISABLE_PLUGINS"] = "some_plugin"
    _, imported = _hook_imports(repo, "pydantic", "pydantic.plugin._loader")
    assert imported == ["0", "pydantic", "pydantic.plugin._loader"]


def test_pydantic_takes_only_get_plugins_from_its_plugin_loader() -> None:
    """What flagops registers in the loader's place (validator.cli) has that one function: a
    pydantic that takes more from it is caught here, before a run fails on it."""
    import pydantic

    package = Path(pydantic.__file__).parent
    taken = {(path.relative_to(package).as_posix(), line.strip())
             for path in package.rglob("*.py") if path.name != "_loader.py"
             for line in path.read_text("utf-8").splitlines() if "_loader" in line
             and "import" in line}
    assert taken == {("plugin/_schema_validator.py", "from ._loader import get_plugins")}


def test_the_shortcut_is_not_taken_when_the_range_is_widened(repo: Repo) -> None:
    from validator.staged import shortcut

    args = argparse.Namespace(staged=True, base="HEAD", head=None, merged=False,
                              all_files=False, root=str(repo.path), formats=None, outputs=None)
    assert shortcut(args, sys.stdout) is None


# HEAD's first-parent line, read while the judge loads ----------------------------------------


def test_a_flag_change_reads_heads_line_ahead_and_the_judge_takes_exactly_that(
        repo: Repo) -> None:
    """The line read ahead is the one `first_parent_line` reads itself, for that root and
    commit only, and every ask of the run gets that one read, parsed once."""
    from validator.git import log as git_log

    repo.write("flags/demo.yml", flag_yaml("demo", "actors", actors=["User:1"]))
    repo.git("add", "--", "flags/demo.yml")
    head = repo.git("rev-parse", "HEAD").strip()
    try:
        assert without_flags(repo.path) is None
        assert set(git_log._AHEAD) == {(repo.path, head)}
        ahead = git_log.first_parent_line(repo.path, head)
        assert git_log.first_parent_line(repo.path / "flags", head) == ahead  # read itself
        assert git_log.first_parent_line(repo.path, head) is ahead
        assert set(git_log._AHEAD) == {(repo.path, head)}
    finally:
        git_log.drop_line_ahead()
    assert git_log._AHEAD == {}


def test_a_line_read_ahead_serves_only_the_run_that_started_it(repo: Repo) -> None:
    """A judge that needs no soak time leaves the line unread; validate drops it, so no later
    run in the process (a library caller, a test) takes what git said then."""
    from validator.cli import main
    from validator.git import log as git_log

    repo.write("flags/demo.yml", flag_yaml("demo", "off"))  # a rollback: no soak to time
    repo.git("add", "--", "flags/demo.yml")
    assert main(["-C", str(repo.path), "validate", "--staged"], out=sys.stdout) == 0
    assert git_log._AHEAD == {}


def test_a_commit_landing_meanwhile_is_judged_by_its_own_line(repo: Repo) -> None:
    """Read ahead for one commit, asked for another (HEAD moved): git is asked again, and
    the answer is the new commit's line."""
    from validator.git import log as git_log

    old = repo.head()
    repo.write("README.md", "# flags, later\n")
    new = repo.commit("later", at=EPOCH)
    git_log.read_line_ahead(repo.path, old)
    try:
        line = git_log.first_parent_line(repo.path, new)
        assert [commit.sha for commit in line] == [new, old]
        assert set(git_log._AHEAD) == {(repo.path, old)}
    finally:
        git_log.drop_line_ahead()


Spied = tuple[list[tuple[Path, str]], list[dict[tuple[Path, str], bool]]]


@pytest.fixture
def spied_line(monkeypatch: pytest.MonkeyPatch) -> Spied:
    """Which lines a run read ahead, and at its end whether the judge had taken each."""
    from validator.git import log as git_log

    started: list[tuple[Path, str]] = []
    left: list[dict[tuple[Path, str], bool]] = []
    real_read, real_drop = git_log.read_line_ahead, git_log.drop_line_ahead

    def read(root: Path, commit: str) -> None:
        started.append((root, commit))
        real_read(root, commit)

    def drop() -> None:
        left.append({key: ahead._line is not None for key, ahead in git_log._AHEAD.items()})
        real_drop()

    monkeypatch.setattr(git_log, "read_line_ahead", read)
    monkeypatch.setattr(git_log, "drop_line_ahead", drop)
    return started, left


def _backdated_repo(tmp_path: Path) -> Repo:
    """demo at staging in a commit backdated below one dated tomorrow; beta staged."""
    import time

    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/demo.yml", flag_yaml("demo", "off"))
    now = int(time.time())
    repo.commit("demo off", at=now - 30 * 86_400)
    repo.write("README.md", "# dated tomorrow\n")
    repo.commit("a commit from the future", at=now + 86_400)
    repo.write("flags/demo.yml", flag_yaml("demo", "staging"))
    repo.commit("demo to staging, backdated", at=now - 20 * 86_400)
    repo.write("flags/demo.yml", flag_yaml("demo", "beta", actors=["User:1"]))
    repo.git("add", "--", "flags/demo.yml")
    return repo


@pytest.mark.parametrize(("how", "code"), [(["--staged"], 0), (["--base", "HEAD"], 1),
                                           (["--base", "HEAD", "--staged"], 0)])
def test_a_backdated_step_still_waits_when_the_line_is_read_ahead(
        tmp_path: Path, spied_line: Spied, how: list[str], code: int) -> None:
    """The gate's real paths (the hook's shortcut, or a range, reading the base's line while
    the judge loads) keep the trusted clock: a state committed with a date in the past, after
    a commit dated in the future, landed no earlier than that future commit, so the next step
    must still wait (FO204: a warning in the hook, which cannot know when the commit will land),
    and it is the line read ahead that said so (taken by the judge, and dropped at the run's
    end)."""
    import io

    from validator.cli import main
    from validator.git import log as git_log

    repo = _backdated_repo(tmp_path)
    out = io.StringIO()
    assert main(["-C", str(repo.path), "validate", *how], out=out) == code
    assert "FO204" in out.getvalue() and "dated 1 d in the future" in out.getvalue()
    started, left = spied_line
    assert set(started) == {(repo.path, repo.head())}
    assert left == [{(repo.path, repo.head()): True}]
    assert git_log._AHEAD == {}


def test_a_base_git_cannot_resolve_reads_nothing_ahead(tmp_path: Path, spied_line: Spied,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    """The judge says what is wrong with the ref, as before; nothing was started for it."""
    from validator.cli import main

    repo = _backdated_repo(tmp_path)
    assert main(["-C", str(repo.path), "validate", "--base", "no-such-branch"]) == 1
    assert "unknown git ref 'no-such-branch'" in capsys.readouterr().err
    assert spied_line == ([], [{}])


def _hook(repo: Repo, folder: str = "") -> subprocess.CompletedProcess[str]:
    """The hook's exact line in a fresh interpreter, from `folder` of the repository."""
    probe = "import sys; from validator.cli import main; sys.exit(main(['validate', '--staged']))"
    return _in_repo(repo, probe, folder=folder)


@pytest.mark.parametrize("folder", ["", "app/deep"])
@pytest.mark.parametrize(("attack", "rules"), [
    ("jump", {"FO201"}), ("rename", {"FO110"}), ("symlink", {"FO009", "FO208"}),
    ("case-twin", {"FO010", "FO208"}),
])
def test_the_hooks_line_refuses_an_illegal_step_however_it_is_staged(
        repo: Repo, attack: str, rules: set[str], folder: str) -> None:
    """The line answered without argparse still reaches the judge for every illegal step:
    a jump past the next stage, a live flag renamed away, its file swapped for a symlink, its
    file moved to a folder that differs from flags/ only in case; from the top of the work
    tree and from a folder below it (the root is found upwards, as before)."""
    if attack == "jump":
        repo.write("flags/demo.yml", flag_yaml("demo", "enabled", default_enabled=True))
        repo.git("add", "--", "flags/demo.yml")
    elif attack == "rename":
        repo.git("mv", "flags/demo.yml", "flags/renamed.yml")
    elif attack == "symlink":
        repo.write("elsewhere.yml", flag_yaml("demo", "enabled", default_enabled=True))
        (repo.path / "flags/demo.yml").unlink()
        (repo.path / "flags/demo.yml").symlink_to("../elsewhere.yml")
        repo.git("add", "--", "flags/demo.yml", "elsewhere.yml")
    else:
        (repo.path / "Flags").mkdir()
        repo.git("mv", "flags/demo.yml", "Flags/demo.yml")
    done = _hook(repo, folder)
    assert done.returncode == 1, done.stdout + done.stderr
    assert rules <= {line.split(" error ")[1][:5] for line in done.stdout.splitlines()
                     if " error FO" in line}

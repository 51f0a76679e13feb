"""`flagops init`: what it writes is a working flags repository at once (validate, the CI job,
the hosts' own schemas), generated from the same sources as flagops itself, and it overwrites
nothing."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from teamrepo import GITLAB_MR, GITLAB_PUSH, VERSION, Team, flagops

from validator.cli import main
from validator.model import Stage
from validator.policy import DEFAULT_POLICY, Policy, SoakMinutes, policy_from_bytes
from validator.scaffold import EXAMPLE_FLAG, HOOK_REPO, scaffold

DAY = 24 * 3600
GATE_FILES = {"gitlab": (".gitlab-ci.yml", "pyproject.toml", "VERSION",
                         ".pre-commit-config.yaml", "CODEOWNERS", "schema/"),
              "github": (".github/", "pyproject.toml", "VERSION", ".pre-commit-config.yaml",
                         "CODEOWNERS", "schema/")}
"""VERSION: the policy's default version_file, which flags' ages count from (taken back to an
earlier milestone, every flag was young again, with no owner's approval)."""


@pytest.mark.parametrize(("host", "ci_file"), [("gitlab", ".gitlab-ci.yml"),
                                               ("github", ".github/workflows/flagops.yml")])
def test_init_writes_a_repository_that_validates(tmp_path: Path, host: str, ci_file: str) -> None:
    done = flagops(tmp_path, "init", "flags-repo", f"--{host}")
    assert done.returncode == 0, done.stderr
    root = tmp_path / "flags-repo"
    written = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
                     and ".git" not in p.relative_to(root).parts)
    assert written == sorted(scaffold(host, VERSION))  # type: ignore[arg-type]
    assert ci_file in written and "and made it a git repository (branch main)" in done.stdout
    assert (root / ".git").is_dir()
    checked = flagops(root, "validate")
    assert (checked.returncode, checked.stdout) == (0, "")
    assert "0 error(s), 0 warning(s) in 1 file" in checked.stderr
    assert flagops(root, "schema", "--check").returncode == 0  # the schema is this flagops's
    flag = (root / EXAMPLE_FLAG).read_text(encoding="utf-8")
    modeline = re.match(r"# yaml-language-server: \$schema=(\S+)\n", flag)
    assert modeline and (root / "flags" / modeline[1]).resolve().is_file()
    assert re.search(r"^stage: off\b", flag, re.M)


@pytest.mark.parametrize("host", ["gitlab", "github"])
def test_the_ci_file_pins_this_flagops_and_codeowners_cover_the_gate(host: str) -> None:
    files = scaffold(host, "9.8.7", "https://mirror.example/flagops")  # type: ignore[arg-type]
    ci = next(text for name, text in files.items() if "ci" in name or "workflows" in name)
    assert '"flagops==9.8.7"' in ci and f"flagops ci {host}" in ci
    hook = files[".pre-commit-config.yaml"]
    assert "repo: https://mirror.example/flagops\n    rev: v9.8.7\n" in hook
    assert "id: flagops-validate" in hook
    owned = [line.split()[0] for line in files["CODEOWNERS"].splitlines()
             if line.startswith("/")]
    assert owned == [f"/{path}" for path in GATE_FILES[host]]
    assert HOOK_REPO in scaffold(host, "1.0")[".pre-commit-config.yaml"]  # type: ignore[arg-type]


def test_a_pull_request_retargeted_to_another_base_is_judged_again() -> None:
    """GitHub runs `pull_request` workflows for opened, synchronize and reopened by default:
    a request judged against a branch its author wrote kept its passed check when its base
    became the default branch (`edited`). Both workflows, the scaffold's and this
    repository's, listen for it."""
    from ruamel.yaml import YAML

    ours = (Path(__file__).resolve().parents[1] / ".github/workflows/flagops.yml").read_text()
    for text in (scaffold("github", "1.0")[".github/workflows/flagops.yml"], ours):
        triggers = YAML(typ="safe").load(text)["on"]
        assert "edited" in triggers["pull_request"]["types"]


def test_the_policy_is_empty_and_every_key_commented_at_its_default() -> None:
    text = scaffold("gitlab", VERSION)["pyproject.toml"]
    assert tomllib.loads(text) == {"tool": {"flagops": {}}}
    lines = [line[2:] for line in text.splitlines()
             if re.match(r"# (\[tool\.flagops\.soak_minutes\]$|[a-z_]+ = )", line)]
    policy = policy_from_bytes(("[tool.flagops]\n" + "\n".join(lines) + "\n").encode())
    assert policy == DEFAULT_POLICY
    keys = set(re.findall(r"^# ([a-z_]+) = ", text, re.M))
    defaults = {name for name in Policy.model_fields if name != "soak_minutes"
                and getattr(DEFAULT_POLICY, name) is not None}
    assert keys == defaults | set(SoakMinutes.model_fields)


@pytest.mark.parametrize(("host", "schema"), [("gitlab", "vendor.gitlab-ci"),
                                              ("github", "vendor.github-workflows")])
def test_the_ci_file_is_valid_for_its_host(tmp_path: Path, host: str, schema: str) -> None:
    files = scaffold(host, VERSION)  # type: ignore[arg-type]
    [name] = [name for name in files if name.startswith((".gitlab-ci", ".github"))]
    target = tmp_path / Path(name).name
    target.write_text(files[name], encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema,
                           str(target)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_next_steps_cd_names_the_folder_as_one_word_to_the_shell(tmp_path: Path) -> None:
    # `cd my flags $(touch mark)` was printed as it is: pasted, it ran `touch`, then failed.
    done = flagops(tmp_path, "init", "my flags $(touch mark)")
    assert done.returncode == 0, done.stderr
    cd = re.search(r"^  (cd .*?) && pre-commit install", done.stdout, re.M)
    assert cd is not None, done.stdout
    ran = subprocess.run(["bash", "-c", f"{cd[1]} && pwd"], capture_output=True, text=True,
                         check=False, cwd=tmp_path)
    assert ran.stdout == f"{tmp_path / 'my flags $(touch mark)'}\n", ran.stderr
    assert not (tmp_path / "mark").exists()


def test_init_overwrites_nothing_and_names_every_file_in_the_way(tmp_path: Path) -> None:
    root = tmp_path / "existing"
    (root / "flags").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'app'\n", encoding="utf-8")
    (root / "README.md").write_text("ours\n", encoding="utf-8")
    done = flagops(tmp_path, "init", "existing")
    assert done.returncode == 1
    assert done.stderr == ("flagops: error: existing already has pyproject.toml, README.md; "
                           "flagops init overwrites nothing: move them away, or init another "
                           "folder\n")
    assert sorted(p.name for p in root.rglob("*")) == ["README.md", "flags", "pyproject.toml"]
    assert (root / "README.md").read_text(encoding="utf-8") == "ours\n"


def test_render_in_a_repository_without_the_survey_flag_says_what_it_needs(
        tmp_path: Path) -> None:
    assert flagops(tmp_path, "init", "team").returncode == 0
    root = tmp_path / "team"
    refused = flagops(root, "build")  # nothing committed yet: nothing the gate judged
    assert refused.returncode == 1 and "--allow-dirty" in refused.stderr, refused.stderr
    assert flagops(root, "build", "--allow-dirty").returncode == 0
    done = flagops(root, "render")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("wrote the flag catalog of 1 flag(s) to public/flags; no survey page: "
                           "it is flagops's own page, and it needs the flag calendly_invite_link, "
                           "which build/flags.json does not have\n")
    assert (root / "public/flags/index.html").is_file()
    assert not (root / "public/-").exists()
    assert 'href="flags/index.html"' in (root / "public/index.html").read_text()


def test_init_then_a_first_commit_then_one_step_through_the_ci_job(tmp_path: Path) -> None:
    """The issue's acceptance: init, a first commit, the example flag one step forward, and the
    scaffolded GitLab job (its own commands) on a merge request and on the push that lands it."""
    team = Team(tmp_path)
    now = int(time.time())
    assert team.commit("Start our flags with flagops", at=now - 2 * DAY).returncode == 0
    first = team.push()
    done = team.pipeline({**GITLAB_PUSH, "CI_COMMIT_BEFORE_SHA": "0" * 40}, first)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "judging every flag file of this commit" in done.stderr

    team.branch("staging")
    flag = team.path / EXAMPLE_FLAG
    flag.write_text(flag.read_text(encoding="utf-8").replace(
        f"stage: {Stage.OFF}", f"stage: {Stage.STAGING}"), encoding="utf-8")
    assert team.commit("example_flag on staging", at=now - DAY).returncode == 0
    head = team.push()
    done = team.pipeline(GITLAB_MR, head)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "### `example_flag`: off → staging" in done.stdout
    assert "A forward step, legal." in (team.last_ci / "flagops-plan.md").read_text()
    assert (team.last_ci / "gl-code-quality-report.json").read_text() == "[]\n"

    before, after = team.merge("staging", at=now - DAY + 60)
    done = team.pipeline({**GITLAB_PUSH, "CI_COMMIT_BEFORE_SHA": before}, after)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"judging a push to main: {before} → {after}" in done.stderr


def test_flags_already_live_elsewhere_come_in_with_an_override_trailer(tmp_path: Path) -> None:
    """The README's recipe: the files at their real state, one Flag-Override trailer per flag,
    the hook skipped (it cannot read the message); CI honours the trailer and says so."""
    team = Team(tmp_path)
    now = int(time.time())
    team.commit("Start", at=now - 2 * DAY)
    team.push()
    team.branch("import")
    live = (team.path / EXAMPLE_FLAG).read_text(encoding="utf-8").replace(
        "name: example_flag", "name: checkout_v2").replace("stage: off", "stage: staging")
    (team.path / "flags/checkout_v2.yml").write_text(live, encoding="utf-8")
    message = ("Import checkout_v2\n\nFlag-Override: checkout_v2: imported, live on staging "
               "since 2025-05-02")
    assert team.commit(message, at=now - DAY, skip_hook=True).returncode == 0
    done = team.pipeline(GITLAB_MR, team.push())
    assert done.returncode == 0, done.stdout + done.stderr
    assert ("warning FO207 checkout_v2: a new flag starts at stage off with default_enabled: "
            "false, not staging; add it at off, then step forward (overridden by Flag-Override: "
            "imported, live on staging since 2025-05-02)") in done.stdout


def test_build_refuses_a_flag_file_it_would_leave_out(tmp_path: Path) -> None:
    assert flagops(tmp_path, "init", "team").returncode == 0
    root = tmp_path / "team"
    (root / EXAMPLE_FLAG).rename(root / "flags/example_flag.yaml")
    done = flagops(root, "build")
    assert done.returncode == 1 and "error FO008" in done.stdout
    assert not (root / "build").exists()


def test_init_below_the_top_of_another_repository_is_refused(tmp_path: Path) -> None:
    """Flags there would never be judged: git names paths from the top of the work tree."""
    outer = tmp_path / "app"
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    for target in ("svc", "svc/deeper"):
        done = flagops(outer, "init", target)
        assert done.returncode == 1 and "inside another git repository" in done.stderr
        assert not (outer / "svc").exists()
    subprocess.run(["git", "init", "-q", str(outer / "svc")], check=True)  # one of its own
    assert flagops(outer, "init", "svc").returncode == 0


@pytest.mark.parametrize("hook_repo", ["https://mirror.example.com/flagops.git", "../flagops",
                                       "[mirror", "&anchor", "git@host:group/flagops.git",
                                       "https://h/x#frag", "x:y", "a,b", "'quoted'", "émoji-✓"])
def test_the_hook_repository_reads_back_as_given(tmp_path: Path, hook_repo: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """--hook-repo is pasted into .pre-commit-config.yaml: quoted where YAML would read it
    as something else, so the file always holds exactly that one repository. (From a folder
    where none of them is a folder: one is written as its absolute path, and `../flagops`
    from a checkout named flagops is one.)"""
    monkeypatch.chdir(tmp_path)
    code = main(["-C", str(tmp_path), "init", "repo", "--hook-repo", hook_repo],
                out=io.StringIO())
    assert code == 0
    config = YAML(typ="safe").load((tmp_path / "repo" / ".pre-commit-config.yaml").read_text())
    assert [entry["repo"] for entry in config["repos"]] == [hook_repo]


@pytest.mark.parametrize("tagged", [True, False])
def test_a_local_hook_checkout_is_written_whole_and_pinned_where_it_can_be(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tagged: bool) -> None:
    """The README's way until flagops is published: a checkout, given as `./flagops`.
    pre-commit read the relative path from the flags repository, and checked out the tag
    v<version> that a checkout does not have: the first commit failed either way."""
    source = tmp_path / "flagops"
    for args in (["init", "-q", str(source)], ["-C", str(source), "commit", "-q",
                                               "--allow-empty", "-m", "flagops"]):
        subprocess.run(["git", "-c", "user.name=a", "-c", "user.email=b", *args], check=True)
    if tagged:
        subprocess.run(["git", "-C", str(source), "tag", f"v{VERSION}"], check=True)
    commit = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    assert main(["init", "repo", "--hook-repo", "./flagops"], out=out) == 0
    config = YAML(typ="safe").load((tmp_path / "repo" / ".pre-commit-config.yaml").read_text())
    [entry] = config["repos"]
    assert entry["repo"] == str(source)
    assert entry["rev"] == (f"v{VERSION}" if tagged else commit)
    assert ("has no tag" in out.getvalue()) is not tagged


def test_a_hook_folder_must_be_a_repository_of_its_own_and_a_path_yaml_holds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """git asked inside a plain folder of another repository answers with that one's tag,
    while pre-commit fetches from the folder and fails; a folder whose whole path holds a
    byte that is not UTF-8 stopped init half-written (an internal error)."""
    mono = tmp_path / "mono"
    (mono / "tools" / "flagops").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(mono)], check=True)
    monkeypatch.chdir(tmp_path)
    assert main(["init", "a", "--hook-repo", "./mono/tools/flagops"], out=io.StringIO()) == 1
    assert "not a git repository of its own" in capsys.readouterr().err
    odd = tmp_path / os.fsdecode(b"caf\xe9")
    subprocess.run(["git", "init", "-q", str(odd / "flagops")], check=True)
    monkeypatch.chdir(odd)
    assert main(["init", "b", "--hook-repo", "./flagops"], out=io.StringIO()) == 2
    assert "not UTF-8" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (odd / "b").exists()


@pytest.mark.parametrize("hook_repo", ["", "a b", "url\n  - repo: evil", "tab\there",
                                       "nul\x00", "bidi\u202e", "bad\udcff"])
def test_a_hook_repository_that_is_no_url_is_a_usage_error(
        tmp_path: Path, hook_repo: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["-C", str(tmp_path), "init", "repo", "--hook-repo", hook_repo], out=io.StringIO())
    assert raised.value.code == 2
    assert "is no repository URL or path" in capsys.readouterr().err
    assert not (tmp_path / "repo").exists()


@pytest.mark.parametrize("host", ["gitlab", "github"])
def test_the_ci_files_install_runs_pip_not_a_pip_the_change_adds(tmp_path: Path,
                                                                   host: str) -> None:
    """`python -m pip` looks in the current folder first: a merge request that adds `pip/`
    would choose its own judge. The scaffold's install line, run verbatim in such a checkout
    (no index reachable, so the real pip fails), never runs the checkout's module."""
    files = scaffold(host, VERSION)  # type: ignore[arg-type]
    ci = next(text for name, text in files.items() if "ci" in name or "workflows" in name)
    [line] = [line for line in ci.splitlines() if "pip install" in line]
    command = line.split("- ", 1)[1].removeprefix("run: ")
    (tmp_path / "pip").mkdir()
    (tmp_path / "pip" / "__init__.py").write_text("")
    (tmp_path / "pip" / "__main__.py").write_text("print('the change chose its judge')\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True,
                          text=True, check=False, timeout=120,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path),
                               "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(tmp_path / "bin")})
    assert "the change chose its judge" not in done.stdout + done.stderr
    assert done.returncode != 0 and "flagops" in done.stderr  # pip itself: nothing to install

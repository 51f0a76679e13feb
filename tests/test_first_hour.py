"""A new team's first hour, end to end, in a temporary directory: `flagops init`, the published
hook installed by real pre-commit from this repository's path, a flag rolled from off through
every stage to its removal with dated commits, each mistake of issue 17 made once and its
message checked, and the scaffolded CI job run against a bare origin for every merge request.
Then what the README and `--help` promise that first hour: two commands each, and a command
list that is the parser's."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo, flag_yaml
from teamrepo import GITLAB_MR, GITLAB_PUSH, VERSION, Team, flagops

from validator.arguments import build_parser, command_summaries

PROJECT = Path(__file__).resolve().parents[1]
README = (PROJECT / "README.md").read_text(encoding="utf-8")
DAY = 24 * 3600
FLAG = "flags/example_flag.yml"
ACTORS: dict[str, Any] = {"actors": ("Project:acme/shop",)}


def _write(team: Team, stage: str, **fields: Any) -> str:
    text = flag_yaml("example_flag", stage, **fields)
    (team.path / FLAG).write_text(text, encoding="utf-8")
    return text


def _refused(team: Team, message: str, at: int) -> str:
    done = team.commit(message, at=at)
    assert done.returncode != 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _passes(team: Team, message: str, at: int) -> str:
    done = team.commit(message, at=at)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _merge_request(team: Team, expect: int = 0) -> subprocess.CompletedProcess[str]:
    done = team.pipeline(GITLAB_MR, team.push())
    assert done.returncode == expect, done.stdout + done.stderr
    return done


def _step(team: Team, branch: str, at: int, stage: str, *, ci: bool = True,
          **fields: Any) -> str:
    """One legal step: a branch, a commit through the hook, a green merge request (unless the
    test has seen enough of those), a merge."""
    team.branch(branch)
    _write(team, stage, **fields)
    _passes(team, branch, at)
    plan = _merge_request(team).stdout if ci else ""
    team.merge(branch, at=at + 60)
    return plan


@pytest.mark.slow
def test_a_new_team_from_init_to_a_removed_flag(
        tmp_path: Path, hook_repo: tuple[Repo, str], pre_commit_home: Path) -> None:
    source, tag = hook_repo
    assert tag == f"v{VERSION}"
    team = Team(tmp_path, "--gitlab", "--hook-repo", str(source.path),
                pre_commit_home=pre_commit_home)
    assert team.pre_commit("install").returncode == 0
    now = int(time.time())

    # The first commit, through the hook; the first pipeline checks every file.
    first = _passes(team, "Start our flags with flagops", at=now - 40 * DAY)
    assert "flagops validate (staged flags against HEAD)" in first
    assert "flagops: 0 error(s), 0 warning(s) in 1 file" in first  # verbose: shown on a pass
    done = team.pipeline({**GITLAB_PUSH, "CI_COMMIT_BEFORE_SHA": "0" * 40}, team.push())
    assert done.returncode == 0, done.stdout + done.stderr

    _step(team, "staging", now - 39 * DAY, "staging")

    # A flag file named .yaml is an error, not a warning; once renamed it is not mentioned.
    team.branch("second-flag")
    (team.path / "flags/checkout_v2.yaml").write_text(flag_yaml("checkout_v2"), encoding="utf-8")
    out = _refused(team, "checkout_v2", at=now - 39 * DAY + 600)
    assert ("flags/checkout_v2.yaml:1:1: error FO008 flags/checkout_v2.yaml is not read: flag "
            "files end in .yml, so this flag would be missing from the merged config; rename "
            "it: git mv flags/checkout_v2.yaml flags/checkout_v2.yml") in out
    assert team.commit("checkout_v2 (an old flagops let .yaml in)", at=now - 39 * DAY + 660,
                       skip_hook=True).returncode == 0
    team.repo.git("mv", "flags/checkout_v2.yaml", "flags/checkout_v2.yml")
    out = _passes(team, "checkout_v2 is a .yml", at=now - 39 * DAY + 720)
    assert "FO008" not in out and "checkout_v2.yaml" not in out
    _merge_request(team)
    team.merge("second-flag", at=now - 39 * DAY + 780)

    # Beta, after three mistakes the model used to describe in its own words.
    team.branch("beta")
    good = flag_yaml("example_flag", "beta", **ACTORS)
    _write(team, "beta", actors=("42",))
    assert ("flags/example_flag.yml:14:5: error FO102 actors.0: actors are Kind:id, e.g. User:42 "
            "or Project:gitlab-org/gitlab; got the number 42") in _refused(team, "beta", now)
    (team.path / FLAG).write_text(good.replace("milestone: '13.12'", "milestone: 17.10"))
    assert ("error FO102 milestone: 17.10 must be quoted: '17.10' (unquoted, YAML reads the "
            "number 17.1)") in _refused(team, "beta", now)
    (team.path / FLAG).write_text(good.replace("stage: beta", "stage: false"))
    out = _refused(team, "beta", now)
    assert ("error FO102 stage: must be one of off, staging, beta, percentage, enabled; got the "
            "boolean false") in out
    assert "flagops: 1 error(s), 0 warning(s) in 1 file" in out  # one changed file is one file
    (team.path / FLAG).write_text(good)
    _passes(team, "beta", at=now - 38 * DAY)
    _merge_request(team)
    team.merge("beta", at=now - 38 * DAY + 60)

    # A percentage written as a bare number.
    team.branch("ten")
    (team.path / FLAG).write_text(good.replace("stage: beta", "stage: percentage") +
                                  "percentage: 10\n")
    assert ("error FO102 percentage: must be a mapping such as {of: actors, value: 10} (of: "
            "actors or time), not the number 10 alone") in _refused(team, "10%", now)
    _write(team, "percentage", percentage=("actors", 10), **ACTORS)
    _passes(team, "10%", at=now - 37 * DAY)
    team.merge("ten", at=now - 37 * DAY + 60)

    _step(team, "fifty", now - 36 * DAY, "percentage", ci=False, percentage=("actors", 50),
          **ACTORS)

    # A rollback: its plan says that its revert is a forward step that waits for its soak.
    plan = _step(team, "incident", now - 35 * DAY, "percentage", percentage=("actors", 10),
                 **ACTORS)
    assert "A rollback step, legal." in plan
    assert ("Revert: `git revert -m 1 <merge-sha>` takes it back to percentage 50% of actors: a "
            "forward step, judged like any other; not at once: it waits until percentage 10% of "
            "actors has soaked 15 min after this change lands.") in plan

    # Back to 50%, with an override that has nothing to override (FO209, a warning).
    team.branch("fifty-again")
    _write(team, "percentage", percentage=("actors", 50), **ACTORS)
    _passes(team, "50% again\n\nFlag-Override: example_flag: just in case", at=now - 34 * DAY)
    out = _merge_request(team).stdout
    assert ("warning FO209 example_flag: Flag-Override (just in case) has nothing to override"
            in out)
    team.merge("fifty-again", at=now - 34 * DAY + 60)

    _step(team, "hundred", now - 33 * DAY, "percentage", ci=False, percentage=("actors", 100),
          **ACTORS)
    _step(team, "enabled", now - 2 * 3600 - 1800 - 60, "enabled", ci=False)  # 2 h 30 min ago

    # default_enabled waits a day at enabled: the hook shows the wait on a passing commit, in
    # hours; CI refuses; an override lets the incident through.
    team.branch("released")
    _write(team, "enabled", default_enabled=True, cleanup=True)
    out = _passes(team, "default_enabled", at=now - 600)
    wait = (r"warning FO204 example_flag: enabled → enabled with default_enabled after "
            r"2 h \d+ min; enabled must soak 1 d first \(wait 21 h \d+ min more\)")
    assert re.search(wait + r" \(CI enforces it\)", out), out
    done = _merge_request(team, expect=1)
    assert re.search(wait.replace("warning", "error"), done.stdout), done.stdout
    assert "**blocked**" in done.stdout
    assert re.search(r"flagops: 1 error\(s\), \d+ warning\(s\) in 2 files", done.stderr)
    junit = ET.parse(team.last_ci / "junit.xml").getroot()
    assert (junit.get("tests"), junit.get("failures")) == ("2", "1")  # the same two files
    team.repo.git("commit", "-q", "--allow-empty", "--no-verify", "-m", "Release now\n\n"
                  "Flag-Override: example_flag: support needs it today, incident 42", at=now - 300)
    out = _merge_request(team).stdout
    assert re.search(wait.replace("more\\)", "more\\) \\(overridden by Flag-Override: support "
                                  "needs it today, incident 42\\)"), out), out
    team.merge("released", at=now - 240)

    # Removing a released flag: the feature stays on, and its code references must go.
    team.branch("cleanup")
    (team.path / FLAG).unlink()
    _passes(team, "remove example_flag", at=now - 180)
    plan = _merge_request(team).stdout
    assert "| after | everyone (no flag: the code path is unconditional) |" in plan
    assert "Every code reference to the flag must be gone before this merges" in plan
    assert "nobody" not in plan
    before, after = team.merge("cleanup", at=now - 120)
    done = team.pipeline({**GITLAB_PUSH, "CI_COMMIT_BEFORE_SHA": before}, after)
    assert done.returncode == 0, done.stdout + done.stderr

    # The merged config answers for actors of the form Kind:id only.
    assert flagops(team.path, "build").returncode == 0
    done = flagops(team.path, "eval", "checkout_v2", "--actor", "42")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("flagops: error: --actor '42': actors are Kind:id, e.g. User:42 or "
                           "Project:gitlab-org/gitlab\n")
    assert flagops(team.path, "eval", "checkout_v2", "--actor", "User:42").stdout == "off\n"


# What the README and --help promise --------------------------------------------------------


def _first_screen() -> str:
    """What shows before the first section heading."""
    return README.split("\n## ", 1)[0]


def test_the_first_screen_gives_a_new_team_and_a_contributor_two_commands_each() -> None:
    screen = _first_screen()
    assert len(screen.splitlines()) <= 40
    blocks = re.findall(r"\*\*(A [^*]+)\*\*[^`]*```sh\n(.*?)\n```", screen, re.S)
    assert [who for who, _ in blocks] == ["A contributor to flagops itself",
                                          "A team starting its own flags repository"]
    contributor, team = (commands.splitlines() for _, commands in blocks)
    assert len(team) == len(contributor) == 2
    assert team[0] == "pip install flagops pre-commit && flagops init my-flags --gitlab"
    assert team[1].startswith("cd my-flags && pre-commit install && git add -A && git commit")
    assert contributor == ["pip install -e '.[test]' && flagops validate", "pytest"]
    assert README.index("## Use flagops for your own flags") < README.index("## Flag files")


def test_the_readme_command_table_is_the_parser() -> None:
    table = re.search(r"<!-- commands:start -->\n(.*?)<!-- commands:end -->", README, re.S)
    assert table is not None
    rows = re.findall(r"^\| `flagops (\S+)` \| (.*?) \| (.*?) \|$", table[1], re.M)
    parsed = [(name, summary, " ".join(f"`{a}`" for a in arguments))
              for name, summary, arguments in command_summaries()]
    assert rows == parsed


def test_every_command_line_in_the_readme_parses() -> None:
    """Each `flagops ...` line of the README's shell blocks names a real command and real
    options: the README cannot promise what --help does not know."""
    parser = build_parser()
    known = {name: {option for action in sub._actions for option in action.option_strings}
             for name, sub in _subparsers(parser).items()}
    lines = [line for block in re.findall(r"```(?:sh|console)\n(.*?)```", README, re.S)
             for line in block.splitlines()]
    found = 0
    for line in lines:
        for words in re.findall(r"(?:^|&& |\$ )flagops ((?:-C \S+ )?[a-z]+[^#&|]*)", line):
            tokens = words.split()
            if tokens[0] == "-C":
                tokens = tokens[2:]
            command, options = tokens[0], [t.split("=")[0] for t in tokens[1:]
                                           if t.lstrip("[").startswith("-")]
            assert command in known, line
            assert {o.strip("[]") for o in options} <= known[command] | {"-h", "--help"}, line
            found += 1
    assert found >= 15


def _subparsers(parser: Any) -> dict[str, Any]:
    import argparse

    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("words", [
    ["validate", "--staged"],
    ["validate", "flags/a.yml", "--base", "main", "--format", "json", "--output", "r.json"],
    ["build", "--environment", "staging", "--history", "--no-cache"],
    ["status", "one", "two", "--stale", "--format", "json"],
    ["new", "x", "-u", "@a", "@b", "--dry-run"],
    ["init", "--github", "dir"],
    ["promote", "x", "--percentage", "50"],
])
def test_a_parser_built_for_the_named_command_parses_as_the_full_one(words: list[str]) -> None:
    """The hook's path builds only its command's parser; what it parses must not differ."""
    only = build_parser(words)
    assert list(_subparsers(only)) == [words[0]]
    assert only.parse_args(words) == build_parser().parse_args(words)


def test_a_command_line_not_opening_with_a_command_gets_every_command() -> None:
    for words in (["-C", ".", "validate"], ["--version"], ["valid"], []):
        assert len(_subparsers(build_parser(words))) == len(command_summaries())


def test_help_teaches_every_option_its_default_and_the_exit_codes() -> None:
    import argparse

    parser = build_parser()
    assert "Arguments in" not in parser.format_help()  # no developer notes
    assert "exit codes:" in parser.format_help()
    for name, sub in _subparsers(parser).items():
        assert "exit codes:" in sub.format_help() and sub.description, name
        formatter = sub._get_formatter()
        for action in sub._actions:
            assert action.help, (name, action.dest)
            shown = formatter._expand_help(action)
            if action.option_strings and action.nargs != 0 and action.default not in (
                    None, False, argparse.SUPPRESS):
                assert f"default: {action.default}" in shown, (name, action.dest, shown)


def test_version_is_the_package_metadata() -> None:
    done = subprocess.run([sys.executable, "-m", "validator", "--version"], capture_output=True,
                          text=True, check=False)
    assert (done.returncode, done.stdout) == (0, f"flagops {VERSION}\n")

"""The trackers without a server: the rendered issues, URL parsing and host maps, the policy
keys, the README's sample, lazy imports, a missing client library, the CI files."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from validator.cli import main
from validator.errors import UserError
from validator.findings import Finding
from validator.loader import read_document
from validator.model import Flag, Percentage, Stage
from validator.parse import parse_flag
from validator.policy import DEFAULT_POLICY, PolicyError, policy_from_table
from validator.trackers.base import Thread, TrackerError
from validator.trackers.choose import Kind, link, tracker
from validator.trackers.http import Settings
from validator.trackers.render import announcement, rollout_issue, rollout_states
from validator.transitions import RolloutState

PROJECT = Path(__file__).resolve().parents[1]
SAMPLE = "flags/calendly_invite_link.yml"


def sample() -> Flag:
    document = read_document(PROJECT / SAMPLE, SAMPLE)
    assert not isinstance(document, Finding), document
    flag, problems = parse_flag(document)
    assert flag is not None, problems
    return flag


def issue_output(*argv: str) -> str:
    out = io.StringIO()
    assert main(["-C", str(PROJECT), "issue", *argv], out=out) == 0
    return out.getvalue()


def test_the_rollout_issue_has_every_section_and_step() -> None:
    text = issue_output("rollout", "calendly_invite_link")
    assert text.startswith("# [Feature flag] Rollout of `calendly_invite_link`\n")
    headings = re.findall(r"^#{2,3} (.+)$", text, re.M)
    assert headings == [
        "Summary", "Expectations", "What are we expecting to happen?",
        "What might happen if this goes wrong?",
        "What can we monitor to detect problems with this?", "Rollout steps", "Preparation",
        "Staging", "Beta", "Percentage 10%", "Percentage 50%", "Percentage 100%", "Enabled",
        "Default enabled", "Removal", "Rollback steps"]
    flag = sample()
    assert flag.description is not None and flag.expectations is not None
    for fact in (flag.description, "\\@alice", "\\@bob", flag.introduced_by_url,
                 flag.expectations.expected, flag.expectations.risks):
        assert str(fact) in text
    promotes = re.findall(r"`(flagops promote [^`]+)`", text)
    assert promotes == [
        "flagops promote calendly_invite_link --to staging",
        "flagops promote calendly_invite_link --to beta --actor Group:gitlab-org/gitlab-com "
        "Project:gitlab-org/gitlab",
        "flagops promote calendly_invite_link --percentage 10",
        "flagops promote calendly_invite_link --percentage 50",
        "flagops promote calendly_invite_link --percentage 100",
        "flagops promote calendly_invite_link --to enabled",
        "flagops promote calendly_invite_link --default-enabled --cleanup-issue "
        "<cleanup issue URL>"]
    assert text.count("(the policy's soak)") == 6 and "at least 1 d after enabled" in text
    for command in ("flagops rollback calendly_invite_link", "git revert -m 1 <merge-sha>",
                    "/chatops run feature set calendly_invite_link false",
                    "/chatops run feature set calendly_invite_link 10 --actors",
                    "flagops issue cleanup calendly_invite_link --create",
                    "flagops remove calendly_invite_link"):
        assert f"`{command}`" in text


def test_the_steps_follow_the_policy_and_the_type() -> None:
    policy = policy_from_table({"percentage_steps": [25, 100],
                                "soak_minutes": {"percentage": 60}})
    phases = [phase for phase, _ in rollout_states(sample(), policy)]
    assert phases == ["Staging", "Beta", "Percentage 25%", "Percentage 100%", "Enabled",
                      "Default enabled"]
    assert "at least 1 h after percentage 25% of actors landed" in rollout_issue(sample(), policy)
    wip = sample().model_copy(update={"type": "wip"})
    assert [phase for phase, _ in rollout_states(wip, DEFAULT_POLICY)] == ["Staging"]


def test_untrusted_text_cannot_break_out_of_the_issue() -> None:
    flag = sample().model_copy(update={"description": "x\n## Rollback steps\x1b[31m"})
    text = rollout_issue(flag, DEFAULT_POLICY)
    assert re.findall(r"^## Rollback steps$", text, re.M) == ["## Rollback steps"]
    assert "\x1b" not in text and "x\\\\n## Rollback steps" in text  # one line, escaped


@pytest.mark.parametrize(("written", "shown"), [
    ("## Rollback steps: none needed", "\\## Rollback steps: none needed"),
    ("# x", "\\# x"), ("1. fewer errors", "1\\. fewer errors"), ("2) x", "2\\) x"),
    ("---", "\\---"), ("- x", "\\- x"), ("+ x", "\\+ x"), ("=", "\\="), ("> x", "\\> x"),
    ("    dashboards", "&#32;   dashboards"), (" # x", "&#32;# x"),
    ("see GH-12 and gh-3", "see GH\\-12 and gh\\-3"), ("0.5% of actors", "0.5% of actors")])
def test_flag_text_starts_no_block_in_the_issue(written: str, shown: str) -> None:
    # Each text is a line of its own in the issue; `## Rollback steps` was a heading there,
    # `1. ` a list, `---` a rule, four spaces a code block, and GH-12 linked GitHub's issue 12.
    found = sample().expectations
    assert found is not None
    expectations = found.model_copy(update=dict.fromkeys(("expected", "risks", "monitoring"),
                                                         written))
    flag = sample().model_copy(update={"description": written, "expectations": expectations})
    lines = rollout_issue(flag, DEFAULT_POLICY).splitlines()
    assert lines.count(shown) == 4, [line for line in lines if written.strip()[:3] in line]
    assert re.findall(r"^#{1,6} .*Rollback steps", "\n".join(lines), re.M) == [
        "## Rollback steps"]


def test_a_command_pasted_from_the_issue_runs_nothing_the_flag_file_wrote(
        tmp_path: Path) -> None:
    # An actor passes the file rules with shell syntax in it; the Beta step's command joined
    # the actors unquoted, and pasting it into a shell ran `touch`.
    marks = [tmp_path / f"mark{number}" for number in range(3)]
    actors = ["Project:gitlab-org/gitlab", f"User:$(touch${{IFS}}{marks[0]})",
              f"User:`touch${{IFS}}{marks[1]}`", f"User:a'b;touch${{IFS}}{marks[2]}"]
    flag = sample().model_copy(update={"actors": actors})
    text = rollout_issue(flag, DEFAULT_POLICY)
    found = re.search(r"made with (`+) ?(.+?) ?\1 takes it to beta", text)
    assert found is not None, text
    stub = tmp_path / "bin" / "flagops"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n', encoding="utf-8")
    stub.chmod(0o755)
    ran = subprocess.run(["bash", "-c", found[2]], capture_output=True, text=True, check=False,
                         env={"PATH": f"{stub.parent}:/usr/bin:/bin"})
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == ["promote", "calendly_invite_link", "--to", "beta",
                                       "--actor", *sorted(actors)]
    assert not any(mark.exists() for mark in marks)


def test_the_readme_shows_the_rollout_issue_the_command_renders() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- rollout-issue:start -->\n```markdown\n(.*?)```\n"
                      r"<!-- rollout-issue:end", readme, re.S)
    assert block is not None, "README has no rollout issue sample: python -m validator.docs"
    assert block[1] == issue_output("rollout", "calendly_invite_link")


def test_the_cleanup_issue_lists_the_code_references_as_a_checklist() -> None:
    text = issue_output("cleanup", "calendly_invite_link")
    assert text.startswith("# [Feature flag] Cleanup `calendly_invite_link`")
    assert "- [ ] `survey_renderer/site.py:" in text
    for heading in ("Remove the flag from the code", "Remove the flag file",
                    "Check the deployment", "Close the rollout issue"):
        assert f"## {heading}" in text


def test_announcements_say_what_is_live_where() -> None:
    flag = sample()
    old = RolloutState.of(flag)
    new = RolloutState.of(flag.model_copy(update={
        "stage": Stage.PERCENTAGE, "percentage": Percentage(of="actors", value=10)}))
    text = announcement("calendly_invite_link", old, new, commit="abc123", rollback=False)
    assert text is not None
    assert ("- `calendly_invite_link` is now on for Group:gitlab-org/gitlab-com, "
            "Project:gitlab-org/gitlab plus 10% of actors in production since abc123.") in text
    back = announcement("calendly_invite_link", new, old, commit="def456", rollback=True)
    assert back is not None and back.splitlines()[1].startswith("**Rollback of")
    assert announcement("calendly_invite_link", old, old, commit="x", rollback=False) is None
    released = RolloutState("calendly_invite_link", Stage.ENABLED, frozenset(), None, True)
    gone = announcement("calendly_invite_link", released, None, commit="abc", rollback=False)
    assert gone is not None and "is removed since abc: it reaches everyone (no flag: the code " \
        "path is unconditional)." in gone and "is now off" not in gone


def test_announcements_name_who_lost_the_flag_and_a_release_taken_back() -> None:
    """A swap read "beta (1 actor) → beta (1 actor)" and never named who lost it; a release
    taken back (released → enabled) was "nothing to announce"."""
    a = RolloutState("demo", Stage.BETA, frozenset({"User:a"}), None, False)
    c = RolloutState("demo", Stage.BETA, frozenset({"User:c"}), None, False)
    swap = announcement("demo", a, c, commit="abc", rollback=False)
    assert swap is not None and "is now on for User:c, no longer for User:a in production" in swap
    released = RolloutState("demo", Stage.ENABLED, frozenset(), None, True)
    enabled = RolloutState("demo", Stage.ENABLED, frozenset(), None, False)
    back = announcement("demo", released, enabled, commit="def", rollback=True)
    assert back is not None and "is no longer released: off by default" in back


@pytest.mark.parametrize(("url", "expected"), [
    ("https://gitlab.com/gitlab-org/gitlab/-/issues/330340",
     ("gitlab", Thread("gitlab-org/gitlab", 330340))),
    ("https://gitlab.com/a/b/c/-/work_items/7", ("gitlab", Thread("a/b/c", 7))),
    ("https://gitlab.com/a/b/-/merge_requests/3", ("gitlab", Thread("a/b", 3, "merge_request"))),
    ("https://github.com/o/r/issues/12", ("github", Thread("o/r", 12))),
    ("https://github.com/o/r/pull/5", ("github", Thread("o/r", 5, "merge_request"))),
    ("https://git.example.com/o/r/issues/1", ("github", Thread("o/r", 1))),
    ("https://gitlab.example.com/g/p/-/issues/2", ("gitlab", Thread("g/p", 2))),
    ("https://bitbucket.org/o/r/issues/1", None),
    ("https://github.com/o/r/wiki", None),
])
def test_the_tracker_is_chosen_by_host_and_the_policy_maps(
        url: str, expected: tuple[str, Thread] | None) -> None:
    policy = policy_from_table({"github_hosts": ["git.example.com"],
                                "gitlab_hosts": ["gitlab.example.com"]})
    found = link(url, policy)
    assert (None if found is None else (found.kind, found.thread)) == expected


@pytest.mark.parametrize("table", [{"tracker": "http://gitlab.com/a/b"},
                                   {"tracker": "https://gitlab.com/"},
                                   {"github_hosts": ["Git.Example.com"]},
                                   {"gitlab_hosts": "gitlab.example.com"}])
def test_tracker_policy_keys_are_validated(table: dict[str, object]) -> None:
    with pytest.raises(PolicyError):
        policy_from_table(table)


def _python(code: str, *args: str,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=PROJECT, check=False, env=env)


def test_validate_without_check_links_imports_no_tracker_library() -> None:
    done = _python("import sys; from validator.cli import main; code = main(['validate']); "
                   "print(code, 'github' in sys.modules, 'gitlab' in sys.modules, "
                   "'validator.trackers.choose' in sys.modules)")
    assert done.stdout.strip().splitlines()[-1] == "0 False False False", done.stderr


def test_a_missing_client_library_is_one_line(tmp_path: Path) -> None:
    """Both libraries hidden; the API variables point at a closed local port all the same."""
    flags = tmp_path / "flags"
    flags.mkdir()
    text = (PROJECT / SAMPLE).read_text(encoding="utf-8")
    (flags / "calendly_invite_link.yml").write_text(text, encoding="utf-8")
    (flags / "other.yml").write_text(text.replace("calendly_invite_link", "other").replace(
        "https://gitlab.com/gitlab-org/gitlab/-/issues/330340",
        "https://github.com/o/r/issues/1"), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.flagops]\ntracker = "https://github.com/o/r"'
                                             "\n", encoding="utf-8")
    env = {**os.environ, "GITHUB_TOKEN": "t", "FLAGOPS_GITLAB_TOKEN": "t",
           "GITHUB_API_URL": "http://127.0.0.1:9", "CI_API_V4_URL": "http://127.0.0.1:9/api/v4"}
    hide = "import sys; sys.modules['github'] = sys.modules['gitlab'] = None; " \
        "from validator.cli import main; sys.exit(main(['-C', sys.argv[1], *sys.argv[2:]]))"
    links = _python(hide, str(tmp_path), "validate", "--check-links", env=env)
    assert links.returncode == 0, links.stderr  # warnings: the links are not checked
    assert links.stdout.count("FO505") == 2
    assert "python-gitlab is not installed: pip install 'flagops[trackers]'" in links.stdout
    assert "PyGithub is not installed: pip install 'flagops[trackers]'" in links.stdout
    (flags / "other.yml").write_text(text.replace("calendly_invite_link", "other").replace(
        "rollout_issue_url: https://gitlab.com/gitlab-org/gitlab/-/issues/330340",
        "rollout_issue_url:"), encoding="utf-8")
    create = _python(hide, str(tmp_path), "issue", "rollout", "other", "--create", env=env)
    assert create.returncode == 1 and "Traceback" not in create.stderr
    assert create.stderr == "flagops: error: PyGithub is not installed: pip install " \
        "'flagops[trackers]'\n"


@pytest.mark.parametrize("argv", [["issue", "bogus", "calendly_invite_link"], ["issue"],
                                  ["announce"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["-C", str(PROJECT), *argv])
    assert stopped.value.code == 2


def test_the_github_workflow_is_valid_and_runs_the_gate() -> None:
    workflow = PROJECT / ".github" / "workflows" / "flagops.yml"
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.github-workflows", str(workflow)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    jobs = YAML(typ="safe").load(workflow)["jobs"]
    steps = " ".join(str(step.get("run", "")) for step in jobs["validate"]["steps"])
    assert "flagops validate --base" in steps and "--format github" in steps
    assert "--format sarif --output flagops.sarif" in steps
    assert "flagops plan" in steps and "--comment" in steps
    [commenting] = [step for step in jobs["validate"]["steps"]
                    if "--comment" in str(step.get("run", ""))]
    assert commenting["continue-on-error"] is True  # a tracker down fails no check
    uses = [step.get("uses", "") for step in jobs["validate"]["steps"]]
    assert any(use.startswith("github/codeql-action/upload-sarif@") for use in uses)
    assert jobs["validate"]["steps"][0]["with"]["fetch-depth"] == 0
    assert jobs["validate"]["permissions"] == {"contents": "read", "pull-requests": "write",
                                               "security-events": "write", "issues": "read"}
    assert "flagops announce" in str(jobs["announce"]["steps"])
    assert jobs["announce"]["permissions"] == {"contents": "read", "issues": "write"}


def test_create_without_a_tracker_in_the_policy_says_how_to_set_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "flags").mkdir()
    text = (PROJECT / SAMPLE).read_text(encoding="utf-8").replace(
        "rollout_issue_url: https://gitlab.com/gitlab-org/gitlab/-/issues/330340",
        "rollout_issue_url:")
    (tmp_path / "flags" / "calendly_invite_link.yml").write_text(text, encoding="utf-8")
    code = main(["-C", str(tmp_path), "issue", "rollout", "calendly_invite_link", "--create"],
                out=io.StringIO())
    assert code == 1
    assert "no tracker: set `tracker` in [tool.flagops]" in capsys.readouterr().err
    assert (tmp_path / "flags" / "calendly_invite_link.yml").read_text(encoding="utf-8") == text


@pytest.mark.parametrize(("host", "kind", "environ", "api"), [
    ("github.com", "github", {}, "https://api.github.com"),
    ("git.example.com", "github", {"GITHUB_SERVER_URL": "https://git.example.com"},
     "https://git.example.com/api/v3"),
    ("github.com", "github", {"GITHUB_API_URL": "http://127.0.0.1:1"}, "http://127.0.0.1:1"),
    ("gitlab.com", "gitlab", {}, "https://gitlab.com/api/v4"),
    ("gitlab.example.com", "gitlab", {"CI_API_V4_URL": "https://gitlab.example.com/api/v4",
                                      "CI_SERVER_URL": "https://gitlab.example.com"},
     "https://gitlab.example.com/api/v4"),
    ("gitlab.example.com", "gitlab", {"CI_SERVER_URL": "https://GitLab.example.com:8443"},
     "https://gitlab.example.com/api/v4"),
])
def test_the_api_follows_each_cis_variables_for_its_own_host(
        host: str, kind: Kind, environ: dict[str, str], api: str) -> None:
    """Building a client asks nothing of the server, so these addresses are never reached."""
    found = tracker(host, kind, {**environ, "GITHUB_TOKEN": "t", "GITLAB_TOKEN": "t"})
    assert found.name == f"{'GitHub' if kind == 'github' else 'GitLab'} ({api})"


@pytest.mark.parametrize(("host", "kind", "environ", "refused"), [
    ("git.example.com", "github", {"GITHUB_API_URL": "https://api.github.com",
                                   "GITHUB_SERVER_URL": "https://github.com"},
     "GitHub (https://git.example.com/api/v3): no token for git.example.com: GITHUB_TOKEN "
     "is github.com's (GITHUB_SERVER_URL), and is sent to no other host"),
    ("gitlab.com", "gitlab", {"CI_API_V4_URL": "https://gitlab.example.com/api/v4",
                              "CI_SERVER_URL": "https://gitlab.example.com",
                              "FLAGOPS_GITLAB_TOKEN": "t"},
     "GitLab (https://gitlab.com/api/v4): no token for gitlab.com: FLAGOPS_GITLAB_TOKEN is "
     "gitlab.example.com's (CI_SERVER_URL), and is sent to no other host"),
    # no server named: a host only the policy lists (a branch under review may list its own,
    # and link an issue there) gets no token (the eighth review)
    ("127.0.0.1", "gitlab", {"FLAGOPS_GITLAB_TOKEN": "t"},
     "GitLab (https://127.0.0.1/api/v4): no token for 127.0.0.1: FLAGOPS_GITLAB_TOKEN goes to "
     "gitlab.com only, unless CI_SERVER_URL names the host it is for"),
    ("git.example.com", "github", {},
     "GitHub (https://git.example.com/api/v3): no token for git.example.com: GITHUB_TOKEN goes "
     "to github.com only, unless GITHUB_SERVER_URL names the host it is for"),
])
def test_a_cis_token_goes_to_no_host_but_its_own(host: str, kind: Kind,
                                                 environ: dict[str, str], refused: str) -> None:
    """A flag file links issues on any known host: under a self-hosted GitLab's CI, a link to
    gitlab.com would have handed that instance's token to gitlab.com."""
    with pytest.raises(TrackerError) as raised:
        tracker(host, kind, {**environ, "GITHUB_TOKEN": "t", "GITLAB_TOKEN": "t"})
    assert str(raised.value) == refused


@pytest.mark.parametrize(("environ", "message"), [
    ({"FLAGOPS_HTTP_TIMEOUT": "soon"}, "FLAGOPS_HTTP_TIMEOUT='soon' is not a number"),
    ({"FLAGOPS_HTTP_TIMEOUT": "0"}, "FLAGOPS_HTTP_TIMEOUT must be at least 0.01"),
    ({"FLAGOPS_HTTP_RETRIES": "-1"}, "FLAGOPS_HTTP_RETRIES must be at least 0"),
    # float() reads these: NaN passed `value < least`, then int() raised (exit 3), and an
    # endless timeout or retry count is a hang.
    ({"FLAGOPS_HTTP_RETRIES": "nan"}, "FLAGOPS_HTTP_RETRIES='nan' is not a number"),
    ({"FLAGOPS_HTTP_RETRIES": "inf"}, "FLAGOPS_HTTP_RETRIES='inf' is not a number"),
    ({"FLAGOPS_HTTP_TIMEOUT": "NaN"}, "FLAGOPS_HTTP_TIMEOUT='NaN' is not a number"),
    ({"FLAGOPS_HTTP_TIMEOUT": "1e999"}, "FLAGOPS_HTTP_TIMEOUT='1e999' is not a number"),
    ({"FLAGOPS_HTTP_BACKOFF": "-inf"}, "FLAGOPS_HTTP_BACKOFF='-inf' is not a number"),
    ({"FLAGOPS_HTTP_RETRIES": "2.5"}, "FLAGOPS_HTTP_RETRIES must be a whole number"),
])
def test_http_settings_from_the_environment_are_checked(environ: dict[str, str],
                                                         message: str) -> None:
    with pytest.raises(UserError, match=re.escape(message)):
        Settings.from_env(environ)
    assert Settings.from_env({}) == Settings(20.0, 3, 0.5)


HOSTILE_ACTORS = ["User:@all", "User:<!--", "Project:[x](https://evil.example)|a"]


def _markup_free(line: str) -> bool:
    """No mention, HTML comment or link that GitLab or GitHub would render outside a code span."""
    prose = re.sub(r"(`+).*?\1", "", line)
    return not re.search(r"(?<!\\)@all|(?<!\\)<!--|(?<!\\)\]\(", prose)


def test_actors_in_the_rollout_issue_are_literal_markdown() -> None:
    # Actors come from the flag file; `User:@all` would notify the whole project, `<!--` hide
    # the rest of the issue, `[x](…)` add a link the flag file never showed as one.
    flag = sample().model_copy(update={"actors": HOSTILE_ACTORS})
    text = rollout_issue(flag, DEFAULT_POLICY)
    assert "\\@all" in text
    assert [line for line in text.splitlines()[1:] if not _markup_free(line)] == []  # [0]: marker


def test_actors_in_an_announcement_are_literal_markdown() -> None:
    old = RolloutState.of(sample())
    new = RolloutState.of(sample().model_copy(update={"actors": HOSTILE_ACTORS}))
    text = announcement("calendly_invite_link", old, new, commit="abc", rollback=False)
    assert text is not None and "\\@all" in text
    assert [line for line in text.splitlines()[1:] if not _markup_free(line)] == []


@pytest.mark.parametrize("url", [
    "https://gitlab.com/g/p/-/merge_requests/1?a=1&b=2",
    "https://gitlab.com/~alice/p/-/merge_requests/1#note_5",
    "https://gitlab.com/g/p/-/merge_requests/1?q=%22x%22&r=%20",
    "https://gitlab.com/@bob/_p/-/merge_requests/1",
    "https://gitlab.com/g/p/-/merge_requests/1?x=<b>|*y*",
])
def test_urls_in_an_issue_are_autolinks_to_exactly_the_url(url: str) -> None:
    # Backslash escapes do not work inside an autolink (CommonMark): `<…\&…>` links to a URL
    # holding a backslash. Inside `<…>` only `<`, `>`, spaces and controls cannot stand, and
    # neither GitLab nor GitHub reads a mention or reference inside a link.
    text = rollout_issue(sample().model_copy(update={"introduced_by_url": url}), DEFAULT_POLICY)
    [line] = [line for line in text.splitlines() if line.startswith("- Introduced by: ")]
    found = re.fullmatch(r"- Introduced by: <([^<>\s]*)>", line)
    assert found is not None, line
    assert found[1] == url.replace("<", "%3C").replace(">", "%3E")


def test_the_github_workflow_judges_with_the_base_branchs_flagops(tmp_path: Path) -> None:
    """A pull request that changes validator/ must not choose how its own flags are judged:
    the validate job installs flagops from a worktree of the base branch. Its install step
    runs here in a real clone checked out at the request, with `python` standing in for pip
    (it prints the file that marks which tree it was given)."""
    from gitrepo import Repo

    workflow = YAML(typ="safe").load(PROJECT / ".github" / "workflows" / "flagops.yml")
    steps = workflow["jobs"]["validate"]["steps"]
    installs = [str(step["run"]) for step in steps if "pip install" in str(step.get("run", ""))]
    assert len(installs) == 1
    repo = Repo.create(tmp_path / "clone", tmp_path / "home")
    repo.write("judge.txt", "the base branch's flagops\n")
    repo.commit("base", at=1_700_000_000)
    repo.git("update-ref", "refs/remotes/origin/main", "HEAD")
    repo.git("checkout", "-q", "-b", "request")
    repo.write("judge.txt", "the request's own flagops\n")
    repo.commit("request", at=1_700_000_100)
    stand_in = tmp_path / "bin"
    stand_in.mkdir()
    (stand_in / "python").write_text('#!/bin/sh\nfor a; do t="$a"; done\n'
                                     'cat "${t%\\[*}/judge.txt"\n', encoding="utf-8")
    (stand_in / "python").chmod(0o755)
    runner = tmp_path / "runner"
    runner.mkdir()
    env = {**repo.env, "PATH": f"{stand_in}:{os.environ['PATH']}", "BASE": "origin/main",
           "RUNNER_TEMP": str(runner)}
    done = subprocess.run(["bash", "-e", "-c", installs[0]], cwd=repo.path, env=env,
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "the base branch's flagops\n"), done.stderr


@pytest.mark.parametrize(("written", "shown"), [
    ("log in again at https://evil.example/login now",
     "log in again at `https://evil.example/login` now"),
    ("see www.evil.example, then", "see `www.evil.example`, then"),
    ("write to ops@evil.example.", "write to `ops@evil.example`."),
    ("(https://github.com/other/repo/issues/1)", "(`https://github.com/other/repo/issues/1`)"),
    ("a|https://x.example|b", "a\\|`https://x.example`\\|b"),
    ("see 1https://gitlab.com/victim/project/-/issues/8",
     "see 1`https://gitlab.com/victim/project/-/issues/8`")])
def test_urls_in_flag_text_link_nothing_in_the_issue(written: str, shown: str) -> None:
    """GitHub and GitLab link a bare URL, `www.` and an address in plain text (GitLab after
    rendering, in the page's text, where no escape reaches), and a link to another
    project's issue cross-references it: the issue said the flag's text links nothing."""
    flag = sample().model_copy(update={"description": written})
    lines = rollout_issue(flag, DEFAULT_POLICY).splitlines()
    assert shown in lines, [line for line in lines if "example" in line]

"""A real git repository with a dated history for the catalog tests: forward steps, a merge
request's merge commit, a rollback by `git revert`, a move of the file, and a flag whose every
free-text field is hostile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gitrepo import Repo, flag_yaml

HOUR = 3600
START = 1_790_000_000
"""2026-09-21 14:13:20 UTC: the first commit."""
AS_OF = START + 30 * 24 * HOUR
HOSTILE_TEXT = ("<script>window.__pwned=1</script> \"double\" 'single' & &amp; "
                "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 <img src=x "
                "onerror=\"window.__pwned=1\">")
HOSTILE_GROUP = "group::<svg onload=window.__pwned=1> & \"q\""
HOSTILE_URL = "https://evil.example/\"><script>window.__pwned=1</script>"
HOSTILE_AUTHOR = "Eve \"O'Hara\" & <b>co</b> \u05e9\u05dc\u05d5\u05dd"
HOSTILE_NAME = "z0_9_x"
"""Names are file stems and must match [a-z][a-z0-9]*(_[a-z0-9]+)*: this is as odd as it gets."""
LIFESPANS = {"demo": "approaching", "old_wip": "overdue", "released": "ok", HOSTILE_NAME: "ok"}
"""At milestone 14.5, 5 milestones after 13.12: beta lives 6, wip 4, ops 12."""
RELEASED_MR = "https://gitlab.com/gitlab-org/gitlab/-/merge_requests/5"
DEMO_STEPS = ("new", "forward", "forward", "forward", "rollback")
DEMO_TIMES = (START, START + HOUR, START + 3 * HOUR, START + 6 * HOUR, START + 7 * HOUR)


def iso(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat()


def hostile_yaml() -> str:
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "\n".join([
        f"name: {HOSTILE_NAME}",
        f"description: {quoted(HOSTILE_TEXT)}",
        "type: ops",
        f"group: {quoted(HOSTILE_GROUP)}",
        "milestone: '13.12'",
        f"rollout_issue_url: {quoted(HOSTILE_URL)}",
        "owners: ['@o.hara-x_1', '@zz']",
        "expectations:",
        f"  expected: {quoted(HOSTILE_TEXT)}",
        f"  risks: {quoted(HOSTILE_TEXT)}",
        f"  monitoring: {quoted(HOSTILE_TEXT)}",
        "stage: beta",
        "actors: ['User:<script>window.__pwned=1</script>']",
        "default_enabled: false",
    ]) + "\n"


@dataclass(frozen=True)
class CatalogRepo:
    repo: Repo
    revert: str
    """The commit that rolled demo back."""


def make(root: Path) -> CatalogRepo:
    repo = Repo.create(root / "repo", root / "home")
    repo.write("pyproject.toml", '[tool.flagops]\ncurrent_milestone = "14.5"\n')
    repo.write_flag("old_wip", "off", flag_type="wip")
    repo.write_flag("demo", "off")
    repo.commit("Add demo", at=DEMO_TIMES[0])
    repo.write_flag("demo", "staging")
    repo.commit("demo to staging", at=DEMO_TIMES[1])
    repo.git("checkout", "-q", "-b", "topic")
    repo.write_flag("demo", "beta", actors=["User:1"])
    repo.commit("demo to beta", at=DEMO_TIMES[2] - 600)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "--no-ff", "-q", "-m", "Merge branch 'topic'\n\nSee merge request "
             "group/flags!7", "topic", at=DEMO_TIMES[2])
    repo.write_flag("demo", "percentage", actors=["User:1"], percentage=("actors", 10))
    percentage = repo.commit("demo to 10%", at=DEMO_TIMES[3])
    repo.git("revert", "--no-edit", percentage, at=DEMO_TIMES[4])
    revert = repo.head()
    (repo.path / "flags/team").mkdir()
    repo.git("mv", "flags/demo.yml", "flags/team/demo.yml")
    repo.commit("Move demo into team/", at=START + 8 * HOUR)
    repo.write("flags/released.yml", flag_yaml("released", "enabled", flag_type="ops",
                                               default_enabled=True, cleanup=True)
               + f"introduced_by_url: {RELEASED_MR}\n")
    repo.commit("Add released", at=START + 9 * HOUR)
    repo.write(f"flags/{HOSTILE_NAME}.yml", hostile_yaml())
    repo.env = {**repo.env, "GIT_AUTHOR_NAME": HOSTILE_AUTHOR}
    repo.commit("Add the hostile flag", at=START + 10 * HOUR)
    return CatalogRepo(repo, revert)


__all__ = ["CatalogRepo", "flag_yaml", "make"]

"""Real git repositories for tests: pinned identity, set commit dates, nothing in $HOME."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from validator.digits import decimal_text

EPOCH = 1_790_000_000  # a fixed "now" for tests that pass the clock explicitly


def flag_yaml(
    name: str,
    stage: str = "off",
    *,
    actors: Sequence[str] = (),
    percentage: tuple[str, float] | None = None,
    default_enabled: bool = False,
    cleanup: bool = False,
    flag_type: str = "beta",
    description: str = "Shows the invite link.",
) -> str:
    lines = [
        "# yaml-language-server: $schema=../schema/flag.schema.json",
        f"name: {name}",
        f"description: {description}",
        f"type: {flag_type}",
        "group: group::activation",
        "milestone: '13.12'",
        "rollout_issue_url: https://gitlab.com/gitlab-org/gitlab/-/issues/330340",
        "expectations:",
        "  expected: More bookings.",
        "  risks: A broken link.",
        "  monitoring: Error rates.",
        f"stage: {stage}",
    ]
    if actors:
        lines.append("actors:")
        lines.extend(f"  - {actor}" for actor in actors)
    if percentage is not None:
        lines.append(f"percentage: {{of: {percentage[0]}, value: {decimal_text(percentage[1])}}}")
    lines.append(f"default_enabled: {'true' if default_enabled else 'false'}")
    if cleanup:
        lines.append("cleanup_issue_url: https://gitlab.com/gitlab-org/gitlab/-/issues/1")
    return "\n".join(lines) + "\n"


def flag_tree(root: Path, count: int, *, teams: int = 0) -> Path:
    """`count` valid flags `flag_<i>` under root/flags (in `teams` folders `team_<i % teams>`
    when given), root returned: a tree to run the cache over."""
    for index in range(count):
        folder = root / "flags" / (f"team_{index % teams}" if teams else "")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"flag_{index}.yml").write_text(flag_yaml(f"flag_{index}"), encoding="utf-8")
    return root


def git_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Flag Tester",
        GIT_AUTHOR_EMAIL="tester@example.com",
        GIT_COMMITTER_NAME="Flag Tester",
        GIT_COMMITTER_EMAIL="tester@example.com",
    )
    return env


class Repo:
    """A git work tree in a temp dir, driven by the real git binary."""

    def __init__(self, path: Path, home: Path) -> None:
        self.path = path
        self.env = git_env(home)
        path.mkdir(parents=True, exist_ok=True)

    @classmethod
    def create(cls, path: Path, home: Path, branch: str = "main") -> Repo:
        repo = cls(path, home)
        repo.git("init", "-q", "-b", branch)
        repo.git("config", "commit.gpgsign", "false")
        return repo

    def git(self, *args: str, at: int | None = None) -> str:
        env = dict(self.env)
        if at is not None:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{at} +0000"
        done = subprocess.run(["git", *args], cwd=self.path, env=env, capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def write(self, relative: str, text: str) -> None:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def write_flag(self, name: str, stage: str = "off", folder: str = "flags",
                   **fields: object) -> str:
        relative = f"{folder}/{name}.yml"
        self.write(relative, flag_yaml(name, stage, **fields))  # type: ignore[arg-type]
        return relative

    def commit(self, message: str, at: int) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, at=at)
        return self.head()

    def publish(self, origin: Path) -> Path:
        """A bare repository at origin whose main is this one's main: the shared remote."""
        self.git("init", "-q", "--bare", "-b", "main", str(origin))
        self.git("push", "-q", str(origin), "main")
        return origin

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

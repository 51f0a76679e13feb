"""`validate --staged` with no flag file staged answers from git's list of staged paths alone;
that answer must be the full judge's, word for word, and any doubt must go to the judge."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

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
    report = judge_range(repo.path, RangeRequest(None, staged=True))
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


def test_the_shortcut_imports_neither_model_nor_parser(repo: Repo) -> None:
    repo.write("app/main.py", "print(1)\n")
    repo.git("add", "--", "app/main.py")
    probe = ("import sys; from validator.cli import main; code = main(['-C', sys.argv[1], "
             "'validate', '--staged']); heavy = [m for m in ('pydantic', 'ruamel.yaml', "
             "'jsonschema', 'validator.model') if m in sys.modules]; print(code, heavy)")
    done = subprocess.run([sys.executable, "-c", probe, str(repo.path)], capture_output=True,
                          text=True, check=True, env=repo.env)
    assert done.stdout.splitlines()[-1] == "0 []"
    assert "FO303" in done.stdout


def test_the_shortcut_is_not_taken_when_the_range_is_widened(repo: Repo) -> None:
    from validator.staged import shortcut

    args = argparse.Namespace(staged=True, base="HEAD", head=None, merged=False,
                              all_files=False, root=str(repo.path), formats=None, outputs=None)
    assert shortcut(args, sys.stdout) is None

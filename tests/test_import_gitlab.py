"""`flagops import gitlab`: every real GitLab definition in ../shared/gitlab-feature-flags
imports; validating the result reports only the gaps of GitLab's data against our rules (the
counts the README gives), at positions in GitLab's own text; definitions GitLab would refuse
get a clear error and nothing is written."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import shared

from validator.importers.gitlab import import_definition, is_exact_import

README_COUNTS = {"FO101": 2, "FO102": 2, "FO111": 2, "FO122": 11, "FO140": 4, "FO141": 11,
                 "FO151": 10}
"""Findings per rule on the corpus as imported: the README's table. FO151 is a warning."""
STAGE_RULES = {"FO140", "FO141"}
"""Rules about what a stage needs: on an imported file they point at the appended stage line."""


@pytest.fixture(scope="module")
def corpus() -> Path:
    return shared("gitlab-feature-flags")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "flags").mkdir()
    return tmp_path


def test_the_whole_corpus_imports_and_validates_to_its_true_gaps(
        corpus: Path, repo: Path, run_cli: Any) -> None:
    code, out, err = run_cli("-C", str(repo), "import", "gitlab", str(corpus))
    assert code == 0, err
    assert "86 definition(s) imported" in out
    code, out, _ = run_cli("-C", str(repo), "validate", "--format", "json")
    findings = json.loads(out)
    assert Counter(f["rule"] for f in findings) == README_COUNTS
    assert {f["rule"] for f in findings if f["severity"] == "warning"} == {"FO151"}
    for finding in findings:
        original = (corpus / Path(finding["path"]).relative_to("flags")).read_text()
        lines = len(original.splitlines())
        assert finding["line"] <= lines or (
            finding["line"] == lines + 1 and finding["rule"] in STAGE_RULES), finding


def test_every_import_keeps_the_definition_byte_for_byte(corpus: Path) -> None:
    for path in sorted(corpus.glob("*/*.yml")):
        raw = path.read_bytes()
        source = path.relative_to(corpus).as_posix()
        imported = import_definition(raw, source)
        assert imported.text.encode().startswith(raw)
        stage = "enabled" if b"default_enabled: true" in raw else "off"
        assert imported.text.endswith(f"stage: {stage}\n")
        assert is_exact_import(imported.text, imported.target)


GOOD = ("---\nname: my_flag\ndescription: >-\n  Folded\n  text \nfeature_issue_url:\n"
        "introduced_by_url: https://gitlab.com/gitlab-org/gitlab/-/merge_requests/1\n"
        "milestone: '17.1'\ngroup: group::x\ntype: beta\ndefault_enabled: true")


@pytest.mark.parametrize(("label", "relative", "text", "message"), [
    ("no name", "beta/my_flag.yml", GOOD.replace("name: my_flag\n", ""), "missing name"),
    ("no type", "beta/my_flag.yml", GOOD.replace("type: beta\n", ""), "missing `type`"),
    ("unknown type", "nope/my_flag.yml", GOOD.replace("type: beta", "type: nope"),
     "type 'nope' is invalid"),
    ("name is not the file", "beta/other.yml", GOOD, "invalid path"),
    ("type is not the folder", "ops/my_flag.yml", GOOD, "invalid type"),
    ("default_enabled missing", "beta/my_flag.yml",
     GOOD.replace("default_enabled: true", ""), "missing `default_enabled`"),
    ("default_enabled yes", "beta/my_flag.yml",
     GOOD.replace("default_enabled: true", "default_enabled: 'yes'"), "missing `default"),
    ("not a mapping", "beta/my_flag.yml", "- a\n- b\n", "not a YAML mapping"),
    ("broken YAML", "beta/my_flag.yml", "name: [x\n", "not a YAML mapping"),
    ("carries state", "beta/my_flag.yml", GOOD + "\nstage: beta\n", "flagops state"),
    ("ends a document", "beta/my_flag.yml", GOOD + "\n...\n", "cannot append"),
])
def test_a_definition_gitlab_refuses_gets_a_clear_error(
        repo: Path, run_cli: Any, label: str, relative: str, text: str, message: str) -> None:
    path = repo / "defs" / relative
    path.parent.mkdir(parents=True)
    path.write_text(text)
    code, _, err = run_cli("-C", str(repo), "import", "gitlab", str(repo / "defs"))
    assert code == 1, label
    assert f"{path.as_posix()}: error:" in err and message in err, err
    assert list((repo / "flags").iterdir()) == []


def test_quirks_import_and_a_stage_can_be_chosen(repo: Path, run_cli: Any) -> None:
    unreleased = GOOD.replace("default_enabled: true", "default_enabled: false")
    path = repo / "defs/beta/my_flag.yml"
    path.parent.mkdir(parents=True)
    path.write_text(unreleased)  # no final newline, a folded description, an empty value
    code, _, err = run_cli("-C", str(repo), "import", "gitlab", str(path), "--stage", "staging")
    assert code == 0, err
    assert (repo / "flags/beta/my_flag.yml").read_text() == unreleased + "\nstage: staging\n"
    path.write_text(GOOD)
    code, _, err = run_cli("-C", str(repo), "import", "gitlab", str(path))
    assert code == 1 and "exists; --force replaces it" in err
    code, _, err = run_cli("-C", str(repo), "import", "gitlab", str(path), "--force")
    assert code == 0, err
    assert (repo / "flags/beta/my_flag.yml").read_text().endswith("stage: enabled\n")


@pytest.mark.parametrize("stage", ["off", "staging"])
def test_a_released_definition_imports_at_enabled_only(repo: Path, run_cli: Any,
                                                       stage: str) -> None:
    """default_enabled: true below stage enabled is FO121: the import wrote such a file and
    said "imported" (a file no build takes)."""
    path = repo / "defs/beta/my_flag.yml"
    path.parent.mkdir(parents=True)
    path.write_text(GOOD)
    code, _, err = run_cli("-C", str(repo), "import", "gitlab", str(path), "--stage", stage)
    assert code == 1, err
    assert f"my_flag is released in GitLab (default_enabled: true), which is stage enabled " \
           f"here; at {stage} it would be FO121" in err, err
    assert list((repo / "flags").iterdir()) == []


@pytest.mark.parametrize("stage", ["beta", "percentage"])
def test_no_stage_an_import_cannot_fill_is_offered(repo: Path, run_cli: Any,
                                                   stage: str) -> None:
    """Beta lists actors and percentage a share; a definition has neither (FO130, FO131 on
    every file written)."""
    path = repo / "defs/beta/my_flag.yml"
    path.parent.mkdir(parents=True)
    path.write_text(GOOD.replace("default_enabled: true", "default_enabled: false"))
    code, _, err = run_cli("-C", str(repo), "import", "gitlab", str(path), "--stage", stage)
    assert code == 2 and "invalid choice" in err, err
    assert list((repo / "flags").iterdir()) == []


def test_a_name_defined_at_another_path_is_not_imported_again(repo: Path,
                                                               run_cli: Any) -> None:
    """GitLab moved the definition from development/ to beta/: imported again, it was a
    second file of the name (FO111), which no build takes; --force does not make it one."""
    (repo / "flags/team_a").mkdir()
    (repo / "flags/team_a/my_flag.yml").write_text("name: my_flag\n")
    path = repo / "defs/beta/my_flag.yml"
    path.parent.mkdir(parents=True)
    path.write_text(GOOD)
    for force in ([], ["--force"]):
        code, _, err = run_cli("-C", str(repo), "import", "gitlab", str(path), *force)
        assert code == 1, err
        assert ("my_flag is defined by flags/team_a/my_flag.yml already, and a flag's name is "
                "unique across flags/ (FO111)") in err, err
        assert not (repo / "flags/beta").exists()


def test_a_missing_or_huge_definition_is_named_as_one(repo: Path, run_cli: Any) -> None:
    code, _, err = run_cli("-C", str(repo), "import", "gitlab", str(repo / "typo.yml"))
    assert code == 1 and err.startswith(f"{(repo / 'typo.yml').as_posix()}: error: "
                                        f"{(repo / 'typo.yml').as_posix()} not found\n"), err
    (repo / "huge.yml").write_bytes(b"#" * (1024 * 1024 + 1))
    code, _, err = run_cli("-C", str(repo), "import", "gitlab", str(repo / "huge.yml"))
    assert code == 1 and "a GitLab flag definition is far smaller" in err, err


@pytest.mark.parametrize(("label", "edit"), [
    ("stage moved on", lambda t: t.replace("stage: off", "stage: beta")),
    ("actors added", lambda t: t.replace("stage: off", "actors: [User:1]\nstage: off")),
    ("a line added at the end", lambda t: t + "owners: ['@a']\n"),
])
def test_a_file_edited_after_the_import_is_not_an_exact_import(label: str, edit: Any) -> None:
    imported = import_definition(GOOD.replace("true", "false").encode(), "beta/my_flag.yml")
    assert is_exact_import(imported.text, imported.target)
    assert not is_exact_import(edit(imported.text), imported.target), label


@pytest.mark.parametrize("where", ["flags/beta/my_flag.yml", "flags/beta"])
def test_an_import_never_writes_through_a_symlink(repo: Path, run_cli: Any,
                                                  where: str) -> None:
    """A dangling link at the target (or its folder) was no file that exists: the import
    wrote where it pointed (a CI script, the policy) and said it wrote the flag."""
    (repo / "ci").mkdir()
    (repo / "flags/beta").mkdir(parents=True, exist_ok=True)
    link = repo / where
    if link.is_dir():
        link.rmdir()
    link.symlink_to(repo / ("ci/hook.sh" if where.endswith(".yml") else "ci"))
    path = repo / "defs/beta/my_flag.yml"
    path.parent.mkdir(parents=True)
    path.write_text(GOOD)
    for force in ([], ["--force"]):
        code, _, err = run_cli("-C", str(repo), "import", "gitlab", str(path), *force)
        assert code == 1 and f"{where} is a symlink" in err, err
        assert list((repo / "ci").iterdir()) == []

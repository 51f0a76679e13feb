"""The catalog's part of the merged config, built by `flagops build` from a real git
repository with a dated history: the summaries, their schema, one pass over git, shallow
clones and the catalog pages rendered from it (as files; the browser tests are elsewhere)."""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from catalog_repo import (
    AS_OF,
    DEMO_STEPS,
    DEMO_TIMES,
    HOSTILE_AUTHOR,
    HOSTILE_NAME,
    HOSTILE_TEXT,
    LIFESPANS,
    CatalogRepo,
    flag_yaml,
    iso,
    make,
)

from survey_renderer.catalog.pages import render_catalog
from validator import git
from validator.build import MergedConfig
from validator.cli import main
from validator.config_file import SCHEMA_PATH
from validator.lifecycle.histories import read_histories
from validator.model import Flag
from validator.policy import DEFAULT_POLICY

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> CatalogRepo:
    return make(tmp_path_factory.mktemp("catalog"))


def build(root: Path) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", str(AS_OF))
        assert main(["-C", str(root), "build", "--history"], out=io.StringIO()) == 0
    data: dict[str, Any] = json.loads((root / "build/flags.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def config(made: CatalogRepo) -> dict[str, Any]:
    return build(made.repo.path)


def test_history_is_flagops_history_with_production_levels(
    config: dict[str, Any], made: CatalogRepo
) -> None:
    history = config["flags"]["demo"]["summary"]["history"]
    assert [row["step"] for row in history] == list(DEMO_STEPS)  # the move is no row
    assert [row["time"] for row in history] == [iso(t) for t in DEMO_TIMES]
    assert [row["production"]["kind"] for row in history] == [
        "off", "off", "actors", "percentage", "actors"]
    assert history[2]["merge_request"] == "group/flags!7"
    assert history[-1]["commit"] == made.revert
    assert (history[-1]["from"], history[-1]["to"]) == ("percentage 10% of actors",
                                                       "beta (1 actor)")


def test_summary_facts(config: dict[str, Any]) -> None:
    assert config["catalog"] == {"as_of": iso(AS_OF), "history": "complete"}
    demo = config["flags"]["demo"]["summary"]
    assert demo["since"] == iso(DEMO_TIMES[-1])  # the rollback's landing time
    assert demo["next_step"] == "beta → percentage 10% of actors" and demo["needs_action"]
    assert {name: flag["summary"]["lifespan"]["status"]
            for name, flag in config["flags"].items()} == LIFESPANS
    assert config["flags"]["old_wip"]["summary"]["lifespan"]["reasons"] == [
        "past its lifespan (5 of 4 milestones, end of life 14.4)"]
    hostile = config["flags"][HOSTILE_NAME]["summary"]
    assert hostile["description"] == HOSTILE_TEXT
    assert hostile["history"][0]["author"] == HOSTILE_AUTHOR.replace("<", "").replace(">", "")


def test_the_config_matches_its_checked_in_schema(config: dict[str, Any]) -> None:
    schema = json.loads((REPO_ROOT / SCHEMA_PATH).read_text(encoding="utf-8"))
    jsonschema.validate(config, schema)
    MergedConfig.model_validate(config)


def _git_logs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    calls: list[tuple[str, ...]] = []
    real = git.git

    def counting(root: Path, *args: str, **kwargs: Any) -> bytes:
        calls.append(args)
        return real(root, *args, **kwargs)

    monkeypatch.setattr(git, "git", counting)
    return calls


def test_one_pass_over_git_whatever_the_number_of_flags(
    made: CatalogRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    flags = {name: Flag.model_validate(data) for name, data in _head_flags(made).items()}
    counts = []
    for chosen in (["demo"], list(flags)):
        calls = _git_logs(monkeypatch)
        read_histories(made.repo.path, "HEAD", {name: flags[name] for name in chosen},
                       DEFAULT_POLICY)
        counts.append(sum(1 for call in calls if call[0] == "log"))
        monkeypatch.undo()
    assert counts[0] == counts[1] <= 3


def _head_flags(made: CatalogRepo) -> dict[str, Any]:
    from ruamel.yaml import YAML

    found = {}
    for path in (made.repo.path / "flags").rglob("*.yml"):
        found[path.stem] = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return found


def test_a_shallow_clone_says_its_history_is_partial(made: CatalogRepo, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{made.repo.path}",
                    str(clone)], check=True, env=made.repo.env)
    config = build(clone)
    assert config["catalog"]["history"] == "partial"
    assert config["flags"]["demo"]["summary"]["history"] == []  # older than the cut
    files = render_catalog(MergedConfig.model_validate(config))
    assert "shallow clone" in files["flags/index.html"]
    assert "shallow clone" in files["flags/demo.html"]


@pytest.fixture(scope="module")
def pages(config: dict[str, Any]) -> Iterator[dict[str, str]]:
    yield render_catalog(MergedConfig.model_validate(config))


def test_the_pages_and_their_policy(pages: dict[str, str]) -> None:
    assert set(pages) == {"flags/index.html", "flags/catalog.css", "flags/catalog.js",
                          "flags/demo.html", "flags/old_wip.html", "flags/released.html",
                          f"flags/{HOSTILE_NAME}.html"}
    for name, text in pages.items():
        if name.endswith(".html"):
            csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text)
            assert csp and "default-src &#39;none&#39;" in csp.group(1)
            assert "unsafe" not in csp.group(1) and "http" not in csp.group(1)
            assert not re.search(r'(src|href)="(https?:)?//(?!evil\.example|gitlab\.com)', text)
            assert " style=" not in text and "<script>" not in text.replace(
                '<script src="catalog.js"></script>', "")


def test_hostile_text_is_escaped_in_the_markup(pages: dict[str, str]) -> None:
    page = pages[f"flags/{HOSTILE_NAME}.html"]
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert "<img" not in page and "<svg onload" not in page
    assert 'href="https://evil.example/&#34;&gt;&lt;script&gt;' in page


def test_a_config_without_summaries_still_renders_its_flags(config: dict[str, Any]) -> None:
    """A merged config from before the catalog (or a team's own tool): stages, and says so."""
    bare = {**config, "catalog": None,
            "flags": {name: {**flag, "summary": None} for name, flag in config["flags"].items()}}
    files = render_catalog(MergedConfig.model_validate(bare))
    assert "no flag summaries" in files["flags/index.html"]
    assert files["flags/index.html"].count('<tr role="row" data-name=') == len(LIFESPANS)
    assert "has no summary of this flag" in files["flags/demo.html"]


def test_outside_git_the_pages_say_there_is_no_history(tmp_path: Path) -> None:
    (tmp_path / "flags").mkdir()
    (tmp_path / "flags/demo.yml").write_text(flag_yaml("demo", "staging"), encoding="utf-8")
    config = build(tmp_path)
    assert config["catalog"]["history"] == "none"
    files = render_catalog(MergedConfig.model_validate(config))
    assert "outside a git repository" in files["flags/demo.html"]
    assert "No dated history to draw." in files["flags/demo.html"]


def test_rendering_is_a_function_of_the_config(config: dict[str, Any]) -> None:
    """No clock is read while rendering: the same config gives the same bytes."""
    first = render_catalog(MergedConfig.model_validate(config))
    assert render_catalog(MergedConfig.model_validate(config)) == first
    assert "as of 2026-10-21 14:13 UTC" in first["flags/index.html"]


def test_a_build_without_history_reads_no_git_and_the_catalog_says_so(
        made: CatalogRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain `flagops build` is the merged config alone (no clock, no git): the catalog
    built from it shows stages and says how to get timelines."""
    calls = _git_logs(monkeypatch)
    assert main(["-C", str(made.repo.path), "build", "-o", "bare.json"],
                out=io.StringIO()) == 0
    assert [call for call in calls if call[0] in ("log", "cat-file")] == []
    config = json.loads((made.repo.path / "bare.json").read_text(encoding="utf-8"))
    assert config["catalog"] is None
    assert all(flag["summary"] is None for flag in config["flags"].values())
    assert "without --history" in render_catalog(MergedConfig.model_validate(config))[
        "flags/index.html"]


def test_an_authors_controls_reach_neither_the_config_nor_the_pages(tmp_path: Path) -> None:
    """Git keeps an escape sequence or a bidi control in an author's name; the merged config
    (free text, FO104's rule) and the pages show U+FFFD where each stood."""
    from gitrepo import EPOCH, Repo

    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "staging")
    name = "Eve\x1b]52;c;aGk=\x07 \u202eli\u2066ce\r"
    repo.env = {**repo.env, "GIT_AUTHOR_NAME": name}
    repo.commit("add demo", at=EPOCH)
    assert name.rstrip("\r") in repo.git("log", "-1", "--format=%an")  # git kept them
    config = build(repo.path)
    [step] = config["flags"]["demo"]["summary"]["history"]
    assert step["author"].startswith("Eve\ufffd]52;c;aGk=\ufffd \ufffdli\ufffdce")
    page = render_catalog(MergedConfig.model_validate(config))["flags/demo.html"]
    assert "Eve\ufffd]52" in page
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e\u2066]", page)


def test_a_merged_config_with_a_control_in_an_author_is_refused(config: dict[str, Any]) -> None:
    hand_made = json.loads(json.dumps(config))
    hand_made["flags"]["demo"]["summary"]["history"][0]["author"] = "Eve\x1b[2J"
    with pytest.raises(ValueError, match="U\\+001B ESCAPE, a control character"):
        MergedConfig.model_validate(hand_made)
    schema = json.loads((REPO_ROOT / SCHEMA_PATH).read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(hand_made, schema)

"""`flagops render` into a folder it rendered before: nothing written when nothing changed,
only the changed pages when the config changed, the page of a removed flag removed, and a
folder that anyone touched since replaced whole, as a first render would leave it."""

from __future__ import annotations

import argparse
import errno
import filecmp
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from test_survey_page import config_for

from survey_renderer import site_state
from validator.build import config_text
from validator.cli import main


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLAGOPS_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "build").mkdir()
    data = json.loads(config_text(config_for("beta")))
    for name in ("alpha", "beta_two", "gamma"):
        data["flags"][name] = data["flags"]["calendly_invite_link"]
    _write_config(tmp_path, data)
    return tmp_path


def _write_config(root: Path, data: dict[str, Any]) -> None:
    (root / "build/flags.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def render(root: Path, output: str = "public") -> str:
    out = io.StringIO()
    assert main(["-C", str(root), "render", "-o", output], out=out) == 0
    return out.getvalue()


def identities(site: Path) -> dict[str, tuple[int, int, int]]:
    return {path.relative_to(site).as_posix(): (path.stat().st_ino, path.stat().st_mtime_ns,
                                                path.stat().st_ctime_ns)
            for path in site.rglob("*") if path.is_file()}


def same_tree(one: Path, other: Path) -> bool:
    compared = filecmp.dircmp(one, other)
    pending = [compared]
    while pending:
        found = pending.pop()
        if found.left_only or found.right_only or found.funny_files:
            return False
        _, mismatch, errors = filecmp.cmpfiles(found.left, found.right, found.common_files,
                                               shallow=False)
        if mismatch or errors:
            return False
        pending += found.subdirs.values()
    return True


def fresh_render(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The same config rendered into a new folder without any kept state."""
    with monkeypatch.context() as patch:
        patch.setenv("FLAGOPS_NO_CACHE", "1")
        render(root, "fresh")
    return root / "fresh"


def test_an_unchanged_render_writes_nothing_and_says_the_same(root: Path) -> None:
    said = render(root)
    before = identities(root / "public")
    assert render(root) == said
    assert identities(root / "public") == before


def test_a_changed_config_rewrites_only_the_pages_that_changed(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    render(root)
    before = identities(root / "public")
    data = json.loads((root / "build/flags.json").read_text(encoding="utf-8"))
    del data["flags"]["gamma"]
    data["flags"]["alpha"] = {**data["flags"]["alpha"], "stage": "staging"}
    _write_config(root, data)
    render(root)
    after = identities(root / "public")
    assert "flags/gamma.html" not in after
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {"flags/alpha.html", "flags/index.html", ".flagops-site"}
    assert same_tree(root / "public", fresh_render(root, monkeypatch))


def test_a_touched_or_foreign_file_makes_the_render_start_afresh(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    render(root)
    page = root / "public/flags/alpha.html"
    page.write_text(page.read_text(encoding="utf-8").replace("alpha", "evil"), encoding="utf-8")
    (root / "public/flags/planted.html").write_text("<script>x()</script>\n", encoding="utf-8")
    render(root)
    assert not (root / "public/flags/planted.html").exists()
    assert same_tree(root / "public", fresh_render(root, monkeypatch))


def test_a_page_swapped_for_a_link_is_not_written_through(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    render(root)
    outside = root / "outside.html"
    outside.write_text("mine\n", encoding="utf-8")
    page = root / "public/flags/alpha.html"
    page.unlink()
    page.symlink_to(outside)
    data = json.loads((root / "build/flags.json").read_text(encoding="utf-8"))
    data["flags"]["alpha"] = {**data["flags"]["alpha"], "stage": "staging"}
    _write_config(root, data)
    render(root)
    assert outside.read_text(encoding="utf-8") == "mine\n"
    assert not page.is_symlink()
    assert same_tree(root / "public", fresh_render(root, monkeypatch))


def modes(site: Path) -> dict[str, int]:
    return {path.relative_to(site).as_posix(): path.stat().st_mode
            for path in [site, *site.rglob("*")]}


@pytest.mark.parametrize("folder", ["flags", ""])
def test_a_folder_whose_mode_changed_makes_the_render_start_afresh(
        root: Path, monkeypatch: pytest.MonkeyPatch, folder: str) -> None:
    """A `chmod` of a folder keeps its files' identities: a render in place kept the mode a
    fresh render does not write (0700: a web server of another user read no page)."""
    render(root)
    (root / "public" / folder).chmod(0o700)
    data = json.loads((root / "build/flags.json").read_text(encoding="utf-8"))
    data["flags"]["alpha"] = {**data["flags"]["alpha"], "stage": "staging"}
    _write_config(root, data)
    render(root)
    fresh = fresh_render(root, monkeypatch)
    assert same_tree(root / "public", fresh) and modes(root / "public") == modes(fresh)


@pytest.mark.parametrize("cache", ["public", "public/.cache"])
def test_a_cache_folder_in_the_site_keeps_no_state_there(
        root: Path, monkeypatch: pytest.MonkeyPatch, cache: str) -> None:
    """The state, its key and the folder's file list, was published with the site, and the
    folder then never held exactly what the render wrote; a cache folder below the site was
    made before the render, which then refused a folder holding files it did not write."""
    monkeypatch.setenv("FLAGOPS_CACHE_DIR", str(root / cache))
    render(root)
    render(root)
    assert not list((root / "public").rglob("render-*.json"))
    assert same_tree(root / "public", fresh_render(root, monkeypatch))


def test_a_kept_state_does_not_vouch_for_an_output_folder_moved_behind_a_link(
        root: Path) -> None:
    """The folder moved elsewhere keeps every file's identity, and a link put in its place
    leads to it: a render with its state kept refuses the link, as one without refuses it,
    whether the config changed or not, and writes nothing through it."""
    render(root)
    moved = root / "elsewhere"
    (root / "public").rename(moved)
    (root / "public").symlink_to(moved)
    before = identities(moved)
    out = io.StringIO()
    assert main(["-C", str(root), "render", "-o", "public"], out=out) == 1
    data = json.loads((root / "build/flags.json").read_text(encoding="utf-8"))
    data["flags"]["delta"] = data["flags"]["alpha"]
    _write_config(root, data)
    assert main(["-C", str(root), "render", "-o", "public"], out=out) == 1
    assert identities(moved) == before


def test_a_state_the_repository_commits_is_not_read(root: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache folder inside the repository that git tracks holds whatever a change wrote:
    a state committed there (here a link to one that vouches for the folder as it is) is
    neither read nor written, and the render replaces the folder as without a cache."""
    import subprocess

    cache = root / ".cache" / "flagops"
    monkeypatch.setenv("FLAGOPS_CACHE_DIR", str(cache))
    render(root)
    kept = next(cache.glob("render-*.json"))
    vouching = root / "vouching.json"
    kept.rename(vouching)
    kept.symlink_to(vouching)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "--", ".cache"], check=True)
    before = identities(root / "public")
    render(root)
    after = identities(root / "public")
    assert after.keys() == before.keys()
    assert all(after[name][0] != before[name][0] for name in after)
    assert kept.is_symlink()


def test_without_a_cache_every_render_replaces_the_folder(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAGOPS_NO_CACHE", "1")
    render(root)
    before = identities(root / "public")
    render(root)
    after = identities(root / "public")
    assert before.keys() == after.keys()
    assert all(after[name][0] != before[name][0] for name in after)


def test_the_key_covers_the_config_the_options_and_the_policy(root: Path) -> None:
    config = (root / "build/flags.json").read_bytes()
    key = site_state.render_key(root, config, ["build/flags.json", "public", ""])
    assert key == site_state.render_key(root, config, ["build/flags.json", "public", ""])
    assert key != site_state.render_key(root, config + b" ", ["build/flags.json", "public", ""])
    assert key != site_state.render_key(root, config, ["build/flags.json", "site", ""])
    (root / "pyproject.toml").write_text("[tool.flagops]\n", encoding="utf-8")
    assert key != site_state.render_key(root, config, ["build/flags.json", "public", ""])


def test_a_changed_policy_renders_again(root: Path) -> None:
    """The invite link's hosts come from pyproject.toml: a policy that refuses the link now
    fails the render, even though the config did not change."""
    render(root)
    (root / "pyproject.toml").write_text('[tool.flagops]\ninvite_link_hosts = ["x.org"]\n',
                                         encoding="utf-8")
    assert main(["-C", str(root), "render"], out=io.StringIO()) == 1
    assert os.path.isdir(root / "public")


def test_the_cache_options_choose_where_the_state_is_kept(root: Path, tmp_path: Path) -> None:
    """`render` takes `--cache-dir` and `--no-cache` as validate and build do."""
    def run(*options: str) -> dict[str, tuple[int, int, int]]:
        assert main(["-C", str(root), "render", *options], out=io.StringIO()) == 0
        return identities(root / "public")

    named = tmp_path / "named"
    first = run("--cache-dir", str(named))
    assert list(named.glob("render-*.json")) and run("--cache-dir", str(named)) == first
    replaced = run("--no-cache")
    assert all(replaced[name][0] != first[name][0] for name in first)


def _pooled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page pool even for these few pages, with a worker per core of two."""
    from survey_renderer.catalog import page_pool

    monkeypatch.setattr(page_pool, "PARALLEL_FROM", 0)
    monkeypatch.setattr(page_pool, "cores", lambda: 2)


def test_pages_the_workers_write_make_the_folder_one_process_makes(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh render has each flag page written by the process that drew it (forked
    workers, with the pool): the folder is the one written from every file here."""
    from survey_renderer.cli import _render, write_site
    from validator.config_file import read_config

    config = read_config(root / "build/flags.json", "build/flags.json")
    args = argparse.Namespace(invite_url=None, config="build/flags.json", output="expected")
    files, said = _render(root, config, args)
    write_site(files, root / "expected")
    _pooled(monkeypatch)
    monkeypatch.setenv("FLAGOPS_NO_CACHE", "1")
    assert render(root, "expected2") == said.replace("expected", "expected2")
    assert same_tree(root / "expected", root / "expected2")


def test_a_page_a_worker_cannot_write_fails_the_render_and_leaves_nothing(
        root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from survey_renderer import cli

    render(root)
    before = identities(root / "public")

    def full(folder: int, relative: str, text: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    _pooled(monkeypatch)
    monkeypatch.setenv("FLAGOPS_NO_CACHE", "1")
    monkeypatch.setattr(cli, "_write_page", full)
    assert main(["-C", str(root), "render"], out=io.StringIO()) == 1
    assert "/public: No space left on device" in capsys.readouterr().err
    assert identities(root / "public") == before
    assert sorted(path.name for path in root.iterdir()) == ["build", "cache", "public"]

"""The facts kept between runs (`validator.lifecycle.facts_cache`) change no output: `status`
prints the same bytes with no cache, a cold one, a warm one and a corrupt one, and after
anything that changes what git log gives for the same HEAD (a new commit, a replace ref,
grafts, a shallow cut); and the streamed history reader gives what the whole one gives."""

from __future__ import annotations

import io
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from catalog_repo import AS_OF, DEMO_TIMES, CatalogRepo, make
from hypothesis import given, settings
from hypothesis import strategies as st

from validator import git
from validator.cli import main
from validator.git import log as git_log
from validator.lifecycle import facts, facts_cache, states
from validator.lifecycle.facts_cache import decode, encode
from validator.lifecycle.show import iso, status_json
from validator.lifecycle.status import Facts, Row
from validator.reports.escape import dumps


def status(root: Path, *cache: str, env: dict[str, str] | None = None) -> str:
    """`status --format json` on a fixed clock."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("validator.commands.status.time.time", lambda: AS_OF)
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        assert main(["-C", str(root), "status", "--format", "json", *cache], out=out) == 0
    return out.getvalue()


def facts_packs(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*.{facts_cache.KIND}.json"))


def _no_history(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a warm cache read the history again")


@pytest.fixture
def made(tmp_path: Path) -> CatalogRepo:
    """A fresh repository each: these tests change its history."""
    return make(tmp_path / "repo")


def cached_then(made: CatalogRepo, folder: Path) -> str:
    """The output with no cache, after a run that filled the cache (and said the same)."""
    root = made.repo.path
    without = status(root, "--no-cache")
    assert status(root, "--cache-dir", str(folder)) == without
    assert len(facts_packs(folder)) == 1
    return without


def test_a_warm_run_reads_no_history_and_prints_the_same(
        made: CatalogRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, folder = made.repo.path, tmp_path / "cache"
    without = cached_then(made, folder)
    assert json.loads(without)[0]["since"] is not None
    with monkeypatch.context() as patch:
        patch.setattr(facts, "_walked", _no_history)
        patch.setattr(git_log, "first_parent_commits", _no_history)
        assert status(root, "--cache-dir", str(folder)) == without


def test_a_rewritten_heads_pack_keeps_the_heads_this_run_read(
        made: CatalogRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that read most heads from the pack and parsed one changed flag writes the pack
    again with all of them: the next run parses nothing."""
    root, folder = made.repo.path, tmp_path / "cache"
    cached_then(made, folder)
    made.repo.write_flag("old_wip", "staging", flag_type="wip")
    made.repo.commit("old_wip to staging", at=AS_OF - 60)
    after = status(root, "--no-cache")
    assert status(root, "--cache-dir", str(folder)) == after
    with monkeypatch.context() as patch:
        patch.setattr(states, "flag_of_bytes", _no_parse)
        patch.setattr(states, "state_of_bytes", _no_parse)
        assert status(root, "--cache-dir", str(folder)) == after


def _no_parse(item: Any) -> Any:
    raise AssertionError("a warm cache parsed a blob")


def test_a_new_commit_is_read_again(made: CatalogRepo, tmp_path: Path) -> None:
    root, folder = made.repo.path, tmp_path / "cache"
    before = cached_then(made, folder)
    made.repo.write_flag("demo", "percentage", folder="flags/team", actors=["User:1"],
                         percentage=("actors", 10))
    made.repo.commit("demo to 10% again", at=AS_OF - 60)
    after = status(root, "--no-cache")
    assert after != before
    assert status(root, "--cache-dir", str(folder)) == after
    assert status(root, "--cache-dir", str(folder)) == after


def _landed(output: str, name: str) -> Any:
    return next(row["since"] for row in json.loads(output) if row["name"] == name)


def test_a_replace_ref_changes_nothing(made: CatalogRepo, tmp_path: Path) -> None:
    """The revert (where demo's state landed) replaced by a copy dated a day later: git log
    would show the copy, but status reads the commits as recorded, as the gate does
    (core.useReplaceRefs pinned off, sixth review), cached or not."""
    root, folder, repo = made.repo.path, tmp_path / "cache", made.repo
    before = cached_then(made, folder)
    original = repo.git("cat-file", "commit", made.revert)
    later = DEMO_TIMES[4] + 86_400
    text = "\n".join(f"committer Flag Tester <tester@example.com> {later} +0000"
                     if line.startswith("committer ") else line
                     for line in original.split("\n"))
    copy = git.git(root, "hash-object", "-t", "commit", "-w", "--stdin",
                   stdin=text.encode()).decode().strip()
    repo.git("replace", made.revert, copy)
    assert repo.git("log", "-1", "--format=%ct", made.revert).strip() == str(later)
    assert status(root, "--no-cache") == before
    assert status(root, "--cache-dir", str(folder)) == before


def test_grafts_change_nothing(made: CatalogRepo, tmp_path: Path) -> None:
    """A graft that cuts the revert out of the first-parent line: status reads the parents
    as recorded, as the gate does (GIT_GRAFT_FILE the empty file, sixth review)."""
    root, folder, repo = made.repo.path, tmp_path / "cache", made.repo
    before = cached_then(made, folder)
    child = repo.git("rev-list", "--first-parent", "--reverse", f"{made.revert}..HEAD").split()[0]
    skipped = repo.git("rev-parse", f"{made.revert}^").strip()
    (root / ".git/info").mkdir(exist_ok=True)
    (root / ".git/info/grafts").write_text(f"{child} {skipped}\n")
    assert status(root, "--no-cache") == before
    assert status(root, "--cache-dir", str(folder)) == before


def test_a_shallow_cut_is_part_of_the_key(made: CatalogRepo, tmp_path: Path) -> None:
    root, folder = made.repo.path, tmp_path / "cache"
    before = cached_then(made, folder)
    (root / ".git/shallow").write_text(f"{made.revert}\n")
    cut = status(root, "--no-cache")
    assert cut != before
    assert status(root, "--cache-dir", str(folder)) == cut


@pytest.mark.parametrize("garbage", [b"", b"{", b"[]", b'{"format": 1, "context": "x"}',
                                     b"\xff\xfe not json"])
def test_a_corrupt_facts_pack_is_ignored_and_rebuilt(made: CatalogRepo, tmp_path: Path,
                                                     garbage: bytes) -> None:
    root, folder = made.repo.path, tmp_path / "cache"
    without = cached_then(made, folder)
    for pack in facts_packs(folder):
        pack.write_bytes(garbage)
    assert status(root, "--cache-dir", str(folder)) == without
    assert all(json.loads(pack.read_bytes())["entries"] for pack in facts_packs(folder))


@pytest.mark.parametrize("forge", [
    lambda entry: [True if isinstance(value, int) else value for value in entry],
    lambda entry: entry[:-4],
    lambda entry: [*entry, "ghost", None, None, None],
    lambda entry: [str(value) if isinstance(value, int) else value for value in entry],
    lambda entry: [value + 1 if isinstance(value, int) else value for value in entry],
    lambda entry: {"a": entry}])
def test_a_foreign_entry_is_not_trusted(made: CatalogRepo, tmp_path: Path,
                                        forge: Any) -> None:
    """Entries under the right key that are not what a walk wrote: each shape is a miss.
    A time moved by a second is the one forgery a strict decoder cannot see, so its run is
    the proof the test can fail: the cache is trusted there, and says so."""
    root, folder = made.repo.path, tmp_path / "cache"
    without = cached_then(made, folder)
    for pack in facts_packs(folder):
        data = json.loads(pack.read_bytes())
        data["entries"] = {key: forge(entry) for key, entry in data["entries"].items()}
        pack.write_text(json.dumps(data), encoding="utf-8")
    moved = status(root, "--cache-dir", str(folder))
    shifted = forge([1]) == [2]
    assert (moved != without) if shifted else (moved == without)


def test_an_entry_decodes_to_itself_and_nothing_else_does() -> None:
    kept = {"a": Facts(1, 2, released_at=None), "b": Facts(None, None, released_at=3)}
    entry = json.loads(json.dumps(encode(kept)))
    assert decode(entry, ["a", "b"]) == kept
    assert list(decode(entry, ["b", "a"]) or ()) == ["b", "a"]  # in the order asked
    for names in (["a"], ["a", "b", "c"], ["a", "c"]):
        assert decode(entry, names) is None
    for bad in ([*entry, None], entry[:4] + entry[:4], [7, 1, 2, None, *entry[4:]],
                ["a", 1.0, 2, None, *entry[4:]], ["a", False, 2, None, *entry[4:]],
                None, {"a": 1}, "a"):
        assert decode(bad, ["a", "b"]) is None


def test_the_streamed_log_is_the_whole_log(made: CatalogRepo,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Read a few bytes at a time (every field split across reads) or whole: the same
    commits, the same changes, against the output parsed in one piece."""
    root = made.repo.path
    raw = git.git(root, "log", "--no-show-signature", "--first-parent", "-m", "--no-renames",
                  "--raw", "-z", "--no-abbrev", "--format=%x00%H %ct", "HEAD", "--", "flags")
    whole = list(git_log._parse_log(raw))
    assert len(whole) >= 8 and any(c.changes[0].before is None for c in whole)
    monkeypatch.setattr(git_log, "_CHUNK", 7)
    assert git_log.first_parent_history(root, "HEAD", ["flags"]) == whole
    assert [c.paths for c in whole] == [c.paths for c in git_log.first_parent_history(
        root, "HEAD", [git.FLAGS_DIR])]


def test_a_stopped_stream_and_a_failed_one(made: CatalogRepo) -> None:
    root = made.repo.path
    stream = git_log.first_parent_commits(root, "HEAD", ["flags"])
    first = next(stream)
    stream.close()  # git is stopped, not waited for to the end
    assert first == git_log.first_parent_history(root, "HEAD", ["flags"], limit=1)[0]
    with pytest.raises(git.GitError, match="git log failed"):
        git_log.first_parent_history(root, "no-such-ref", ["flags"])
    with pytest.raises(git.NotARepository):
        git_log.first_parent_history(root.parent, "HEAD", ["flags"])


def test_each_commit_holds_what_its_own_diff_holds(made: CatalogRepo) -> None:
    """Against a reading that shares nothing: each first-parent commit's changes are the
    ones `git diff --raw` gives between it and its first parent (the old sides the stream
    shares with the next newer change included)."""
    root = made.repo.path
    commits = git_log.first_parent_history(root, "HEAD", ["flags"])
    for commit in commits:
        base = f"{commit.sha}^" if commit is not commits[-1] else git.EMPTY_TREE
        own = git.diff_entries(root, base, commit.sha, "flags")
        assert sorted(commit.changes, key=lambda change: change.path) == own


_TEXT = st.text(st.characters(codec="utf-8") | st.sampled_from(
    ["\u202e", "\x1b", "\n", '"', "\\", "\udcff", "\u2028", "é", "\x85", "\ufeff"]),
    max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_TEXT, _TEXT, st.lists(_TEXT, max_size=3),
                          st.lists(_TEXT, max_size=2), st.none() | st.booleans(),
                          st.none() | st.integers(min_value=0, max_value=2**33)),
                max_size=4))
def test_the_status_writer_writes_what_dumps_writes(
        rows: list[tuple[str, str, list[str], list[str], bool | None, int | None]]) -> None:
    made = [Row(name, kind, name, kind, kind, when, name, "next", when, owners, kind, stale,
                referenced, 1) for name, kind, owners, stale, referenced, when in rows]
    expected = [{"name": row.name, "type": row.type, "state": row.state,
                 "staging": row.staging, "production": row.production,
                 "since": iso(row.since), "in_state": row.in_state,
                 "next_step": row.next_step, "legal_at": iso(row.legal_at),
                 "owners": row.owners, "age": row.age, "stale": row.stale,
                 "referenced": row.referenced, "action": row.action} for row in made]
    assert status_json(made) == dumps(expected)
    assert [field.name for field in fields(Row)] == list(_FIELDS)  # the writer's order


_FIELDS = ("name", "type", "state", "staging", "production", "since", "in_state", "next_step",
           "legal_at", "owners", "age", "stale", "referenced", "action")


def test_a_row_of_another_kind_goes_through_dumps() -> None:
    odd = Row("a", "b", "c", "d", "e", None, "f", "g", None, [1, "x"],  # type: ignore[list-item]
              "h", [], None, 2)
    assert status_json([odd]) == dumps([{"name": "a", "type": "b", "state": "c",
                                         "staging": "d", "production": "e", "since": None,
                                         "in_state": "f", "next_step": "g", "legal_at": None,
                                         "owners": [1, "x"], "age": "h", "stale": [],
                                         "referenced": None, "action": 2}])

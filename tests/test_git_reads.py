"""`validator.git.BlobReader` on a real repository: blobs by object id only, one at a time or
streamed by `prefetch`, with the same answers either way."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import EPOCH, Repo

from validator import git


def _repo(tmp_path: Path) -> tuple[Repo, dict[str, str]]:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    for index in range(300):
        repo.write(f"flags/team/flag_{index}.yml", f"name: flag_{index}\n" + "x" * index)
    repo.write("flags/odd\nname.yml", "a path with a newline\n")
    repo.commit("many files", at=EPOCH)
    entries = git.tree_entries(repo.path, "HEAD")
    return repo, {path: entry.oid for path, entry in entries.items() if entry.oid}


def test_prefetch_streams_what_read_gives_one_by_one(tmp_path: Path) -> None:
    repo, oids = _repo(tmp_path)
    with git.BlobReader(repo.path) as one_by_one:
        expected = {path: one_by_one.read(oid) for path, oid in oids.items()}
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    missing = "0" * 39 + "1"
    with git.BlobReader(repo.path) as streamed:
        streamed.prefetch([*oids.values(), *oids.values(), tree, missing])
        got = {path: streamed.read(oid) for path, oid in oids.items()}
        assert (streamed.read(tree), streamed.read(missing)) == (None, None)  # not blobs
        again = next(iter(oids.values()))
        assert streamed.read(again) == expected[next(iter(oids))]  # read again: from git
    assert got == expected and expected["flags/odd\nname.yml"] == b"a path with a newline\n"


@pytest.mark.parametrize("request_", ["HEAD", "flags/team/flag_1.yml", "a" * 39 + "\n" + "b"])
def test_only_object_ids_are_ever_sent(tmp_path: Path, request_: str) -> None:
    repo, _ = _repo(tmp_path)
    with git.BlobReader(repo.path) as reader:
        with pytest.raises(ValueError, match="not an object id"):
            reader.read(request_)
        with pytest.raises(ValueError, match="not an object id"):
            reader.prefetch([request_])


def test_a_git_started_in_a_thread_fails_as_git_fails(tmp_path: Path) -> None:
    """Any failure of a command run in a thread (`Started`, `together`) is raised where its
    output is asked for: a thread that died must not read as a command that printed nothing
    (the hook's shortcut would take an empty list of staged paths for "no flag changed")."""
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(OSError):
        git.Started(not_a_folder, "status").result()
    with pytest.raises(OSError):
        git.together(not_a_folder, ("status",), ("status",))
    with pytest.raises(git.NotARepository):
        git.Started(tmp_path, "rev-parse", "HEAD").result()

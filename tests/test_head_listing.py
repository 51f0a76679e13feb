"""The head's listing answers by name with text searches; every answer must equal what a full
parse of every record gives, for the index, a tree and the working tree, whatever the paths."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from gitrepo import Repo

from validator import git
from validator.files import ATTRIBUTES, stem, walk_flags
from validator.head_listing import INDEX, TREE, Listing

ODD_PATHS = [
    "flags/plain.yml",
    "flags/team a/plain.yml",  # the same name in another folder
    "flags/team\tb/tabbed.yml",
    "flags/new\nline/newline_flag.yml",
    "flags/ünï/ünïcode.yml",
    "flags/glob[*]?/star.yml",
    "flags/re.gex/a.b+c(d).yml",  # regular-expression characters in the name
    "flags/outer.yml/inner.yml",  # a folder named *.yml
    "flags/deep/er/still/plain.yml",
    "flags/notes.yaml",
    "flags/x/.gitattributes",
    "flags/plain.yml.bak",
    "flags/team a/xplain.yml",  # a name that ends like another
]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    made = Repo.create(tmp_path / "repo", tmp_path / "home")
    for path in ODD_PATHS:
        made.write(path, "name: x\n")
    made.write(".gitattributes", "*.md text\n")
    os.symlink("plain.yml", made.path / "flags/linked.yml")
    made.commit("odd paths", at=1_700_000_000)
    return made


def _listings(repo: Repo) -> dict[str, Listing]:
    found, irregular = walk_flags(repo.path, suffix=(".yml", ATTRIBUTES))
    return {"index": Listing(git.index_listing(repo.path), INDEX),
            "tree": Listing(git.tree_listing(repo.path, "HEAD", git.FLAGS_DIR, ATTRIBUTES),
                            TREE),
            "worktree": Listing.of_worktree([*found, ATTRIBUTES], irregular)}


NAMES = ["plain", "tabbed", "newline_flag", "ünïcode", "star", "a.b+c(d)", "inner", "outer",
         "linked", "missing", "notes", "lain", "a/b", "", ".*"]


@pytest.mark.parametrize("kind", ["index", "tree", "worktree"])
def test_answers_by_name_equal_a_full_parse(repo: Repo, kind: str) -> None:
    listing = _listings(repo)[kind]
    entries = listing.entries
    for name in NAMES:
        expected = sorted(path for path in entries if git.is_flag_path(path) and
                          stem(path) == name)
        assert listing.flag_paths_named([name]) == expected, name
        regular = {stem(p) for p in expected if entries[p].is_regular}
        assert listing.names_still_there([name]) == regular, name
    assert listing.flag_paths_named(NAMES) == sorted(
        path for path in entries if git.is_flag_path(path) and stem(path) in NAMES)
    assert sorted(listing.attribute_files()) == sorted(git.attribute_files(entries))


def test_the_full_parse_sees_every_path_with_its_mode_and_object(repo: Repo) -> None:
    listing = _listings(repo)["tree"]
    assert set(listing.entries) >= {*ODD_PATHS, "flags/linked.yml", "flags/outer.yml"}
    assert listing.entries["flags/linked.yml"].mode == "120000"
    assert listing.entries["flags/outer.yml"].mode == "040000"
    blob = repo.git("rev-parse", "HEAD:flags/plain.yml").strip()
    assert listing.entries["flags/plain.yml"] == git.Entry("flags/plain.yml", "100644", blob)
    assert listing.flag_paths_named(["linked"]) == ["flags/linked.yml"]
    assert listing.names_still_there(["linked"]) == frozenset()  # a symlink carries no flag


def test_folders_above_changed_paths_are_those_named_yml(repo: Repo) -> None:
    listing = _listings(repo)["index"]
    above = listing.folders_above(["flags/outer.yml/inner.yml", "flags/plain.yml"])
    assert above == {"flags/outer.yml": git.Entry("flags/outer.yml", "040000", None)}


def test_a_conflicted_index_lists_a_path_once(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "side")
    repo.write("flags/plain.yml", "name: side\n")
    repo.commit("side", at=1_700_000_100)
    repo.git("checkout", "-q", "main")
    repo.write("flags/plain.yml", "name: main\n")
    repo.commit("main", at=1_700_000_200)
    with pytest.raises(AssertionError, match="merge"):
        repo.git("merge", "-q", "side")  # a conflict: three stages of flags/plain.yml
    assert repo.git("ls-files", "--unmerged", "--", "flags/plain.yml").count("\n") == 3
    listing = Listing(git.index_listing(repo.path), INDEX)
    found = listing.flag_entries_named(["plain"])
    assert list(found) == ["flags/deep/er/still/plain.yml", "flags/plain.yml",
                           "flags/team a/plain.yml"]
    assert found["flags/plain.yml"] == listing.entries["flags/plain.yml"]


def test_a_malformed_tree_with_a_file_and_a_folder_of_one_name_counts_the_folder(
        repo: Repo) -> None:
    """`git mktree` accepts a tree holding flags/dup.yml as a file and as a folder (fsck calls
    it duplicateEntries); a checkout makes the folder, so no regular file carries `dup`."""
    blob = repo.git("rev-parse", "HEAD:flags/plain.yml").strip()
    inner = _mktree(repo, f"100644 blob {blob}\tb.yml\n")
    flags = _mktree(repo, f"100644 blob {blob}\tdup.yml\n040000 tree {inner}\tdup.yml\n")
    top = _mktree(repo, f"040000 tree {flags}\tflags\n")
    listing = Listing(git.tree_listing(repo.path, top, git.FLAGS_DIR), TREE)
    assert listing.entries["flags/dup.yml"].mode == "040000"
    assert listing.flag_entries_named(["dup"])["flags/dup.yml"].mode == "040000"
    assert listing.names_still_there(["dup"]) == frozenset()


def _mktree(repo: Repo, listing: str) -> str:
    done = subprocess.run(["git", "mktree"], cwd=repo.path, env=repo.env, input=listing,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()

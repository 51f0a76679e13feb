"""The authoring commands and `flagops validate --base HEAD` agree on what the working tree
around the written file makes of the write: checkout conversions of flag files (FO011,
.gitattributes) and one flag per change (FO406) counted over every flag the working tree
changes. A refusal writes nothing, exits 1 and gives the gate's rule id and words with a hint;
the same write made by hand is refused by the gate with the same words. Rollbacks and removals
are never counted by one_flag_per_change, and HEAD's policy judges, not the working tree's."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import CliResult
from gitrepo import Repo, flag_yaml

Run = Callable[..., CliResult]
PAST = int(time.time()) - 30 * 86400
ONE_FLAG = "[tool.flagops]\none_flag_per_change = true\n"
STALE_IS_AN_ERROR = '[tool.flagops]\ncurrent_milestone = "17.0"\nstale_severity = "error"\n'
ERROR = re.compile(r"^(?P<path>[^\n]+?):\d+:\d+: error (?P<rule>FO\d+) (?P<message>.*)$",
                   re.MULTILINE)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo.create(tmp_path / "repo", tmp_path / "home")


def flagops(run_cli: Run, repo: Repo, *args: str) -> CliResult:
    return run_cli("-C", str(repo.path), *args)


def path_of(name: str) -> str:
    return f"flags/{name}.yml"


def stepped(repo: Repo, name: str, old: str = "stage: off\n",
            new: str = "stage: staging\n") -> None:
    """A step made in the working tree and not committed."""
    target = repo.path / path_of(name)
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new), encoding="utf-8")


def base(repo: Repo, *, policy: str | None = None, attributes: str | None = None,
         **stages: str) -> None:
    """HEAD: these flags at these stages, a policy and a .gitattributes."""
    for name, stage in stages.items():
        repo.write_flag(name, stage)
    if policy is not None:
        repo.write("pyproject.toml", policy)
    if attributes is not None:
        repo.write(".gitattributes", attributes)
    repo.commit("base", at=PAST)


@dataclass(frozen=True)
class Case:
    id: str
    setup: Callable[[Repo], None]
    command: tuple[str, ...]
    written: Callable[[bytes | None], bytes | None]
    """The same write, made by hand (None: the file is deleted)."""
    refused: frozenset[str] = frozenset()
    """The rule ids of the refusal; empty: the command writes."""
    hint: str | None = None
    path: str = field(default="")

    @property
    def target(self) -> str:
        return self.path or path_of(self.command[1])


def to_staging(raw: bytes | None) -> bytes | None:
    assert raw is not None
    return raw.replace(b"stage: off\n", b"stage: staging\n")


def to_off(raw: bytes | None) -> bytes | None:
    assert raw is not None
    return raw.replace(b"stage: staging\n", b"stage: off\n")


def deleted(raw: bytes | None) -> bytes | None:
    return None


def new_file(name: str) -> Callable[[bytes | None], bytes | None]:
    return lambda raw: flag_yaml(name).encode("utf-8")


NEW = ("new", "c", "-t", "beta", "-g", "group::activation", "-M", "13.12",
       "--description", "Shows the invite link.",
       "-i", "https://gitlab.com/gitlab-org/gitlab/-/issues/330340")
CONVERTS = "converts it on checkout"
ATTRIBUTE_HINT = "hint: remove the attribute that converts files under flags/ from .gitattributes"
ONE_FLAG_HINT = "hint: commit the step the working tree already holds first"


def chain(*steps: Callable[[Repo], None]) -> Callable[[Repo], None]:
    def run(repo: Repo) -> None:
        for step in steps:
            step(repo)
    return run


def _one_flag_with_a_stepped(repo: Repo, policy: str = ONE_FLAG, **more: str) -> None:
    base(repo, policy=policy, a="off", b="off", **more)
    stepped(repo, "a")


CASES = [
    # Checkout conversions (FO011): any flag file converted blocks every change but a rollback.
    Case("ident on the flag promoted", lambda r: base(r, attributes="flags/*.yml ident\n",
                                                      a="off"),
         ("promote", "a"), to_staging, frozenset({"FO011"}), ATTRIBUTE_HINT),
    Case("ident on another flag, promote", lambda r: base(r, attributes="flags/b.yml ident\n",
                                                          a="off", b="off"),
         ("promote", "a"), to_staging, frozenset({"FO011"}), ATTRIBUTE_HINT),
    Case("ident on another flag, rollback", lambda r: base(
        r, attributes="flags/b.yml ident\n", a="staging", b="off"),
         ("rollback", "a"), to_off),
    Case("ident on the flag rolled back", lambda r: base(
        r, attributes="flags/*.yml ident\n", a="staging"),
         ("rollback", "a"), to_off, frozenset({"FO011"}), ATTRIBUTE_HINT),
    Case("ident, the attribute dropped in the working tree, rollback", chain(
        lambda r: base(r, attributes="flags/*.yml ident\n", a="staging"),
        lambda r: r.write(".gitattributes", "")),
         ("rollback", "a"), to_off),
    Case("ident added in the working tree, promote", chain(
        lambda r: base(r, a="off"), lambda r: r.write(".gitattributes", "flags/*.yml ident\n")),
         ("promote", "a"), to_staging, frozenset({"FO011"}), ATTRIBUTE_HINT),
    Case("filter on flags/, new", lambda r: base(r, attributes="flags/** filter=lfs\n",
                                                  a="off"),
         NEW, new_file("c"), frozenset({"FO011"}), ATTRIBUTE_HINT),
    Case("eol=crlf (line endings only), new", lambda r: base(
        r, attributes="*.yml eol=crlf\n", a="off"), NEW, new_file("c")),
    Case("ident on another flag, remove", lambda r: base(
        r, attributes="flags/b.yml ident\n", a="off", b="off"),
         ("remove", "a"), deleted),
    # one_flag_per_change (FO406), counted over every flag the working tree changes.
    Case("one flag, a second promote", _one_flag_with_a_stepped, ("promote", "b"), to_staging,
         frozenset({"FO406"}), ONE_FLAG_HINT),
    Case("one flag, a new flag beside a step", _one_flag_with_a_stepped, NEW, new_file("c"),
         frozenset({"FO406"}), ONE_FLAG_HINT),
    Case("one flag, a promote beside a new untracked flag", chain(
        lambda r: base(r, policy=ONE_FLAG, a="off"), lambda r: r.write("flags/n.yml",
                                                                       flag_yaml("n"))),
         ("promote", "a"), to_staging, frozenset({"FO406"}), ONE_FLAG_HINT),
    Case("one flag, a rollback beside a step", lambda r: _one_flag_with_a_stepped(
        r, c="staging"), ("rollback", "c"), to_off),
    Case("one flag, a removal beside a step", _one_flag_with_a_stepped, ("remove", "b"),
         deleted),
    Case("one flag, the same flag's step undone", _one_flag_with_a_stepped, ("rollback", "a"),
         to_off),
    Case("one flag, the step undone first", chain(
        _one_flag_with_a_stepped, lambda r: stepped(r, "a", "stage: staging\n", "stage: off\n")),
         ("promote", "b"), to_staging),
    Case("one flag at HEAD, lifted in the working tree", chain(
        _one_flag_with_a_stepped, lambda r: r.write("pyproject.toml", "[tool.flagops]\n")),
         ("promote", "b"), to_staging, frozenset({"FO406"}), ONE_FLAG_HINT),
    Case("one flag only in the working tree", chain(
        lambda r: _one_flag_with_a_stepped(r, "[tool.flagops]\n"),
        lambda r: r.write("pyproject.toml", ONE_FLAG)),
         ("promote", "b"), to_staging),
    # A path given back HEAD's bytes is no part of the change: the gate does not judge it.
    Case("stale as an error, the step undone", lambda r: _one_flag_with_a_stepped(
        r, STALE_IS_AN_ERROR), ("rollback", "a"), to_off),
    Case("no one-flag policy, two promotes", lambda r: _one_flag_with_a_stepped(
        r, "[tool.flagops]\n"), ("promote", "b"), to_staging),
]


def _errors(text: str) -> set[tuple[str, str, str]]:
    return {(found["path"], found["rule"], found["message"]) for found in ERROR.finditer(text)}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_command_refuses_what_validate_base_head_would_and_writes_nothing(
        run_cli: Run, repo: Repo, case: Case) -> None:
    case.setup(repo)
    target = repo.path / case.target
    original = target.read_bytes() if target.exists() else None
    before = _errors(flagops(run_cli, repo, "validate", "--base", "HEAD")[1])
    code, out, err = flagops(run_cli, repo, *case.command)
    now = target.read_bytes() if target.exists() else None
    expected = case.written(original)
    if case.refused:
        assert (code, out) == (1, ""), err
        assert now == original  # not a byte written
        refusals = _errors(err)
        assert {rule for _, rule, _ in refusals} == case.refused, err
        assert case.hint is not None and case.hint in err
        if expected is None:
            target.unlink()
        else:
            target.write_bytes(expected)  # the same write, by hand
    else:
        assert code == 0, err
        if case.command[0] != "new":
            assert now == expected
    validated_code, validated, _ = flagops(run_cli, repo, "validate", "--base", "HEAD")
    after = _errors(validated)
    assert validated_code == code, validated
    brought = after - before
    if case.refused:  # the gate gives the command's refusals, word for word, and no others
        assert refusals <= after, (refusals, after)
        assert {rule for _, rule, _ in brought} <= case.refused, brought
    else:  # nothing new, and nothing on the written file
        assert not brought, validated
        assert not any(path == case.target for path, _, _ in after), validated


def test_a_rollback_passes_beside_steps_the_gate_already_refuses(run_cli: Run,
                                                                 repo: Repo) -> None:
    """Two flags already stepped under one_flag_per_change: the tree is refused (FO406) with or
    without the rollback of a third, which is not counted and so passes; once it is written
    the gate refuses the same two steps and nothing about the rollback."""
    base(repo, policy=ONE_FLAG, a="off", b="off", c="staging")
    stepped(repo, "a")
    stepped(repo, "b")
    code, before, _ = flagops(run_cli, repo, "validate", "--base", "HEAD")
    assert code == 1
    code, _, err = flagops(run_cli, repo, "rollback", "c")
    assert code == 0, err
    code, after, _ = flagops(run_cli, repo, "validate", "--base", "HEAD")
    assert code == 1 and _errors(after) == _errors(before)
    assert {path for path, _, _ in _errors(after)} == {path_of("a"), path_of("b")}


def test_a_promote_beside_a_converted_file_that_was_not_blocking_is_refused(
        run_cli: Run, repo: Repo) -> None:
    """A rolled-back flag in the tree and a converted file that its rollback does not touch: a
    warning then. A forward step makes the change more than a rollback, and the gate then
    blocks on that file; the command says so first, naming the other file."""
    base(repo, attributes="flags/b.yml ident\n", a="staging", b="off", c="off")
    stepped(repo, "a", "stage: staging\n", "stage: off\n")
    code, validated, _ = flagops(run_cli, repo, "validate", "--base", "HEAD")
    assert code == 0 and " warning FO011 flags/b.yml: " in validated
    original = (repo.path / path_of("c")).read_bytes()
    code, out, err = flagops(run_cli, repo, "promote", "c", "--json")
    assert code == 1 and '"FO011"' in out + err and "flags/b.yml" in out + err
    assert (repo.path / path_of("c")).read_bytes() == original


def test_with_head_s_policy_unreadable_a_rollback_to_off_is_written_and_nothing_else(
        run_cli: Run, repo: Repo) -> None:
    """HEAD's `[tool.flagops]` cannot be read (an upgrade that reads an old key no more):
    the gate passes only a change that turns flags off, with FO301 as a warning, and the
    commands agree, so the 3 a.m. rollback is still one command. A promotion is refused with
    the gate's words, writing nothing."""
    base(repo, policy='[tool.flagops]\nsoak_minutes = "x"\n', demo="staging", other="off")
    before = (repo.path / path_of("other")).read_bytes()
    code, _, err = flagops(run_cli, repo, "promote", "other")
    assert code == 1 and "error FO301" in err and "only a change that turns flags off" in err
    assert (repo.path / path_of("other")).read_bytes() == before
    code, out, err = flagops(run_cli, repo, "rollback", "demo", "--to", "off")
    assert code == 0 and "warning FO301" in err, out + err
    assert "stage: off" in (repo.path / path_of("demo")).read_text(encoding="utf-8")
    code, out, err = flagops(run_cli, repo, "validate", "--base", "HEAD")
    assert code == 0 and "warning FO301" in out + err, out + err

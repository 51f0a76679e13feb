"""Every authoring step over every valid fixture and every GitLab definition changes only the
lines of the fields it changes: every other line stays byte for byte, in order, CRLF too.

Each file is walked from its state to released by `promote`, and at every state each
`rollback` and `promote --actor` is applied too; the lines outside the changed fields (located
by the loader's own key and value positions, not by the editor's) must be identical.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, SHARED, shared

from validator.document import Document
from validator.edit.spans import EditError
from validator.edit.steps import (
    PromoteRequest,
    RollbackRequest,
    StepError,
    Target,
    field_changes,
    promote,
    rollback,
)
from validator.edit.yaml_edit import set_fields
from validator.loader import load_document
from validator.model import Flag, Stage
from validator.policy import DEFAULT_POLICY

FIXTURES = sorted((REPO_ROOT / "tests" / "cases" / "valid").glob("*.yml"))
CORPUS = SHARED / "gitlab-feature-flags"
CORPUS_FILES = sorted(CORPUS.glob("*/*.yml")) if CORPUS.is_dir() else []
CLEANUP = "https://gitlab.com/gitlab-org/gitlab/-/issues/1"
ACTORS = ("Project:gitlab-org/gitlab", "User:42")


@lru_cache(maxsize=64)
def _load(text: str) -> Document:
    return load_document(text.encode("utf-8"), "flags/case.yml")


def _flag(data: dict[str, Any]) -> Flag:
    """The model of a file, for the step logic (which reads only the rollout fields): GitLab's
    oldest definitions have no milestone, which the model requires."""
    return Flag.model_validate({**data, "milestone": data.get("milestone") or "1.0"})


def _requests(flag: Flag, *, every_target: bool) -> Iterator[tuple[str, Any]]:
    """The commands that apply at this flag's state, with the request each makes; with
    `every_target`, a rollback to each earlier state too."""
    if flag.stage in (Stage.BETA, Stage.PERCENTAGE):
        yield "promote --actor", PromoteRequest(actors=("Group:gitlab-org/added",))
        for actor in flag.actor_list[:-1] if len(flag.actor_list) > 1 else ():
            yield f"rollback --remove-actor {actor}", RollbackRequest(remove_actors=(actor,))
    if flag.stage is not Stage.OFF or flag.default_enabled:
        yield "rollback", RollbackRequest()
    if not every_target:
        return
    for stage in Stage:
        if stage.rank < flag.stage.rank and stage is not Stage.OFF:
            yield f"rollback --to {stage}", RollbackRequest(to=stage)
    if flag.stage is Stage.ENABLED and flag.default_enabled:
        yield "rollback --to enabled", RollbackRequest(to=Stage.ENABLED)


def _forward(flag: Flag) -> PromoteRequest:
    if flag.stage is Stage.STAGING and not flag.actor_list:
        return PromoteRequest(actors=ACTORS)
    if flag.stage is Stage.ENABLED:
        return PromoteRequest(default_enabled=True, cleanup_issue_url=CLEANUP)
    return PromoteRequest()


def _target(flag: Flag, request: Any) -> Target:
    if isinstance(request, PromoteRequest):
        return promote(flag, request, DEFAULT_POLICY)
    return rollback(flag, request, DEFAULT_POLICY)


def _regions(text: str, keys: set[str]) -> set[int]:
    """0-based lines of the changed fields: from the key's line to its last value's line, by
    the loader's positions (an empty value is on its key's line)."""
    document = _load(text)
    lines: set[int] = set()
    for key in keys & set(document.data):
        first = document.keys[(key,)].line
        last = first
        if document.data[key] is not None:
            last = max(position.line for path, position in document.values.items()
                       if path[:1] == (key,))
        lines.update(range(first - 1, last))
    return lines


def assert_only_fields_changed(old: str, new: str, keys: set[str]) -> None:
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    old_regions, new_regions = _regions(old, keys), _regions(new, keys)
    outside_old = [line for number, line in enumerate(old_lines) if number not in old_regions]
    outside_new = [line for number, line in enumerate(new_lines) if number not in new_regions]
    if not old.endswith("\n") and len(old_lines) - 1 not in old_regions and outside_new:
        # Lines added after a last line without a line break give that line one.
        outside_new[-1] = outside_new[-1].removesuffix("\n").removesuffix("\r")
    assert outside_new == outside_old
    if "\r\n" in old:  # a CRLF file gets no bare LF
        assert all(line.endswith("\r\n") for line in new_lines[:-1])
    assert new.endswith("\n") == old.endswith("\n")


def _edit(text: str, flag: Flag, request: Any) -> str:
    target = _target(flag, request)
    changes = field_changes(_load(text).data, target)
    new = set_fields(text, changes, _load(text).data)
    assert_only_fields_changed(text, new, set(changes))
    assert Target.of(_flag(_load(new).data)) == target
    return new


def _every_command(text: str, every_target: bool) -> int:
    """Applies each command that makes sense at the file's state; returns how many did."""
    flag = _flag(_load(text).data)
    edits = 0
    for _label, request in _requests(flag, every_target=every_target):
        try:
            _edit(text, flag, request)
        except StepError:
            continue
        edits += 1
    return edits


def _walk(text: str, *, every_target: bool = True) -> int:
    """From the file's state to off, then forward to released, with every command tried at
    every state on the way; returns how many edits were checked."""
    edits = _every_command(text, every_target)
    flag = _flag(_load(text).data)
    if flag.stage is not Stage.OFF or flag.default_enabled:
        text = _edit(text, flag, RollbackRequest())
    for _ in range(12):
        flag = _flag(_load(text).data)
        if flag.stage is Stage.ENABLED and flag.default_enabled:
            return edits
        text = _edit(text, flag, _forward(flag))
        edits += 1 + _every_command(text, every_target)
    raise AssertionError("the walk did not reach released")


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.stem)
def test_every_command_on_every_valid_fixture_changes_only_its_fields(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert _walk(text) >= 25
    assert _walk(text.replace("\n", "\r\n")) >= 25
    assert _walk(text.rstrip("\n"), every_target=False) >= 12  # what is added at the end


def _with_state(path: Path) -> str:
    """GitLab keeps the rollout state in its database: add it as the file's last keys."""
    text = path.read_text(encoding="utf-8")
    text += "" if text.endswith("\n") else "\n"
    if _load(text).data.get("default_enabled") is True:
        return text + f"stage: enabled\ncleanup_issue_url: {CLEANUP}\n"
    return text + "stage: off\n"


@pytest.mark.parametrize("path", [pytest.param(path, id=path.relative_to(CORPUS).as_posix())
                                  for path in CORPUS_FILES] or [pytest.param(
                                      None, marks=pytest.mark.skip(
                                          reason=f"needs {CORPUS}: the team's shared folder "
                                          "(../shared beside the checkout); a fresh clone has "
                                          "none (test_the_gitlab_corpus_is_there fails in CI)"))])
def test_every_command_on_every_gitlab_definition_changes_only_its_fields(path: Path) -> None:
    assert _walk(_with_state(path), every_target=False) >= 12


def test_the_gitlab_corpus_is_there() -> None:
    shared("gitlab-feature-flags")
    assert len(CORPUS_FILES) >= 80


def test_a_layout_the_editor_cannot_keep_is_refused_not_mangled() -> None:
    text = ("name: odd\ntype: beta\ngroup: group::a\nmilestone: '1.0'\nstage: beta\n"
            "actors: [\n  'User:1',\n  'User:2' ]\ndefault_enabled: false\n")
    new = set_fields(text, {"actors": ["User:1", "User:2", "User:3"]})
    assert new.splitlines()[7] == "  'User:2', 'User:3' ]"
    weird = text.replace("actors: [\n  'User:1',\n  'User:2' ]", "actors:\n  -\n    User:1")
    with pytest.raises(EditError, match="one per line"):
        set_fields(weird, {"actors": ["User:1", "User:3"]})

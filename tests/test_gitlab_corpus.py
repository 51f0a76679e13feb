"""GitLab's real feature flag definitions (../shared/gitlab-feature-flags) load and parse.

GitLab keeps the rollout state in a database, so each definition gets one added before it is
parsed: `stage: off`, or `stage: enabled` with a `cleanup_issue_url` when it is default-enabled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import shared
from pydantic import ValidationError

from validator.check import check_documents
from validator.document import Document
from validator.loader import load_document
from validator.model import Flag, FlagType
from validator.policy import DEFAULT_POLICY

CORPUS = shared("gitlab-feature-flags")  # skips this module on a clone without ../shared
FILES = sorted(CORPUS.glob("*/*.yml"))
CLEANUP = "https://gitlab.com/gitlab-org/gitlab/-/issues/1"

# Old definitions from before GitLab required a milestone: the model requires a quoted one.
WITHOUT_MILESTONE: dict[str, Any] = {
    "development/admin_approval_for_new_user_signups.yml": "missing",
    "development/allow_group_deploy_token.yml": "missing",
    "development/allow_unsafe_ruby_regexp.yml": None,
    "ops/api_kaminari_count_with_limit.yml": None,
}


def _relative(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def _load(path: Path) -> Document:
    return load_document(path.read_bytes(), f"flags/{_relative(path)}")


def _with_state(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("default_enabled") is True:
        return {**data, "stage": "enabled", "cleanup_issue_url": CLEANUP}
    return {**data, "stage": "off"}


def _state_text(path: Path) -> bytes:
    raw = path.read_bytes()
    state = b"stage: off\n"
    if _load(path).data.get("default_enabled") is True:
        state = b"stage: enabled\ncleanup_issue_url: " + CLEANUP.encode() + b"\n"
    return raw + (b"" if raw.endswith(b"\n") else b"\n") + state


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 80, CORPUS
    assert {path.parent.name for path in FILES} <= {str(t) for t in FlagType}


@pytest.mark.parametrize("path", FILES, ids=_relative)
def test_every_definition_loads_as_a_mapping_named_after_its_file(path: Path) -> None:
    document = _load(path)
    assert document.data["name"] == path.stem
    assert document.data["type"] == path.parent.name
    assert isinstance(document.data["default_enabled"], bool)


@pytest.mark.parametrize("path", FILES, ids=_relative)
def test_every_definition_with_its_rollout_state_is_a_flag(path: Path) -> None:
    data = _with_state(_load(path).data)
    known = WITHOUT_MILESTONE.get(_relative(path), ...)
    if known is ...:
        Flag.model_validate(data)
        return
    with pytest.raises(ValidationError) as caught:
        Flag.model_validate(data)
    assert [(e["loc"], e["type"]) for e in caught.value.errors()] == [
        (("milestone",), "missing" if known == "missing" else "string_type")
    ]
    assert data.get("milestone", "missing") == known


def test_every_field_gitlab_uses_is_a_field_of_the_model() -> None:
    used = {key for path in FILES for key in _load(path).data}
    assert {"feature_issue_url", "introduced_by_url", "milestone", "group"} <= used
    assert used <= set(Flag.model_fields)


def test_gitlab_fields_absent_from_the_corpus_are_accepted_too() -> None:
    data = _with_state(_load(FILES[0]).data) | {
        "log_state_changes": True, "intended_to_rollout_by": "2025-06-30",
    }
    flag = Flag.model_validate(data)
    assert flag.log_state_changes is True and str(flag.intended_to_rollout_by) == "2025-06-30"


def test_the_corpus_as_a_flags_tree_finds_the_names_defined_under_two_types() -> None:
    """GitLab moved some flags between type folders; in one tree that is FO111, nothing else."""
    documents = [load_document(_state_text(path), f"flags/{_relative(path)}") for path in FILES]
    checked = check_documents(documents, DEFAULT_POLICY)
    duplicates = sorted(f.path for f in checked.findings if f.rule == "FO111")
    stems = [path.stem for path in FILES]
    twice = {stem for stem in stems if stems.count(stem) > 1}
    assert twice, "the corpus holds flags that moved between types"
    assert len(duplicates) == len(twice)
    assert {Path(path).stem for path in duplicates} == twice
    rules = {f.rule for f in checked.findings}
    assert rules <= {"FO101", "FO102", "FO111", "FO140", "FO141", "FO151"}, rules

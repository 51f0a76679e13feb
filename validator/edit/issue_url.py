"""Writes an issue's URL into a flag file (`rollout_issue_url`, `cleanup_issue_url`): one value
changed at its span, every other byte kept, the result checked by the file's own rules, and
written atomically only if the file still holds the bytes it was read with."""

from __future__ import annotations

from pathlib import Path

from validator.check import check_documents
from validator.edit.judge import errors
from validator.edit.session import Located
from validator.edit.spans import EditError
from validator.edit.write import replace_file
from validator.edit.yaml_edit import set_fields
from validator.errors import UserError
from validator.loader import load_or_finding
from validator.policy import Policy


def write_url(root: Path, here: Located, field: str, url: str, policy: Policy) -> None:
    """Raises UserError, naming the URL so it can be added by hand, when the edit is refused."""
    try:
        text = set_fields(here.raw.decode("utf-8"), {field: url}, here.document.data)
    except EditError as error:
        raise _kept(here.path, field, url, str(error)) from None
    new = text.encode("utf-8")
    checked = check_documents([load_or_finding(new, here.path)], policy,
                              other_paths=here.others)
    problems = errors(checked.findings)
    if problems:
        raise _kept(here.path, field, url, f"{problems[0].rule} {problems[0].message}")
    replace_file(root / here.path, new, expected=here.raw, shown=here.path)


def _kept(path: str, field: str, url: str, why: str) -> UserError:
    return UserError(f"{path} left as it was ({why}); set {field}: {url} by hand")

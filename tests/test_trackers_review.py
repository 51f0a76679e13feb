"""The eighth review of the trackers: hostile servers (endless pages, answers that never end,
a next page on a sibling host) and hostile flag text (GitLab quick actions), against the real
HTTP stand-ins and client libraries of `test_trackers`."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_trackers
from test_trackers import PROJECT, flag_text, run, tree
from test_trackers_text import sample
from tracker_stand_in import Fault, Forge, Raw

from validator.policy import DEFAULT_POLICY
from validator.trackers.render import rollout_issue

forge = test_trackers.forge
"""Each test against GitHub's stand-in and GitLab's, with each CI's variables set."""


# an issue deleted: that link's finding, not the tracker failing ----------------------------

def test_a_deleted_issue_is_fo501_and_the_other_links_are_still_checked(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GitHub answers 410 Gone for an issue deleted from a repository the token can read. Taken
    # for the tracker failing, it was one FO505 and every other link on the host went
    # unchecked: here, a closed rollout issue of a flag not fully rolled out (FO504).
    project = PROJECT[forge.kind]
    forge.add_issue(project, 2, state="closed")
    forge.faults.append(Fault(410, body={"message": "This issue was deleted"}))
    root = tree(tmp_path, forge.kind, {
        "a_gone": flag_text(forge.kind, "a_gone", rollout=1),
        "b_early": flag_text(forge.kind, "b_early", rollout=2, stage="beta")})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert "FO505" not in out, out + err
    assert "flags/a_gone.yml:7:20: error FO501" in out and "FO504" in out and code == 1, out


# answers the parser cannot hold --------------------------------------------------------------

def test_arrays_nested_past_the_parsers_depth_are_not_the_api(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # json.loads raises RecursionError, a RuntimeError: PyGithub's refusals of a redirect are
    # RuntimeErrors too, and the line blamed a redirect that never was.
    forge.faults.append(Fault(200, body=Raw([b"[" * 100_000])))  # type: ignore[arg-type]
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert code == 0 and out.count("FO505") == 1, out + err
    assert "is not " in out and "redirect" not in out, out


# GitLab quick actions in flag text ---------------------------------------------------------

@pytest.mark.parametrize("field", ["description", "expected", "risks", "monitoring"])
def test_flag_text_at_a_lines_start_is_no_gitlab_quick_action(field: str) -> None:
    # GitLab runs `/close`, `/move group/other`, `/confidential` … found at a line's start in
    # an issue's description when it is created: the flag file's text closed or moved the
    # rollout issue `flagops issue rollout --create` opened.
    flag = sample()
    assert flag.expectations is not None
    hostile = "/move group/elsewhere"
    flag = flag.model_copy(update={"description": hostile}) if field == "description" else \
        flag.model_copy(update={"expectations": flag.expectations.model_copy(
            update={field: hostile})})
    text = rollout_issue(flag, DEFAULT_POLICY)
    assert [line for line in text.splitlines() if line.startswith("/")] == []
    assert "\\/move group/elsewhere" in text.splitlines()

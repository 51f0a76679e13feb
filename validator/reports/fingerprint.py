"""Stable fingerprints, shared by Code Quality and SARIF so that both tell new findings from old.

A fingerprint hashes what a finding *is* (rule, file, flag, message), never where it sits: a
line added above it must not make GitLab's widget report it as fixed and found again. Findings
that are identical in all of those get an occurrence number, so their fingerprints still differ
(GitLab shows only the first of several findings that share one).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence

from validator.findings import Finding
from validator.reports import sort_key

_DIGITS = re.compile(r"\d+(?: (?:d|h|min)\b(?: \d+ (?:h|min)\b)?)?")
"""Durations and numbers in messages move with the clock ("after 4 min; wait 11 min more",
"after 1 h 5 min; wait 1 d 2 h more"): units included, they are not part of identity."""


def fingerprinted(findings: Sequence[Finding]) -> list[tuple[Finding, str]]:
    """The findings in report order, each with its fingerprint.

    Occurrences are counted in report order (by position), so the n-th of several identical
    findings keeps its fingerprint however far the whole file's lines move.
    """
    seen: Counter[tuple[str, str, str, str]] = Counter()
    pairs: list[tuple[Finding, str]] = []
    for finding in sorted(findings, key=sort_key):
        message = _DIGITS.sub("#", finding.message)
        identity = (finding.rule, finding.path, finding.flag or "", message)
        pairs.append((finding, fingerprint(*identity, occurrence=seen[identity])))
        seen[identity] += 1
    return pairs


def fingerprint(rule: str, path: str, flag: str, message: str, *, occurrence: int = 0) -> str:
    """sha256 hex of the parts, JSON-encoded so that no choice of separator can make two differ
    only in where one part ends and the next begins."""
    encoded = json.dumps([rule, path, flag, message, occurrence], ensure_ascii=False)
    # surrogatepass: a non-UTF-8 file name (lone surrogates) hashes too, and UTF-8 text
    # hashes as it always did.
    return hashlib.sha256(encoded.encode("utf-8", "surrogatepass")).hexdigest()

"""The engines flagops speaks to: their bucketing rules (`bucketing`, `murmur`).

Only the names live here, so that the policy can name a bucketing without importing the rules.
"""

from __future__ import annotations

from typing import Literal

Bucketing = Literal["flipper", "flagd"]
"""Whose percentage-of-actors rule decides: Flipper's crc32 or flagd's murmur3 fractional."""

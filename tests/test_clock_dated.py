"""The gate's tests date commits minutes before `NOW`; conftest reads `NOW` again as each test
of a module saying `CLOCK_DATED = True` starts, before the module's fixtures date anything,
so a test run long after collection (the suite on every core of a busy machine) still judges
"a minute ago" as a minute ago."""

from __future__ import annotations

import time

import pytest

NOW = int(time.time()) - 3600  # as if this module had been collected an hour ago
CLOCK_DATED = True


@pytest.fixture
def dated() -> int:
    """What a module's fixture dates from (as the gate modules' `repo` fixtures do)."""
    return NOW


def test_now_is_read_again_before_the_fixtures_date_anything(dated: int) -> None:
    assert abs(dated - time.time()) < 60 and dated == NOW

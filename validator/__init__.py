"""flagops validator: judges flag files and the rollout steps between two git states."""

import time as _time

STARTED_NS = _time.time_ns()
"""Before any other module of the validator was read: the cache trusts its digest of the
source on disk for the code that ran only if no source file changed after this moment, less
a margin (validator/cache/code.py)."""

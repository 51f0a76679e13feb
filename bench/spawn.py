"""Runs one command and writes its wall time, CPU time, peak RSS and exit code to a file.

Why a separate process: on Linux a child's peak RSS starts at its parent's at fork (vfork then
exec copies the parent's high-water mark), so a child of the benchmark runner, which holds a
10,000-flag plan, would inherit the runner's memory. This wrapper imports almost nothing, so the
floor it passes on is a few MB. Usage: `python -I spawn.py RESULT_FILE COMMAND [ARGS...]`.
"""

import os
import sys
import time


def main(result: str, argv: list[str]) -> int:
    started = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    with open(result, "w", encoding="ascii") as stream:
        stream.write(f"{wall} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss} {code}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))

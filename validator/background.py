"""Work that runs while the caller does something else: a git process waited on in a thread
(which holds no lock while it waits), or a walk of the working tree beside one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """`work()` running from now on, in a thread; `result` waits for it: its value, or
    whatever it raised (any exception: a thread that died of one must not read as work that
    gave nothing)."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._value: list[T] = []  # its one value, once the work has finished
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], T]) -> None:
        try:
            self._value.append(work())
        except Exception as error:  # raised again where the result is asked for
            self._error = error

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value[0]  # (nothing there: the thread died of a BaseException, an error)

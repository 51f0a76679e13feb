"""Escaping untrusted text once, as text, and the frame every page shares (templates/page.html).

Jinja's autoescape wraps every expression in a `Markup` object; at ten thousand pages that
object, not the escaping, was most of the time. Here each untrusted field is escaped once by
markupsafe's own escaper (the same characters, the same entities) and stays a plain `str`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

from markupsafe import escape

K = TypeVar("K")
V = TypeVar("V")
KEPT = 4096
"""At most this many pieces of one kind kept by `kept` unless it is told fewer (a hostile
config's values are as many as its points)."""


def kept(memo: dict[K, V], key: K, make: Callable[[], V], most: int = KEPT) -> V:
    """The piece of markup for key, made once and kept while the memo has room: a catalog's
    pages repeat a handful of levels, durations and steps, each escaped and formatted once.
    Hot loops read `memo.get(key)` first and call this only when it misses."""
    found = memo.get(key)
    if found is None:
        found = make()
        if len(memo) < most:
            memo[key] = found
    return found


def _markupsafe_text(value: str) -> str:
    return str(escape(value))


try:  # markupsafe's C escaper, without the Markup object escape() wraps its result in
    from markupsafe._speedups import _escape_inner as _inner
except ImportError:  # pragma: no cover - a markupsafe built without its C speedups
    _inner = _markupsafe_text

text: Callable[[str], str] = _inner
"""`str(markupsafe.escape(value))` for a `str`: & < > " ' as markupsafe writes them."""


def shown(value: object) -> str:
    """Any value as Jinja's autoescape shows it: its `str()`, escaped (None is "None")."""
    return _inner(str(value))


_MARKS = ("\0csp\0", "\0title\0", "\0stylesheet\0", "\0body\0")
_FRAME_OF_MARKS = ('{% extends "page.html" %}{% block title %}' + _MARKS[1] + "{% endblock %}"
                   "{% block stylesheet %}" + _MARKS[2] + "{% endblock %}"
                   "{% block body %}" + _MARKS[3] + "{% endblock %}")


@cache
def page_frame() -> tuple[str, ...]:
    """templates/page.html, the one frame of every page, cut where its blocks and `csp` go:
    rendered once with a mark in each (a NUL, which no template and no escaped text holds),
    so a flag page is a few joins instead of a template render. render's pool makes it
    before it forks, or each worker made it again (a template compiled, about 15 ms)."""
    from jinja2 import Environment, FileSystemLoader

    templates = Path(__file__).resolve().parent.parent / "templates"
    rendered = Environment(loader=FileSystemLoader(templates), autoescape=False,
                           keep_trailing_newline=True, trim_blocks=True,
                           lstrip_blocks=True).from_string(_FRAME_OF_MARKS).render(
        csp=_MARKS[0])
    pieces: list[str] = []
    for mark in _MARKS:
        before, found, rendered = rendered.partition(mark)
        if not found or "\0" in before:  # missing, or not in the order `page` fills them
            raise RuntimeError(f"templates/page.html: no place for {mark.strip(chr(0))} "
                               "after the ones before it")
        pieces.append(before)
    return (*pieces, rendered)


def page(csp: str, title: str, stylesheet: str, body: str) -> str:
    """templates/page.html filled in: `title` and `body` are markup already, `csp` is text."""
    return "".join([*page_start(csp, title, stylesheet), body, page_end()])


def page_start(csp: str, title: str, stylesheet: str) -> list[str]:
    """The frame up to the body, as pieces: a page that adds its body's pieces to these and
    then `page_end()` joins its text once."""
    head, after_csp, after_title, after_stylesheet, _ = page_frame()
    return [head, _inner(csp), after_csp, title, after_title, stylesheet, after_stylesheet]


def page_end() -> str:
    """The frame after the body."""
    return page_frame()[4]

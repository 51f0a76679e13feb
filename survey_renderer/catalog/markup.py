"""Escaping untrusted text once, as text, and the catalog pages' shared frame (page.html).

Jinja's autoescape wraps every expression in a `Markup` object; at ten thousand pages that
object, not the escaping, was most of the time. Here each untrusted field is escaped once by
markupsafe's own escaper (the same characters, the same entities) and stays a plain `str`.
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import escape


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


_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<link rel="stylesheet" href="{stylesheet}">
</head>
"""


def page(csp: str, title: str, stylesheet: str, body: str) -> str:
    """templates/page.html filled in: `title` and `body` are markup already, `csp` is text.
    tests/test_catalog_pages.py holds this to the template's own output."""
    return _HEAD.format(csp=_inner(csp), title=title, stylesheet=stylesheet) + body + "</html>\n"

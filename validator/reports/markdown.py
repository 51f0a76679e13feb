"""Untrusted text in the Markdown that GitLab and GitHub render (plans, issues, notes):
literal, one line, unable to notify anyone or close a code span."""

from __future__ import annotations

import re

from validator.reports.escape import escape

_MARKDOWN = re.compile(
    r"[\\`*{}\[\]<>|~@$&^]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|[#!](?=[0-9])|%(?=[\w\"])"
    r"|(?<=[Gg][Hh])-(?=[0-9])")
"""What GitLab reads as markup in text: emphasis, code, links, HTML, table cells (`|`), and
references that notify or cross-link (`@user`, `#1`, `!1`, `%1`, `$1`, `&1`, `~label`, and
GitHub's `GH-1`). A backslash makes each one literal; `_` inside a word, `#` or `!` before
anything but a digit and `%` before a space mean nothing, and stay as they are."""

_BLOCK = re.compile(r"[#+=-]|[0-9]+(?=[.)]( |$))")
"""What starts a block at a line's start (and at a list item's, after `- `) that `_MARKDOWN`
leaves as it is: a heading (`#`), a list item (`-`, `+`, `1.`, `1)`), a rule (`---`), a
setext underline (`===`, `---`). `*`, `>`, `|`, `<`, `` ` ``, `~` and `_` are escaped
anywhere already."""


_LINKED = re.compile(r"((?:[A-Za-z][A-Za-z0-9+.-]*://|www\.)[^\s<>`|\\]*"
                     r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+)")
"""What GitHub and GitLab link in plain text with no markup at all: an URL (`https://…`,
`www.…`) or an e-mail address, inside a word too (`1https://…`: GitLab's pattern has no
boundary before the scheme). GitLab links them after rendering, in the page's text, so no
escape stops it: they are shown as code, where neither links anything. Backticks, `|` and
backslashes end one (a code span holds no backtick, a table cell splits at `|`, and `escape`
writes controls with backslashes)."""


def markdown_text(text: str) -> str:
    """Untrusted text as literal Markdown: one line (`escape`), every metacharacter escaped,
    so it is safe in a paragraph, a list item and a table cell alike. Nor does it start a
    block where it starts a line: `## Rollback steps` in a flag file would be a heading of
    the issue, `1. ` a list, four spaces a code block. A leading space is `&#32;`, so that
    the line starts with no space; a leading `#`, `-`, `+`, `=` gets a backslash, and so
    does the `.` or `)` after leading digits. URLs and e-mail addresses are code
    (`_LINKED`): a link to another project's issue cross-references it, which notifies."""
    parts = _LINKED.split(escape(text))
    shown = "".join(_as_code(part) if index % 2 else _escaped(part)
                    for index, part in enumerate(parts) if part)
    if shown.startswith(" "):
        return "&#32;" + shown[1:]
    start = _BLOCK.match(shown)
    if start is None:
        return shown
    if start[0][0].isdigit():
        return f"{start[0]}\\{shown[start.end():]}"
    return "\\" + shown


def _escaped(text: str) -> str:
    return _MARKDOWN.sub(lambda found: "\\" + found[0], text)


def _as_code(linked: str) -> str:
    """An URL or address as code, the punctuation that ends a sentence after it left out
    (GitHub leaves it out of a link too)."""
    kept = linked.rstrip(".,:;!?)'\"")
    return f"`{kept}`{_escaped(linked[len(kept):])}" if kept else _escaped(linked)


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{1,31}:")
"""What makes `<…>` an autolink (CommonMark); without it, `<…>` would be read as HTML."""


def autolink(url: str) -> str:
    """An URL as an autolink to exactly that URL. Backslash escapes do not work inside `<…>`
    (`<…\\&…>` links to an URL holding a backslash), so nothing is escaped there: what cannot
    stand inside (`<`, `>`, spaces, controls, invisible characters) is percent-encoded, as a
    browser sends it. Neither GitLab nor GitHub reads a mention or a reference inside a link.
    Text that is no absolute URL is shown as literal text instead."""
    if not _SCHEME.match(url):
        return markdown_text(url)
    return "<" + "".join(_link_char(char) for char in url) + ">"


def _link_char(char: str) -> str:
    if char in "<>" or char.isspace() or not char.isprintable():
        return "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
    return char


def code_span(text: str) -> str:
    """A code span that no backtick in `text` can close: its fence is one longer than the
    longest run inside, padded with spaces when the text starts or ends with a backtick.
    Inside a code span nothing but `|` is markup, and no table holds one."""
    shown = escape(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", shown)), default=0) + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") else ""
    return f"{fence}{pad}{shown}{pad}{fence}"

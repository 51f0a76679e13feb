"""Byte-exact edits of a flag file: only the changed values' spans change.

Each change replaces a value's span (keeping its quoting where the new value fits it), clears
a value (`key:` stays, so the key keeps its place and its comment), adds or removes one list
item in the list's own layout, or inserts a missing key after the nearest field that precedes
it in the README's order, with the file's indentation and line ending. Comments, blank lines,
key order, quoting and line endings elsewhere stay as they were. The result is read back by the
loader and must hold exactly the intended data, or nothing is returned. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from validator.document import LoadError
from validator.edit.render import string_text, value_text
from validator.edit.spans import (
    EditError,
    Entry,
    Node,
    line_break,
    line_end,
    line_start,
    next_line,
    source_map,
)
from validator.loader import load_document
from validator.model import Flag
from validator.scalars import resolve_plain

FIELD_ORDER: tuple[str, ...] = tuple(Flag.model_fields)
"""The README's field order (the model declares the fields in it)."""
_DASH = re.compile(r"[ \t]*-[ \t]+")
_KEEP_STYLES = ("", "'", '"')


def set_fields(text: str, changes: Mapping[str, Any],
               before: Mapping[str, Any] | None = None) -> str:
    """`text` with each top-level field of `changes` set to its value; None clears a field.

    Lists are edited item by item; mappings key by key where they hold the same keys.
    `before` is the data `text` holds, when the caller has loaded it already.
    """
    before = dict(before) if before is not None else _data(text)
    for key in sorted(changes, key=_rank):
        text = _set_field(text, key, changes[key])
    _check(before, _data(text), changes)
    return text


def _rank(key: str) -> int:
    return FIELD_ORDER.index(key) if key in FIELD_ORDER else len(FIELD_ORDER)


def _data(text: str) -> dict[str, Any]:
    try:
        return load_document(text.encode("utf-8"), "flag.yml").data
    except LoadError as error:
        raise EditError(f"the edited file would not load: {error.message}") from None


def _check(before: dict[str, Any], after: dict[str, Any], changes: Mapping[str, Any]) -> None:
    """The edit changed exactly the intended fields, and kept the order of the others."""
    expected = dict(before)
    for key, value in changes.items():
        if value is not None:
            expected[key] = value
        elif key in before:
            expected[key] = None
    kept = [key for key in after if key in before]
    if after != expected or kept != list(before):
        raise EditError("the edit would change more than the intended fields; "
                        "edit this file by hand")


def _set_field(text: str, key: str, value: Any) -> str:
    root = source_map(text)
    entry = root.get(key)
    flow = not root.is_block
    if entry is None:
        return text if value is None else _insert(text, root, key, value)
    if value is None:
        return text if entry.value.is_null else _clear(text, entry, flow=flow)
    if isinstance(value, list):
        return _set_list(text, key, value)
    if isinstance(value, dict) and entry.value.kind == "mapping" and \
            {child.key.text for child in entry.value.entries} == set(value):
        for child, child_value in value.items():
            text = _set_child(text, key, child, child_value)
        return text
    if entry.value.kind != "scalar" and entry.value.is_block:
        text = _clear(text, entry, flow=flow)
        entry = _entry(text, key)
    return _replace(text, entry, value, flow=flow)


def _entry(text: str, key: str) -> Entry:
    found = source_map(text).get(key)
    if found is None:
        raise EditError(f"lost the key {key!r} while editing")
    return found


def _content_end(text: str, node: Node) -> int:
    """Where a value's own text ends: a block scalar's span also holds its final line break."""
    end = node.end
    while node.style in ("|", ">") and end > node.start and text[end - 1] in "\r\n":
        end -= 1
    return end


def _replace(text: str, entry: Entry, value: Any, *, flow: bool) -> str:
    node = entry.value
    if node.start == node.end:  # `key:` with nothing after it
        return f"{text[:node.start]} {value_text(value, flow=flow)}{text[node.start:]}"
    style = node.style if node.style in _KEEP_STYLES and not node.is_null else ""
    new = value_text(value, style=style, flow=flow)
    return text[:node.start] + new + text[_content_end(text, node):]


def _clear(text: str, entry: Entry, *, flow: bool) -> str:
    """`key: value` → `key:`; a block collection's lines go; in a flow mapping, `null`."""
    node = entry.value
    if flow:
        return text[:node.start] + "null" + text[node.end:]
    if node.kind != "scalar" and node.is_block:
        return text[:line_end(text, entry.colon)] + text[line_end(text, node.end):]
    return text[:entry.colon] + text[_content_end(text, node):]


def _set_child(text: str, key: str, child: str, value: Any) -> str:
    node = _entry(text, key).value
    found = node.get(child)
    if found is None:
        raise EditError(f"lost the key {key}.{child} while editing")
    if found.value.kind == "scalar" and _scalar_value(found.value) == value:
        return text
    return _replace(text, found, value, flow=not node.is_block)


def _scalar_value(node: Node) -> Any:
    return resolve_plain(node.text) if node.style == "" else node.text


# Lists.

def _set_list(text: str, key: str, items: Sequence[str]) -> str:
    node = _entry(text, key).value
    if node.kind == "sequence" and node.items:
        for item in [item for item in items if item not in _texts(node)]:
            text = _append(text, key, item)
        for item in [item for item in _texts(node) if item not in items]:
            text = _remove(text, key, item)
        return text
    root = source_map(text)
    entry = _entry(text, key)
    if node.kind == "sequence" or not root.is_block:  # `[]`, or a flow mapping: inline
        rendered = value_text(list(items), flow=True)
        return text[:entry.value.start] + rendered + text[entry.value.end:]
    text = text[:entry.colon] + text[_content_end(text, node):]  # drop `~` or `null`
    eol, prefix = line_break(text), _dash_prefix(text, root)
    lines = "".join(f"{eol}{prefix}{string_text(item)}" for item in items)
    at = line_end(text, entry.colon)
    return text[:at] + lines + text[at:]


def _texts(node: Node) -> list[str]:
    if any(item.kind != "scalar" for item in node.items):
        raise EditError("a list item is not a plain value")
    return [item.text for item in node.items]


def _append(text: str, key: str, item: str) -> str:
    node = _entry(text, key).value
    last = node.items[-1]
    style = last.style if last.style in _KEEP_STYLES else ""
    if not node.is_block:
        return f"{text[:last.end]}, {string_text(item, style, flow=True)}{text[last.end:]}"
    prefix = _item_prefix(text, last, key)
    at = line_end(text, last.end)
    return text[:at] + line_break(text) + prefix + string_text(item, style) + text[at:]


def _remove(text: str, key: str, item: str) -> str:
    node = _entry(text, key).value
    index = _texts(node).index(item)
    target = node.items[index]
    if not node.is_block:
        return _remove_flow(text, node.items, index)
    start = line_start(text, target.start)
    _item_prefix(text, target, key)
    end = next_line(text, target.end)
    if end == len(text) and not text.endswith("\n") and start > 0:
        start = line_end(text, start - 1)  # the last line has no break: take the one before
    return text[:start] + text[end:]


def _remove_flow(text: str, items: tuple[Node, ...], index: int) -> str:
    """An item of a flow list, with the comma between it and its neighbour (the one before
    it, or after the first). What else sits between the two, a comment or a line break,
    stays: the cut took it with the item, and with it the comment about the item kept."""
    target = items[index]
    if index > 0:
        start, end = items[index - 1].end, target.start
        region = text[start:end]
        comma = start + _separator(region)
        return text[:comma] + text[comma + 1:end] + text[target.end:] \
            if _holds_more(region) else text[:start] + text[target.end:]
    start, end = target.end, items[1].start
    region = text[start:end]
    comma = start + _separator(region)
    return text[:target.start] + text[start:comma] + text[comma + 1:] \
        if _holds_more(region) else text[:target.start] + text[end:]


def _holds_more(region: str) -> bool:
    """Is there more than a comma and spaces between two items of a flow list?"""
    return "#" in region or "\n" in region or "\r" in region


def _separator(region: str) -> int:
    """Where the comma between two items of a flow list is: the first one outside a
    comment (a comment may hold commas too)."""
    in_comment = False
    for at, char in enumerate(region):
        if char in "\r\n":
            in_comment = False
        elif char == "#":
            in_comment = True
        elif char == "," and not in_comment:
            return at
    raise EditError("cannot find the comma between two items of a flow list; edit this "
                    "file by hand")


def _item_prefix(text: str, item: Node, key: str) -> str:
    prefix = text[line_start(text, item.start):item.start]
    if not _DASH.fullmatch(prefix):
        raise EditError(f"cannot edit {key}: its items are not written one per line as "
                        "'- item'; edit this file by hand")
    return prefix


def _dash_prefix(text: str, root: Node) -> str:
    """How this file writes block list items: like its other lists, else indented like its
    nested mappings, else two spaces in."""
    for entry in root.entries:
        node = entry.value
        if node.kind == "sequence" and node.is_block and node.items:
            prefix = text[line_start(text, node.items[0].start):node.items[0].start]
            if _DASH.fullmatch(prefix):
                return prefix
    for entry in root.entries:
        node = entry.value
        if node.kind == "mapping" and node.is_block:
            return " " * (node.start - line_start(text, node.start)) + "- "
    return " " * (_indent(text, root) + 2) + "- "


# Missing keys.

def _indent(text: str, root: Node) -> int:
    first = root.entries[0].key.start
    return first - line_start(text, first)


def _insert(text: str, root: Node, key: str, value: Any) -> str:
    anchor = _anchor(root, key)
    if not root.is_block:
        if anchor is None:
            rendered = f"{string_text(key)}: {value_text(value, flow=True)}, "
            return text[:root.start + 1] + rendered + text[root.start + 1:]
        end = anchor.value.end if anchor.value.end > anchor.value.start else anchor.colon
        return f"{text[:end]}, {key}: {value_text(value, flow=True)}{text[end:]}"
    eol, indent = line_break(text), " " * _indent(text, root)
    if isinstance(value, list):
        prefix = _dash_prefix(text, root)
        lines = [f"{indent}{key}:", *(f"{prefix}{string_text(item)}" for item in value)]
    else:
        lines = [f"{indent}{key}: {value_text(value)}"]
    block = eol.join(lines)
    at = _after(text, anchor) if anchor else line_start(text, root.entries[0].key.start)
    if at == len(text) and text and not text.endswith("\n"):
        return text + eol + block
    return text[:at] + block + eol + text[at:]


def _anchor(root: Node, key: str) -> Entry | None:
    """The present field nearest before `key` in the README's order."""
    rank = _rank(key)
    present = [entry for entry in root.entries if _rank(entry.key.text) < rank]
    return max(present, key=lambda entry: _rank(entry.key.text), default=None)


def _after(text: str, entry: Entry) -> int:
    """The start of the line after an entry's value (and after any comment on its line)."""
    node = entry.value
    end = node.end if node.end > node.start else entry.colon
    if text[end - 1] == "\n":  # a block scalar ends after its own line break
        return end
    return next_line(text, end)

"""A document to a `Flag`, turning every pydantic error into a located finding."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from validator.findings import RULES, Finding
from validator.loader import Document, KeyPath
from validator.model import Flag

_FIELDS = tuple(Flag.model_fields)


def parse_flag(document: Document) -> tuple[Flag | None, list[Finding]]:
    try:
        return Flag.model_validate(document.data), []
    except ValidationError as error:
        return None, [_finding(document, detail) for detail in error.errors(include_url=False)]


def _finding(document: Document, detail: ErrorDetails) -> Finding:
    key_path: KeyPath = tuple(detail["loc"])
    dotted = ".".join(str(part) for part in key_path)
    name = _flag_name(document)
    if detail["type"] == "missing":
        where = document.value_position(key_path[:-1])
        message = f"missing required field {dotted!r}"
        return RULES["FO101"].at(document.path, where, message, flag=name)
    if detail["type"] == "extra_forbidden":
        message = f"unknown key {dotted!r}{_suggestion(key_path)}"
        return RULES["FO103"].at(document.path, document.key_position(key_path), message,
                                 flag=name)
    rule = _value_rule(key_path, detail)
    message = f"{dotted}: {_explain(detail)}"
    return RULES[rule].at(document.path, document.value_position(key_path), message, flag=name)


def _value_rule(key_path: KeyPath, detail: ErrorDetails) -> str:
    if detail["type"] != "string_pattern_mismatch":
        return "FO102"
    field = str(key_path[0])
    if field == "name":
        return "FO112"
    if field.endswith("_url"):
        return "FO160"
    return "FO102"


def _explain(detail: ErrorDetails) -> str:
    value: Any = detail.get("input")
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    if detail["loc"] == ("milestone",) and isinstance(value, int | float):
        return f"must be a quoted string such as '13.12', not the number {shown}"
    if detail["type"] == "string_pattern_mismatch" and str(detail["loc"][0]).endswith("_url"):
        return f"must be an https URL, got {shown}"
    return f"{detail['msg']}, got {shown}"


def _suggestion(key_path: KeyPath) -> str:
    if len(key_path) != 1:
        return ""
    close = difflib.get_close_matches(str(key_path[0]), _FIELDS, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _flag_name(document: Document) -> str | None:
    name = document.data.get("name")
    return name if isinstance(name, str) else None

"""A document to a `Flag`, turning every pydantic error into a located finding."""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from validator.characters import invisible_character, without_invisible
from validator.document import Document, KeyPath
from validator.expects import described, expectation
from validator.findings import RULES, Finding
from validator.model import Flag
from validator.scalars import resolve_plain

_FIELDS = tuple(Flag.model_fields)
_USER_INFO = re.compile(r"(https://)[^\s/?#]*@")
_VERSION = re.compile(r"[0-9]+\.[0-9]+")
_UNQUOTED = ("must be true or false", "must be a number")
"""Fields whose value YAML reads only when it is not quoted."""


def parse_flag(document: Document) -> tuple[Flag | None, list[Finding]]:
    try:
        return Flag.model_validate(document.data), []
    except ValidationError as error:
        details = error.errors(include_url=False)
        hidden = _hidden_keys(details)
        return None, [_finding(document, detail) for detail in details
                      if not (detail["type"] == "missing" and tuple(detail["loc"]) in hidden)]


def _hidden_keys(details: list[ErrorDetails]) -> set[KeyPath]:
    """Fields "missing" only because their key holds an invisible character (FO104).

    That key is reported once, as FO104; that the field is missing too would say it twice.
    """
    hidden: set[KeyPath] = set()
    for detail in details:
        *parent, key = detail["loc"]
        if detail["type"] == "extra_forbidden" and isinstance(key, str):
            hidden.add((*parent, without_invisible(key)))
    return hidden


def _finding(document: Document, detail: ErrorDetails) -> Finding:
    key_path: KeyPath = tuple(detail["loc"])
    dotted = ".".join(str(part) for part in key_path)
    name = _flag_name(document)
    if detail["type"] == "invisible_character":
        message = (f"{dotted}: {_shown(detail.get('input'))} holds {detail['msg']}; "
                   "type the value without it")
        return RULES["FO104"].at(document.path, document.value_position(key_path), message,
                                 flag=name)
    invisible = invisible_character(str(key_path[-1])) if key_path else None
    if detail["type"] == "extra_forbidden" and invisible is not None:
        message = f"key {_shown(key_path[-1])} holds {invisible}; type the key without it"
        return RULES["FO104"].at(document.path, document.key_position(key_path), message,
                                 flag=name)
    if detail["type"] == "missing":
        where = document.value_position(key_path[:-1])
        phrase = expectation(key_path)
        message = f"missing required field {dotted!r}" + (f", which {phrase}" if phrase else "")
        return RULES["FO101"].at(document.path, where, message, flag=name)
    if detail["type"] == "extra_forbidden":
        message = f"unknown key {dotted!r}{_suggestion(key_path)}"
        return RULES["FO103"].at(document.path, document.key_position(key_path), message,
                                 flag=name)
    rule = _value_rule(key_path, detail)
    message = f"{dotted}: {_explain(detail, document.plain.get(key_path))}"
    return RULES[rule].at(document.path, document.value_position(key_path), message, flag=name)


def _value_rule(key_path: KeyPath, detail: ErrorDetails) -> str:
    if detail["type"] != "string_pattern_mismatch":
        return "FO102"
    field = str(key_path[0])
    if field == "name":
        return "FO112"
    if field.endswith("_url"):
        # An https URL with a user or password is https: the problem is the credential.
        return "FO102" if _USER_INFO.match(str(detail.get("input"))) else "FO160"
    return "FO102"


def _explain(detail: ErrorDetails, source: str | None) -> str:
    """What the field expects, in the README's words, and what it got, as the file shows it.
    `source` is the text of an unquoted number or boolean, as written."""
    value: Any = detail.get("input")
    shown = _shown(value)
    key_path = tuple(detail["loc"])
    if key_path == ("milestone",) and isinstance(value, int | float) and source is not None \
            and _VERSION.fullmatch(source):
        return (f"{source} must be quoted: '{source}' (unquoted, YAML reads the number "
                f"{value!r})")
    if detail["type"] == "string_pattern_mismatch" and str(detail["loc"][0]).endswith("_url"):
        if _USER_INFO.match(str(value)):
            redacted = _shown(_USER_INFO.sub(r"\1<user>@", str(value), count=1))
            return (f"must not hold a user or password before '@', got {redacted}: a "
                    "credential in a reviewed file leaks, and a link such as "
                    "https://gitlab.com@evil.example/ goes to evil.example")
        return f"must be an https URL, got {shown}"
    phrase = expectation(key_path)
    if phrase is None:  # not a field of the README's: say what pydantic says
        return f"{detail['msg']}, got {shown}"
    if key_path == ("percentage",) and isinstance(value, int | float) and \
            not isinstance(value, bool):
        number = source if source is not None else repr(value)
        return (f"must be a mapping such as {{of: actors, value: {number}}} (of: actors or "
                f"time), not the number {number} alone")
    if isinstance(value, str) and phrase.startswith(_UNQUOTED) and \
            not isinstance(resolve_plain(value), str | None):
        return f"{phrase}; got the quoted text {shown}: write it without quotes"
    return f"{phrase}; got {described(value, source)}"


def _shown(value: Any) -> str:
    """The value as repr shows it (invisible characters escaped), cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _suggestion(key_path: KeyPath) -> str:
    if len(key_path) != 1:
        return ""
    close = difflib.get_close_matches(str(key_path[0]), _FIELDS, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _flag_name(document: Document) -> str | None:
    name = document.data.get("name")
    return name if isinstance(name, str) else None

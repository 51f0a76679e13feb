"""Plain scalars read with the YAML 1.2 core schema: null, booleans, integers and floats, and
every other text a string, so that `stage: off` stays the string "off" (YAML 1.1 made it false).
"""

from __future__ import annotations

import math
import re
from typing import Any

from validator.document import LoadError

_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_TRUE = frozenset(("true", "True", "TRUE"))
_FALSE = frozenset(("false", "False", "FALSE"))
_MAYBE_NOT_STRING = frozenset("-+.0123456789~nNtTfF")
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_NUMBERS = (_INT, _OCT, _HEX, _FLOAT)
_MAX_NUMBER_LENGTH = 100
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)")


def resolve_plain(text: str) -> Any:
    """The YAML 1.2 core schema: null, booleans, integers and floats; everything else a string."""
    if text and text[0] not in _MAYBE_NOT_STRING:
        return text
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if len(text) > _MAX_NUMBER_LENGTH and any(form.fullmatch(text) for form in _NUMBERS):
        # Every form, before conversion: a 10,000-digit 0x literal converts in no time, but
        # is an integer too long to print in the message that rejects it.
        raise LoadError("FO004", f"number literal longer than {_MAX_NUMBER_LENGTH} characters")
    if _INT.fullmatch(text):
        return int(text)
    if _OCT.fullmatch(text):
        return int(text[2:], 8)
    if _HEX.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT.fullmatch(text):
        number = float(text)
        if math.isinf(number):
            raise LoadError("FO004", f"number {text} is too large")
        return number
    if _INF.fullmatch(text) or text in (".nan", ".NaN", ".NAN"):
        raise LoadError("FO002", f"{text} is not allowed in a flag file: numbers are finite")
    return text

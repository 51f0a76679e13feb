"""The merged config is read from its bytes, not from one str of the whole file
(`config_from_bytes`, for render, eval and the provider): the same config, and the same one
line for a file that is not UTF-8, not JSON or not a valid merged config, as decoding the
file first and parsing its text gives (`_decoded`, the reader as it was)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validator.build import MergedConfig, build_config, config_text, parse_config
from validator.config_file import config_from_bytes
from validator.errors import UserError
from validator.model import Environment, Flag

SHOWN = "build/flags.json"


def _valid() -> bytes:
    flag = Flag.model_validate({"name": "demo", "type": "gitlab_com_derisk",
                                "group": "group::a", "milestone": "17.0", "stage": "off",
                                "default_enabled": False})
    config, _ = build_config([flag], Environment.PRODUCTION, schema_ref="déjà vu ✓ → 😀")
    return config_text(config).encode("utf-8")


def _decoded(raw: bytes, shown: str) -> MergedConfig:
    """The reader as it was: decode, refuse what is not UTF-8, parse the text."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"cannot read {shown}: not UTF-8 (byte {error.start})") from None
    return parse_config(text, shown)


def _refusal(raw: bytes) -> str:
    with pytest.raises(UserError) as caught:
        _decoded(raw, SHOWN)
    return str(caught.value)


def test_a_valid_config_is_the_same_read_either_way() -> None:
    raw = _valid()
    assert not raw.isascii()
    assert config_from_bytes(raw, SHOWN) == _decoded(raw, SHOWN)


@pytest.mark.parametrize("raw", [
    b"\xff" + b"{}",
    b'{"$schema": "\xc3"}',
    "{\"a\": \"é\"}".encode()[:-3],  # é cut in half at the end
    b"{}\xed\xa0\x80",  # a surrogate, which UTF-8 may not hold
    b"",
    b"not json",
    b'{"$schema": "s", "environment": "production", "flags": {"Bad": {}}}',
    json.dumps({"$schema": "s", "environment": "nowhere", "flags": {}}).encode(),
    b"\xef\xbb\xbf{}",  # a byte order mark
])
def test_a_bad_config_is_refused_in_the_same_words(raw: bytes) -> None:
    expected = _refusal(raw)
    with pytest.raises(UserError) as caught:
        config_from_bytes(raw, SHOWN)
    assert str(caught.value) == expected


@settings(max_examples=300)
@given(st.binary(min_size=1, max_size=8), st.integers(0, 1))
def test_any_bytes_in_a_string_are_read_or_refused_as_before(inserted: bytes,
                                                             where: int) -> None:
    """pydantic's parser must refuse every string that is not UTF-8 where a decode would:
    `config_from_bytes` reads what it accepts without decoding it first."""
    raw = _valid()
    place = raw.index(b'"demo"') + 2 if where else raw.index("déjà".encode()) + 1
    changed = raw[:place] + inserted.replace(b'"', b"").replace(b"\\", b"") + raw[place:]
    try:
        expected: object = _decoded(changed, SHOWN)
    except UserError as error:
        expected = str(error)
    try:
        found: object = config_from_bytes(changed, SHOWN)
    except UserError as error:
        found = str(error)
    assert found == expected

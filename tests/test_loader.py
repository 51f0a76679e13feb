"""The loader: YAML 1.2 core-schema scalars, exact 1-based positions, refusals and limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from validator.document import Document, LoadError
from validator.events import MAX_DEPTH
from validator.files import MAX_BYTES, flag_paths
from validator.findings import START, Finding, Position
from validator.loader import load_document, load_or_finding, read_document
from validator.scalars import resolve_plain

POSITIONS = """\
# a comment line
name: positions
owners:
  - '@alice'
  -   "@bob"
expectations:
    expected: ok
percentage: {of: actors, value: 10}
actors: ['User:1', 'Group:a/b']
cleanup_issue_url:
stage: off
"""


def load(text: str | bytes) -> Document:
    return load_document(text.encode() if isinstance(text, str) else text, "flags/x.yml")


def refusal(text: str | bytes) -> LoadError:
    with pytest.raises(LoadError) as caught:
        load(text)
    return caught.value


# Scalars ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["off", "on", "yes", "no", "y", "n", "Off", "ON", "Yes", "NO", "staging"]
)
def test_yaml_1_1_booleans_stay_strings(text: str) -> None:
    assert load(f"stage: {text}\nx: {text}\n").data == {"stage": text, "x": text}


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False),
     ("FALSE", False)],
)
def test_core_schema_booleans(text: str, value: bool) -> None:
    assert load(f"default_enabled: {text}\n").data["default_enabled"] is value


def test_an_unquoted_milestone_is_a_float_and_a_quoted_one_a_string() -> None:
    data = load("a: 13.12\nb: '13.12'\nc: \"13.12\"\nd: 13.10\n").data
    assert data == {"a": 13.12, "b": "13.12", "c": "13.12", "d": 13.1}
    assert isinstance(data["a"], float)


@pytest.mark.parametrize("text", ["'true'", '"false"', "'off'", "'null'", "'~'", "'10'", "'1e3'"])
def test_quoted_scalars_are_strings(text: str) -> None:
    assert load(f"x: {text}\n").data["x"] == text[1:-1]


def test_actor_ids_in_a_flow_sequence_need_no_quotes() -> None:
    assert load("actors: [User:42, Group:a/b]\n").data == {"actors": ["User:42", "Group:a/b"]}


def test_actor_ids_in_a_block_sequence_or_quoted_need_no_more() -> None:
    data = load("a:\n  - User:42\nb: ['User:42', \"Group:a/b\"]\n").data
    assert data == {"a": ["User:42"], "b": ["User:42", "Group:a/b"]}


def test_block_scalars_are_strings() -> None:
    assert load("x: |\n  true\ny: >\n  10\n").data == {"x": "true\n", "y": "10\n"}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", None), ("~", None), ("null", None), ("Null", None), ("NULL", None),
        ("0", 0), ("-0", 0), ("+12", 12), ("012", 12), ("0o17", 15), ("0x1F", 31), ("0xff", 255),
        ("1.5", 1.5), (".5", 0.5), ("1.", 1.0), ("-2.5e3", -2500.0), ("1E2", 100.0),
        # YAML 1.1 forms that the core schema leaves as strings:
        ("1_000", "1_000"), ("0b101", "0b101"), ("0o8", "0o8"), ("0xG", "0xG"), ("1:20", "1:20"),
        ("2024-01-01", "2024-01-01"), ("nULL", "nULL"), ("tRUE", "tRUE"), ("y", "y"),
        ("-", "-"), ("+", "+"), (".", "."), ("13.12.1", "13.12.1"), ("infinity", "infinity"),
        ("nan", "nan"), ("User:42", "User:42"),
    ],
)
def test_resolve_plain_follows_the_core_schema(text: str, value: Any) -> None:
    resolved = resolve_plain(text)
    assert resolved == value and type(resolved) is type(value)


@pytest.mark.parametrize("text", [".nan", ".NaN", ".NAN", ".inf", "-.Inf", "+.INF"])
def test_non_finite_numbers_are_refused(text: str) -> None:
    """Core-schema floats, but no flag needs them and JSON Schema cannot judge them."""
    with pytest.raises(LoadError) as caught:
        resolve_plain(text)
    assert caught.value.rule == "FO002"


def test_an_overflowing_float_is_too_large() -> None:
    assert refusal("a: 1e400\n").rule == "FO004"


def test_number_literal_length_limit() -> None:
    assert resolve_plain("9" * 100) == int("9" * 100)
    with pytest.raises(LoadError) as caught:
        resolve_plain("9" * 101)
    assert caught.value.rule == "FO004"
    assert resolve_plain("x" * 500) == "x" * 500
    error = refusal("name: x\nvalue:  " + "1." + "0" * 99 + "\n")
    assert (error.rule, error.position) == ("FO004", Position(2, 9))


@pytest.mark.parametrize("prefix", ["0x", "0o", "", "-", "+", "1.", "."])
def test_the_length_limit_covers_every_numeric_form_before_conversion(prefix: str) -> None:
    """A 10,000-digit 0x literal converts at once but is too long to print (int > 4300 digits)."""
    digit = "7" if prefix == "0o" else "1"
    assert resolve_plain(prefix + digit * (100 - len(prefix))) is not None
    for length in (101 - len(prefix), 10_000):
        with pytest.raises(LoadError) as caught:
            resolve_plain(prefix + digit * length)
        assert caught.value.rule == "FO004"
        assert "longer than 100 characters" in caught.value.message


# The pure-Python parser, for what libyaml refuses ---------------------------------------------

FALLBACK = """\
actors: [User:42]
default_enabled: false
on_time: true
count: 12
hex: 0x1F
octal: 0o17
ratio: 2.5
tilde: ~
empty:
word: null
yes_: yes
on_: on
off_: off
n_: n
quoted: 'false'
"""


def test_the_fallback_text_is_one_libyaml_refuses() -> None:
    with pytest.raises(MarkedYAMLError):
        list(YAML(typ="safe", pure=False).parse(FALLBACK))


def test_the_fallback_parser_resolves_plain_scalars_with_the_core_schema() -> None:
    data = load(FALLBACK).data
    assert data == {
        "actors": ["User:42"], "default_enabled": False, "on_time": True, "count": 12,
        "hex": 31, "octal": 15, "ratio": 2.5, "tilde": None, "empty": None, "word": None,
        "yes_": "yes", "on_": "on", "off_": "off", "n_": "n", "quoted": "false",
    }
    assert [type(data[key]) for key in ("default_enabled", "count", "hex", "ratio")] == [
        bool, int, int, float]


def test_the_fallback_parser_keeps_the_refusals_and_positions() -> None:
    error = refusal("actors: [User:42]\n~: 1\n")
    assert (error.rule, error.position) == ("FO103", Position(2, 1))
    error = refusal("actors: [User:42]\nvalue: 0x" + "f" * 10_000 + "\n")
    assert (error.rule, error.position) == ("FO004", Position(2, 8))
    assert refusal("actors: [User:42]\nvalue: .nan\n").rule == "FO002"


# Positions ----------------------------------------------------------------------------------


def test_positions_of_keys_values_and_items_are_exact_and_one_based() -> None:
    document = load(POSITIONS)
    assert document.keys == {
        ("name",): Position(2, 1),
        ("owners",): Position(3, 1),
        ("expectations",): Position(6, 1),
        ("expectations", "expected"): Position(7, 5),
        ("percentage",): Position(8, 1),
        ("percentage", "of"): Position(8, 14),
        ("percentage", "value"): Position(8, 26),
        ("actors",): Position(9, 1),
        ("cleanup_issue_url",): Position(10, 1),
        ("stage",): Position(11, 1),
    }
    assert document.values == {
        (): Position(2, 1),
        ("name",): Position(2, 7),
        ("owners",): Position(4, 3),
        ("owners", 0): Position(4, 5),
        ("owners", 1): Position(5, 7),
        ("expectations",): Position(7, 5),
        ("expectations", "expected"): Position(7, 15),
        ("percentage",): Position(8, 13),
        ("percentage", "of"): Position(8, 18),
        ("percentage", "value"): Position(8, 33),
        ("actors",): Position(9, 9),
        ("actors", 0): Position(9, 10),
        ("actors", 1): Position(9, 20),
        ("cleanup_issue_url",): Position(10, 19),
        ("stage",): Position(11, 8),
    }
    assert document.data["cleanup_issue_url"] is None


def test_columns_count_characters_not_bytes() -> None:
    document = load("description: \"\u00e9\u00e9\u00e9 \U0001f4c5\"\nx: {\u00e9: 1, k: 2}\n")
    assert document.keys[("x", "k")] == Position(2, 11)
    assert document.values[("x", "k")] == Position(2, 14)


def test_crlf_line_endings_keep_positions_and_values() -> None:
    document = load("name: a\r\nstage: off\r\n")
    assert document.data == {"name": "a", "stage": "off"}
    assert document.values[("stage",)] == Position(2, 8)


def test_missing_keys_fall_back_to_the_nearest_enclosing_value() -> None:
    document = load(POSITIONS)
    assert document.value_position(("expectations", "risks")) == Position(7, 5)
    assert document.value_position(("nowhere", 3)) == Position(2, 1)
    assert document.key_position(("owners", 1)) == Position(5, 7)
    assert document.key_position(("stage",)) == Position(11, 1)


def test_a_leading_document_marker_and_comments_move_the_root() -> None:
    assert load("---\n# c\nname: a\n").values[()] == Position(3, 1)


# Refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule", "position", "words"),
    [
        ("a: &x 1\nb: *x\n", "FO002", Position(1, 4), "anchor &x"),
        ("a: *x\n", "FO002", Position(1, 4), "alias *x"),
        ("a: !!python/object:os.system x\n", "FO002", Position(1, 4), "python/object"),
        ("a: !!binary aGk=\n", "FO002", Position(1, 4), "binary"),
        ("!!map\na: 1\n", "FO002", Position(1, 1), "tag"),
        ("a: 1\n---\nb: 1\n", "FO002", Position(2, 1), "more than one YAML document"),
        ("? [a]\n: b\n", "FO002", Position(1, 3), "complex"),
        ("a: 1\nb: 2\na: 3\n", "FO003", Position(3, 1), "duplicate key 'a'"),
        ("x:\n  a: 1\n  a: 2\n", "FO003", Position(3, 3), "duplicate key 'a'"),
        ("~: 1\nnull: 2\n", "FO103", Position(1, 1), "unknown key None"),
        ("1: a\ntrue: b\n", "FO103", Position(1, 1), "unknown key 1"),
        ("a:\n\tb: 1\n", "FO001", Position(2, 1), "invalid YAML"),
        ("a: 'b\n", "FO001", Position(1, 4), "the quote opened at 1:4 is never closed"),
        ("", "FO006", START, "empty"),
        ("# only\n", "FO006", START, "empty"),
        ("- a\n", "FO006", START, "a list"),
        ("42\n", "FO006", START, "a int"),
    ],
)
def test_refusals_carry_a_rule_and_a_position(
    text: str, rule: str, position: Position, words: str
) -> None:
    error = refusal(text)
    assert (error.rule, error.position) == (rule, position)
    assert words in error.message


def test_same_key_in_different_mappings_is_no_duplicate() -> None:
    assert load("a: {a: 1}\nb: {a: 2}\n").data == {"a": {"a": 1}, "b": {"a": 2}}


def test_encoding_refusals() -> None:
    assert refusal(b"\xef\xbb\xbfa: 1\n").rule == "FO005"
    latin1 = refusal(b"a: 1\nb: caf\xe9\n")
    assert (latin1.rule, latin1.position) == ("FO005", Position(2, 7))
    assert "0xe9" in latin1.message


def test_invalid_byte_column_counts_characters() -> None:
    assert refusal("a: 1\nb: \u00e9".encode() + b"\xff\n").position == Position(2, 5)


def test_control_characters_are_located_on_one_line() -> None:
    error = refusal("a: 1\nb: x\x00y\n")
    assert (error.rule, error.position, "\n" in error.message) == ("FO001", Position(2, 5), False)


def test_control_characters_are_refused() -> None:
    for character in "\x00\x07\x1b":
        assert refusal(f"a: x{character}y\n").rule == "FO001"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('a: "\\ud83d\\udcc5"\n', "\\uD83D is half of a UTF-16 surrogate pair, not a character; "
                                  "YAML escapes name code points: write \\U0001F4C5"),
        ('a: "x\\udcc5"\n', "\\uDCC5 is half"),
        ('a: "\\ud800x"\n', "write the character itself"),
        ('a: [User:1, "\\ud800"]\n', "\\uD800"),
        ('"k\\ud800": 1\n', "\\uD800"),
    ],
)
def test_surrogate_escapes_are_refused_with_a_hint(text: str, words: str) -> None:
    """Half a UTF-16 pair cannot be written as UTF-8: every report would fail to print it."""
    error = refusal(text)
    assert error.rule == "FO005" and words in error.message
    assert error.message.isascii()


# Unclosed quotes and brackets -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("a: 1\nb: 'x\nc: 2\n", Position(2, 4),
         "the quote opened at 2:4 is never closed (found unexpected end of stream at 4:1)"),
        ('a: 1\nb: "x\nc: 2\n', Position(2, 4), "the quote opened at 2:4 is never closed"),
        ("a: 'x\n---\nb: 1\n", Position(1, 4), "opened at 1:4 is never closed (found unexpected "
                                              "document separator at 2:1)"),
        ("a: ['x\n", Position(1, 5), "the quote opened at 1:5"),
        ("a: ['@a', '@b'\nb: ['@c']\n", Position(1, 4),
         "the [ opened at 1:4 is never closed (expected ',' or ']', but got '<scalar>' at 2:1)"),
        ("a: {x: 1\nb: 2\n", Position(1, 4), "the { opened at 1:4 is never closed"),
        ("a: [\n", Position(1, 4), "the [ opened at 1:4 is never closed"),
        ("a: [b,\n  c\n", Position(1, 4), "the [ opened at 1:4 is never closed"),
        ("x:\n  a: [b, {c: [d\n  e: 1\n", Position(2, 14), "the [ opened at 2:14"),
    ],
)
def test_unclosed_quotes_and_brackets_are_located_where_they_opened(
    text: str, position: Position, words: str
) -> None:
    error = refusal(text)
    assert (error.rule, error.position) == ("FO001", position)
    assert words in error.message


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("a: [b, {c: d} e]\n", Position(1, 15)),
        ("a: [\n  'b'\n  'c'\n]\n", Position(3, 3)),
        ('a: "x\\qy"\n', Position(1, 7)),
    ],
)
def test_a_missing_comma_or_bad_escape_stays_where_the_parser_stopped(
    text: str, position: Position
) -> None:
    """Inside the brackets, deeper than the line that opened them: not an unclosed bracket."""
    error = refusal(text)
    assert (error.rule, error.position) == ("FO001", position)
    assert "never closed" not in error.message


# Limits -------------------------------------------------------------------------------------


def _sized(size: int) -> bytes:
    head = b"name: sized\ndescription: "
    return head + b"x" * (size - len(head) - 1) + b"\n"


def test_size_limit_is_exact(tmp_path: Path) -> None:
    assert load(_sized(MAX_BYTES)).data["name"] == "sized"
    assert refusal(_sized(MAX_BYTES + 1)).rule == "FO004"
    (tmp_path / "big.yml").write_bytes(_sized(MAX_BYTES + 1))
    finding = read_document(tmp_path / "big.yml", "flags/big.yml")
    assert isinstance(finding, Finding)
    assert (finding.rule, finding.line, finding.column) == ("FO004", 1, 1)


def _nested(depth: int) -> str:
    """A document whose containers nest `depth` deep, the top-level mapping included."""
    return "x: " + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "\n"


def test_depth_limit_is_exact() -> None:
    assert load(_nested(MAX_DEPTH)).data["x"]
    error = refusal(_nested(MAX_DEPTH + 1))
    assert (error.rule, error.position) == ("FO004", Position(1, 3 + MAX_DEPTH))


def test_a_deep_block_mapping_is_refused_without_recursion() -> None:
    text = "".join(f"{'  ' * level}k{level}:\n" for level in range(5000))
    assert refusal(text).rule == "FO004"
    assert refusal("x: " + "[" * 100_000).rule == "FO004"


def test_an_alias_bomb_is_refused_at_its_first_anchor() -> None:
    lol = "a: &a [" + ", ".join(["lol"] * 9) + "]\n"
    bomb = lol + "".join(f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n"
                         for a, b in zip("abcdefgh", "bcdefghi", strict=True))
    error = refusal(bomb)
    assert (error.rule, error.position) == ("FO002", Position(1, 4))


# Reading files ------------------------------------------------------------------------------


def test_read_document_turns_every_failure_into_a_finding(tmp_path: Path) -> None:
    missing = read_document(tmp_path / "nope.yml", "flags/nope.yml")
    assert isinstance(missing, Finding) and missing.rule == "FO007"
    (tmp_path / "bad.yml").write_text("a: [\n")
    bad = load_or_finding((tmp_path / "bad.yml").read_bytes(), "flags/bad.yml")
    assert isinstance(bad, Finding) and (bad.path, bad.rule) == ("flags/bad.yml", "FO001")
    (tmp_path / "good.yml").write_text("a: 1\n")
    good = read_document(tmp_path / "good.yml", "flags/good.yml")
    assert isinstance(good, Document) and (good.path, good.data) == ("flags/good.yml", {"a": 1})


def test_flag_paths_finds_yml_in_subfolders_in_a_stable_order(tmp_path: Path) -> None:
    for name in ("b.yml", "team_a/c.yml", "a.yml", "team_a/sub/d.yml", "f.txt"):
        (tmp_path / "flags" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "flags" / name).write_text("")
    assert flag_paths(tmp_path) == [
        "flags/a.yml", "flags/b.yml", "flags/team_a/c.yml", "flags/team_a/sub/d.yml"]

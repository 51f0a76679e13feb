"""Hostile flag files: invisible characters, huge literals, credentials in URLs.

Every one must end as located findings with the right rule, never an internal error (exit 3).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gitrepo import flag_yaml
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from validator.characters import (
    BIDI_CONTROLS,
    FREE_TEXT_REFUSED,
    INVISIBLE,
    free_text_shown,
    invisible_character,
)
from validator.check import check_documents
from validator.document import Document, KeyPath
from validator.findings import Finding
from validator.loader import load_document, load_or_finding
from validator.model import Flag
from validator.policy import DEFAULT_POLICY

CliResult = tuple[int, str, str]
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema" / "flag.schema.json"

BASE: dict[str, Any] = {
    "name": "hostile",
    "description": "A flag with every field.",
    "type": "beta",
    "group": "group::activation",
    "milestone": "13.12",
    "feature_issue_url": "https://gitlab.com/gitlab-org/gitlab/-/issues/1",
    "introduced_by_url": "https://gitlab.com/gitlab-org/gitlab/-/merge_requests/2",
    "rollout_issue_url": "https://gitlab.com/gitlab-org/gitlab/-/issues/3",
    "log_state_changes": True,
    "intended_to_rollout_by": "2024-01-01",
    "owners": ["@alice"],
    "stakeholders": ["@bob"],
    "expectations": {"expected": "More bookings.", "risks": "None.",
                     "monitoring": "The survey page."},
    "stage": "percentage",
    "actors": ["User:42", "Project:gitlab-org/gitlab"],
    "percentage": {"of": "actors", "value": 10},
    "default_enabled": False,
    "cleanup_issue_url": "https://gitlab.com/gitlab-org/gitlab/-/issues/4",
}
IDENTIFIERS: list[KeyPath] = [
    ("name",), ("type",), ("group",), ("milestone",), ("feature_issue_url",),
    ("introduced_by_url",), ("rollout_issue_url",), ("intended_to_rollout_by",), ("owners", 0),
    ("stakeholders", 0), ("stage",), ("actors", 1), ("percentage", "of"),
    ("cleanup_issue_url",),
]
FREE_TEXT: list[KeyPath] = [("description",), ("expectations", "expected"),
                            ("expectations", "risks"), ("expectations", "monitoring")]
KEYS: list[KeyPath] = [("name",), ("stage",), ("default_enabled",), ("description",),
                       ("expectations", "risks"), ("percentage", "of")]
# A few of each kind: format characters, bidi controls, C0 and C1 controls, separators, tags.
HIDDEN = ("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2064"
          "\u2066\u2067\u2068\u2069\ufeff\u00ad\u061c\u180e\u0600\ufff9\t\n\r\x1b\x7f\x85\x9f"
          "\u2028\u2029\U000e0001\U000e0041\U0001d173")
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
SHOWN_IN_FREE_TEXT = "\u200b\u200c\u200d\u2060\u00ad\ufeff\U000e0041\U0001f469"
CONTROLS = "\x00\x07\x08\x0b\x0c\r\x1b\x1f\x7f\x85\x9b\x9f"


# Building files -------------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    """A YAML scalar: a double-quoted string with every character outside ASCII escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        return str(value)
    escaped = "".join(c if " " <= c <= "~" and c not in '"\\' else f"\\U{ord(c):08X}"
                      for c in value)
    return f'"{escaped}"'


def render(data: dict[str, Any]) -> str:
    lines = []
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"{_scalar(key)}:")
            lines += [f"  {_scalar(k)}: {_scalar(v)}" for k, v in value.items()]
        elif isinstance(value, list):
            lines.append(f"{_scalar(key)}: [{', '.join(_scalar(v) for v in value)}]")
        else:
            lines.append(f"{_scalar(key)}: {_scalar(value)}")
    return "\n".join(lines) + "\n"


def _parent(data: dict[str, Any], path: KeyPath) -> Any:
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    return node


def with_value(path: KeyPath, character: str) -> dict[str, Any]:
    """BASE with `character` typed into the middle of the value at path."""
    data = copy.deepcopy(BASE)
    parent = _parent(data, path)
    value = parent[path[-1]]
    parent[path[-1]] = value[: len(value) // 2] + character + value[len(value) // 2 :]
    return data


def with_key(path: KeyPath, character: str) -> dict[str, Any]:
    """BASE with `character` typed into the key at path (its order kept)."""
    data = copy.deepcopy(BASE)
    parent: dict[str, Any] = _parent(data, path)
    key = str(path[-1])
    renamed = key[:2] + character + key[2:]
    items = [(renamed if k == key else k, v) for k, v in parent.items()]
    parent.clear()
    parent.update(items)
    return data


def load(data: dict[str, Any]) -> Document:
    return load_document(render(data).encode(), "flags/hostile.yml")


def findings(data: dict[str, Any]) -> list[Finding]:
    return check_documents([load(data)], DEFAULT_POLICY).findings


def _names(character: str) -> str:
    """How the message must name the character: U+XXXX and, when Unicode has one, its name."""
    name = unicodedata.name(character, "")
    return f"U+{ord(character):04X} {name}".rstrip()


def _ids(characters: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in characters]


def test_the_base_file_passes_so_each_tampering_is_the_only_fault() -> None:
    assert findings(BASE) == []


# FO104 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("character", HIDDEN, ids=_ids(HIDDEN))
@pytest.mark.parametrize("path", IDENTIFIERS, ids=lambda path: ".".join(map(str, path)))
def test_an_invisible_character_in_an_identifier_is_fo104_at_the_value(
    path: KeyPath, character: str
) -> None:
    """FO104 and nothing else: not FO102/FO112/FO160 for the pattern the value then fails."""
    data = with_value(path, character)
    document = load(data)
    [finding] = check_documents([document], DEFAULT_POLICY).findings
    assert (finding.rule, finding.line, finding.column) == (
        "FO104", *_line_column(document.value_position(path)))
    assert _names(character) in finding.message
    assert finding.message.startswith(".".join(map(str, path)) + ": ")


@pytest.mark.parametrize("character", "\u200b\u202e\u00ad\t\U000e0041", ids=_ids("\u200b\u202e"
                                                                                 "\u00ad\t\U000e0041"))
@pytest.mark.parametrize("path", KEYS, ids=lambda path: ".".join(map(str, path)))
def test_an_invisible_character_in_a_key_is_one_fo104_at_the_key(
    path: KeyPath, character: str
) -> None:
    """Not also "missing field" and "unknown key" for what is one typo-shaped fault."""
    data = with_key(path, character)
    document = load(data)
    [finding] = check_documents([document], DEFAULT_POLICY).findings
    renamed = (*path[:-1], str(path[-1])[:2] + character + str(path[-1])[2:])
    assert (finding.rule, finding.line, finding.column) == (
        "FO104", *_line_column(document.key_position(renamed)))
    assert _names(character) in finding.message and "key " in finding.message


@pytest.mark.parametrize("character", BIDI, ids=_ids(BIDI))
@pytest.mark.parametrize("path", FREE_TEXT, ids=lambda path: ".".join(map(str, path)))
def test_a_bidi_control_in_free_text_is_fo104(path: KeyPath, character: str) -> None:
    document = load(with_value(path, character))
    [finding] = check_documents([document], DEFAULT_POLICY).findings
    assert (finding.rule, finding.line, finding.column) == (
        "FO104", *_line_column(document.value_position(path)))
    assert _names(character) in finding.message and "reorders" in finding.message


@pytest.mark.parametrize("character", CONTROLS, ids=_ids(CONTROLS))
@pytest.mark.parametrize("path", FREE_TEXT, ids=lambda path: ".".join(map(str, path)))
def test_a_control_in_free_text_is_fo104(path: KeyPath, character: str) -> None:
    """An escape sequence a terminal runs, a carriage return that writes over the line, a
    character a page drops: YAML takes each written as an escape ("\\e")."""
    document = load(with_value(path, f"ab{character}cd"))
    [finding] = check_documents([document], DEFAULT_POLICY).findings
    assert (finding.rule, finding.line, finding.column) == (
        "FO104", *_line_column(document.value_position(path)))
    assert f"U+{ord(character):04X} " in finding.message and "a control character" in (
        finding.message)


def test_free_text_keeps_tabs_and_line_feeds() -> None:
    assert findings(with_value(("description",), "two\tcolumns\nand lines\n")) == []


def test_text_from_elsewhere_is_made_fit_for_free_text() -> None:
    assert free_text_shown("Zoë \u200d\U0001f469 Ng") == "Zoë \u200d\U0001f469 Ng"
    assert free_text_shown("a\x1b[2Jb\u202ec\td\n") == "a\ufffd[2Jb\ufffdc\td\n"
    for code in range(0x110000):
        shown = free_text_shown(f"x{chr(code)}y")
        assert invisible_character(shown, free_text=True) is None, f"U+{code:04X}"


@pytest.mark.parametrize("character", SHOWN_IN_FREE_TEXT, ids=_ids(SHOWN_IN_FREE_TEXT))
@pytest.mark.parametrize("path", FREE_TEXT, ids=lambda path: ".".join(map(str, path)))
def test_free_text_keeps_joiners_and_other_invisible_characters(
    path: KeyPath, character: str
) -> None:
    """Emoji need U+200D; only the characters that reorder text are refused in prose."""
    assert findings(with_value(path, character)) == []


def test_several_invisible_values_are_each_reported() -> None:
    data = with_value(("group",), "\u200b")
    data["actors"] = ["User:4\u202e2", "User:43", "Group:\u2066a"]
    data["description"] = "fine \u200d but \u202e not"
    got = sorted((f.rule, f.message.partition(":")[0]) for f in findings(data))
    assert got == [("FO104", "actors.0"), ("FO104", "actors.2"), ("FO104", "description"),
                   ("FO104", "group")]


def _line_column(position: Any) -> tuple[int, int]:
    return position.line, position.column


# The list of characters -----------------------------------------------------------------------


def _code_points(ranges: tuple[tuple[int, int], ...]) -> set[int]:
    return {code for low, high in ranges for code in range(low, high + 1)}


def test_every_control_and_format_character_this_python_knows_is_refused() -> None:
    """A newer Unicode adds format characters: this names any that INVISIBLE lacks."""
    known = {code for code in range(0x110000)
             if unicodedata.category(chr(code)) in ("Cc", "Cf")}
    assert known - _code_points(INVISIBLE) == set()


def test_the_bidi_list_is_unicodes_bidi_control_property() -> None:
    """Bidi_Control (PropList.txt): the explicit embeddings, overrides and isolates + 3 marks."""
    explicit = {"LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI"}
    marks = {"ARABIC LETTER MARK", "LEFT-TO-RIGHT MARK", "RIGHT-TO-LEFT MARK"}
    bidi_control = {code for code in range(0x110000)
                    if unicodedata.bidirectional(chr(code)) in explicit
                    or unicodedata.name(chr(code), "") in marks}
    assert _code_points(BIDI_CONTROLS) == bidi_control
    assert bidi_control <= _code_points(INVISIBLE)


def test_visible_text_is_not_refused() -> None:
    for text in ("group::activation", "Zeigt den Link — für Umfragen 📅 (café)", "שלום",
                 "مرحبا", "a\u00a0b", "\u3000", "\U0001f469"):
        assert invisible_character(text) is None, text


@pytest.mark.parametrize("character", "\x85\u2028\u2029", ids=_ids("\x85\u2028\u2029"))
@pytest.mark.parametrize(("replaced", "line"), [
    ("stage:", "# rollout notes{}stage: enabled"), ("description:", "description: Shows{}it."),
    ("group:", "gro{}up: group::activation")])
def test_a_line_break_only_yaml_sees_is_fo104_where_editors_show_it(
        replaced: str, line: str, character: str) -> None:
    """libyaml breaks lines at NEL, LS and PS; editors and diffs do not: after a comment such
    a character hides a key from review. Refused wherever it stands, at the place an editor
    shows (the line and column counted by newlines)."""
    lines = flag_yaml("demo").splitlines()
    index = next(i for i, text in enumerate(lines) if text.startswith(replaced))
    lines[index] = line.format(character)
    found = load_or_finding("\n".join(lines).encode(), "flags/demo.yml")
    assert isinstance(found, Finding)
    assert (found.rule, found.line, found.column) == ("FO104", index + 1, line.index("{}") + 1)
    assert found.message.startswith(f"U+{ord(character):04X} ")


def test_such_a_line_break_written_as_an_escape_is_text() -> None:
    text = flag_yaml("demo").replace("description: Shows the invite link.",
                                     'description: "Shows\\u2028the invite link."')
    document = load_or_finding(text.encode(), "flags/demo.yml")
    assert isinstance(document, Document) and "\u2028" in document.data["description"]


def test_the_ascii_shortcut_refuses_exactly_what_the_ranges_refuse() -> None:
    """invisible_character answers ASCII text without its regex: for every ASCII character,
    alone and inside text, it refuses exactly the code points of the ranges."""
    for code in range(0x80):
        for text in (chr(code), f"ab{chr(code)}cd"):
            for free_text, ranges in ((False, INVISIBLE), (True, FREE_TEXT_REFUSED)):
                refused = invisible_character(text, free_text=free_text) is not None
                assert refused == (code in _code_points(ranges)), (code, free_text)
    assert invisible_character("plain ascii, nothing hidden ~") is None
    assert invisible_character("line\nbreak", free_text=True) is None


# The JSON Schema reads the same characters ----------------------------------------------------

# BMP characters on which engines could differ: \s, \d and `.` are read differently by Rust,
# Python and ECMA-262 only on some of these, and each is refused (or not) alike.
BMP_HIDDEN = sorted({chr(code) for low, high in INVISIBLE for code in (low, high)
                     if code <= 0xFFFF} | set("\x1c\x1d\x1e\x1f\x85\ufeff\u2028\u2029"))
VISIBLE_ODDITIES = ["\u00a0", "\u3000", "\u202f", "\u0663", "\uff11", "\u1680", "\u00e9",
                    "\U0001f4c5"]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def _model_accepts(data: Any) -> bool:
    try:
        Flag.model_validate(data)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("path", [*IDENTIFIERS, *FREE_TEXT],
                         ids=lambda path: ".".join(map(str, path)))
def test_schema_and_model_agree_on_every_bmp_character_that_matters(
    path: KeyPath, schema: dict[str, Any]
) -> None:
    """Beyond U+FFFF no escape reads alike everywhere: only the model refuses tag characters."""
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for character in [*BMP_HIDDEN, *VISIBLE_ODDITIES]:
        data = load(with_value(path, character)).data
        assert validator.is_valid(data) == _model_accepts(data), (path, f"U+{ord(character):04X}")


def _string_rules(node: Any) -> Iterator[tuple[str, str]]:
    """(pattern, not-pattern) of every string schema; "" where there is none."""
    if isinstance(node, dict):
        refused = node["not"].get("pattern", "") if isinstance(node.get("not"), dict) else ""
        if "pattern" in node or refused:
            yield node.get("pattern", ""), refused
        for value in node.values():
            yield from _string_rules(value)
    elif isinstance(node, list):
        for item in node:
            yield from _string_rules(item)


_NODE_SCRIPT = """
const {rules, samples} = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = {};
for (const flags of ['u', '']) {
  out[flags] = rules.map(([yes, no]) => samples.map(s =>
    new RegExp(yes, flags).test(s) && !(no && new RegExp(no, flags).test(s))));
}
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node (an ECMA-262 engine) is missing")
def test_ecma_262_reads_every_schema_string_rule_as_python_does(schema: dict[str, Any]) -> None:
    """Editors (ECMA-262, with or without the u flag) and jsonschema (Python re) agree.

    Each rule alone need not (`.` stops at U+2028 in ECMA only, `\\s` takes U+001C in Python
    only); the pattern together with its not-pattern must.
    """
    rules = sorted(set(_string_rules(schema)))
    valid = ["hostile", "group::a b", "13.12", "@alice", "User:42", "https://gitlab.com/a@b",
             "https://u@h/", "A text."]
    samples = [""] + valid + [text[:cut] + c + text[cut:] for text in valid
                              for cut in (1, len(text) // 2, len(text) - 1)
                              for c in [*BMP_HIDDEN, *VISIBLE_ODDITIES]]
    python = [[re.search(yes, s) is not None and not (no and re.search(no, s)) for s in samples]
              for yes, no in rules]
    done = subprocess.run(["node", "-e", _NODE_SCRIPT], input=json.dumps(
        {"rules": rules, "samples": samples}), capture_output=True, text=True, timeout=60,
        check=True)
    ecma = json.loads(done.stdout)
    assert ecma["u"] == python
    assert ecma[""] == python


# URLs with a user or password -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://alice@gitlab.com/gitlab-org/gitlab/-/issues/1",
     "https://alice:hunter2@gitlab.com/gitlab-org/gitlab/-/issues/1",
     "https://gitlab.com@evil.example/gitlab-org/gitlab/-/issues/1",
     "https://gitlab.com:hunter2@evil.example",
     "https://@gitlab.com/x", "https://a%40b@gitlab.com/x"],
)
def test_a_url_with_a_user_or_password_is_refused_and_not_echoed(url: str) -> None:
    data = copy.deepcopy(BASE)
    data["rollout_issue_url"] = url
    document = load(data)
    [finding] = check_documents([document], DEFAULT_POLICY).findings
    assert (finding.rule, finding.line, finding.column) == (
        "FO102", *_line_column(document.value_position(("rollout_issue_url",))))
    assert "must not hold a user or password" in finding.message
    assert "leaks" in finding.message and "evil.example" in finding.message
    assert "hunter2" not in finding.message


@pytest.mark.parametrize(
    "url",
    ["https://gitlab.com/@alice", "https://x.example/a?b=c@d", "https://x.example#@y",
     "https://gitlab.com:443/gitlab-org/gitlab/-/issues/1", "https://gitlab.com"],
)
def test_an_at_sign_after_the_host_is_fine(url: str) -> None:
    data = copy.deepcopy(BASE)
    data["rollout_issue_url"] = url
    assert findings(data) == []


def test_an_http_url_with_a_user_is_first_of_all_not_https() -> None:
    data = copy.deepcopy(BASE)
    data["rollout_issue_url"] = "http://alice@gitlab.com/x"
    assert [f.rule for f in findings(data)] == ["FO160"]


# Huge number literals, through the command line -----------------------------------------------

HUGE = {"hex": "0x" + "f" * 10_000, "octal": "0o" + "7" * 10_000, "decimal": "9" * 10_000}
FIELDS = {
    "milestone": "milestone: {}",
    "name": "name: {}",
    "value": "percentage: {{of: actors, value: {}}}",
    "default_enabled": "default_enabled: {}",
    "actor": "actors: [User:1, {}]",
    "owner": "owners:\n  - {}",
    "description": "description: {}",
    "key": "{}: 1",
}


@pytest.mark.parametrize("literal", HUGE, ids=list(HUGE))
@pytest.mark.parametrize("field", FIELDS, ids=list(FIELDS))
def test_a_huge_number_literal_is_one_located_line_in_any_field(
    field: str, literal: str, tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    """Not exit 3: a 10,000-digit 0x literal used to convert, then fail to print."""
    head = "type: wip\ngroup: group::activation\nstage: off\n"
    # A YAML simple key is at most 1024 characters long.
    huge = HUGE[literal][:500] if field == "key" else HUGE[literal]
    line = FIELDS[field].format(huge)
    text = f"{head}{line}\n"
    (tmp_path / "flags").mkdir()
    (tmp_path / "flags" / "huge.yml").write_text(text, encoding="utf-8")
    code, out, err = run_cli("-C", str(tmp_path), "validate")
    assert code == 1 and "internal error" not in err and "Traceback" not in err
    row = text.count("\n", 0, text.index(huge)) + 1
    column = len(text[: text.index(huge)].rpartition("\n")[2]) + 1
    assert out == (f"flags/huge.yml:{row}:{column}: error FO004 number literal longer than 100 "
                   "characters\n")


def test_the_hostile_corpus_in_a_real_process_never_exits_3(
    tmp_path: Path, run_process: Callable[..., CliResult]
) -> None:
    (tmp_path / "flags").mkdir()
    hostile = {
        "invisible": with_value(("actors", 0), "\u200b"),
        "bidi": with_value(("description",), "\u202e"),
        "tagged": with_value(("group",), "\U000e0041"),
        "key": with_key(("stage",), "\ufeff"),
    }
    for stem, data in hostile.items():
        data["name"] = stem
        (tmp_path / "flags" / f"{stem}.yml").write_text(render(data), encoding="utf-8")
    (tmp_path / "flags" / "hex.yml").write_text(f"name: {HUGE['hex']}\n", encoding="utf-8")
    (tmp_path / "flags" / "pair.yml").write_text('name: "\\ud83d\\udcc5"\n', encoding="utf-8")
    code, out, err = run_process("-C", str(tmp_path), "validate", "--format", "json")
    assert code == 1, err
    rows = json.loads(out)
    assert sorted((r["path"], r["rule"]) for r in rows) == [
        ("flags/bidi.yml", "FO104"), ("flags/hex.yml", "FO004"), ("flags/invisible.yml", "FO104"),
        ("flags/key.yml", "FO104"), ("flags/pair.yml", "FO005"), ("flags/tagged.yml", "FO104"),
    ]

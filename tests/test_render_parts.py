"""A fresh render's workers validate the config's flags, each a part of its bytes
(catalog.parts, page_pool.draw_parts): the site is the one a render that validates the whole
config writes, every refusal is the same line with nothing written, and a config in another
layout, or whose parts could share a name, is read whole."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from catalog_repo import AS_OF, CatalogRepo, make
from test_render_incremental import same_tree
from test_survey_page import config_for

from survey_renderer.catalog import page_pool
from survey_renderer.catalog.parts import cut
from validator.build import MergedConfig, config_text
from validator.cli import main

FLAGS = 40


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> CatalogRepo:
    return make(tmp_path_factory.mktemp("render-parts"))


@pytest.fixture(scope="module")
def data(made: CatalogRepo) -> dict[str, Any]:
    """A built config with histories and hostile text, its flags copied to FLAGS flags, the
    survey page's flag among them; in build's layout (sorted names)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", str(AS_OF))
        assert main(["-C", str(made.repo.path), "build", "--history"], out=io.StringIO()) == 0
    built: dict[str, Any] = json.loads((made.repo.path / "build/flags.json").read_bytes())
    states = list(built["flags"].values())
    built["flags"] = {f"flag_{index:02d}": states[index % len(states)]
                      for index in range(FLAGS)}
    survey = json.loads(config_text(config_for("beta")))["flags"]
    built["flags"].update(survey)
    return built


def _layout(data: dict[str, Any]) -> bytes:
    """The bytes `flagops build` writes for this config."""
    return config_text(MergedConfig.model_validate(data)).encode("utf-8")


def _root(tmp_path: Path, raw: bytes) -> Path:
    (tmp_path / "build").mkdir()
    (tmp_path / "build/flags.json").write_bytes(raw)
    return tmp_path


DRAWN: list[bool] = []
"""Whether each `draw_parts` since the last test drew every part."""


@pytest.fixture(autouse=True)
def _drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    draw_parts = page_pool.draw_parts

    def spy(*args: Any, **kwargs: Any) -> page_pool.PartsDrawn | None:
        drawn = draw_parts(*args, **kwargs)
        DRAWN.append(drawn is not None)
        return drawn

    DRAWN.clear()
    monkeypatch.setattr(page_pool, "draw_parts", spy)


def _render(root: Path, output: str, pooled: bool,
            monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """Exit code, what render printed and its error line; with the pool's workers validating
    the parts, or the whole config validated in this process."""
    out, err = io.StringIO(), io.StringIO()
    with monkeypatch.context() as patch:
        patch.setenv("FLAGOPS_NO_CACHE", "1")
        patch.setattr(page_pool, "PARALLEL_FROM", 0 if pooled else 10**9)
        patch.setattr(page_pool, "cores", lambda: 2)
        patch.setattr("sys.stderr", err)
        code = main(["-C", str(root), "render", "-o", output], out=out)
    return code, out.getvalue().replace(output, "OUT"), err.getvalue().replace(output, "OUT")


def test_the_parts_hold_the_flags_between_them(data: dict[str, Any]) -> None:
    raw = _layout(data)
    parts = cut(raw, 8)
    assert parts is not None and len(parts.spans) == 8
    found: dict[str, Any] = {}
    for start, stop in parts.spans:
        found.update(json.loads(b"{" + raw[start:stop] + b"}"))
    assert list(found) == list(json.loads(raw)["flags"])
    assert json.loads(parts.rest) == {**json.loads(raw), "flags": {}}
    firsts = [name for name in parts.firsts if name is not None]
    assert parts.firsts[0] is None and firsts == sorted(set(firsts)) and len(firsts) == 7


def _retimed(raw: bytes, separator: bytes) -> bytes:
    """The config with its last landed change's time separated by `separator`, not `T`."""
    at = raw.rindex(b'"time": "') + len(b'"time": "YYYY-MM-DD')
    assert raw[at:at + 1] == b"T"
    return raw[:at] + separator.replace(b'"', b'\\"') + raw[at + 1:]


@pytest.mark.parametrize("change", [
    lambda raw: json.dumps(json.loads(raw)).encode(),  # one line
    lambda raw: raw.replace(b'\n  "flags": {', b'\n  "flags":  {', 1),
    lambda raw: raw.rstrip() + b" x\n",
    lambda raw: raw.replace(b'\n    "flag_20"', b'\n    "flag_\\u0032\\u0030"', 1),
])
def test_another_layout_is_not_cut(data: dict[str, Any], change: Any) -> None:
    assert cut(change(_layout(data)), 8) is None


@pytest.mark.parametrize(("change", "drawn"), [
    (lambda raw: raw, [True]),
    (lambda raw: raw.replace(b'\n    "flag_31"', b'\n    "flag_05"', 1), [False]),  # twice
    (lambda raw: raw.replace(b'\n    "flag_31"', b'\n    "flag_00"', 1), [False]),
    (lambda raw: raw.replace(b'\n    "flag_30"', b'\n    "flag_05"', 1), []),  # at a cut
    (lambda raw: raw.replace(b'\n    "flag_30"', b'\n    "flag_300"', 1), [True]),
    (lambda raw: raw.replace(b'\n    "flag_12"', b'\n  "flag_12"', 1), [True]),
    (lambda raw: raw.replace(b'\n    "flag_12": {', b'\n    "flag_12": {"gates": {},', 1),
     [True]),  # a key twice: the last is kept, either way
    (lambda raw: raw.replace(b'"group": "', b'"group": "\\u0000rows\\u0000', 1),
     [True]),  # the mark of the index's rows (pages.index_around) in a filter's value
    (lambda raw: raw.replace(b'"$schema"', b'"flags": {}, "$schema"', 1), []),  # twice at top
    (lambda raw: raw.replace(b'\n  }\n}', b'\n  },\n  "flags": {}\n}', 1), []),
])
def test_the_outcome_is_the_whole_configs(
        data: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        change: Any, drawn: list[bool]) -> None:
    """The same site (or refusal) as from the whole config; `drawn`: whether the workers
    drew the parts (True), found their names out of order (False), or the config was not
    cut ([])."""
    root = _root(tmp_path, change(_layout(data)))
    whole = _render(root, "whole", False, monkeypatch)
    assert _render(root, "parts", True, monkeypatch) == whole
    assert drawn == DRAWN
    if whole[0] == 0:
        assert "flag catalog of" in whole[1] and same_tree(root / "whole", root / "parts")
    else:
        assert sorted(path.name for path in root.iterdir()) == ["build"]


@pytest.mark.parametrize("change", [
    lambda raw: raw.replace(b'"stage": "', b'"stage": "nowhere', 1),  # the first part
    lambda raw: raw[::-1].replace(b'"egats"', b'"xegats"', 1)[::-1],  # the last
    lambda raw: raw.replace(b'\n    "flag_30"', b'\n    "Flag_30"', 1),  # a name
    lambda raw: raw.replace(b'\n    "flag_30": {', b'\n    "flag_30": {"extra": 1, ', 1),
    lambda raw: raw.replace(b'\n    "flag_30"', b'\n    "flag_05"', 1).replace(
        b'"stage": "', b'"stage": "nowhere', 1),  # refused where a later value takes its place
    lambda raw: raw.replace(b'"environment": "production"', b'"environment": "nowhere"'),
    lambda raw: raw.replace(b"flag_30", b"flag_3\xff", 1),
    lambda raw: raw.replace(b'\n    "flag_30": {', b'\n    "flag_30": [', 1),
    # Times that datetime.fromisoformat reads (any one separator) but build never writes:
    # a quote went into the chart's attributes as it stood.
    lambda raw: _retimed(raw, b'"'),
    lambda raw: _retimed(raw, b"<"),
    # A summary without the staging environment's exposure: the index shows both.
    lambda raw: re.sub(rb',\n +"staging": \{[^}]*\}', b"", raw, count=1),
    # Blanks and a comma before the first flag: the first part holds blanks alone, and `{}`
    # is JSON where the whole's `{ ,` is not.
    lambda raw: raw.replace(b'"flags": {', b'"flags": {' + b" " * len(raw) + b",", 1),
])
def test_a_refusal_is_the_whole_configs_and_nothing_is_written(
        data: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        change: Any) -> None:
    root = _root(tmp_path, change(_layout(data)))
    whole = _render(root, "whole", False, monkeypatch)
    assert whole[0] == 1 and whole[2].startswith("flagops: error: ")
    assert _render(root, "parts", True, monkeypatch) == whole
    assert sorted(path.name for path in root.iterdir()) == ["build"]


def test_the_configs_refusal_comes_before_the_outputs(
        data: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An output folder render may not replace is refused after the config, as when the
    config was validated first."""
    raw = _layout(data)
    root = _root(tmp_path, raw.replace(b'"stage": "', b'"stage": "nowhere', 1))
    (root / "taken").mkdir()
    (root / "taken/notes.txt").write_text("mine\n", encoding="utf-8")
    whole = _render(root, "taken", False, monkeypatch)
    assert whole[0] == 1 and "not a valid merged config" in whole[2]
    assert _render(root, "taken", True, monkeypatch) == whole
    (root / "build/flags.json").write_bytes(raw)
    refused = _render(root, "taken", True, monkeypatch)
    assert refused[0] == 1 and "render did not write" in refused[2]
    assert refused == _render(root, "taken", False, monkeypatch)

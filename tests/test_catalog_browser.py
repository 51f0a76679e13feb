"""The flag catalog in a real headless Chromium, built by `flagops build` and `flagops render`
from a real git repository with a dated history: filter and sort, the chart's steps, links,
and hostile text from every field. One browser and one server for the module."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from catalog_repo import (
    AS_OF,
    DEMO_STEPS,
    DEMO_TIMES,
    HOSTILE_AUTHOR,
    HOSTILE_GROUP,
    HOSTILE_NAME,
    HOSTILE_TEXT,
    HOSTILE_URL,
    RELEASED_MR,
    iso,
    make,
)
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from survey_renderer.browser import console_messages, open_page, serve
from validator.cli import main

pytestmark = pytest.mark.browser
NAMES = ["demo", "old_wip", "released", HOSTILE_NAME]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    made = make(tmp_path_factory.mktemp("catalog"))
    root = made.repo.path
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", str(AS_OF))
        assert main(["-C", str(root), "build", "--history"], out=io.StringIO()) == 0
    assert main(["-C", str(root), "render", "-o", "public"], out=io.StringIO()) == 0
    return root / "public"


@pytest.fixture(scope="module")
def base(site: Path) -> Iterator[str]:
    with serve(site.parent) as url:
        yield f"{url}/public"  # a sub-path, as GitLab Pages serves a project


@pytest.fixture(scope="module")
def driver(chromium_browser: Chrome) -> Iterator[Chrome]:
    """The session's browser at a desktop size (the index's columns are laid out for one),
    given back at the size it had."""
    size = chromium_browser.get_window_size()
    chromium_browser.set_window_size(1400, 900)
    yield chromium_browser
    chromium_browser.set_window_size(size["width"], size["height"])


VISIBLE_JS = """
return Array.from(document.querySelectorAll('#catalog tbody tr'))
  .filter((row) => !row.hidden).map((row) => row.dataset.name);"""


def visible(driver: Chrome) -> list[str]:
    found: list[str] = driver.execute_script(VISIBLE_JS)
    return found


def open_index(driver: Chrome, base: str) -> None:
    open_page(driver, f"{base}/flags/index.html")
    console_messages(driver)


def test_filter_by_text_group_type_stage_and_action(driver: Chrome, base: str) -> None:
    open_index(driver, base)
    assert visible(driver) == NAMES
    search = driver.find_element(By.ID, "filter-text")
    search.send_keys("O'Hara")  # an owner is @o.hara-x_1: no row; an author is not in the table
    _settle(driver)
    assert visible(driver) == []
    search.clear()
    search.send_keys("o.hara")
    _settle(driver)
    assert visible(driver) == [HOSTILE_NAME]
    assert driver.find_element(By.ID, "shown").text == "1 shown"
    search.clear()
    _settle(driver)
    Select(driver.find_element(By.ID, "filter-type")).select_by_value("ops")
    assert visible(driver) == ["released", HOSTILE_NAME]
    Select(driver.find_element(By.ID, "filter-group")).select_by_value(HOSTILE_GROUP)
    assert visible(driver) == [HOSTILE_NAME]
    Select(driver.find_element(By.ID, "filter-group")).select_by_value("")
    Select(driver.find_element(By.ID, "filter-type")).select_by_value("")
    Select(driver.find_element(By.ID, "filter-stage")).select_by_value("beta")
    assert visible(driver) == ["demo", HOSTILE_NAME]
    Select(driver.find_element(By.ID, "filter-stage")).select_by_value("")
    labels = driver.execute_script(
        "return Array.from(document.querySelectorAll('#filters input, #filters select'))"
        ".map((e) => e.labels.length);")
    assert labels and all(count == 1 for count in labels)


def test_needs_action(driver: Chrome, base: str) -> None:
    open_index(driver, base)
    actions = driver.execute_script(
        "return Array.from(document.querySelectorAll('#catalog tbody tr'))"
        ".filter((r) => r.dataset.action === '1').map((r) => r.dataset.name);")
    driver.find_element(By.ID, "filter-action").click()
    assert visible(driver) == actions and "old_wip" in actions  # overdue needs action
    assert 0 < len(actions) <= len(NAMES)


def _settle(driver: Chrome) -> None:
    """The text filter waits for typing to pause (120 ms)."""
    driver.execute_async_script("setTimeout(arguments[0], 200);")


def _sort(driver: Chrome, label: str) -> list[str]:
    driver.find_element(By.XPATH, f"//thead//button[normalize-space()='{label}']").click()
    return visible(driver)


def test_sort_by_any_column(driver: Chrome, base: str) -> None:
    open_index(driver, base)
    assert _sort(driver, "Flag") == NAMES
    assert _sort(driver, "Flag") == NAMES[::-1]
    header = driver.find_element(By.XPATH, "//thead//button[normalize-space()='Flag']/..")
    assert header.get_attribute("aria-sort") == "descending"
    # production: off < listed actors < percentage < on
    assert _sort(driver, "Production") == ["old_wip", "demo", HOSTILE_NAME, "released"]
    assert _sort(driver, "Lifespan") == ["demo", "released", HOSTILE_NAME, "old_wip"]
    # shortest time in its state first: the hostile flag is the newest, old_wip the oldest
    order = _sort(driver, "In state")
    assert order[0] == HOSTILE_NAME and order[-1] == "old_wip"


def test_the_chart_of_a_flag(driver: Chrome, base: str) -> None:
    open_page(driver, f"{base}/flags/demo.html")
    steps: list[dict[str, Any]] = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg.chart g.step')).map((g) => ({"
        "time: g.dataset.time, step: g.dataset.step, cls: g.getAttribute('class'),"
        "title: g.querySelector('title').textContent}));")
    assert [s["time"] for s in steps] == [iso(t) for t in DEMO_TIMES]
    assert [s["step"] for s in steps] == list(DEMO_STEPS)
    rollbacks = [s for s in steps if "step-rollback" in s["cls"].split()]
    assert len(rollbacks) == 1 and rollbacks[0]["title"].startswith("rollback")
    assert rollbacks[0]["time"] == iso(DEMO_TIMES[-1])
    drawn = driver.execute_script(
        "const c = document.querySelector('svg.chart'); const b = c.getBoundingClientRect();"
        "return [b.width, b.height, c.querySelectorAll('g.soak').length,"
        " document.querySelectorAll('#changes tbody tr').length,"
        " document.querySelectorAll('#changes tr.change-rollback').length];")
    assert drawn[0] > 300 and drawn[1] > 100
    assert drawn[2:] == [5, 5, 1]


def test_links_go_where_they_should(driver: Chrome, base: str) -> None:
    open_page(driver, f"{base}/index.html")  # the site root (the survey page) links to the catalog
    driver.find_element(By.ID, "catalog-link").click()
    assert driver.current_url == f"{base}/flags/index.html"
    driver.find_element(By.LINK_TEXT, "demo").click()
    assert driver.current_url == f"{base}/flags/demo.html"
    assert driver.find_element(By.ID, "flag-name").text == "demo"
    rollout = driver.find_element(By.CSS_SELECTOR, "#links a[data-link='rollout']")
    assert rollout.get_attribute("href") == \
        "https://gitlab.com/gitlab-org/gitlab/-/issues/330340"
    driver.find_element(By.ID, "back").click()
    assert driver.current_url == f"{base}/flags/index.html"
    row = driver.find_element(By.CSS_SELECTOR, "tr[data-name='released']")
    hrefs = {a.get_attribute("data-link"): a.get_attribute("href")
             for a in row.find_elements(By.CSS_SELECTOR, "a.out")}
    assert hrefs == {"rollout": "https://gitlab.com/gitlab-org/gitlab/-/issues/330340",
                     "cleanup": "https://gitlab.com/gitlab-org/gitlab/-/issues/1",
                     "merge request": RELEASED_MR}
    demo = driver.find_element(By.CSS_SELECTOR, "tr[data-name='demo']")
    assert "group/flags!7" not in demo.text  # added directly; the MR was a later step
    driver.find_element(By.ID, "site-root").click()
    assert driver.current_url == f"{base}/index.html"


PWNED_JS = """
return {pwned: typeof window.__pwned, scripts: document.scripts.length,
        injected: document.querySelectorAll('img, iframe, object, body svg:not(.chart)').length,
        title: document.title};"""


def test_hostile_strings_show_as_text(driver: Chrome, base: str) -> None:
    open_page(driver, f"{base}/flags/{HOSTILE_NAME}.html")
    state = driver.execute_script(PWNED_JS)
    assert state == {"pwned": "undefined", "scripts": 0, "injected": 0,
                     "title": f"{HOSTILE_NAME} · Flag catalog"}
    texts = driver.execute_script(
        "const t = (s) => document.querySelector(s).textContent;"
        "return [t('#description'), t('#group'), t('#expectations dd'),"
        " document.querySelector('#links a').getAttribute('href'),"
        " t('#changes tbody td:nth-child(4)'),"
        " document.getElementById('exposure-production').title];")
    assert texts[:4] == [HOSTILE_TEXT, HOSTILE_GROUP, HOSTILE_TEXT, HOSTILE_URL]
    assert texts[4] == HOSTILE_AUTHOR.replace("<", "").replace(">", "")
    assert texts[5] == "User:<script>window.__pwned=1</script>"
    open_index(driver, base)
    state = driver.execute_script(PWNED_JS)
    assert (state["pwned"], state["scripts"], state["injected"]) == ("undefined", 1, 0)
    cell = driver.find_element(By.CSS_SELECTOR, f"tr[data-name='{HOSTILE_NAME}'] td:nth-child(3)")
    assert cell.text == HOSTILE_GROUP
    assert [m for m in console_messages(driver) if "favicon" not in m["message"]] == []


def test_without_javascript_the_whole_table_shows(driver: Chrome, base: str) -> None:
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        open_page(driver, f"{base}/flags/index.html")
        rows = driver.find_elements(By.CSS_SELECTOR, "#catalog tbody tr")
        assert [r.get_attribute("data-name") for r in rows if r.is_displayed()] == NAMES
        assert not driver.find_element(By.ID, "filters").is_displayed()
    finally:
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_from_file_urls(driver: Chrome, site: Path) -> None:
    open_page(driver, (site / "flags/index.html").as_uri())
    assert driver.find_element(By.ID, "filters").is_displayed()  # catalog.js ran under the CSP
    assert _sort(driver, "Flag")[0] == "demo"
    driver.find_element(By.LINK_TEXT, "demo").click()
    assert driver.current_url == (site / "flags/demo.html").as_uri()
    assert len(driver.find_elements(By.CSS_SELECTOR, "svg.chart g.step")) == len(DEMO_STEPS)
    color = driver.execute_script(
        "return getComputedStyle(document.querySelector('svg.chart .exposure')).stroke;")
    assert color == "rgb(31, 117, 203)", "the stylesheet did not load from file://"

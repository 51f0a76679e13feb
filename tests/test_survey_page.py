"""The survey page: rendering in Python, then behaviour in a real headless Chromium.

The browser tests share one Chromium and one 127.0.0.1 server for the session; each site under
test is built from flags through `build_config`, so the chain flags → config → page is exercised.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from selenium.webdriver import Chrome

from survey_renderer.browser import console_messages, open_page, serve
from survey_renderer.cli import write_site
from survey_renderer.gate import evaluate
from survey_renderer.screenshot import SHOTS, demo_site, photograph
from survey_renderer.site import DEFAULT_INVITE_URL, FLAG_NAME, check_invite_url, render_site
from validator.build import MergedConfig, build_config, config_text
from validator.cli import main
from validator.engines.murmur import flagd_bucket
from validator.errors import UserError
from validator.gates import BUCKETS
from validator.model import Environment, Flag

HOSTS = ("calendly.com",)
HOSTILE = "</script><script>document.title='pwned'</script>"
BETA_ACTORS = [*(f"User:{n}" for n in range(1, 241, 7)), "User:jürgen", f"User:{HOSTILE}",
               "Project:gitlab-org/gitlab", "Group:gitlab-org"]
USER_IDS = [*(str(n) for n in range(1, 231)), "jürgen", "名前", "🙂", "a b", "0", "-1",
            "1&show_invite_link=false", "x" * 200, HOSTILE]
STAGES = ("off", "staging", "beta", "percentage", "enabled")
STATE_JS = """
const seen = (id) => { const e = document.getElementById(id); return !!e && e.checkVisibility(); };
const text = (id) => { const e = document.getElementById(id); return e ? e.textContent : null; };
return {link: seen("invite-link"), incentive: seen("incentive"), recorded: seen("recorded"),
        greeting: seen("greeting") ? text("greeting") : null,
        answer: seen("answer") ? text("answer") : null,
        title: document.title, scripts: document.scripts.length,
        injected: document.querySelectorAll("img, svg, iframe, object").length,
        pwned: window.pwned === true};
"""


def make_flag(stage: str, percentage: float = 30.5) -> Flag:
    data: dict[str, Any] = {
        "name": FLAG_NAME, "type": "beta", "group": "group::activation", "milestone": "13.12",
        "rollout_issue_url": "https://gitlab.com/gitlab-org/gitlab/-/issues/330340",
        "expectations": {"expected": "bookings", "risks": "a broken link", "monitoring": "4xx"},
        "stage": stage, "default_enabled": False,
    }
    if stage in ("beta", "percentage"):
        data["actors"] = BETA_ACTORS
    if stage == "percentage":
        data["percentage"] = {"of": "actors", "value": percentage}
    return Flag.model_validate(data)


def config_for(stage: str, environment: str = "production") -> MergedConfig:
    return build_config([make_flag(stage)], Environment(environment), schema_ref="s.json")[0]


def site_for(stage: str, environment: str = "production") -> dict[str, str]:
    return render_site(config_for(stage, environment), invite_url=DEFAULT_INVITE_URL,
                       allowed_hosts=HOSTS)


def inline_script(html: str) -> str:
    match = re.search(r"<script>(.*?)</script>\n</body>", html, re.DOTALL)
    assert match, "the page has no inline script at the end of <body>"
    return match.group(1)


PAGE = "-/survey_responses/index.html"


@pytest.mark.parametrize("url", [
    DEFAULT_INVITE_URL, "https://calendly.com/x?a=1&b=<2>", "https://CALENDLY.com:443/x",
])
def test_invite_url_accepted(url: str) -> None:
    assert check_invite_url(url, HOSTS) == url


@pytest.mark.parametrize("url", [
    "http://calendly.com/x", "javascript:alert(1)", "https://evil.example/x",
    "https://calendly.com.evil.example/x", "https://evil.example@calendly.com/x",
    "https://calendly.com:8443/x", "https://calendly.com/a b", "//calendly.com/x",
    "https://[::1/x", "https:///x",
])
def test_invite_url_refused(url: str) -> None:
    with pytest.raises(UserError):
        check_invite_url(url, HOSTS)


def test_invite_url_hosts_come_from_the_caller() -> None:
    assert check_invite_url("https://example.org/x", ("example.org",))
    with pytest.raises(UserError, match="invite_link_hosts"):
        check_invite_url(DEFAULT_INVITE_URL, ("example.org",))


def test_site_files_and_the_csp_hash() -> None:
    files = site_for("beta")
    assert set(files) == {"index.html", PAGE, "style.css"}
    for page in ("index.html", PAGE):
        script = inline_script(files[page])
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', files[page])
        assert csp and f"&#39;sha256-{digest}&#39;" in csp.group(1)
        assert "unsafe" not in csp.group(1) and "default-src &#39;none&#39;" in csp.group(1)
    assert 'href="../../style.css"' in files[PAGE] and 'href="style.css"' in files["index.html"]


@pytest.mark.parametrize(("stage", "environment", "in_markup", "hidden", "gate"), [
    ("off", "production", False, None, False),
    ("staging", "production", False, None, False),
    ("beta", "production", True, True, True),
    ("percentage", "production", True, True, True),
    ("enabled", "production", True, False, False),
    ("beta", "staging", True, False, False),
])
def test_decision_at_build_time_when_the_flag_is_fully_on_or_off(
    stage: str, environment: str, in_markup: bool, hidden: bool | None, gate: bool
) -> None:
    html = site_for(stage, environment)[PAGE]
    assert ("Let's talk!" in html) is in_markup
    assert (DEFAULT_INVITE_URL in html) is in_markup
    if hidden is not None:
        assert ('<section id="invite" hidden>' in html) is hidden
    assert ("flagopsGate" in inline_script(html)) is gate


def test_snapshot_carries_only_user_actors_and_cannot_close_the_script() -> None:
    script = inline_script(site_for("beta")[PAGE])
    assert "User:8" in script and "Project:gitlab-org/gitlab" not in script
    assert "</" not in script and "<!--" not in script
    assert "\\u003c/script\\u003e" in script


def test_render_refuses_a_config_without_the_flag() -> None:
    config = MergedConfig(schema_ref="s", environment=Environment.PRODUCTION, flags={})
    with pytest.raises(UserError, match=FLAG_NAME):
        render_site(config, invite_url=DEFAULT_INVITE_URL, allowed_hosts=HOSTS)


@pytest.fixture
def built(tmp_path: Path) -> Path:
    (tmp_path / "build").mkdir()
    (tmp_path / "build/flags.json").write_text(config_text(config_for("beta")))
    return tmp_path


def test_render_command_uses_the_policy_hosts(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (built / "pyproject.toml").write_text('[tool.flagops]\ninvite_link_hosts = ["example.org"]\n')
    assert main(["-C", str(built), "render"], out=io.StringIO()) == 1
    assert "not in the policy's invite_link_hosts" in capsys.readouterr().err
    url = "https://example.org/book"
    out = io.StringIO()
    assert main(["-C", str(built), "render", "--invite-url", url, "-o", "site"], out=out) == 0
    assert url in (built / "site" / PAGE).read_text()
    assert "wrote 3 files to site" in out.getvalue()


def test_python_dash_m_survey_renderer(built: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "survey_renderer", "-o", "out"], cwd=built,
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (built / "out/index.html").read_text() == site_for("beta")["index.html"]


# The browser.

SITES = {f"{stage}-{env}": (stage, env) for stage in STAGES for env in ("production", "staging")}


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("sites")
    for name, (stage, environment) in SITES.items():
        write_site(site_for(stage, environment), root / name)
    write_site(demo_site(), root / "demo")
    write_site(render_site(config_for("percentage"), invite_url=DEFAULT_INVITE_URL,
                           allowed_hosts=HOSTS, bucketing="flagd"), root / "percentage-flagd")
    with serve(root) as url:
        yield url


@pytest.fixture
def driver(chromium_browser: Chrome) -> Chrome:
    return chromium_browser


def page_state(driver: Chrome, base_url: str, site: str, **query: str) -> dict[str, Any]:
    """The page's state once it has loaded (`open_page`)."""
    open_page(driver, f"{base_url}/{site}/-/survey_responses/?{urlencode(query)}")
    state: dict[str, Any] = driver.execute_script(STATE_JS)
    return state


@pytest.mark.browser
@pytest.mark.parametrize("stage", ["beta", "percentage"])
def test_link_shows_exactly_when_the_python_evaluator_says(
    driver: Chrome, base_url: str, stage: str
) -> None:
    gates = config_for(stage).flags[FLAG_NAME].gates
    expected = {uid: evaluate(FLAG_NAME, gates, f"User:{uid}").enabled for uid in USER_IDS}
    assert len(USER_IDS) >= 200 and set(expected.values()) == {True, False}
    seen = {uid: page_state(driver, base_url, f"{stage}-production", user_id=uid,
                            show_invite_link="true")["link"] for uid in USER_IDS}
    assert {uid for uid in USER_IDS if seen[uid] != expected[uid]} == set()


@pytest.mark.browser
def test_with_flagd_bucketing_the_page_lets_in_whom_flagd_lets_in(
        driver: Chrome, base_url: str) -> None:
    """A team that runs flagd (policy `bucketing = "flagd"`): the page's percentage is flagd's
    fractional rule, actor for actor, and not Flipper's."""
    gates = config_for("percentage").flags[FLAG_NAME].gates
    flagd = {uid: evaluate(FLAG_NAME, gates, f"User:{uid}", bucketing="flagd").enabled
             for uid in USER_IDS}
    flipper = {uid: evaluate(FLAG_NAME, gates, f"User:{uid}").enabled for uid in USER_IDS}
    assert flagd != flipper and set(flagd.values()) == {True, False}
    seen = {uid: page_state(driver, base_url, "percentage-flagd", user_id=uid,
                            show_invite_link="true")["link"] for uid in USER_IDS}
    assert {uid for uid in USER_IDS if seen[uid] != flagd[uid]} == set()


@pytest.mark.browser
def test_the_browser_flagd_bucket_is_the_engines(driver: Chrome) -> None:
    """murmur3 over canonical CBOR in the browser against the Python twin (itself held to
    mmh3 and cbor2 by tests/test_flagd_engine.py): every tail length, one-, two- and
    three-byte CBOR heads, and text that is not ASCII."""
    gate_js = (Path(__file__).parents[1] / "survey_renderer/static/gate.js").read_text()
    keys = [f"User:{n}" for n in range(500)] + ["", "ü", "名前🙂", "\u2028", "a" * 23,
                                                   "a" * 24, "b" * 255, "c" * 256, "d" * 70000]
    got = driver.execute_script(
        f"{gate_js}\nvar name = arguments[1];\nreturn arguments[0].map(function (key) {{ "
        f"return flagopsGate.flagdBucket(name, key); }});", keys, FLAG_NAME)
    assert got == [flagd_bucket(FLAG_NAME, key, BUCKETS) for key in keys]


@pytest.mark.browser
def test_the_browser_crc32_is_zlibs(driver: Chrome) -> None:
    gate_js = (Path(__file__).parents[1] / "survey_renderer/static/gate.js").read_text()
    texts = [f"{FLAG_NAME}User:{n}" for n in range(2000)] + ["", "ü", "名前🙂", "\u2028", "a\x00b"]
    got = driver.execute_script(f"{gate_js}\nreturn arguments[0].map(flagopsGate.crc32);", texts)
    assert got == [zlib.crc32(text.encode()) for text in texts]


@pytest.mark.browser
@pytest.mark.parametrize("site", ["beta-production", "percentage-production",
                                  "enabled-production", "beta-staging"])
@pytest.mark.parametrize("show", [None, "false", "1", "TRUE"])
def test_no_link_unless_the_email_asks_for_it(
    driver: Chrome, base_url: str, site: str, show: str | None
) -> None:
    query = {"user_id": "8", "show_incentive": "true"}
    if show is not None:
        query["show_invite_link"] = show
    state = page_state(driver, base_url, site, **query)
    assert (state["link"], state["incentive"], state["recorded"]) == (False, False, True)
    asked = page_state(driver, base_url, site, user_id="8", show_invite_link="true")
    assert (asked["link"], asked["recorded"]) == (True, False)


@pytest.mark.browser
@pytest.mark.parametrize(("user_id", "show_link", "show_incentive", "link", "incentive"), [
    ("8", "true", "true", True, True),
    ("8", "true", None, True, False),
    ("8", None, "true", False, False),
    ("9", "true", "true", False, False),
    (None, "true", "true", False, False),
])
def test_incentive_only_with_the_link(
    driver: Chrome, base_url: str, user_id: str | None, show_link: str | None,
    show_incentive: str | None, link: bool, incentive: bool
) -> None:
    pairs = {"user_id": user_id, "show_invite_link": show_link, "show_incentive": show_incentive}
    state = page_state(driver, base_url, "beta-production",
                       **{key: value for key, value in pairs.items() if value is not None})
    assert (state["link"], state["incentive"], state["recorded"]) == (link, incentive, not link)


@pytest.mark.browser
def test_the_link_and_the_texts(driver: Chrome, base_url: str) -> None:
    console_messages(driver)
    open_page(driver, f"{base_url}/beta-production/?user_id=8&show_invite_link=true"
                      "&show_incentive=true")
    texts = driver.execute_script(
        "const a = document.getElementById('invite-link');"
        "return [document.title, document.querySelector('h1').textContent, a.href, a.target,"
        " a.rel, a.textContent, document.getElementById('invite').innerText,"
        " getComputedStyle(a).backgroundColor];")
    assert texts[:6] == ["Survey Response", "Thank you for your feedback!", DEFAULT_INVITE_URL,
                         "_blank", "noopener noreferrer", "Let's talk!"]
    for line in ("Have more to say about GitLab?", "Have a quick chat with us about your "
                 "experience.", "Receive a $50 gift card as a thank you for your time."):
        assert line in texts[6]
    assert texts[7] == "rgb(31, 117, 203)", "the stylesheet did not load"
    assert [entry for entry in console_messages(driver)
            if "favicon.ico" not in entry["message"]] == []


@pytest.mark.browser
@pytest.mark.parametrize("payload", [
    "<img src=x onerror=\"window.pwned=true\">", "<script>window.pwned=true</script>",
    "\"><svg onload=\"window.pwned=true\">", HOSTILE,
])
def test_query_values_are_text_and_never_run(
    driver: Chrome, base_url: str, payload: str
) -> None:
    for site in ("beta-production", "enabled-production", "off-production"):
        state = page_state(driver, base_url, site, name=payload, response=payload,
                           user_id="8", show_invite_link="true")
        assert state["greeting"] == f"Thanks, {payload}."
        assert state["answer"] == f"Your answer: {payload}"
        assert (state["title"], state["scripts"], state["injected"], state["pwned"]) == (
            "Survey Response", 1, 0, False)


@pytest.mark.browser
def test_a_hostile_actor_in_the_snapshot_stays_data(driver: Chrome, base_url: str) -> None:
    state = page_state(driver, base_url, "beta-production", user_id=HOSTILE,
                       show_invite_link="true")
    assert (state["link"], state["title"], state["scripts"]) == (True, "Survey Response", 1)


def _fully_on(stage: str, environment: str) -> bool:
    return stage == "enabled" or (environment == "staging" and stage != "off")


@pytest.mark.browser
def test_without_javascript_the_link_shows_only_when_fully_on(
    driver: Chrome, base_url: str
) -> None:
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        states = {site: page_state(driver, base_url, site, user_id="8", name="Ada",
                                   show_invite_link="true") for site in SITES}
    finally:
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    for site, (stage, environment) in SITES.items():
        assert states[site]["greeting"] is None, "JavaScript ran"
        assert states[site]["link"] is _fully_on(stage, environment), site
        assert states[site]["recorded"] is not _fully_on(stage, environment), site
        assert states[site]["incentive"] is False


@pytest.mark.browser
@pytest.mark.parametrize("site", SITES)
def test_stage_table(driver: Chrome, base_url: str, site: str) -> None:
    """The README's table: User:8 is listed, User:3 is in the 30.5 % bucket, User:2 in neither."""
    stage, environment = SITES[site]
    gates = config_for(stage, environment).flags[FLAG_NAME].gates
    assert not evaluate(FLAG_NAME, gates, "User:2").enabled or _fully_on(stage, environment)
    for uid in ("8", "3", "2"):
        want = evaluate(FLAG_NAME, gates, f"User:{uid}").enabled
        assert page_state(driver, base_url, site, user_id=uid, show_invite_link="true")[
            "link"] is want


@pytest.mark.browser
def test_root_page_behaves_like_the_survey_page(driver: Chrome, base_url: str) -> None:
    open_page(driver, f"{base_url}/beta-production/?user_id=8&show_invite_link=true")
    assert driver.execute_script(STATE_JS)["link"] is True
    open_page(driver, f"{base_url}/beta-production/?user_id=9&show_invite_link=true")
    assert driver.execute_script(STATE_JS)["link"] is False


@pytest.mark.browser
def test_screenshots(driver: Chrome, base_url: str, tmp_path: Path) -> None:
    written = photograph(driver, f"{base_url}/demo", tmp_path)
    assert [path.name for path in written] == list(SHOTS)
    images = [path.read_bytes() for path in written]
    assert all(image.startswith(b"\x89PNG\r\n\x1a\n") for image in images)
    assert images[0] != images[1]

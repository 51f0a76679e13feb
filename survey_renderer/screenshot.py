"""`python -m survey_renderer.screenshot OUTDIR`: the survey page with and without the invite link.

Renders a demo config (calendly_invite_link at stage beta in production, User:1 listed) so that
both states exist, serves it on 127.0.0.1 and photographs it in headless Chromium. Each shot is
checked before it is saved: a screenshot of the wrong state would document a bug as a feature.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlencode

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from survey_renderer.browser import chromium, serve
from survey_renderer.cli import write_site
from survey_renderer.site import DEFAULT_INVITE_URL, FLAG_NAME, render_site
from validator.build import FlagState, Gates, MergedConfig
from validator.errors import UserError
from validator.model import Environment, Stage
from validator.policy import DEFAULT_POLICY

WINDOW = (960, 720)
SHOTS = {
    "survey-with-link.png": (
        {"user_id": "1", "name": "Ada", "response": "5", "show_invite_link": "true",
         "show_incentive": "true"}, True),
    "survey-without-link.png": (
        {"user_id": "2", "name": "Grace", "response": "4", "show_invite_link": "true",
         "show_incentive": "true"}, False),
}


def demo_config() -> MergedConfig:
    gates = Gates(boolean=False, actors=("User:1",), percentage_of_actors=None,
                  percentage_of_time=None)
    state = FlagState(stage=Stage.BETA, default_enabled=False, gates=gates)
    return MergedConfig(schema_ref="", environment=Environment.PRODUCTION,
                        flags={FLAG_NAME: state})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m survey_renderer.screenshot",
                                     description="The survey page with and without the link.")
    parser.add_argument("outdir", type=Path, help="where the PNG files go")
    outdir: Path = parser.parse_args(argv).outdir
    try:
        written = shoot(outdir)
    except UserError as error:  # no browser, or a page in the wrong state: one line
        print(f"screenshot: error: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


def shoot(outdir: Path) -> list[Path]:
    """Serves the demo site and photographs it; UserError when Chromium is missing."""
    with tempfile.TemporaryDirectory(prefix="flagops-site-") as site:
        write_site(demo_site(), Path(site))
        with serve(Path(site)) as base, chromium() as driver:
            return photograph(driver, base, outdir)


def demo_site() -> dict[str, str]:
    return render_site(demo_config(), invite_url=DEFAULT_INVITE_URL,
                       allowed_hosts=DEFAULT_POLICY.invite_link_hosts)


def photograph(driver: WebDriver, base: str, outdir: Path) -> list[Path]:
    """One PNG per shot, each checked to show the state it is named after."""
    outdir.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(*WINDOW)
    written = []
    for name, (query, link_expected) in SHOTS.items():
        driver.get(f"{base}/-/survey_responses/?{urlencode(query)}")
        links = driver.find_elements(By.ID, "invite-link")
        if any(link.is_displayed() for link in links) != link_expected:
            raise UserError(f"{name}: the page does not show the state the shot is named after")
        (outdir / name).write_bytes(driver.get_screenshot_as_png())
        written.append(outdir / name)
    return written


if __name__ == "__main__":
    sys.exit(main())

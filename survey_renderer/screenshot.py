"""`python -m survey_renderer.screenshot OUTDIR`: the survey page with and without the invite
link, and the flag catalog of this repository with one flag's page.

The survey shots render a demo config (calendly_invite_link at stage beta in production, User:1
listed) so that both states exist; the catalog shots build this repository's own merged config
(`flagops build`, history included) and render its catalog. Each site is served on 127.0.0.1
and photographed in headless Chromium. Each shot is checked before it is saved: a screenshot of
the wrong state would document a bug as a feature.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlencode

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from survey_renderer.browser import chromium, open_page, serve
from survey_renderer.catalog.pages import render_catalog
from survey_renderer.cli import write_site
from survey_renderer.site import DEFAULT_INVITE_URL, FLAG_NAME, render_site
from validator.build import FlagState, MergedConfig
from validator.config_file import read_config
from validator.errors import UserError
from validator.gates import Gates
from validator.model import Environment, Stage
from validator.policy import DEFAULT_POLICY

WINDOW = (960, 720)
CATALOG_WINDOW = (1280, 900)
CATALOG_FLAG = FLAG_NAME
CATALOG_SHOTS = ("catalog.png", "flag-page.png")
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
                                     description="The survey page with and without the link; "
                                                 "the catalog and one flag's page.")
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


def shoot(outdir: Path, repository: Path = Path()) -> list[Path]:
    """Serves the demo site and the repository's catalog and photographs them; UserError when
    Chromium is missing."""
    with tempfile.TemporaryDirectory(prefix="flagops-site-") as site:
        write_site(demo_site(), Path(site) / "survey")
        write_site(repository_catalog(repository, Path(site) / "flags.json"),
                   Path(site) / "catalog")
        with serve(Path(site)) as base, chromium() as driver:
            return [*photograph(driver, f"{base}/survey", outdir),
                    *photograph_catalog(driver, f"{base}/catalog", outdir)]


def repository_catalog(repository: Path, config: Path) -> dict[str, str]:
    """The catalog of the repository's flags, from the merged config `flagops build` writes.
    Of the working tree as it is (`--allow-dirty`): a picture for the README ships nothing,
    and it is taken in the change that edits a flag, before its commit."""
    done = subprocess.run([sys.executable, "-m", "validator", "-C", str(repository), "build",
                           "--history", "--allow-dirty", "-o", str(config.resolve())],
                          capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise UserError(f"flagops build failed: {done.stderr.strip() or done.stdout.strip()}")
    return render_catalog(read_config(config, str(config)))


def photograph_catalog(driver: WebDriver, base: str, outdir: Path) -> list[Path]:
    """The index (its filters shown: catalog.js ran) and the page of CATALOG_FLAG (its chart
    drawn with one step per landed change)."""
    driver.set_window_size(*CATALOG_WINDOW)
    open_page(driver, f"{base}/flags/index.html")
    if not driver.find_element(By.ID, "filters").is_displayed() or not driver.find_elements(
            By.CSS_SELECTOR, f"tr[data-name='{CATALOG_FLAG}']"):
        raise UserError(f"{CATALOG_SHOTS[0]}: the index does not list {CATALOG_FLAG}")
    written = [_save(driver, outdir, CATALOG_SHOTS[0])]
    open_page(driver, f"{base}/flags/{CATALOG_FLAG}.html")
    steps = driver.find_elements(By.CSS_SELECTOR, "svg.chart g.step")
    changes = driver.find_elements(By.CSS_SELECTOR, "#changes tbody tr")
    if not steps or len(steps) != len(changes):
        raise UserError(f"{CATALOG_SHOTS[1]}: the chart does not draw every change")
    written.append(_save(driver, outdir, CATALOG_SHOTS[1]))
    return written


def _save(driver: WebDriver, outdir: Path, name: str) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / name).write_bytes(driver.get_screenshot_as_png())
    return outdir / name


def demo_site() -> dict[str, str]:
    return render_site(demo_config(), invite_url=DEFAULT_INVITE_URL,
                       allowed_hosts=DEFAULT_POLICY.invite_link_hosts)


def photograph(driver: WebDriver, base: str, outdir: Path) -> list[Path]:
    """One PNG per shot, each checked to show the state it is named after."""
    outdir.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(*WINDOW)
    written = []
    for name, (query, link_expected) in SHOTS.items():
        open_page(driver, f"{base}/-/survey_responses/?{urlencode(query)}")
        links = driver.find_elements(By.ID, "invite-link")
        if any(link.is_displayed() for link in links) != link_expected:
            raise UserError(f"{name}: the page does not show the state the shot is named after")
        (outdir / name).write_bytes(driver.get_screenshot_as_png())
        written.append(outdir / name)
    return written


if __name__ == "__main__":
    sys.exit(main())

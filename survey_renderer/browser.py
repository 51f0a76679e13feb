"""Headless Chromium and a local server for the page: used by the page tests and screenshots.

Chromium stays off the network: every host name except 127.0.0.1 resolves to nothing, and the
background services that phone home are off. Selenium is a test extra, imported only here.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from validator.errors import UserError

BINARIES = ("chromium", "chromedriver")
"""Debian's packages chromium and chromium-driver install these on PATH."""
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run",
)
RESOLVER_RULES = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
"""No shell runs between chromedriver and Chromium, so the value carries no quotes."""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Request lines would drown test output."""


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serves `directory` on 127.0.0.1 at a free port; yields the base URL."""
    handler = partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def missing_binaries() -> list[str]:
    """Which of chromium and chromedriver are not on PATH."""
    return [name for name in BINARIES if shutil.which(name) is None]


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """Debian's chromium through its chromedriver, with a fresh profile; never downloads one
    (Selenium Manager would, given no driver path)."""
    browser, driver_path = (shutil.which(name) for name in BINARIES)
    if browser is None or driver_path is None:
        raise UserError(f"{' and '.join(missing_binaries())} not on PATH: "
                        "apt-get install chromium chromium-driver")
    with tempfile.TemporaryDirectory(prefix="flagops-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", RESOLVER_RULES):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def open_page(driver: WebDriver, url: str) -> None:
    """Navigates and waits until the new document has loaded: Chromium 150's driver returned
    from `get` now and then while the next document was still loading, its scripts not yet
    run (a test then read the page before its script had shown the invite link)."""
    from selenium.webdriver.support.wait import WebDriverWait

    driver.execute_script("window.flagopsLeft = true;")  # gone with the document it marks
    driver.get(url)
    WebDriverWait(driver, 30).until(lambda browser: browser.execute_script(
        "return window.flagopsLeft !== true && document.readyState === 'complete';"))


def console_messages(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """The console entries since the last call: CSP violations and failed loads show up here."""
    entries: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    return entries

"""The survey response site from the merged config: values in, {relative path: text} out.

Where `calendly_invite_link` is fully on or off in the config's environment, the page carries the
decision itself (the link is in the markup, or absent); where it depends on the actor, the page
carries the flag's snapshot and static/gate.js, inlined and allowed by a sha256 in the CSP.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from survey_renderer.gate import static_decision
from validator.build import MergedConfig
from validator.engines import Bucketing
from validator.engines.bucketing import share_weight
from validator.errors import UserError
from validator.gates import Gates

FLAG_NAME = "calendly_invite_link"
DEFAULT_INVITE_URL = "https://calendly.com/d/n9wd-sy2b/gitlab-user-onboarding-research"
ACTOR_KIND = "User"
STYLESHEET = "style.css"
PAGES = {"index.html": "", "-/survey_responses/index.html": "../../"}
"""Each page and the way back from it to the site root, so the site works under any prefix."""

_HERE = Path(__file__).parent
_JS_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
              "\u2029": "\\u2029"}


def check_invite_url(url: str, allowed_hosts: tuple[str, ...]) -> str:
    """The link leaves our site: https only, and only to a host the policy allows."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UserError(f"invite URL {url!r} is malformed: {error}") from None
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in url):
        raise UserError(f"invite URL {url!r} must be an https URL")
    if parts.username is not None or port not in (None, 443):
        raise UserError(f"invite URL {url!r} must not carry credentials or a port")
    allowed = {host.lower() for host in allowed_hosts}
    if parts.hostname.lower() not in allowed:
        raise UserError(f"invite URL host {parts.hostname!r} is not in the policy's "
                        f"invite_link_hosts ({', '.join(sorted(allowed)) or 'none'})")
    return url


def flag_snapshot(name: str, gates: Gates, actor_kind: str,
                  bucketing: Bucketing = "flipper") -> dict[str, Any]:
    """What the browser needs to evaluate the flag: only actors of the kind the page knows,
    and whose percentage rule decides (the engine the team runs)."""
    prefix = f"{actor_kind}:"
    return {
        "name": name,
        "boolean": gates.everyone,
        "actors": [actor for actor in gates.actors if actor.startswith(prefix)],
        "percentage_of_actors": gates.percentage_of_actors,
        "bucketing": bucketing,
        # flagd's fractional weights are whole buckets, rounded here as the export rounds them.
        "flagd_weight": None if gates.percentage_of_actors is None
        else share_weight(gates.percentage_of_actors),
    }


def page_script(decided: bool | None, snapshot: dict[str, Any]) -> str:
    """One inline script: the page logic, plus the gate and snapshot only when they matter."""
    assets: tuple[str, ...]
    if decided is None:
        assets = ("gate.js", "page.js")
        answer = f"flagopsGate.evaluate({_js_literal(snapshot)}, actor)"
    else:
        assets = ("page.js",)
        answer = _js_literal(decided)
    call = f"flagopsPage(function (actor) {{ return {answer}; }});\n"
    return "\n(function () {\n" + "".join(map(_asset, assets)) + call + "})();\n"


def content_security_policy(script: str) -> str:
    """Only our stylesheet and this exact script; nothing else loads, nothing posts anywhere."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return ("default-src 'none'; "
            f"script-src 'sha256-{digest}'; style-src 'self'; img-src 'self'; "
            "base-uri 'none'; form-action 'none'")


def render_site(
    config: MergedConfig, *, invite_url: str, allowed_hosts: tuple[str, ...],
    bucketing: Bucketing = "flipper",
) -> dict[str, str]:
    """Every file of the site, keyed by its path relative to the output directory."""
    state = config.flags.get(FLAG_NAME)
    if state is None:
        raise UserError(f"the merged config has no flag {FLAG_NAME!r}")
    url = check_invite_url(invite_url, allowed_hosts)
    decided = static_decision(state.gates, ACTOR_KIND)
    script = page_script(decided, flag_snapshot(FLAG_NAME, state.gates, ACTOR_KIND, bucketing))
    template = _templates().get_template("survey_response.html")
    context = {"csp": content_security_policy(script), "script": Markup(script),
               "invite_url": url, "link_possible": decided is not False,
               "link_by_default": decided is True}
    files = {path: template.render(context, root=root) for path, root in PAGES.items()}
    files[STYLESHEET] = _asset(STYLESHEET)
    return files


def _js_literal(value: Any) -> str:
    """JSON that is also safe inside <script>: no `</script>`, `<!--` or line separators."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return "".join(_JS_UNSAFE.get(char, char) for char in text)


@cache
def _asset(name: str) -> str:
    """Static files ship inside the package (package data), beside this module."""
    return (_HERE / "static" / name).read_text(encoding="utf-8")


@cache
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=True,
                       undefined=StrictUndefined, keep_trailing_newline=True,
                       trim_blocks=True, lstrip_blocks=True)

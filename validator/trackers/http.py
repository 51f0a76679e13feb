"""What both clients share: a timeout on every request, bounded retries with backoff, and the
settings tests shrink (FLAGOPS_HTTP_TIMEOUT, FLAGOPS_HTTP_RETRIES, FLAGOPS_HTTP_BACKOFF).

Retries are urllib3's, mounted on the session of each library, because neither library bounds
its own: python-gitlab retries 10 times and sleeps whatever `Retry-After` says, PyGithub's
default retry waits out a rate limit's reset. Here a 429 or 5xx is retried a few times with
backoff, a `Retry-After` is obeyed up to `MAX_WAIT` seconds, and a longer one gives up at once.
POST is retried only after a 429: after a 5xx it may have been done, and a second new issue is
worse than a clear failure. A read timeout is not retried: the server is slow, one line says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from validator import moments
from validator.errors import UserError

RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_WAIT = 60.0


@dataclass(frozen=True, slots=True)
class Settings:
    timeout: float = 20.0
    retries: int = 3
    backoff: float = 0.5

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        return cls(_number(environ, "FLAGOPS_HTTP_TIMEOUT", 20.0, 0.01),
                   int(_number(environ, "FLAGOPS_HTTP_RETRIES", 3, 0)),
                   _number(environ, "FLAGOPS_HTTP_BACKOFF", 0.5, 0))


def _number(environ: Mapping[str, str], name: str, default: float, least: float) -> float:
    text = environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{name}={text!r} is not a number") from None
    if value < least:
        raise UserError(f"{name} must be at least {least:g}")
    return value


def retry(settings: Settings) -> Any:
    """A urllib3 `Retry` for 429 and 5xx that raises once the tries are spent (requests then
    raises `RetryError`, which neither library retries again)."""
    from urllib3.util.retry import Retry

    class _Bounded(Retry):
        def get_retry_after(self, response: Any) -> float | None:
            seconds: float | None = super().get_retry_after(response)
            if seconds is not None and seconds > MAX_WAIT:
                raise _too_long(seconds)
            return seconds

        def is_retry(self, method: str, status_code: int,
                     has_retry_after: bool = False) -> bool:
            if method.upper() == "POST" and status_code != 429:  # it may have been done
                return False
            return bool(super().is_retry(method, status_code, has_retry_after))

    return _Bounded(total=settings.retries, connect=settings.retries, read=False,
                    status=settings.retries, backoff_factor=settings.backoff,
                    backoff_max=MAX_WAIT, status_forcelist=RETRY_STATUSES,
                    respect_retry_after_header=True, raise_on_status=True,
                    allowed_methods=None)


class WaitTooLong(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"the server asks to wait {seconds:.0f} s before trying again")


def _too_long(seconds: float) -> WaitTooLong:
    return WaitTooLong(seconds)


def session(settings: Settings) -> Any:
    """A requests session whose adapters carry the bounded retry (for python-gitlab)."""
    import requests
    from requests.adapters import HTTPAdapter

    made = requests.Session()
    adapter = HTTPAdapter(max_retries=retry(settings))
    made.mount("http://", adapter)
    made.mount("https://", adapter)
    return made


def transport_message(error: BaseException, settings: Settings) -> str | None:
    """One line for what went wrong on the way (not an answer of the API), or None."""
    import requests

    if isinstance(error, WaitTooLong):
        return f"rate limited: {error}"
    if isinstance(error, requests.exceptions.RetryError):
        return f"still failing (429 or 5xx) after {settings.retries + 1} tries"
    if isinstance(error, requests.exceptions.Timeout):
        return f"no answer within {settings.timeout:g} s (FLAGOPS_HTTP_TIMEOUT)"
    if isinstance(error, requests.exceptions.ConnectionError):
        return "cannot connect"
    if isinstance(error, requests.exceptions.RequestException):
        return f"the request failed ({type(error).__name__})"
    return None


def reset_text(epoch: str | None) -> str:
    """`; it resets at <UTC time>` from a rate limit's reset header (seconds since 1970)."""
    if not epoch or not epoch.isdigit():
        return ""
    return f"; it resets at {moments.minute_text(int(epoch))}"

"""What both clients share: a timeout on every request, bounded retries with backoff, and the
settings tests shrink (FLAGOPS_HTTP_TIMEOUT, FLAGOPS_HTTP_RETRIES, FLAGOPS_HTTP_BACKOFF).

Both libraries send through one session of ours (`session`): it sends nothing outside the
configured API's origin, takes at most `MAX_BODY` bytes of an answer and `Settings.arrival`
seconds for its head and again for its body (a read timeout alone is per read: an answer that
trickles a byte a second never trips it), and, when a tracker opens an operation (`begin`), at
most `MAX_REQUESTS` requests for it: a next page that links to itself, or a redirect or "not
ready yet" without end, would otherwise be followed forever.

Retries are urllib3's, mounted on the session, because neither library bounds
its own: python-gitlab retries 10 times and sleeps whatever `Retry-After` says, PyGithub's
default retry waits out a rate limit's reset. Here a 429 or 5xx is retried a few times with
backoff, a `Retry-After` is obeyed up to `MAX_WAIT` seconds, and a longer one gives up at once.
POST is retried only after a 429: after a 5xx it may have been done, and a second new issue is
worse than a clear failure. A read timeout is not retried: the server is slow, one line says so.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from validator import moments
from validator.digits import whole_number
from validator.errors import UserError

RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_WAIT = 60.0
MAX_REQUESTS = 100
"""Requests for one operation of a tracker: the token's user, up to 98 pages of 100 notes,
the note written. A server that needs more is paginating (or redirecting) without end."""
MAX_BODY = 8 * 2**20
"""Bytes of one answer, decompressed: an issue or a page of notes is a few kilobytes."""
_CHUNK = 64 * 2**10


@dataclass(frozen=True, slots=True)
class Settings:
    timeout: float = 20.0
    retries: int = 3
    backoff: float = 0.5

    @property
    def arrival(self) -> float:
        """Seconds an answer's head, then its body, may take in all: the timeout is per read
        of the socket, and a server that sends a byte a second never trips it. Twice the
        timeout, so that a server that sends nothing is said by the timeout first."""
        return 2 * self.timeout

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        retries = _number(environ, "FLAGOPS_HTTP_RETRIES", 3.0, 0)
        if not retries.is_integer():
            raise UserError("FLAGOPS_HTTP_RETRIES must be a whole number")
        return cls(_number(environ, "FLAGOPS_HTTP_TIMEOUT", 20.0, 0.01), int(retries),
                   _number(environ, "FLAGOPS_HTTP_BACKOFF", 0.5, 0))


def _number(environ: Mapping[str, str], name: str, default: float, least: float) -> float:
    """A finite number: float() also reads `nan` and `inf`, which no timeout, count or
    backoff can be (NaN passes every comparison as false, and int() of either raises)."""
    text = environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UserError(f"{name}={text!r} is not a number")
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

        def increment(self, *args: Any, **kwargs: Any) -> Any:
            answer = kwargs.get("response")
            if answer is not None:  # urllib3 then reads a retried answer's body to its end,
                answer.close()      # however long it runs or trickles: none is needed
            return super().increment(*args, **kwargs)

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


Origin = tuple[str, str, int | None]
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> Origin:
    """(scheme, host, port) of an URL, as browsers compare them: the default port spelled or not."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port that is no number: an origin of its own, matching none
        port = -1
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme)


class Unbounded(Exception):
    """An answer flagops does not wait for or take in (its message is the line to show): too
    many requests, too many bytes, too slow to arrive."""


class ForeignHost(Exception):
    """The server sent the client elsewhere (a redirect, a next page): not followed, since the
    token would go with it (python-gitlab's PRIVATE-TOKEN header survives any redirect)."""

    def __init__(self) -> None:
        super().__init__("the server sent the request to another host, which is not followed: "
                         "the token goes only to the configured API")


def session(settings: Settings, api_url: str) -> Any:
    """A requests session whose adapters carry the bounded retry, that sends nothing outside
    the origin of `api_url` (every request, redirects and next pages included, passes through
    `send`), reads each answer within bounds (`_read`), and counts requests once `begin`
    starts an operation (a tracker's, or each of `sync`'s reads and writes)."""
    import requests

    home = origin(api_url)

    class _OneOrigin(requests.Session):
        left: int | None = None

        def send(self, request: Any, **kwargs: Any) -> Any:
            if origin(str(request.url)) != home:
                raise ForeignHost()
            if self.left is not None:
                if self.left <= 0:
                    raise Unbounded(f"the answer did not end after {MAX_REQUESTS} requests "
                                    "(a next page, a redirect or 'not ready' without end)")
                self.left -= 1
            return super().send(request, **kwargs)

    made = _OneOrigin()
    made.auth = _as_set  # never ~/.netrc's: requests would put its login over the token
    adapter = _adapter(settings)
    made.mount("http://", adapter)
    made.mount("https://", adapter)
    made.hooks["response"].append(lambda response, *_, **__: _read(response, settings))
    return made


def _adapter(settings: Settings) -> Any:
    """requests' adapter with the bounded retry, whose connections take at most `arrival`
    seconds in all for an answer's status line and headers (`_timed`)."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class _Pool(HTTPConnectionPool):
        ConnectionCls = _timed(HTTPConnection, settings)

    class _TlsPool(HTTPSConnectionPool):
        ConnectionCls = _timed(HTTPSConnection, settings)

    pools = {"http": _Pool, "https": _TlsPool}

    class _Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            """An http(s) proxy's manager (HTTPS_PROXY in a CI), its pools timed too; a
            SOCKS proxy's pools are its own, and keep only the per-read timeout."""
            manager = super().proxy_manager_for(proxy, **kwargs)
            if not proxy.lower().startswith("socks"):
                manager.pool_classes_by_scheme = pools
            return manager

    return _Adapter(max_retries=retry(settings))


def _timed(base: Any, settings: Settings) -> Any:
    """A urllib3 connection that cuts its socket when the status line and headers have not
    all arrived `arrival` seconds after it began to wait for them. The cut (a shutdown from a
    timer thread, the one way to end a read another thread is blocked in) is then said as
    the answer being too slow."""
    import socket
    import threading

    class _Timed(base):  # type: ignore[misc]
        def getresponse(self, *args: Any, **kwargs: Any) -> Any:
            late = threading.Event()
            sock = self.sock

            def cut() -> None:
                late.set()
                with contextlib.suppress(OSError):  # the plain socket's shutdown: TLS's
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)  # unwraps it under the reader

            timer = threading.Timer(settings.arrival, cut)
            timer.daemon = True
            timer.start()
            try:
                answer = super().getresponse(*args, **kwargs)
            except Exception:
                if late.is_set():
                    raise _slow(settings) from None
                raise
            finally:
                timer.cancel()
            if late.is_set():  # the cut can read as the headers' end, and the answer as whole
                answer.close()
                raise _slow(settings)
            return answer

    return _Timed


def _slow(settings: Settings) -> Unbounded:
    return Unbounded(f"the answer took more than {settings.arrival:g} s to arrive (twice "
                     "FLAGOPS_HTTP_TIMEOUT)")


def _as_set(request: Any) -> Any:
    """The request with the authentication its library set, and no other."""
    return request


def begin(made: Any) -> None:
    """Starts one operation of a tracker on `made`, with `MAX_REQUESTS` requests to spend."""
    made.left = MAX_REQUESTS


def _read(response: Any, settings: Settings) -> Any:
    """The answer's body, read now (hooks run before requests reads it) within `MAX_BODY`
    bytes and `arrival` seconds in all; kept where requests keeps what it read. `read1`
    returns what one read of the socket brings: requests' own chunks wait until each is full,
    and so past any deadline."""
    deadline = time.monotonic() + settings.arrival
    chunks: list[bytes] = []
    size = 0
    while chunk := _read1(response.raw):
        size += len(chunk)
        if size > MAX_BODY or time.monotonic() > deadline:
            response.close()
            raise Unbounded(f"answered more than {MAX_BODY // 2**20} MiB") \
                if size > MAX_BODY else _slow(settings)
        chunks.append(chunk)
    response._content = b"".join(chunks)
    response._content_consumed = True
    return response


def _read1(raw: Any) -> bytes:
    """One read of the body, decompressed, with urllib3's errors as requests' (which both
    libraries and `transport_message` know)."""
    import requests
    from urllib3.exceptions import HTTPError, ReadTimeoutError

    try:
        return bytes(raw.read1(_CHUNK, decode_content=True) or b"")
    except ReadTimeoutError as error:
        raise requests.exceptions.ReadTimeout(error) from None
    except HTTPError as error:
        raise requests.exceptions.ChunkedEncodingError(error) from None


def transport_message(error: BaseException, settings: Settings) -> str | None:
    """One line for what went wrong on the way (not an answer of the API), or None."""
    import requests

    if isinstance(error, WaitTooLong):
        return f"rate limited: {error}"
    if isinstance(error, (ForeignHost, Unbounded)):
        return str(error)
    if isinstance(error, requests.exceptions.RetryError):
        return f"still failing (429 or 5xx) after {settings.retries + 1} tries"
    if isinstance(error, requests.exceptions.Timeout):
        return f"no answer within {settings.timeout:g} s (FLAGOPS_HTTP_TIMEOUT)"
    if isinstance(error, requests.exceptions.ConnectionError):
        return "cannot connect"
    if isinstance(error, requests.exceptions.RequestException):
        return f"the request failed ({type(error).__name__})"
    return None


def server_failed(status: object) -> bool:
    """A 5xx: the server had the request, and may have done it before it failed."""
    return isinstance(status, int) and status >= 500


def answer_lost(error: BaseException) -> bool:
    """Did the request perhaps reach the server, its answer lost on the way (no answer in
    time, a connection dropped, an answer past its bounds)? A POST may then have been done."""
    import requests

    return isinstance(error, (Unbounded, requests.exceptions.Timeout,
                              requests.exceptions.ConnectionError))


def reset_text(epoch: str | None) -> str:
    """`; it resets at <UTC time>` from a rate limit's reset header (seconds since 1970)."""
    moment = whole_number(epoch or "", max_digits=100)
    if moment is None:  # the server's text: `²` or 5,000 digits are no time
        return ""
    return f"; it resets at {moments.minute_text(moment)}"

"""The HTTP client of the sources that speak REST (Cloudflare Queues, Pub/Sub): requests, with
urllib3's retries on throttling and server errors, and one reading of the answer's errors."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from learning_images.registry.sources import SourceError

#: Seconds to connect and to wait for an answer (a Pub/Sub pull may hold its answer a while).
TIMEOUT = (10, 60)
#: Throttling and the server errors worth another try, with exponential backoff (0.5 s, 1 s, 2 s).
#: Every method is retried: a pull again leases other messages (the lapsed lease returns its own),
#: an acknowledgement again is the same acknowledgement.
RETRY = Retry(
    total=3,
    backoff_factor=0.5,
    status_forcelist=(429, 500, 502, 503, 504),
    allowed_methods=None,
    raise_on_status=False,
)


def mount(session: requests.Session) -> requests.Session:
    adapter = HTTPAdapter(max_retries=RETRY)
    session.mount("https://", adapter)
    session.mount("http://", adapter)  # the sandbox's stand-ins listen on 127.0.0.1
    return session


def post(session: requests.Session, service: str, url: str, body: dict[str, Any]) -> Any:
    """POST ``body`` as JSON; the decoded answer. Raises :class:`SourceError` naming ``service``,
    the request's last path segment and what the service said."""
    what = url.rsplit("/", 1)[-1]
    try:
        answer = session.post(url, json=body, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise SourceError(f"{service} did not answer {what}: {type(exc).__name__}") from None
    try:
        found = answer.json() if answer.content else {}
    except ValueError:
        found = {}
    if answer.status_code >= 400:  # HTTP's client and server errors
        raise SourceError(f"{service} refused {what}: HTTP {answer.status_code} {_said(found)}".rstrip())
    return found


def _said(found: Any) -> str:
    """What an error answer says: Cloudflare's ``errors`` list or Google's ``error.message``."""
    if not isinstance(found, dict):
        return ""
    if isinstance(found.get("errors"), list):
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in found["errors"])
    error = found.get("error")
    return str(error.get("message", "")) if isinstance(error, dict) else ""

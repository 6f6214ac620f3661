"""Salesforce and network failures as one clean line each, never carrying a secret.

simple-salesforce raises exceptions whose `str()` contains the full URL and response body, and
requests raises exceptions that nest the URL several times; neither is fit for a status table.
`describe_error` turns every failure the probes can meet into one sentence a support engineer
can act on, and scrubs any secret value that a misbehaving server might echo back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

from juston_tui.text import clean

__all__ = [
    "APPROVAL_EXPLANATION",
    "AccessError",
    "AuthError",
    "Cancelled",
    "SessionExpired",
    "body_error_code",
    "describe_body",
    "describe_error",
    "error_code",
    "scrub",
]

# Seed 001: the connected app must be set to "Admin approved users are pre-authorized" and the
# user's profile added; otherwise OAuth answers "user hasn't approved this consumer".
APPROVAL_EXPLANATION = (
    "user hasn't approved this consumer: the connected app behind this consumer key is set to "
    '"All users may self-authorize" or this user\'s profile is not pre-authorized. In Setup > '
    "Apps > Connected Apps > Manage Connected Apps, click Edit in the app's row, set Permitted "
    'Users to "Admin approved users are pre-authorized", Save; then open the app, click Manage '
    "Profiles and select the user's profile (at least System Administrator), Save"
)

_LIMIT = 600


class AccessError(Exception):
    """A failure talking to an org, already phrased as one clean line."""


class AuthError(AccessError):
    """Login failed or no usable secret; the message says which and what to do."""


class SessionExpired(AuthError):
    """The session is gone and this auth method cannot log in again by itself."""


class Cancelled(AccessError):
    """The caller asked to stop (sweep cancellation)."""

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Replace every known secret (and its first line, for PEM keys) with `***`."""
    for secret in secrets:
        if not secret:
            continue
        for piece in {secret, secret.strip(), *secret.strip().splitlines()}:
            if len(piece) >= 6 and "-----" not in piece:
                text = text.replace(piece, "***")
    return text


def _sf_errors(content: Any) -> list[tuple[str, str]]:
    """(errorCode, message) pairs from a Salesforce REST error body (list, dict or text)."""
    if isinstance(content, bytes | str):
        try:
            content = json.loads(content)
        except (ValueError, TypeError):
            return []
    if isinstance(content, dict):
        if "error" in content:  # OAuth errors are objects
            return [(str(content.get("error")), str(content.get("error_description") or ""))]
        content = [content]
    pairs = []
    if isinstance(content, list):
        for item in content:
            if isinstance(item, dict):
                pairs.append((str(item.get("errorCode") or ""), str(item.get("message") or "")))
    return pairs


def error_code(exc: BaseException) -> str | None:
    """The Salesforce errorCode of a SalesforceError (first one), if any."""
    pairs = _sf_errors(getattr(exc, "content", None))
    return pairs[0][0] if pairs and pairs[0][0] else None


def body_error_code(body: Any) -> str:
    """The Salesforce errorCode of a failed composite subrequest's body ("" if none)."""
    pairs = _sf_errors(body)
    return pairs[0][0] if pairs else ""


def describe_body(status: Any, body: Any) -> str:
    """One line for a failed composite subrequest (its status and Salesforce error body)."""
    pairs = _sf_errors(body)
    if pairs and pairs[0][0]:
        code, message = pairs[0]
        return clean(f"{code}: {_first_line(message)}", limit=_LIMIT)
    return f"HTTP {status}"


def _host(url: str | None) -> str:
    if not url:
        return "the server"
    parsed = urlparse(url)
    return parsed.netloc or url


def _first_line(message: str) -> str:
    """The sentence of an error; SOQL errors put the query and a caret line before it."""
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        if line.startswith("ERROR at Row"):
            return " ".join(lines[i + 1 :]) or line
    return lines[0] if lines else ""


def _describe_sf(exc: Any, login_hint: str) -> str:
    # simple_salesforce/requests: ~0.4 s to import, only once an org is contacted
    from simple_salesforce.exceptions import (
        SalesforceAuthenticationFailed,
        SalesforceExpiredSession,
        SalesforceRefusedRequest,
    )

    if isinstance(exc, SalesforceAuthenticationFailed):
        code = str(exc.code or "")
        message = str(getattr(exc, "auth_message", None) or "")
        if "hasn't approved this consumer" in message:
            return f"login refused: {APPROVAL_EXPLANATION}"
        if code == "INVALID AUTH":
            return "login not possible: client credentials need a My Domain (e.g. --domain acme.my)"
        text = _first_line(message)
        if len(text) > 200 or "<" in text:
            text = text[:200]
        return f"login failed: {code}: {text}".rstrip(": ")
    pairs = _sf_errors(getattr(exc, "content", None))
    code, message = pairs[0] if pairs else ("", "")
    status = getattr(exc, "status", None)
    if isinstance(exc, SalesforceExpiredSession) or code == "INVALID_SESSION_ID":
        return f"session expired or invalid: {login_hint}"
    if code == "REQUEST_LIMIT_EXCEEDED":
        return f"API request limit exceeded (REQUEST_LIMIT_EXCEEDED: {_first_line(message)})"
    if code == "API_DISABLED_FOR_ORG":
        return (
            "the API is disabled for this org or user (API_DISABLED_FOR_ORG): JustOn needs an "
            "edition with API access and a user with the API Enabled permission"
        )
    if code:
        return f"{code}: {_first_line(message)}"
    if isinstance(exc, SalesforceRefusedRequest):
        return f"request refused by {_host(exc.url)} (HTTP {status})"
    if isinstance(status, int) and status >= 500:
        return f"Salesforce server error (HTTP {status}) at {_host(exc.url)}"
    return f"unexpected answer (HTTP {status}) from {_host(getattr(exc, 'url', None))}"


def describe_error(
    exc: BaseException,
    *,
    secrets: Iterable[str | None] = (),
    timeout: float | None = None,
    login_hint: str = "log in again",
) -> str:
    """One clean line for any failure of a probe: no traceback, no URL soup, no secret."""
    # simple_salesforce/requests: ~0.4 s to import, only once an org is contacted
    import requests
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError

    if isinstance(exc, AccessError):
        text = str(exc)
    elif isinstance(exc, SalesforceError | SalesforceAuthenticationFailed):
        text = _describe_sf(exc, login_hint)
    elif type(exc).__name__ == "JSONDecodeError":  # json's, or requests' (also an HTTP error)
        text = "malformed response from Salesforce (not JSON)"
    elif isinstance(exc, requests.exceptions.SSLError):
        text = (
            f"TLS certificate of {_host(getattr(exc.request, 'url', None))} is not trusted "
            "(set the org's CA bundle with org edit ORG --ca-bundle PATH)"
        )
    elif isinstance(exc, requests.exceptions.Timeout):
        limit = f" after {timeout:g} s" if timeout else ""
        text = f"timed out{limit} waiting for {_host(getattr(exc.request, 'url', None))}"
    elif isinstance(exc, requests.exceptions.ConnectionError):
        text = f"cannot connect to {_host(getattr(exc.request, 'url', None))}"
    elif isinstance(exc, requests.exceptions.RequestException):
        text = f"HTTP problem: {type(exc).__name__}"
    elif isinstance(exc, KeyError | TypeError | IndexError | AttributeError):
        text = f"malformed response from Salesforce (unexpected shape: {type(exc).__name__})"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return clean(scrub(text, secrets), limit=_LIMIT)

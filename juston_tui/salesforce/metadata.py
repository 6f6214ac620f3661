"""Read the browser-caching setting (seed 001, "disable browser caching") via Metadata API.

The checkbox "Enable secure and persistent browser caching to improve performance" lives in
`MobileSettings.enableS1EncryptedStoragePref2` (reference 2g). `sf.mdapi` (zeep) ignores our
session, so its CA, timeout and host rewriting would be lost (#686): one small readMetadata
envelope is posted on the connection's own session instead.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from juston_tui.salesforce.connection import API_VERSION, DEFAULT_TIMEOUT, OrgConnection
from juston_tui.salesforce.errors import AccessError

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

    from juston_tui.credentials import CredentialStore
    from juston_tui.model import Org

__all__ = ["parse_read_metadata", "read_browser_caching", "read_metadata_envelope"]

log = logging.getLogger(__name__)
_FIELD = "enableS1EncryptedStoragePref2"


def read_metadata_envelope(session_id: str, type_name: str, full_name: str) -> str:
    """A Metadata API readMetadata request for one component."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:met="http://soap.sforce.com/2006/04/metadata">'
        f"<env:Header><met:SessionHeader><met:sessionId>{escape(session_id)}</met:sessionId>"
        "</met:SessionHeader></env:Header><env:Body><met:readMetadata>"
        f"<met:type>{escape(type_name)}</met:type><met:fullNames>{escape(full_name)}"
        "</met:fullNames></met:readMetadata></env:Body></env:Envelope>"
    )


def parse_read_metadata(payload: bytes, field: str = _FIELD) -> bool | None:
    """The boolean `field` of the first record, None if absent; raises AccessError on faults."""
    try:
        root = ET.fromstring(payload)
    except ET.ParseError:
        raise AccessError("malformed Metadata API response (not XML)") from None
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "faultstring":
            raise AccessError(f"Metadata API: {(el.text or '').strip()[:200]}")
        if tag == field:
            text = (el.text or "").strip().lower()
            if text in ("true", "false"):
                return text == "true"
    return None


def _read(conn: OrgConnection) -> bool | None:
    def send(sf: Salesforce) -> bool | None:
        url = f"https://{sf.sf_instance}/services/Soap/m/{API_VERSION}"
        body = read_metadata_envelope(sf.session_id, "MobileSettings", "Mobile")
        response = conn.session.post(url, data=body.encode(), headers={
            "Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "readMetadata"})
        if response.status_code == 500 and b"INVALID_SESSION_ID" in response.content:
            # simple_salesforce/requests: ~0.4 s to import, only once an org is contacted
            from simple_salesforce.exceptions import SalesforceExpiredSession

            raise SalesforceExpiredSession(url, 401, "readMetadata", response.content)
        return parse_read_metadata(response.content)

    return conn.call(send)


def read_browser_caching(
    org: Org, credentials: CredentialStore, *, timeout: float = DEFAULT_TIMEOUT
) -> bool | None:
    """True when browser caching is enabled (seed 001 wants it off); None if unreadable."""
    conn = OrgConnection(org, credentials, timeout=timeout)
    try:
        return _read(conn)
    except Exception as exc:  # the checklist shows "could not verify", never a crash
        log.info("browser caching of %s not readable: %s", org.org_id, type(exc).__name__)
        return None
    finally:
        conn.close()

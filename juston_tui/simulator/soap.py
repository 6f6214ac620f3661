"""The SOAP APIs: partner `login` (`/services/Soap/u/NN.N`) and Metadata `readMetadata`
(`/services/Soap/m/NN.N`), with their envelopes in Salesforce's shapes.

simple-salesforce's SOAP login reads `sessionId` and `serverUrl` with minidom; zeep (sf.mdapi)
parses the Metadata answer against the bundled WSDL, so the element names and the `xsi:type`
of `records` must be exactly Salesforce's.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from .transport import XML, Response

if TYPE_CHECKING:
    from .server import Simulator

__all__ = [
    "SOAP_PATH",
    "login",
    "login_fault",
    "login_response",
    "metadata_fault",
    "parse_envelope",
    "read_metadata",
    "read_metadata_response",
]

# /services/Soap/u/62.0 (partner: login) and /services/Soap/m/62.0/<org> (Metadata).
SOAP_PATH = re.compile(r"^/services/Soap/([um])/(\d{2})\.(\d)(/.*)?$")

_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_envelope(body: bytes) -> tuple[str, dict[str, list[str]], dict[str, str]]:
    """Return (operation, body fields by local name, header fields by local name).

    Raises ValueError when the body is not a SOAP envelope.
    """
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError(f"not XML: {exc}") from None
    if _local(root.tag) != "Envelope":
        raise ValueError("not a SOAP envelope")
    headers: dict[str, str] = {}
    op = ""
    fields: dict[str, list[str]] = {}
    for part in root:
        if _local(part.tag) == "Header":
            for el in part.iter():
                if len(el) == 0 and el.text is not None:
                    headers[_local(el.tag)] = el.text.strip()
        elif _local(part.tag) == "Body" and len(part):
            call = part[0]
            op = _local(call.tag)
            for el in call:
                fields.setdefault(_local(el.tag), []).append((el.text or "").strip())
    if not op:
        raise ValueError("SOAP envelope without a body element")
    return op, fields, headers


def login_response(*, server_url: str, metadata_url: str, session_id: str, user_id: str,
                   org_id: str, org_name: str, username: str, sandbox: bool,
                   user_full_name: str = "Admin Sim") -> bytes:
    """The partner API loginResponse simple-salesforce's `soap_login` expects."""
    e = escape
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{_ENV}" xmlns="urn:partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse>'
        f"<result><metadataServerUrl>{e(metadata_url)}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired>"
        f"<sandbox>{'true' if sandbox else 'false'}</sandbox>"
        f"<serverUrl>{e(server_url)}</serverUrl><sessionId>{e(session_id)}</sessionId>"
        f"<userId>{e(user_id)}</userId><userInfo>"
        "<accessibilityMode>false</accessibilityMode><chatterExternal>false</chatterExternal>"
        "<currencySymbol>€</currencySymbol><orgAttachmentFileSizeLimit>5242880"
        "</orgAttachmentFileSizeLimit><orgDefaultCurrencyIsoCode>EUR</orgDefaultCurrencyIsoCode>"
        "<orgDisallowHtmlAttachments>false</orgDisallowHtmlAttachments>"
        "<orgHasPersonAccounts>false</orgHasPersonAccounts>"
        f"<organizationId>{e(org_id)}</organizationId>"
        "<organizationMultiCurrency>false</organizationMultiCurrency>"
        f"<organizationName>{e(org_name)}</organizationName>"
        "<profileId>00e000000000000AAA</profileId><roleId xsi:nil=\"true\"/>"
        "<sessionSecondsValid>7200</sessionSecondsValid>"
        f"<userDefaultCurrencyIsoCode xsi:nil=\"true\"/><userEmail>{e(username)}</userEmail>"
        f"<userFullName>{e(user_full_name)}</userFullName><userId>{e(user_id)}</userId>"
        "<userLanguage>de</userLanguage><userLocale>de_DE</userLocale>"
        f"<userName>{e(username)}</userName><userTimeZone>Europe/Berlin</userTimeZone>"
        "<userType>Standard</userType><userUiSkin>Theme3</userUiSkin></userInfo></result>"
        "</loginResponse></soapenv:Body></soapenv:Envelope>"
    ).encode()


def _fault(ns: str, fault_type: str, code: str, message: str) -> bytes:
    e = escape
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{_ENV}" xmlns:sf="{ns}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>sf:{e(code)}</faultcode><faultstring>{e(code)}: {e(message)}</faultstring>"
        f'<detail><sf:{fault_type} xsi:type="sf:{fault_type}">'
        f"<sf:exceptionCode>{e(code)}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{e(message)}</sf:exceptionMessage>"
        f"</sf:{fault_type}></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    ).encode()


def login_fault(code: str = "INVALID_LOGIN",
                message: str = "Invalid username, password, security token; or user locked out."
                ) -> bytes:
    """A partner API LoginFault (HTTP 500), as Salesforce sends for bad credentials."""
    return _fault("urn:fault.partner.soap.sforce.com", "LoginFault", code, message)


def api_fault(code: str, message: str) -> bytes:
    """A partner API ApiFault (HTTP 500), e.g. INVALID_OPERATION for login() at API >= 65.0."""
    return _fault("urn:fault.partner.soap.sforce.com", "UnexpectedErrorFault", code, message)


def metadata_fault(code: str, message: str) -> bytes:
    return _fault("http://soap.sforce.com/2006/04/metadata", "ApiFault", code, message)


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def read_metadata_response(type_name: str, records: list[dict[str, Any]]) -> bytes:
    """readMetadataResponse with one `records` element per component (xsi:type = the type)."""
    parts = []
    for rec in records:
        inner = "".join(f"<{k}>{_xml_value(v)}</{k}>" for k, v in rec.items())
        parts.append(f'<records xsi:type="{escape(type_name)}">{inner}</records>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{_ENV}" xmlns="http://soap.sforce.com/2006/04/metadata"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        f"<readMetadataResponse><result>{''.join(parts)}</result></readMetadataResponse>"
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()


# ------------------------------------------------------------------------------- the two routes

def login(sim: Simulator, major: int, version: str, body: bytes) -> Response:
    """Partner `login(username, password)`: password + security token, or the password alone
    with the org id header (trusted IP ranges)."""
    if major >= 65:
        # SOAP login() is gone from API 65.0 on (Help 005132110); the fault Salesforce sends
        # is INVALID_OPERATION with this text (reported in forcedotcom/wsc#363).
        return Response(500, api_fault(
            "INVALID_OPERATION", f"The SOAP Login operation is not available in the API "
            f"version specified ({version}). Refer to the documentation for supported "
            "versions."), XML)
    try:
        op, fields, headers = parse_envelope(body)
    except ValueError:
        return Response(500, login_fault("INVALID_LOGIN", "Invalid request"), XML)
    if op != "login":
        return Response(500, login_fault("INVALID_OPERATION", f"Unsupported operation {op}"),
                        XML)
    org = sim.find_user((fields.get("username") or [""])[0])
    pw = (fields.get("password") or [""])[0]
    ok = org is not None and (
        pw == org.password + org.security_token
        or (pw == org.password and headers.get("organizationId", "")[:15] == org.org_id[:15]))
    if not ok or org is None:
        return Response(500, login_fault(), XML)
    sim.sleep_latency(org.org_id)
    token = sim.login_ok(org)
    return Response(200, login_response(
        server_url=f"{sim.url}/services/Soap/u/{version}/{org.org_id[:15]}",
        metadata_url=f"{sim.url}/services/Soap/m/{version}/{org.org_id[:15]}",
        session_id=token, user_id=org.user_id, org_id=org.org_id, org_name=org.name,
        username=org.username, sandbox=org.kind == "sandbox"), XML)


def read_metadata(sim: Simulator, body: bytes) -> Response:
    """Metadata `readMetadata(type, fullNames)`; only MobileSettings 'Mobile' has content."""
    try:
        op, fields, headers = parse_envelope(body)
    except ValueError:
        return Response(500, metadata_fault("INVALID_XML", "Invalid SOAP request"), XML)
    org_id = sim.org_for_token(headers.get("sessionId", ""))
    sim.sleep_latency(org_id)
    sim.count_request(org_id)
    if org_id is None:
        return Response(500, metadata_fault(
            "INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal "
            "Session. Session not found, missing session hash"), XML)
    org = sim.org(org_id)
    if org.spec.api_disabled:
        return Response(500, metadata_fault(
            "API_DISABLED_FOR_ORG", "API is not enabled for this Organization or Partner"), XML)
    sim.count_api_use(org_id)
    if op != "readMetadata":
        return sim.limit_headers(org_id, Response(500, metadata_fault(
            "INVALID_OPERATION", f"The simulator does not implement {op}"), XML))
    type_name = (fields.get("type") or [""])[0]
    names = fields.get("fullNames") or []
    records: list[dict[str, Any]] = []
    if type_name == "MobileSettings":
        for name in names:
            if name == "Mobile":
                records.append({"fullName": "Mobile",
                                "enableImportContactFromDevice": False,
                                "enableLightningOnMobile": True,
                                "enableS1EncryptedStoragePref2": org.mobile_caching,
                                "enableS1OfflinePref": True})
    return sim.limit_headers(org_id, Response(200, read_metadata_response(type_name, records),
                                              XML))

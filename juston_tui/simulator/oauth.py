"""The OAuth 2.0 token endpoint (`POST /services/oauth2/token`): the four grants we log in with.

JWT bearer (remoteaccess_oauth_jwt_flow.htm: `aud` must be https://login|test.salesforce.com or
the org's My Domain), client credentials (client_id/secret in the form or as HTTP Basic),
username-password and refresh token. Errors are OAuth objects, not lists:
`{"error": "invalid_grant", "error_description": "..."}` (reference §2k).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from .scenarios import SimOrg
from .transport import Response, json_response, redirect, trickle_of

if TYPE_CHECKING:
    from .server import Simulator

__all__ = ["token_endpoint"]

PATH = "/services/oauth2/token"


def _error(code: str, description: str) -> Response:
    return json_response(400, {"error": code, "error_description": description})


def token_endpoint(sim: Simulator, headers: Any, body: bytes) -> Response:
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    grant = form.get("grant_type", "")
    org: SimOrg | None = None
    if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
        org, error = _jwt_org(sim, form.get("assertion", ""))
    elif grant == "client_credentials":
        key, secret = form.get("client_id", ""), form.get("client_secret", "")
        auth = headers.get("Authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                key, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                key = secret = ""
        org = next((o for o in sim.orgs if o.consumer_key == key
                    and hmac.compare_digest(o.consumer_secret, secret)), None)
        error = None if org else ("invalid_client", "invalid client credentials")
    elif grant == "password":
        org = sim.find_user(form.get("username", ""))
        if org is not None and org.consumer_key != form.get("client_id"):
            return _error("invalid_client_id", "client identifier invalid")
        if org is not None and org.consumer_secret != form.get("client_secret"):
            return _error("invalid_client", "invalid client credentials")
        pw = form.get("password", "")
        if org is None or pw not in (org.password, org.password + org.security_token):
            org, error = None, ("invalid_grant", "authentication failure")
        else:
            error = None
    elif grant == "refresh_token":
        org = sim.org_for_refresh_token(form.get("refresh_token", ""))
        if org is not None and form.get("client_id") not in (None, org.consumer_key):
            org = None
        error = None if org else ("invalid_grant", "expired access/refresh token")
    else:
        return _error("unsupported_grant_type", "grant type not supported")
    if org is None:
        assert error is not None
        return _error(*error)
    sim.sleep_latency(org.org_id)
    fault = sim.take_login_fault(org.org_id)
    if fault is not None and fault.kind == "redirect":
        return redirect(fault, sim.port, PATH, {})
    token = sim.login_ok(org)
    issued = str(int(time.time() * 1000))
    ident = f"{sim.url}/id/{org.org_id}/{org.user_id}"
    sig = base64.b64encode(hmac.new(org.consumer_secret.encode(), (ident + issued).encode(),
                                    hashlib.sha256).digest()).decode()
    resp = json_response(200, {"access_token": token, "instance_url": sim.url, "id": ident,
                               "token_type": "Bearer", "issued_at": issued, "signature": sig,
                               "scope": "api"})
    resp.trickle = trickle_of(fault)
    return resp


def _jwt_org(sim: Simulator, assertion: str) -> tuple[SimOrg | None, tuple[str, str] | None]:
    # PyJWT: ~0.2 s to import, only when a JWT login arrives
    import jwt

    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None, ("invalid_grant", "invalid assertion")
    org = sim.find_user(str(claims.get("sub", "")))
    if org is None:
        return None, ("invalid_grant", "user hasn't approved this consumer")
    if claims.get("iss") != org.consumer_key:
        return None, ("invalid_grant", "invalid client identifier")
    audiences = ["https://login.salesforce.com", "https://test.salesforce.com",
                 f"https://{org.my_domain}.salesforce.com"]
    if not sim.strict:
        audiences.append(sim.url)
    # cryptography: ~0.13 s to import, only when a key is made or read
    from cryptography.hazmat.primitives import serialization

    public = serialization.load_pem_private_key(org.private_key_pem.encode(),
                                                None).public_key()
    try:
        jwt.decode(assertion, public, algorithms=["RS256"], audience=audiences,  # type: ignore[arg-type]
                   options={"require": ["exp", "iss", "sub", "aud"]}, leeway=5)
    except jwt.ExpiredSignatureError:
        return None, ("invalid_grant", "expired authorization code")
    except jwt.InvalidAudienceError:
        return None, ("invalid_grant", "audience is invalid")
    except jwt.PyJWTError:
        return None, ("invalid_grant", "invalid assertion")
    return org, None

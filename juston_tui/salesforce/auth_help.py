"""What juston-tui tells people where they choose how it logs in to an org.

One wording for the CLI (`org add|edit --method`, `login --method`, the warning after choosing
`password`, the probe's warning) and the TUI (org form, credentials form). No imports: the
screens read it on their start-up path.

Salesforce facts, checked against these sources (2026):
- Salesforce Help 005132110, "Platform SOAP API login() Retirement" (updated April 30, 2026):
  SOAP API login() in API 31.0-64.0 retires with the Summer '27 release; it is not available in
  API 65.0 and later; it is disabled by default in newly created orgs (an admin must enable
  it); from Summer '26, in newly created orgs users also need the "Use Any API Auth" user
  permission to authenticate with it (existing orgs may opt in to that enforcement). Salesforce
  recommends External Client Apps and OAuth instead.
- Salesforce Help 005228017, "New Connected Apps Can No Longer Be Created in Spring '26": new
  connected apps come only from package installation or a request to Salesforce Support;
  External Client Apps replace them. The JWT bearer flow help page
  (remoteaccess_oauth_jwt_flow.htm) carries the same note.
- forcedotcom/wsc#363: at API 65.0 login() answers INVALID_OPERATION ("The SOAP Login operation
  is not available in the API version specified (65.0)").
"""

from __future__ import annotations

__all__ = ["METHOD_HELP", "PASSWORD_METHOD_FACTS", "SOAP_RETIREMENT_WARNING"]

SOAP_RETIREMENT_WARNING = (
    "the password method uses SOAP login(), which Salesforce retires in Summer '27 "
    "(API 31.0-64.0) and which API 65.0 no longer has; prefer jwt or client-credentials"
)

PASSWORD_METHOD_FACTS = (
    "Password (username, password, security token) logs in with Salesforce's SOAP login(), "
    "which is going away: API 65.0 no longer has it and Salesforce retires it for API "
    "31.0-64.0 with the Summer '27 release. Orgs created recently have it switched off until "
    "an admin enables it, and from Summer '26 their users also need the \"Use Any API Auth\" "
    "permission. Prefer jwt (JWT bearer: a certificate and a consumer key) or "
    "client-credentials (a consumer secret; needs a My Domain), set up with an External Client "
    "App: new connected apps can no longer be created since Spring '26."
)

METHOD_HELP = (
    "how to log in: jwt (JWT bearer), client-credentials (needs a My Domain), password (SOAP "
    "login(): off by default in new orgs, gone from API 65.0, retired for 31.0-64.0 in Summer "
    "'27; prefer jwt or client-credentials via an External Client App) or token (an access "
    "token, e.g. from sf)"
)

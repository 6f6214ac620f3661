"""Salesforce access: connections, probes -> Snapshot, the concurrent sweep, the vendor org.

Everything here is core (no Textual). Names are resolved on first use (PEP 562), so importing
the package does not pull in requests or simple-salesforce during the UI's start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from juston_tui.salesforce.connection import (
        API_VERSION,
        SOAP_RETIREMENT_WARNING,
        OrgConnection,
        connect,
        required_secrets,
    )
    from juston_tui.salesforce.errors import AccessError, AuthError, Cancelled, SessionExpired
    from juston_tui.salesforce.metadata import read_browser_caching
    from juston_tui.salesforce.probe import probe_org
    from juston_tui.salesforce.settings import ProbeSettings
    from juston_tui.salesforce.sweeper import sweep

_WHERE = {
    "API_VERSION": "connection",
    "SOAP_RETIREMENT_WARNING": "connection",
    "OrgConnection": "connection",
    "connect": "connection",
    "required_secrets": "connection",
    "AccessError": "errors",
    "AuthError": "errors",
    "Cancelled": "errors",
    "SessionExpired": "errors",
    "read_browser_caching": "metadata",
    "probe_org": "probe",
    "ProbeSettings": "settings",
    "sweep": "sweeper",
}

__all__ = [
    "API_VERSION",
    "SOAP_RETIREMENT_WARNING",
    "AccessError",
    "AuthError",
    "Cancelled",
    "OrgConnection",
    "ProbeSettings",
    "SessionExpired",
    "connect",
    "probe_org",
    "read_browser_caching",
    "required_secrets",
    "sweep",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'juston_tui.salesforce' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"juston_tui.salesforce.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))

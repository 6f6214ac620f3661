"""The demo's simulator process as the demo sees it: where it listens, and whether it answers."""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from juston_tui.simulator import SimOrg



@dataclass(frozen=True)
class SimulatorInfo:
    """A running demo simulator: where it listens, the CA to trust, its orgs' credentials."""

    url: str
    ca_path: str
    pid: int
    instance: str
    orgs_path: Path

    @property
    def orgs(self) -> list[SimOrg]:
        # the simulator (http.server, ssl, its data): only where it runs
        from juston_tui.simulator import SimOrg

        payload = json.loads(self.orgs_path.read_text(encoding="utf-8"))
        return [SimOrg(**entry) for entry in payload["orgs"]]

    @property
    def vendor_org(self) -> SimOrg | None:
        return next((o for o in self.orgs if o.spec.vendor), None)


def ping(url: str, ca_path: str, timeout: float = 3.0) -> bool:
    """Whether `url` is a simulator we trust: TLS verified with its CA, and Salesforce's
    versions list at /services/data/ (what every client asks first)."""
    host, _, port = url.removeprefix("https://").partition(":")
    try:
        context = ssl.create_default_context(cafile=ca_path)
        conn = http.client.HTTPSConnection(host, int(port or 443), context=context,
                                           timeout=timeout)
        try:
            conn.request("GET", "/services/data/")
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
    except (OSError, ValueError, ssl.SSLError, http.client.HTTPException):
        return False
    if response.status != 200:
        return False
    try:
        return isinstance(json.loads(body), list)
    except ValueError:
        return False


"""The local org simulator: a real HTTPS "Salesforce" on 127.0.0.1 for the demo, tests and benches.

    from juston_tui.simulator import Simulator, SimOrg, CURRENT_VERSIONS, SCENARIOS
    with Simulator(scenario_set="demo") as sim:      # or Simulator([...orgs], port=0, batch_size=3)
        sim.url, sim.ca_path, sim.orgs, sim.org(org_id), sim.vendor_org
        sim.make_org("healthy", 7)                    # deterministic extra org
        sim.set_fault(org_id, "latency" | "hang" | "expire_session" | "limit_exceeded"
                      | "server_error" | "malformed" | "trickle" | "redirect",
                      count=None, seconds=None, target=None)
        sim.set_latency(0.15)                         # every org; or org_id=...
        sim.request_count(), sim.login_count(), sim.peak_in_flight(), sim.reset_counters()

Clients must trust `sim.ca_path` (requests: ``session.verify = sim.ca_path`` and
``session.trust_env = False``, because REQUESTS_CA_BUNDLE overrides `verify`). simple-salesforce's
`sf.mdapi` (zeep) uses its own requests session: it only trusts the simulator when the environment
variable REQUESTS_CA_BUNDLE points at `sim.ca_path`; or POST the SOAP envelope yourself.

Layout: server.py is the control facade above; each API answers in a module of its own
(oauth, soap, rest, tooling, composite, vendor) over transport.py; see docs/ARCHITECTURE.md.

Server faults: `server_error` alternates 500 (JSON UNKNOWN_EXCEPTION) and 503 (HTML page);
`hang` waits 30 s (or `seconds`) and is released by `stop()`; latency also applies to logins.
Hostile-server faults (logins too): `trickle` sends the answer one byte every 0.5 s (or
`seconds`); `redirect` answers 307 to `target` (default https://localhost:PORT, another origin).
"""

from .clock import SimClock
from .faults import FAULT_KINDS
from .scenarios import (
    BALANCE_FIELDS,
    BALANCE_OBJECT,
    CONNECTED_APP_NAME,
    CURRENT_VERSIONS,
    PACKAGE_NAMES,
    SCENARIO_SETS,
    SCENARIOS,
    Scenario,
    SimOrg,
    Version,
    make_org,
)
from .server import Simulator

__all__ = [
    "BALANCE_FIELDS",
    "BALANCE_OBJECT",
    "CONNECTED_APP_NAME",
    "CURRENT_VERSIONS",
    "FAULT_KINDS",
    "PACKAGE_NAMES",
    "SCENARIOS",
    "SCENARIO_SETS",
    "Scenario",
    "SimClock",
    "SimOrg",
    "Simulator",
    "Version",
    "make_org",
]

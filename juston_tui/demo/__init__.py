"""`juston-tui --demo`: a place to try everything, on the built-in org simulator.

The demo lives in one folder under the user's cache directory (`~/.cache/juston-tui/demo`, or
JUSTON_TUI_DEMO_DIR), clearly apart from the real store and the real keyring:

- `demo-store.json`: a store seeded once from the simulator's orgs (push registrations, one real
  check of every org, contacts, pushes, checklist progress), then kept, so the TUI with `--demo`
  and `juston-tui --demo status` in another terminal see and change the same data;
- `demo-credentials.json` (0600): the simulated orgs' secrets. It is a plain file on purpose
  (no passphrase to type in a demo) and therefore refuses any org that is not one of the
  simulator's: a real org's secret can never land in it;
- `simulator/`: the simulator, a background process of its own (simulator/daemon.py) started
  on demand by the first demo command that needs it and shared by all of them.

`juston-tui --demo reset` stops the simulator and starts the demo afresh. Nothing outside the
folder is touched, and a folder that is not recognised as a demo is never changed or removed.

The package, one module per seam (this file is the facade: import from here):
  place.py        the folder, its marker, the lock, the simulator daemon's start and stop
  simulator.py    SimulatorInfo (a running simulator) and the trust check `ping`
  credentials.py  DemoFileBackend, the demo-only credentials file
  environment.py  DemoEnv, `open_demo`, and the seeding: orgs, secrets, one real check each
  contacts.py     demo contacts      } each has `seed(store, orgs)`, called in this order
  pushes.py       demo pushes        } by environment.SEEDS, the one place demo data is
  checklist.py    checklist progress } made (the feature packages know nothing of it)
"""

from __future__ import annotations

from juston_tui.demo.credentials import DemoFileBackend
from juston_tui.demo.environment import (
    CLI_HINT,
    SEED_NAMES,
    SEEDS,
    DemoEnv,
    open_demo,
    register_simulator_orgs,
)
from juston_tui.demo.place import DEMO_DIR_ENV, MARKER, DemoPlace
from juston_tui.demo.simulator import SimulatorInfo

__all__ = [
    "CLI_HINT",
    "DEMO_DIR_ENV",
    "MARKER",
    "SEEDS",
    "SEED_NAMES",
    "DemoEnv",
    "DemoFileBackend",
    "DemoPlace",
    "SimulatorInfo",
    "open_demo",
    "register_simulator_orgs",
]

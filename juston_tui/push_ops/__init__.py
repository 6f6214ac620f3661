"""Running a push upgrade from juston-tui: plan, announce, schedule in waves, watch, abort.

No Textual here (the core): the CLI (`juston-tui push ...`, commands/push.py) and any screen
call these use cases. Mechanism against the packaging org is `juston_tui.salesforce.push_api`;
this package decides which orgs, when, in which waves, and keeps the record:
- plans.py    the `push_plans` table: plans, waves, exclusions, announcements, request ids
- audit.py    the `push_audit` table: every write to the packaging org (who, when, what)
"""

from __future__ import annotations

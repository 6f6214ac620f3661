"""`juston-tui push ...` against the simulator's packaging org (real HTTPS on 127.0.0.1):
the plan and its reasons, dry-run changing nothing, the announcement gate, batching with
dropped orgs, the orphan rule, read-only refusal, waves gated on the failure rate, the audit,
the announcement e-mails, status and abort."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from juston_tui.cli import _known_error, build_parser
from juston_tui.commands import Context, UserError
from juston_tui.credentials import CredentialStore, open_credentials
from juston_tui.demo import register_simulator_orgs
from juston_tui.model import Check, Contact, Org, PushRegistration, Snapshot
from juston_tui.push_ops.plans import get_plan
from juston_tui.simulator import Simulator
from juston_tui.store import Store

REGISTERED = PushRegistration().transition("requested", on=date(2026, 10, 1),
                                           ticket="JO-1").transition("registered",
                                                                     on=date(2026, 10, 2))
NAMES = {
    "ticket": "Alpenblick Versicherung AG (Full)",  # sandbox with a ticket: wave 1
    "noticket": "Müller Logistik GmbH (UAT)",  # sandbox without a ticket
    "blocked": "Schneider Energie AG",
    "current": "Müller Logistik GmbH",  # already on the target
    "zuerich": "Zürcher Treuhand AG",  # failing checks
    "alpen": "Alpenblick Versicherung AG",
    "evil": "[bold red]Evil[/] AG",
    "brandt": "Brandt & Söhne KG",
}


@dataclass
class World:
    sim: Simulator
    db: Path
    creds: CredentialStore
    ids: dict[str, str]
    extra: list[str]  # registered subscribers without an org of their own
    inactive: str
    requested: str  # a subscriber whose registration was only requested

    def store(self) -> Store:
        return Store.open(self.db)


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with Simulator(scenario_set="demo") as sim:
        db = tmp_path / "s.json"
        store = Store.open(db)
        creds = open_credentials("memory")
        orgs = register_simulator_orgs(store, creds, sim, method="token")
        ids = {key: next(o.org_id for o in orgs if o.name == name)
               for key, name in NAMES.items()}
        extra = [sim.add_subscriber() for _ in range(10)]
        inactive = sim.add_subscriber(status="Inactive")
        requested = sim.add_subscriber()
        store.put_orgs([Org.create(org_id=i, name=f"Subscriber {n:02d}", push=REGISTERED)
                        for n, i in enumerate([*extra, inactive])]
                       + [Org.create(org_id=requested, name="Requested only",
                                     push=PushRegistration().transition(
                                         "requested", on=date(2026, 11, 1), ticket="JO-2"))])
        with store.transaction():
            for org in orgs:
                store.update_org(org.org_id, push=REGISTERED)
            store.update_org(ids["ticket"], sandbox_push_ticket="JO-4711")
        store.save_snapshot(Snapshot(ids["zuerich"], "2026-11-30T10:00:00Z", (
            Check("package.billing", "ok", "2.80.1"),
            Check("licenses", "fail", "no free licences"))))
        store.add_contact(Contact.create(full_name="Anna Admin", email="anna@zh.example",
                                         title="Admin", org_ids=[ids["zuerich"], ids["alpen"]]))
        store.add_contact(Contact.create(full_name="Bert Berg", email="bert@alpen.example",
                                         title="CFO", org_ids=[ids["alpen"]]))
        store.add_contact(Contact.create(full_name="Nope", email="nope@x.example",
                                         title="-", org_ids=[ids["zuerich"]],
                                         eligible=False))
        store.close()
        yield World(sim, db, creds, ids, extra, inactive, requested)


def run(w: World, *argv: str) -> tuple[int, str, str]:
    """The CLI as `main` runs it (one-line errors), with the test's keyring."""
    args = build_parser().parse_args(["--db", str(w.db), *argv])
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(args, out=out, err=err, _credentials=w.creds)
    try:
        code = int(args.func(args, ctx) or 0)
    except UserError as exc:
        err.write(f"juston-tui: error: {exc}\n")
        code = exc.code
    except Exception as exc:
        message = _known_error(exc)
        if message is None:
            raise
        err.write(f"juston-tui: error: {message}\n")
        code = 2
    finally:
        ctx.close()
    return code, out.getvalue(), err.getvalue()


def plan_json(w: World, *argv: str) -> dict:
    code, out, err = run(w, "push", "plan", "--json", *argv)
    assert code == 0, err
    return json.loads(out)


def in_future(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_plan_includes_orgs_by_the_one_rule_and_says_why_others_are_out(w: World) -> None:
    plan = plan_json(w, "--exclude", w.ids["brandt"], "--reason", "customer asked to wait")
    assert plan["version"] == "2.80.2"  # latest released, non-deprecated (2.81.0 is deprecated)
    reasons = {e["org_id"]: e["reason"] for e in plan["excluded"]}
    assert reasons[w.ids["noticket"]] == "sandbox without a push ticket"
    assert reasons[w.ids["blocked"]].startswith("blocked by the subscriber")
    assert reasons[w.ids["current"]] == "already on 2.80.2 (target 2.80.2)"
    assert reasons[w.inactive].startswith("inactive")
    assert reasons[w.requested].startswith("not registered for push upgrades (requested)")
    assert reasons[w.ids["brandt"]] == "excluded by the user: customer asked to wait"
    waves = plan["waves"]
    assert [w_["name"] for w_ in waves] == ["sandboxes and test orgs", "pilot", "the rest"]
    assert [o["org_id"] for o in waves[0]["orgs"]] == [w.ids["ticket"]]
    included = {o["org_id"]: o for wave in waves for o in wave["orgs"]}
    production = len(included) - 1
    assert len(waves[1]["orgs"]) == -(-production * 2 // 10)  # ceil(0.2 * production)
    assert set(w.extra) <= set(included) and not set(reasons) & set(included)
    assert included[w.ids["zuerich"]]["failing_checks"] == ["licenses"]
    # wave 1 at the calendar's projected slot: a Saturday 01:00 in Berlin, a week ahead at least
    start = datetime.fromisoformat(waves[0]["start_utc"].replace("Z", "+00:00"))
    local = start.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert (local.weekday(), local.hour) == (5, 1) and start > datetime.now(UTC) + timedelta(7)
    assert waves[1]["start_utc"] > waves[0]["start_utc"]
    store = w.store()  # saved
    saved = get_plan(store, plan["id"])
    store.close()
    assert saved is not None and saved.org_count == len(included)


def test_plan_version_and_start_can_be_chosen(w: World) -> None:
    plan = plan_json(w, "--version", "2.80.1", "--at", "2027-03-06T01:00", "--pilot-share", "0")
    assert plan["version"] == "2.80.1" and plan["waves"][0]["start_utc"] == "2027-03-06T00:00:00Z"
    assert [x["name"] for x in plan["waves"]] == ["production"]  # the sandbox is on 2.80.1
    code, _out, err = run(w, "push", "plan", "--version", "2.81.0")
    assert code == 2 and "deprecated" in err and err.count("\n") == 1
    code, _out, err = run(w, "push", "plan", "--version", "9.9")
    assert code == 2 and "no released version 9.9" in err
    code, _out, err = run(w, "push", "plan", "--exclude", w.ids["brandt"])
    assert code == 2 and "--reason" in err
    code, out, _err = run(w, "push", "plan")
    assert code == 0 and out.startswith("plan plan-") and "check first:" in out
    assert "left out:" in out

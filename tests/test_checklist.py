"""The install checklist core: seed-001 coverage, verification mapping, state, reports, demo."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from juston_tui import checklist as cl
from juston_tui.checklist import (
    Checklist,
    StepState,
    Verification,
    evaluate,
    evaluate_all,
    load_checklist,
    load_states,
    mark,
    next_open,
    progress,
    record_verifications,
    report_dict,
    report_markdown,
    set_note,
    skip,
    step_status,
    toggle_done,
    verify_org,
    with_verifications,
)
from juston_tui.demo import checklist as demo_checklist
from juston_tui.model import Check, Org, Snapshot, ValidationError
from juston_tui.salesforce import checks as C
from juston_tui.salesforce.facts import (
    ApiUsage,
    BalanceFacts,
    ConnectedAppFacts,
    Facts,
    LicenceFacts,
    OrgFacts,
    PackageFacts,
    TaskTypeFacts,
)
from juston_tui.salesforce.settings import ProbeSettings
from juston_tui.store import ReadOnlyError, Store

REPO = Path(__file__).resolve().parent.parent
SEED_001 = REPO / "tests" / "data" / "installation_guide.txt"  # the guide, verbatim
ORG = "00D5g000004Xyz1EAC"
ORG2 = "00D5g000006Sbx1EAC"


# -- seed 001 coverage, derived from the document itself ------------------------------------------
@pytest.fixture(scope="module")
def seed() -> str:
    return SEED_001.read_text(encoding="utf-8")


def norm(text: str) -> str:
    text = text.replace("(see why)", "")
    return " ".join(text.split()).casefold().rstrip(" .:,")


def corpus(checklist: Checklist) -> str:
    return norm("\n".join(s.text() for s in checklist.steps))


def instruction_lines(seed: str) -> list[str]:
    """Numbered instructions, bullets and indented lines under them (what the admin does)."""
    body = seed.split("Preparing JustOn Installation", 1)[1]
    body = body.split("For further information", 1)[0]
    out = []
    for raw in body.splitlines():
        if not raw.strip() or not raw[:1].isspace():
            continue  # headings and the explanatory paragraphs are not indented
        line = re.sub(r"^\s*(?:\d+\.|•)\s*", "", raw).strip()
        line = re.sub(r"^and ", "", line)  # the last bullet of a list
        if line and line != "When prompted":
            out.append(line)
    return out


def test_seed_coverage_finds_what_it_should(seed: str) -> None:
    """The extraction itself must see the document's instructions (or the test proves nothing)."""
    lines = instruction_lines(seed)
    assert len(lines) >= 30
    assert "Click Get It Now to invoke the installation procedure." in lines
    assert "Assign a JustOn license to your users." in lines


def test_every_instruction_of_seed_001_is_a_step_in_document_order(seed: str) -> None:
    checklist = load_checklist()
    texts = [norm(s.text()) for s in checklist.steps]
    missing = [line for line in instruction_lines(seed) if norm(line) not in corpus(checklist)]
    assert not missing, f"seed 001 instructions missing from checklist.toml: {missing}"
    position = 0
    for line in instruction_lines(seed):
        wanted = norm(line)
        found = next((i for i in range(position, len(texts)) if wanted in texts[i]), None)
        assert found is not None, f"{line!r} is out of the document's order (after step "\
            f"{checklist.steps[position].id})"
        position = found


def test_requirement_questions_and_headings_are_groups_and_steps(seed: str) -> None:
    checklist = load_checklist()
    intro = seed.split("Preparing JustOn Installation", 1)[0]
    questions = [q.strip() for q in intro.splitlines() if q.strip().endswith("?")]
    assert len(questions) == 4
    titles = [s.title for s in checklist.steps_in("requirements")]
    assert titles == questions
    lines = seed.splitlines()
    headings = [ln.strip() for ln in lines[1:] if ln.strip() and not ln[:1].isspace()
                and len(ln.strip()) < 60 and ln.strip()[-1] not in ".:?!,"]
    assert headings == [g.title for g in checklist.groups[1:]]


def test_setup_paths_of_seed_001_are_in_the_where_fields(seed: str) -> None:
    paths = re.findall(r"navigate to ([A-Z][\w ]*(?: > [A-Z][\w ]*)+)\.", seed)
    assert len(paths) == 3
    places = [p for s in load_checklist().steps for p in s.where]
    for path in paths:
        assert any(path in place for place in places), path


def ui_labels(seed: str) -> set[str]:
    """The UI labels the document names (buttons, options, fields, the error message)."""
    patterns = [
        r"\b[Cc]lick ([A-Z][\w ]*?)(?= to | in |\.)",
        r"\bselect ([A-Z][\w -]+?)\.\s*$",
        r"deselect the checkbox (.+?)\.\s*$",
        r"\boption ([A-Z][\w -]+?)(?= \(| in |\s*$)",
        r"\bIn the ([A-Z][\w ]*?) (?:field|section)",
        r"default value (.+?) will",
        r"at least, ([A-Z][\w ]+?)\.",
        r"connected app,? (JustOn Platform)",
        r"^\s*(.+!)\s*$",
    ]
    found: set[str] = set()
    for pattern in patterns:
        found.update(m.strip() for m in re.findall(pattern, seed, flags=re.MULTILINE))
    return found


def test_quoted_ui_labels_of_seed_001_appear_verbatim(seed: str) -> None:
    labels = ui_labels(seed)
    for expected in ("Get It Now", "Install for Admins Only", "Admin approved users are "
                     "pre-authorized", "All users may self-authorize", "Manage Profiles",
                     "System Administrator", "Permitted Users", "Caching"):
        assert expected in labels  # the extraction works
    text = "\n".join(s.text() for s in load_checklist().steps)
    missing = sorted(label for label in labels if label not in text)
    assert not missing, f"UI labels of seed 001 missing (case-sensitive): {missing}"


# -- the data file ----------------------------------------------------------------------------
def test_data_file_shape() -> None:
    checklist = load_checklist()
    assert [g.id for g in checklist.groups] == [
        "requirements", "preparing", "installing", "app_access", "post_install"]
    assert len({s.id for s in checklist.steps}) == len(checklist.steps) == 25
    for step in checklist.steps:
        assert step.verify in cl.VERIFY_KINDS
        assert step.what and step.why and step.where
    kinds = {s.id: s.verify for s in checklist.steps}
    assert kinds["requirements.edition"] == "organization"
    assert kinds["installing.follow"] == "package.billing"
    assert kinds["preparing.browser_caching"] == "browser_caching"
    assert kinds["post_install.licences"] == "licenses"
    assert kinds["post_install.login_access"] == "manual"
    assert kinds["requirements.browsers"] == "manual"
    assert set(cl.SNAPSHOT_CHECKS) <= set(kinds.values())


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d["steps"][0].update(verify="magic"), "verify must be"),
        (lambda d: d["steps"][1].update(id=d["steps"][0]["id"]), "unique"),
        (lambda d: d["steps"][0].update(group="nowhere"), "unknown group"),
        (lambda d: d["steps"][0].update(where=[]), "where"),
        (lambda d: d["steps"][0].pop("why"), "'why'"),
        (lambda d: d["steps"].append(dict(d["steps"][0], id="late")), "group by group"),
    ],
)
def test_malformed_data_is_refused_with_the_step_named(mutate: Any, fragment: str) -> None:
    import tomllib
    from importlib.resources import files

    data = tomllib.loads(files("juston_tui.data").joinpath("checklist.toml").read_text())
    mutate(data)
    with pytest.raises(cl.ChecklistError, match=fragment):
        cl.parse_checklist(data)


# -- verification shows the rules' checks (snapshots made by the real rules) --------------------
S = ProbeSettings.defaults()
BILLING = PackageFacts("JustOn Billing & Invoice Management", "ONB2", "2.80.3",
                       "04t1t000003Kq7zAAC")
APP = ConnectedAppFacts(found=True, name="JustOn Platform", id="0H4", admin_approved=True,
                        profiles=("System Administrator",), admin_profile="System Administrator",
                        admin_preauthorized=True)


def healthy_facts(**over: Any) -> Facts:
    base = Facts(
        organization=OrgFacts(ORG, "Acme", "Enterprise Edition", False, "EU45", "production"),
        packages={"billing": BILLING, "cash": None},
        licenses=(LicenceFacts("ONB2", "Active", 25, 17, ""),),
        connected_app=APP,
        balance=BalanceFacts(("JustOn Billing",), ("JustOn Billing",), ("JustOn Billing",)),
        task_type=TaskTypeFacts(("JustOn Billing",)),
        api_usage=ApiUsage(10, 15000),
        current=dict(S.current),
    )
    return dataclasses.replace(base, **over)


def snap(facts: Facts | None = None, *, error: str | None = None) -> Snapshot:
    """A snapshot as probe_org makes it: the checks are the rules' verdicts on the facts."""
    if error is not None:
        return Snapshot(ORG, "2026-03-01T10:00:00Z", C.unreachable(error), error, {})
    facts = facts or healthy_facts()
    return Snapshot(ORG, "2026-03-01T10:00:00Z", C.evaluate(facts, S), None, facts.to_doc())


def by_kind(results: dict[str, Verification]) -> dict[str, str]:
    steps = load_checklist()
    return {steps.step(k).verify: v.verdict for k, v in results.items()}


def test_healthy_snapshot_verifies_every_api_step_with_evidence() -> None:
    results = evaluate_all(load_checklist(), snap(), caching=False,
                           caching_read_at="2026-03-01T10:00:01Z")
    assert set(by_kind(results).values()) == {"ok"}
    assert len(results) == sum(1 for s in load_checklist().steps if s.api_checked)
    pkg = results["installing.follow"]
    assert pkg.evidence["version"] == "2.80.3" and pkg.verified_at == "2026-03-01T10:00:00Z"
    assert "2.80.3" in pkg.reason and "assumed current 2.80" in pkg.reason
    assert results["requirements.edition"].evidence["edition"] == "Enterprise Edition"
    assert results["post_install.licences"].evidence["licenses"][0]["used"] == 17
    assert results["preparing.browser_caching"].verified_at == "2026-03-01T10:00:01Z"
    # manual and information steps are never "verified" by the API
    assert "post_install.login_access" not in results
    assert "requirements.production" not in results


@pytest.mark.parametrize(
    ("facts", "kind", "verdict", "words"),
    [
        ({"organization": OrgFacts(ORG, "Acme", "Professional Edition")}, "organization",
         "fail", "not an edition JustOn runs on"),
        ({"packages": {"billing": None, "cash": None}}, "package.billing", "fail",
         "not installed"),
        ({"connected_app": dataclasses.replace(APP, admin_approved=False)},
         "connected_app.permitted_users", "fail", "All users may self-authorize"),
        ({"connected_app": dataclasses.replace(APP, admin_approved=None)},
         "connected_app.permitted_users", "unknown", "not readable"),
        ({"connected_app": dataclasses.replace(APP, profiles=("Finance",),
                                               admin_preauthorized=False)},
         "connected_app.sysadmin", "fail", "System Administrator is not pre-authorized"),
        ({"connected_app": ConnectedAppFacts(found=False, name="JustOn Platform")},
         "connected_app.sysadmin", "unknown", "not found"),
        ({"balance": BalanceFacts(("X",), (), ())}, "permissions.balance", "fail",
         "its fields and the Balance tab"),
        ({"balance": BalanceFacts(("X",), ("Y",), ("Z",))}, "permissions.balance", "warn",
         "spread over several"),
        ({"task_type": TaskTypeFacts()}, "permissions.task_type", "fail", "Type field of Task"),
        ({"licenses": (LicenceFacts("ONB2", "Active", 25, 0, ""),)}, "licenses", "fail",
         "0 of 25"),
        ({"licenses": (LicenceFacts("ONB2", "Active", -1, 0, ""),)}, "licenses", "ok",
         "site licence"),
        ({"licenses": ()}, "licenses", "unknown", "no PackageLicense record"),
    ],
)
def test_each_step_shows_its_check(facts: dict[str, Any], kind: str, verdict: str,
                                   words: str) -> None:
    step = next(s for s in load_checklist().steps if s.verify == kind)
    snapshot = snap(healthy_facts(**facts))
    result = evaluate(step, snapshot)
    check = snapshot.check(kind)
    assert result is not None and check is not None
    assert result.verdict == check.verdict == verdict, result
    assert result.reason == check.reason and words in result.reason
    if verdict in ("warn", "fail"):
        assert result.fix == check.fix and result.fix  # the remedy in the seed's words


def test_outdated_package_is_installed_but_says_so() -> None:
    step = load_checklist().step("installing.follow")
    old = dataclasses.replace(BILLING, version="2.78.1")
    result = evaluate(step, snap(healthy_facts(packages={"billing": old, "cash": None})))
    assert result is not None and result.verdict == "warn"
    assert "outdated (assumed current 2.80" in result.reason
    assert step_status(StepState(ORG, step.id, verification=result)) == "verified"


def test_browser_caching_true_false_none() -> None:
    step = load_checklist().step("preparing.browser_caching")
    assert evaluate(step, None, caching=False).verdict == "ok"  # type: ignore[union-attr]
    on = evaluate(step, None, caching=True)
    assert on is not None and on.verdict == "fail" and "Session Settings" in on.fix
    assert "Enable secure and persistent browser caching" in on.reason
    assert evaluate(step, None, caching=None).verdict == "unknown"  # type: ignore[union-attr]


def test_unreachable_org_makes_every_snapshot_step_unknown() -> None:
    results = evaluate_all(load_checklist(), snap(error="login failed: invalid_grant"),
                           caching=None)
    assert set(by_kind(results).values()) == {"unknown"}
    assert "invalid_grant" in results["installing.follow"].reason
    assert "juston-tui login" in results["installing.follow"].fix


def test_a_check_the_snapshot_lacks_is_unknown() -> None:
    partial = Snapshot(ORG, "2026-03-01T10:00:00Z", (Check("organization", "ok", "fine"),))
    result = evaluate(load_checklist().step("post_install.licences"), partial)
    assert result is not None and result.verdict == "unknown"
    assert "did not report licenses" in result.reason


def test_untrusted_fact_text_is_cleaned() -> None:
    facts = healthy_facts(organization=OrgFacts(ORG, "Acme", "Evil\x1b]0;x\x07 Edition"))
    result = evaluate(load_checklist().step("requirements.edition"), snap(facts))
    assert result is not None and "\x1b" not in result.reason and "\x07" not in result.reason
    assert all("\x1b" not in str(v) for v in result.evidence.values())


def test_verify_org_probes_once_reads_caching_and_reports_progress() -> None:
    calls: list[str] = []
    seen: list[tuple[int, int, str]] = []

    def probe(org: Org, credentials: object, *, timeout: float, settings: object) -> Snapshot:
        calls.append("probe")
        return snap()

    def read_caching(org: Org, credentials: object, *, timeout: float) -> bool | None:
        calls.append("caching")
        return True

    org = Org.create(org_id=ORG, name="Acme")
    outcome = verify_org(org, object(), probe=probe, read_caching=read_caching,  # type: ignore[arg-type]
                         on_progress=lambda *a: seen.append(a))
    assert calls == ["probe", "caching"]
    assert [s[:2] for s in seen] == [(0, 2), (1, 2), (2, 2)]
    assert outcome.failing == ["preparing.browser_caching"]
    assert outcome.snapshot is not None


def test_verify_org_survives_a_raising_probe() -> None:
    def probe(org: Org, credentials: object, *, timeout: float, settings: object) -> Snapshot:
        raise RuntimeError("boom")

    def read_caching(org: Org, credentials: object, *, timeout: float) -> bool | None:
        raise RuntimeError("boom")

    outcome = verify_org(Org.create(org_id=ORG, name="Acme"), object(),  # type: ignore[arg-type]
                         probe=probe, read_caching=read_caching)
    assert set(v.verdict for v in outcome.results.values()) == {"unknown"}
    assert outcome.snapshot is not None and "boom" in (outcome.snapshot.error or "")


def test_verify_org_probes_with_the_stores_settings(store: Store) -> None:
    """The checklist judges by the same current versions as the registry and `status`."""
    store.set_setting("current_versions", {"billing": "9.9.9"})
    seen: list[ProbeSettings] = []

    def probe(org: Org, credentials: object, *, timeout: float,
              settings: ProbeSettings) -> Snapshot:
        seen.append(settings)
        return snap()

    def read_caching(org: Org, credentials: object, *, timeout: float) -> bool | None:
        return False

    org = Org.create(org_id=ORG, name="Acme")
    verify_org(org, object(), probe=probe, read_caching=read_caching,  # type: ignore[arg-type]
               store=store)
    explicit = ProbeSettings.defaults().with_current_versions({"billing": "8.8.8"})
    verify_org(org, object(), probe=probe, read_caching=read_caching,  # type: ignore[arg-type]
               settings=explicit)
    assert [s.current_versions["billing"] for s in seen] == ["9.9.9", "8.8.8"]


# -- state transitions and persistence --------------------------------------------------------
def test_toggle_skip_note_and_reopen(store: Store) -> None:
    st = toggle_done(store, ORG, "requirements.browsers", by="alice")
    assert (st.state, st.by) == ("done", "alice") and st.at.endswith("Z")
    assert toggle_done(store, ORG, "requirements.browsers").state == "open"
    with pytest.raises(ValidationError) as err:
        skip(store, ORG, "requirements.browsers", "   ")
    assert "skip_reason" in err.value.errors
    st = skip(store, ORG, "requirements.browsers", "  not our  team ", by="bob")
    assert (st.state, st.skip_reason, st.by) == ("skipped", "not our team", "bob")
    st = set_note(store, ORG, "requirements.browsers", "ask IT", by="carol")
    assert (st.state, st.note, st.note_by) == ("skipped", "ask IT", "carol")
    st = toggle_done(store, ORG, "requirements.browsers")
    assert st.state == "done" and st.skip_reason == "" and st.note == "ask IT"
    assert set_note(store, ORG, "requirements.browsers", "").note_by == ""
    with pytest.raises(ValidationError) as err:
        mark(store, ORG, "nope.step", "done")
    assert "step_id" in err.value.errors
    with pytest.raises(ValidationError):
        mark(store, ORG, "requirements.browsers", "finished")
    with pytest.raises(ValidationError):
        set_note(store, ORG, "requirements.browsers", "x" * (cl.NOTE_LIMIT + 1))


def test_default_who_is_the_os_user(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "osuser")
    assert toggle_done(store, ORG, "installing.listing").by == "osuser"

    def broken() -> str:
        raise OSError("no user")

    monkeypatch.setattr("getpass.getuser", broken)
    assert toggle_done(store, ORG, "installing.listing").by == "unknown"


def test_failed_verification_never_erases_a_manual_mark(store: Store) -> None:
    mark(store, ORG, "app_access.permitted_users", "done", by="alice")
    set_note(store, ORG, "app_access.permitted_users", "set on Monday", by="alice")
    fail = Verification("fail", "self-authorize", "the fix", {"permitted users": "All"}, "t1")
    record_verifications(store, ORG, {"app_access.permitted_users": fail})
    st = load_states(store, ORG)["app_access.permitted_users"]
    assert (st.state, st.by, st.note) == ("done", "alice", "set on Monday")
    assert st.verification == fail
    assert step_status(st) == "failing"
    # and a manual change after the verification keeps the verification
    st = toggle_done(store, ORG, "app_access.permitted_users")
    assert st.state == "open" and st.verification == fail


def test_read_only_verification_is_laid_over_and_never_written(store: Store) -> None:
    mark(store, ORG, "requirements.edition", "done", by="alice")
    before = load_states(store, ORG)
    ok = Verification("ok", "fine", verified_at="t1")
    shown = with_verifications(before, ORG, {"requirements.edition": ok,
                                             "installing.follow": ok})
    assert (shown["requirements.edition"].by, shown["requirements.edition"].verification) == (
        "alice", ok)
    follow = shown["installing.follow"]
    assert follow.state == "open" and follow.verification == ok
    assert before["requirements.edition"].verification is None  # the given records unchanged
    assert load_states(store, ORG) == before  # and nothing stored


def test_record_verifications_is_one_write_and_one_snapshot(store: Store) -> None:
    before = store.write_count
    results = evaluate_all(load_checklist(), snap(), caching=False)
    record_verifications(store, ORG, results, snapshot=snap())
    # Every step's verification in one store write; the snapshot in its own file (one append).
    assert store.write_count - before == 2
    assert store.latest_snapshot(ORG) is not None
    assert len(load_states(store, ORG)) == len(results)
    toggle_done(store, ORG, "installing.listing")
    assert store.write_count - before == 3  # one write per change


def test_state_survives_reopening_the_store(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    first = Store.open(path)
    skip(first, ORG, "preparing.features", "done by partner", by="alice")
    toggle_done(first, ORG, "requirements.edition", by="alice")
    toggle_done(first, ORG2, "requirements.edition", by="bob")
    first.close()
    again = Store.open(path)
    states = load_states(again, ORG)
    assert set(states) == {"preparing.features", "requirements.edition"}
    assert states["preparing.features"].skip_reason == "done by partner"
    assert load_states(again, ORG2)["requirements.edition"].by == "bob"
    assert again.get_doc("checklist", f"{ORG}/preparing.features")["key"] == \
        f"{ORG}/preparing.features"


def test_read_only_store_refuses_marks(tmp_path: Path) -> None:
    Store.open(tmp_path / "s.json").close()
    ro = Store.open(tmp_path / "s.json", read_only=True)
    with pytest.raises(ReadOnlyError):
        toggle_done(ro, ORG, "requirements.edition")


def test_status_progress_and_next_open() -> None:
    checklist = load_checklist()
    ok = Verification("ok", "fine")
    fail = Verification("fail", "bad")
    states = {
        "requirements.edition": StepState(ORG, "requirements.edition", verification=ok),
        "requirements.browsers": StepState(ORG, "requirements.browsers", "done"),
        "requirements.production": StepState(ORG, "requirements.production", "skipped",
                                             skip_reason="n/a", verification=fail),
        "requirements.admins_only": StepState(ORG, "requirements.admins_only", "done",
                                              verification=fail),
    }
    assert [step_status(states[s.id]) for s in checklist.steps_in("requirements")] == [
        "verified", "done", "skipped", "failing"]
    prog = progress(checklist, states)
    assert prog.groups["requirements"] == (3, 4)
    assert prog.complete == 3 and prog.total == 25
    assert prog.counts["failing"] == 1 and prog.counts["open"] == 21
    assert next_open(checklist, states, None) == "requirements.admins_only"
    assert next_open(checklist, states, "requirements.admins_only") == "preparing.features"
    last = checklist.steps[-1].id
    assert next_open(checklist, states, last) == "requirements.admins_only"  # wraps
    assert next_open(checklist, states, "preparing.features", backwards=True) == \
        "requirements.admins_only"
    everything = {s.id: StepState(ORG, s.id, "done") for s in checklist.steps}
    assert next_open(checklist, everything, None) is None
    assert progress(checklist, everything).fraction == 1.0


# -- reports ---------------------------------------------------------------------------------
def test_markdown_report_has_states_evidence_notes_and_who(store: Store) -> None:
    org = Org.create(org_id=ORG, name="Acme *bold* [x](http://evil) | GmbH")
    mark(store, ORG, "requirements.browsers", "done", by="alice")
    skip(store, ORG, "preparing.features", "features <b>already</b> on", by="bob")
    set_note(store, ORG, "installing.listing", "ticket `JO-1`\nsecond line", by="carol")
    results = evaluate_all(load_checklist(), snap(healthy_facts(balance=BalanceFacts())),
                           caching=False)
    record_verifications(store, ORG, results)
    text = report_markdown(org, load_checklist(), load_states(store, ORG),
                           generated_at="2026-03-01T12:00:00Z", generated_by="dave")
    assert text.startswith("# JustOn installation checklist: Acme \\*bold\\* \\[x\\](http://evil) "
                           "\\| GmbH\n")
    assert "- Report: 2026-03-01T12:00:00Z by dave" in text
    assert "## Post-Installation Steps" in text
    assert "[x] **Which browsers does JustOn support?** (done)" in text
    assert "Marked done by alice at" in text
    assert "Skipped because: features \\<b>already\\</b> on" in text
    assert "Note (carol," in text and "ticket \\`JO-1\\` second line" in text
    assert "[!] **Permission set: the Balance object, its fields and the Balance tab**" in text
    assert "Fix: Assign the relevant permissions to your users" in text
    assert "Evidence: name: JustOn Billing & Invoice Management" in text
    assert "version: 2.80.3" in text
    assert "current: assumed current 2.80 (releases.toml of 2026-03-01)" in text
    assert "confirmed by the admin" in text


def test_json_report_shape(store: Store) -> None:
    org = Org.create(org_id=ORG, name="Acme")
    toggle_done(store, ORG, "requirements.edition", by="alice")
    payload = report_dict(org, load_checklist(), load_states(store, ORG), generated_at="t")
    assert payload["org"] == {"org_id": ORG, "name": "Acme", "kind": "production"}
    assert payload["progress"]["complete"] == 1 and payload["progress"]["total"] == 25
    first = payload["groups"][0]["steps"][0]
    assert first["id"] == "requirements.edition" and first["state"] == "done"
    assert first["by"] == "alice" and first["verification"] is None
    assert [g["id"] for g in payload["groups"]][-1] == "post_install"


# -- demo data -------------------------------------------------------------------------------
def test_seed_demo_gives_partial_progress_and_skips_the_vendor(store: Store) -> None:
    orgs = [Org.create(org_id=o, name=n, vendor=v) for o, n, v in (
        (ORG, "Acme", False), (ORG2, "Beta", False), ("00D000000000001EAA", "Vendor", True))]
    for org in orgs:
        store.add_org(org)
    store.save_snapshot(snap())
    demo_checklist.seed(store, orgs)
    acme, beta = load_states(store, ORG), load_states(store, ORG2)
    vendor = load_states(store, "00D000000000001EAA")
    assert acme and beta and not vendor
    acme_progress = progress(load_checklist(), acme)
    assert 0 < acme_progress.complete < acme_progress.total
    assert acme["installing.follow"].verification is not None  # from the stored snapshot
    assert acme["installing.follow"].verification.verdict == "ok"
    assert any(s.note for s in acme.values()) and any(s.state == "skipped" for s in acme.values())
    assert "preparing.browser_caching" not in acme or \
        acme["preparing.browser_caching"].verification is None
    demo_checklist.seed(store, [])  # nothing to do, no error

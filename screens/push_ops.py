"""The calendar's `P`: run a push upgrade: plan, dry run, announce, schedule, watch, abort;
edit the waves org by org; learn from the pushes (an org's history, a request's change record,
a re-push of its failed orgs).

Every rule is in juston_tui/push_ops (the same use cases `juston-tui push ...` runs); this
screen shows the plans and their waves, and runs the use cases in thread workers whose results
come back as messages. Writes to the packaging org (schedule, abort) and to the store (plan,
announce, wave edits, re-push plans) are refused in read-only mode; scheduling asks to type
the version first.

The orgs list (tab) shows the highlighted wave's orgs, then the orgs the user left out of the
plan: `[`/`]` move the highlighted org to the wave before/after (planned waves only: a
scheduled wave's orgs are fixed), `e` leaves it out with a reason or includes it again (into
the highlighted wave), `h` shows its push history. `c` shows the change record of the wave's
request (`w` there saves it), `F` plans a re-push of the request's failed orgs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from juston_tui.push_ops.announce import (
    AnnounceError,
    AnnouncementsExist,
    gate_note,
    record_announcement,
    write_announcements,
)
from juston_tui.push_ops.planning import PlanError, plan_push
from juston_tui.push_ops.plans import Plan, PlanOrg, Wave, list_plans
from juston_tui.push_ops.scheduling import (
    DEFAULT_MAX_FAILURE_RATE,
    ScheduleError,
    announcement_problem,
    dry_run,
    schedule_wave,
)
from juston_tui.push_ops.session import NoVendorOrg, packaging_connection
from juston_tui.push_ops.watch import ABORTABLE, AbortError, RequestStatus, abort, watch
from juston_tui.push_ops.waves import EditError, EditResult, exclude_org, include_org, move_org
from juston_tui.salesforce.errors import AccessError
from juston_tui.salesforce.push_api import BatchProgress
from juston_tui.schedule import zone_named
from juston_tui.screens.base import JustOnModal, JustOnSubScreen
from juston_tui.screens.confirm import ConfirmScreen, ask_to_replace
from juston_tui.screens.form_base import ERROR_CLASS
from juston_tui.screens.push_learn import OrgHistoryScreen, PushReportScreen, ReasonPrompt
from juston_tui.screens.widgets.key_bar import KeyBar
from juston_tui.screens.widgets.title_bar import TitleBar
from juston_tui.text import clean

CSS = "../styles/push_ops.tcss"


# -- messages from the workers -------------------------------------------------------------------
class PlansLoaded(Message):
    def __init__(self, plans: list[Plan]) -> None:
        super().__init__()
        self.plans = plans


class PushProgress(Message):
    """A worker is on its way (shown in the progress line)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class PushOutcome(Message):
    """A worker ended: what to show for the wave (`key`), a one-line notice, and whether the
    plans changed (reload them)."""

    def __init__(self, key: str, lines: Text, notice: str, *, error: bool = False,
                 reload: bool = True, select: str | None = None) -> None:
        super().__init__()
        self.key = key
        self.lines = lines
        self.notice = notice
        self.error = error
        self.reload = reload
        self.select = select


class AnnouncementsFound(Message):
    """The .eml files exist: ask before replacing them."""

    def __init__(self, key: str, folder: Path, paths: tuple[Path, ...]) -> None:
        super().__init__()
        self.key = key
        self.folder = folder
        self.paths = paths


# -- the confirmation of a schedule --------------------------------------------------------------
class ScheduleConfirm(JustOnModal[tuple[str | None] | None]):
    """Type the version to schedule; dismisses with (override reason or None,) or None."""

    CSS_PATH = CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, plan: Plan, wave: Wave, gate: str | None) -> None:
        super().__init__()
        self.plan = plan
        self.wave = wave
        self.gate = gate

    def compose(self) -> ComposeResult:
        plan, wave = self.plan, self.wave
        with Vertical(id="pushops-confirm"):
            text = Text(f"Schedule wave {wave.number} of {plan.id}", style="bold")
            text.append(f"\n{len(wave.orgs)} org(s), {plan.namespace} {plan.version}, starts "
                        f"{_when(wave.start_utc, plan.timezone)}.\nThis creates a push request "
                        "in the packaging org and sets it Pending.")
            yield Static(text)
            if self.gate:
                yield Static(Text(f"Announcement gate: {self.gate}", style="yellow"))
                yield Label("Reason to go ahead anyway (kept on the wave)")
                yield Input(id="confirm-reason", validate_on=())
            yield Label(Text(f"Type the version ({clean(plan.version, limit=20)}) to confirm"))
            yield Input(id="confirm-version", validate_on=())
            yield Static("", id="confirm-error", classes="field-error")
            yield Static(Text("enter: schedule · esc: cancel", style="dim"))

    def on_mount(self) -> None:
        first = "#confirm-reason" if self.gate else "#confirm-version"
        self.query_one(first, Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "confirm-reason":
            self.query_one("#confirm-version", Input).focus()
            return
        typed = self.query_one("#confirm-version", Input).value.strip()
        reason = (self.query_one("#confirm-reason", Input).value.strip()
                  if self.gate else "")
        error = ""
        if typed != self.plan.version:
            error = f"that is not {self.plan.version}: nothing was scheduled"
        elif self.gate and not reason:
            error = "the wave was not announced 7 days ahead: give a reason, or esc"
        self.query_one("#confirm-error", Static).update(Text(error))
        self.query_one("#confirm-version", Input).set_class(bool(error), ERROR_CLASS)
        if not error:
            self.dismiss((reason or None,))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _when(when: datetime, zone: str) -> str:
    local = when.astimezone(zone_named(zone))
    return f"{local:%Y-%m-%d %H:%M %Z} ({when.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"


def _key(plan_id: str, number: int) -> str:
    return f"{plan_id}:{number}"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no jobs"


def status_text(found: list[RequestStatus]) -> Text:
    """Counts by status, errors by ErrorType, the flags (stuck requests)."""
    text = Text()
    for status in found:
        info = status.info
        text.append(f"Request {info.request_id}: {info.status}", style="bold")
        text.append(f", {len(info.jobs)} job(s): {_counts(info.counts)}")
        if info.ended and info.jobs:
            text.append(f", failure rate {status.failure_rate:.0%}")
        text.append("\n")
        for kind, errors in info.errors_by_type.items():
            orgs = sorted({e.org_id or "?" for e in errors})
            titles = sorted({clean(e.title, limit=80) for e in errors})
            text.append(f"  {kind}", style="red")
            text.append(f": {len(errors)} error(s) in {len(orgs)} org(s) ({'; '.join(titles)})"
                        f": {' '.join(orgs[:6])}{' …' if len(orgs) > 6 else ''}\n")
        for flag in status.flags:
            text.append(f"  ! {clean(flag, limit=200)}\n", style="bold yellow")
            if info.status in ABORTABLE:
                text.append("    x: abort it\n", style="yellow")
    return text


class PushOpsScreen(JustOnSubScreen[None]):
    """The push plans and their waves, and what can be done with the highlighted wave."""

    CSS_PATH = CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("n", "new_plan", "New plan"),
        Binding("d", "dry_run", "Dry run"),
        Binding("s", "schedule", "Schedule"),
        Binding("w", "announce", "Announce"),
        Binding("f", "folder", "Folder"),
        Binding("t", "status", "Status"),
        Binding("r", "refresh", "Refresh"),
        Binding("x", "abort", "Abort"),
        Binding("left_square_bracket", "move(-1)", "Earlier wave", key_display="["),
        Binding("right_square_bracket", "move(1)", "Later wave", key_display="]"),
        Binding("e", "exclude_include", "Leave out/include"),
        Binding("h", "history", "Org history"),
        Binding("c", "report", "Change record"),
        Binding("F", "repush", "Re-push failed"),
    ]
    EDIT_ACTIONS: ClassVar[frozenset[str]] = frozenset({"new_plan", "schedule", "announce",
                                                       "abort", "move", "exclude_include",
                                                       "repush"})

    def __init__(self, *, product: str = "billing", folder: Path | None = None,
                 max_failure_rate: float = DEFAULT_MAX_FAILURE_RATE) -> None:
        super().__init__()
        self.product = product
        self.folder = folder or Path.cwd() / "push-announcements"
        self.max_failure_rate = max_failure_rate
        self.plans: list[Plan] = []
        self.results: dict[str, Text] = {}  # wave key -> the last dry run / status / outcome
        self.selected: str | None = None
        self.org_index = 0  # the highlighted entry of the orgs list
        self._orgs_shown: tuple[object, ...] | None = None  # what the orgs list shows

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Vertical(id="pushops-body"):
            yield Static(Text("Loading the push plans…"), id="pushops-progress")
            yield OptionList(id="pushops-waves")
            yield OptionList(id="pushops-orgs")
            with VerticalScroll(id="pushops-scroll"):
                yield Static("", id="pushops-detail")
            with Horizontal(id="pushops-folder-row"):
                yield Label("Announcements folder (f) ", id="pushops-folder-label")
                yield Input(str(self.folder), id="pushops-folder")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "Push operations"
        self.query_one("#pushops-waves", OptionList).focus()
        self.load()

    # -- the plans -----------------------------------------------------------------------------
    @work(thread=True, exit_on_error=False, group="pushops-load", exclusive=True,
          name="reading the push plans")
    def load(self) -> None:
        self.post_message(PlansLoaded(list_plans(self.store)))

    @on(PlansLoaded)
    def _loaded(self, event: PlansLoaded) -> None:
        self.plans = sorted(event.plans, key=lambda p: p.created_at, reverse=True)
        options: list[Option] = []
        for plan in self.plans:
            head = Text(f"{plan.id} ", style="bold")
            head.append(f"{plan.state} · {plan.namespace} {plan.version} · {plan.org_count} "
                        f"org(s) · {len(plan.excluded)} left out")
            options.append(Option(head, id=f"{plan.id}:head", disabled=True))
            for wave in plan.waves:
                line = Text(f"  wave {wave.number} ")
                line.append(clean(wave.name, limit=30))
                line.append(f": {len(wave.orgs)} org(s), {wave.state}",
                            style="red" if wave.state in ("failed", "canceled") else "")
                line.append(f", {wave.start_utc.astimezone(UTC):%Y-%m-%d}")
                options.append(Option(line, id=_key(plan.id, wave.number)))
        waves = self.query_one("#pushops-waves", OptionList)
        waves.clear_options()
        waves.add_options(options)
        wanted = self.selected
        ids = [o.id for o in options if not o.disabled]
        if wanted not in ids:
            wanted = ids[0] if ids else None
        if wanted is not None:
            waves.highlighted = next(n for n, o in enumerate(options) if o.id == wanted)
        self.selected = wanted
        self.query_one("#pushops-progress", Static).update(Text(
            f"{len(self.plans)} push plan(s)" if self.plans else
            "No push plans yet: n plans a push from the packaging org."))
        self.render_detail()

    @on(OptionList.OptionHighlighted, "#pushops-waves")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and not event.option.id.endswith(":head"):
            if event.option.id != self.selected:
                self.org_index = 0
            self.selected = event.option.id
            self.render_detail()

    @on(OptionList.OptionHighlighted, "#pushops-orgs")
    def _org_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.org_index = event.option_index

    def render_orgs(self, plan: Plan | None, wave: Wave | None) -> None:
        """The wave's orgs, then the orgs the user left out of the plan (to include again).
        Rebuilt only when they changed (a wave of 5,000 orgs is 5,000 options)."""
        shown = (None if plan is None or wave is None else
                 (plan.id, wave.number, wave.state, len(wave.orgs), len(plan.excluded),
                  len(plan.edits), id(wave)))
        if shown is not None and shown == self._orgs_shown:
            return
        self._orgs_shown = shown
        options: list[Option] = []
        if plan is not None and wave is not None:
            for org in wave.orgs:
                line = Text(" ! " if org.failing_checks else "   ", style="bold yellow")
                line.append(f"{org.org_id} ")
                line.append(clean(org.name, limit=40))
                if org.failing_checks:
                    line.append(f"  failing: {', '.join(org.failing_checks)}", style="yellow")
                options.append(Option(line, id=org.org_id))
            left = [e for e in plan.excluded if e.by_user]
            if left:
                options.append(Option(Text("Left out by the user (e includes in this wave)",
                                           style="dim"), id="left:head", disabled=True))
            for ex in left:
                line = Text(f" - {ex.org_id} ", style="dim")
                line.append(clean(ex.name, limit=30))
                line.append(f"  {clean(ex.reason, limit=60)}", style="dim")
                options.append(Option(line, id=f"left:{ex.org_id}"))
        orgs = self.query_one("#pushops-orgs", OptionList)
        orgs.clear_options()
        orgs.add_options(options)
        enabled = [n for n, o in enumerate(options) if not o.disabled]
        if enabled:
            index = min(self.org_index, enabled[-1])
            if options[index].disabled:
                index = next((n for n in enabled if n > index), enabled[-1])
            orgs.highlighted = index
            self.org_index = index

    def current_org(self) -> tuple[str, str, bool] | None:
        """(org id, name, left out) of the highlighted entry of the orgs list."""
        orgs = self.query_one("#pushops-orgs", OptionList)
        index = orgs.highlighted
        found = self.current()
        if index is None or found is None:
            return None
        option_id = orgs.get_option_at_index(index).id or ""
        plan, wave = found
        if option_id.startswith("left:"):
            org_id = option_id.removeprefix("left:")
            ex = next((e for e in plan.excluded if e.org_id == org_id), None)
            return (org_id, ex.name if ex else "", True) if ex else None
        org: PlanOrg | None = next((o for o in wave.orgs if o.org_id == option_id), None)
        return (org.org_id, org.name, False) if org else None

    def current(self) -> tuple[Plan, Wave] | None:
        if self.selected is None:
            return None
        plan_id, _sep, number = self.selected.rpartition(":")
        plan = next((p for p in self.plans if p.id == plan_id), None)
        if plan is None:
            return None
        return plan, plan.wave(int(number))

    def render_detail(self) -> None:
        widget = self.query_one("#pushops-detail", Static)
        found = self.current()
        if found is None:
            widget.update(Text(""))
            self.render_orgs(None, None)
            return
        plan, wave = found
        self.render_orgs(plan, wave)
        text = Text(f"Wave {wave.number} ", style="bold")
        text.append(clean(wave.name, limit=60), style="bold")
        text.append(f": {wave.state}, {len(wave.orgs)} org(s), starts "
                    f"{_when(wave.start_utc, plan.timezone)}")
        if wave.request_id:
            text.append(f", request {wave.request_id}")
        text.append("\n")
        gate = announcement_problem(wave)
        text.append("Gates: ", style="bold")
        said = f"ok (announced {wave.announced_at})" if gate is None else clean(gate, limit=200)
        text.append(f"announcement: {said}\n", style="green" if gate is None else "yellow")
        earlier = [w for w in plan.waves if w.number < wave.number]
        if earlier:
            text.append(f"       wave {earlier[-1].number} must have ended with a failure rate "
                        f"under {self.max_failure_rate:.0%} (it is {earlier[-1].state})\n")
        result = self.results.get(_key(plan.id, wave.number))
        if result is not None:
            text.append_text(result)
        text.append(f"\nPlan {plan.id}: {plan.namespace} {plan.version} ({plan.version_id}), "
                    f"{plan.state}, planned by {clean(plan.created_by, limit=40)} at "
                    f"{plan.created_at}\n", style="bold")
        reasons: dict[str, int] = {}
        for ex in plan.excluded:
            reasons[ex.reason] = reasons.get(ex.reason, 0) + 1
        text.append(f"Left out: {len(plan.excluded)}\n")
        for reason, count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            text.append(f"  {count} x {clean(reason, limit=100)}\n", style="dim")
        flagged = sum(1 for o in wave.orgs if o.failing_checks)
        text.append(f"Orgs of wave {wave.number}: {len(wave.orgs)} (the list above, tab)"
                    + (f", {flagged} with failing checks (!)" if flagged else "") + "\n")
        if plan.edits:
            last = plan.edits[-1]
            text.append(f"Edited {len(plan.edits)} time(s), last: ", style="dim")
            text.append(clean(str(last.get("what") or ""), limit=160) + "\n", style="dim")
        widget.update(text)

    def _progress(self, text: str) -> None:
        self.query_one("#pushops-progress", Static).update(Text(text, style="bold"))

    @on(PushProgress)
    def _on_progress(self, event: PushProgress) -> None:
        self._progress(event.text)

    @on(PushOutcome)
    def _outcome(self, event: PushOutcome) -> None:
        self.results[event.key] = event.lines
        if event.select:
            self.selected = event.select
        self._progress(event.notice)
        self.notify(Text(event.notice), severity="error" if event.error else "information",
                    timeout=6)
        if event.reload:
            self.load()
        else:
            self.render_detail()

    def _need_wave(self) -> tuple[Plan, Wave] | None:
        found = self.current()
        if found is None:
            self.notify("No wave selected (n plans a push).", severity="warning")
        return found

    def _writable_wave_with_request(self, without: str) -> tuple[Plan, Wave, str] | None:
        """The highlighted wave and its push request, for an action that writes (refused in
        read-only mode; `without` ends the warning for a wave that has no request)."""
        if self.refuse_read_only():
            return None
        found = self._need_wave()
        if found is None:
            return None
        plan, wave = found
        if not wave.request_id:
            self.notify(f"Wave {wave.number} {without}", severity="warning")
            return None
        return plan, wave, wave.request_id

    # -- plan ----------------------------------------------------------------------------------
    def action_new_plan(self) -> None:
        if self.refuse_read_only():
            return
        self._progress("Planning: reading the packaging org…")
        self.make_plan()

    @work(thread=True, exit_on_error=False, group="pushops-write", name="planning a push")
    def make_plan(self) -> None:
        store = self.store
        self.post_message(PushProgress("Planning: reading the packaging org's versions and "
                                       "subscribers…"))
        try:
            plan, notes = plan_push(store, self.juston.get_credentials(), product=self.product)
        except PlanError as exc:
            self.post_message(PushOutcome("", Text(), f"Not planned: {clean(str(exc))}",
                                          error=True, reload=False))
            return
        except Exception as exc:  # a version or rule the plan refused: one line
            self.post_message(PushOutcome("", Text(), f"Not planned: {clean(str(exc))}",
                                          error=True, reload=False))
            return
        lines = Text("Planned.\n", style="bold")
        for note in notes:
            lines.append(f"note: {clean(note, limit=200)}\n", style="yellow")
        first = _key(plan.id, plan.waves[0].number) if plan.waves else None
        self.post_message(PushOutcome(first or "", lines,
                                      f"Planned {plan.id}: {plan.org_count} org(s) in "
                                      f"{len(plan.waves)} wave(s)", select=first))

    # -- dry run and schedule ------------------------------------------------------------------
    def action_dry_run(self) -> None:
        found = self._need_wave()
        if found is None:
            return
        plan, wave = found
        shown = dry_run(plan, wave, self.max_failure_rate)
        text = Text("Dry run: nothing is sent. Scheduling would send:\n", style="bold")
        for line in shown.lines:
            text.append(line + "\n")
        for note in shown.notes:
            text.append(f"note: {note}\n", style="yellow")
        self.results[_key(plan.id, wave.number)] = text
        self._progress(f"Dry run of wave {wave.number}: {shown.preview.org_count} org(s) in "
                       f"{len(shown.preview.batches)} batch(es)")
        self.render_detail()

    def action_schedule(self) -> None:
        if self.refuse_read_only():
            return
        found = self._need_wave()
        if found is None:
            return
        plan, wave = found
        gate = announcement_problem(wave)

        def answered(result: tuple[str | None] | None) -> None:
            if result is not None:
                self._progress(f"Scheduling wave {wave.number}…")
                self.schedule(plan.id, wave.number, result[0])

        self.app.push_screen(ScheduleConfirm(plan, wave, gate), answered)

    @work(thread=True, exit_on_error=False, group="pushops-write", name="scheduling a wave")
    def schedule(self, plan_id: str, number: int, override: str | None) -> None:
        key = _key(plan_id, number)
        if self.read_only:
            return

        def batch(p: BatchProgress) -> None:
            self.post_message(PushProgress(f"Scheduling wave {number}: batch {p.batch}/"
                                           f"{p.batches}, {p.created} job(s), {p.dropped} "
                                           "dropped"))

        store = self.store
        try:
            with packaging_connection(store, self.juston.get_credentials()) as (_org, conn):
                result = schedule_wave(store, conn, plan_id, number, override=override,
                                       max_failure_rate=self.max_failure_rate, on_batch=batch)
        except (ScheduleError, NoVendorOrg, AccessError) as exc:
            message = clean(str(exc), limit=400)
            self.post_message(PushOutcome(key, Text(f"Not scheduled: {message}\n", style="red"),
                                          f"Not scheduled: {message}", error=True))
            return
        text = Text(f"Scheduled: request {result.request_id}, {result.jobs} job(s), "
                    f"{len(result.dropped)} dropped, Pending\n", style="bold green")
        if result.previous:
            text.append(clean(result.previous, limit=200) + "\n")
        for d in result.dropped:
            text.append(f"dropped {d['org_id']}: {d['code']}: {clean(d['message'], limit=150)}"
                        "\n", style="yellow")
        if result.override:
            text.append(f"announcement gate overridden: {clean(result.override)}\n",
                        style="yellow")
        self.post_message(PushOutcome(key, text, f"Wave {number} scheduled: request "
                                                 f"{result.request_id}"))

    # -- announcements -------------------------------------------------------------------------
    def action_folder(self) -> None:
        self.query_one("#pushops-folder", Input).focus()

    @on(Input.Submitted, "#pushops-folder")
    def _folder_set(self, event: Input.Submitted) -> None:
        self.query_one("#pushops-waves", OptionList).focus()

    def action_announce(self) -> None:
        if self.refuse_read_only():
            return
        found = self._need_wave()
        if found is None:
            return
        plan, wave = found
        raw = self.query_one("#pushops-folder", Input).value.strip()
        if not raw:
            self.notify("Give the folder for the .eml files (f).", severity="warning")
            return
        self.write_announcements(plan.id, wave.number, Path(raw).expanduser())

    @work(thread=True, exit_on_error=False, group="pushops-write",
          name="writing the announcements")
    def write_announcements(self, plan_id: str, number: int, folder: Path,
                            replace: bool = False) -> None:
        key = _key(plan_id, number)
        store = self.store
        plan = next((p for p in list_plans(store) if p.id == plan_id), None)
        if plan is None:
            return
        wave = plan.wave(number)
        now = datetime.now(UTC)
        try:
            messages = write_announcements(store, plan, wave, folder, replace=replace, now=now)
        except AnnouncementsExist as exc:
            self.post_message(AnnouncementsFound(key, folder, exc.paths))
            return
        except AnnounceError as exc:
            message = clean(str(exc), limit=300)
            self.post_message(PushOutcome(key, Text(message + "\n", style="red"), message,
                                          error=True, reload=False))
            return
        recipients = sum(len(m.contacts) for m in messages)
        record_announcement(store, plan.id, number, now, recipients)
        text = Text(f"Wrote {len(messages)} message(s) to {recipients} recipient(s) in ",
                    style="bold")
        text.append(clean(str(folder), limit=200))
        text.append(f"\nannounced {now:%Y-%m-%d %H:%M} UTC: {gate_note(wave, now)}\n")
        for m in messages:
            text.append(f"  {m.filename}\n", style="dim")
        self.post_message(PushOutcome(key, text, f"Wave {number} announced: "
                                                 f"{len(messages)} message(s) written"))

    @on(AnnouncementsFound)
    def _exists(self, event: AnnouncementsFound) -> None:
        plan_id, _sep, number = event.key.rpartition(":")
        path = event.paths[0] if len(event.paths) == 1 else event.folder / (
            f"{len(event.paths)} announcement files")
        ask_to_replace(self.app, path, lambda: self.write_announcements(
            plan_id, int(number), event.folder, True))

    # -- status and abort ----------------------------------------------------------------------
    def action_status(self) -> None:
        found = self._need_wave()
        if found is None:
            return
        plan, wave = found
        if not wave.request_id:
            self.notify(f"Wave {wave.number} has no push request yet (s schedules it).",
                        severity="warning")
            return
        self._progress(f"Reading request {wave.request_id}…")
        self.read_status(plan.id, wave.number, wave.request_id)

    def action_refresh(self) -> None:
        found = self.current()
        if found is not None and found[1].request_id:
            self.action_status()
        else:
            self.load()

    @work(thread=True, exit_on_error=False, group="pushops-status", exclusive=True,
          name="reading the push status")
    def read_status(self, plan_id: str, number: int, request_id: str) -> None:
        key = _key(plan_id, number)
        store = self.store
        try:
            with packaging_connection(store, self.juston.get_credentials()) as (_org, conn):
                found = watch(store, conn, request_id)
        except (NoVendorOrg, AccessError, KeyError) as exc:
            message = clean(str(exc.args[0] if isinstance(exc, KeyError) else exc), limit=300)
            self.post_message(PushOutcome(key, Text(message + "\n", style="red"), message,
                                          error=True, reload=False))
            return
        info = found[0].info if found else None
        notice = (f"Request {request_id}: {info.status}, {_counts(info.counts)}" if info
                  else f"Request {request_id}: not found")
        self.post_message(PushOutcome(key, status_text(found), notice, reload=False))

    def action_abort(self) -> None:
        found = self._writable_wave_with_request("has no push request to abort.")
        if found is None:
            return
        plan, wave, request_id = found

        def answered(yes: bool | None) -> None:
            if yes:
                self._progress(f"Aborting request {request_id}…")
                self.abort(plan.id, wave.number, request_id)

        self.app.push_screen(ConfirmScreen(
            f"Abort push request {request_id} (wave {wave.number} of {plan.id})? Only a "
            "Created or Pending request can be aborted.", yes="Abort", no="Keep it"), answered)

    @work(thread=True, exit_on_error=False, group="pushops-write", name="aborting a push")
    def abort(self, plan_id: str, number: int, request_id: str) -> None:
        key = _key(plan_id, number)
        if self.read_only:
            return
        store = self.store
        try:
            with packaging_connection(store, self.juston.get_credentials()) as (_org, conn):
                message = abort(store, conn, request_id)
        except (AbortError, NoVendorOrg, AccessError) as exc:
            text = clean(str(exc), limit=300)
            self.post_message(PushOutcome(key, Text(f"Not aborted: {text}\n", style="red"),
                                          f"Not aborted: {text}", error=True, reload=False))
            return
        self.post_message(PushOutcome(key, Text(clean(message) + "\n", style="bold"),
                                      clean(message)))

    # -- wave edits, org by org ----------------------------------------------------------------
    def _need_org(self) -> tuple[Plan, Wave, str, str, bool] | None:
        found = self._need_wave()
        if found is None:
            return None
        org = self.current_org()
        if org is None:
            self.notify("No org highlighted (tab to the orgs list).", severity="warning")
            return None
        return (*found, *org)

    def action_move(self, step: int) -> None:
        if self.refuse_read_only():
            return
        found = self._need_org()
        if found is None:
            return
        plan, wave, org_id, _name, left = found
        if left:
            self.notify("That org is left out of the plan: e includes it.", severity="warning")
            return
        numbers = [w.number for w in plan.waves]
        at = numbers.index(wave.number) + step
        if not 0 <= at < len(numbers):
            self.notify(f"Wave {wave.number} is the {'first' if step < 0 else 'last'} wave.",
                        severity="warning")
            return
        self.edit_wave(plan.id, wave.number, "move", org_id, numbers[at])

    def action_exclude_include(self) -> None:
        if self.refuse_read_only():
            return
        found = self._need_org()
        if found is None:
            return
        plan, wave, org_id, name, left = found
        if left:
            self.edit_wave(plan.id, wave.number, "include", org_id, wave.number)
            return

        def answered(reason: str | None) -> None:
            if reason:
                self.edit_wave(plan.id, wave.number, "exclude", org_id, reason)

        self.app.push_screen(ReasonPrompt(org_id, name), answered)

    @work(thread=True, exit_on_error=False, group="pushops-write", name="editing a wave")
    def edit_wave(self, plan_id: str, number: int, what: str, org_id: str,
                  arg: int | str) -> None:
        key = _key(plan_id, number)
        if self.read_only:
            return
        store = self.store
        try:
            result: EditResult
            if what == "move":
                result = move_org(store, plan_id, org_id, int(arg))
            elif what == "exclude":
                result = exclude_org(store, plan_id, org_id, str(arg))
            else:
                result = include_org(store, plan_id, org_id, int(arg))
        except EditError as exc:
            message = clean(str(exc), limit=300)
            self.post_message(PushOutcome(key, Text(f"Not changed: {message}\n", style="red"),
                                          f"Not changed: {message}", error=True,
                                          reload=False))
            return
        lines = Text(clean(result.message, limit=300) + "\n", style="bold")
        for note in result.notes:
            lines.append(f"note: {clean(note, limit=300)}\n", style="yellow")
        still = next((w for w in result.plan.waves if w.number == number), None)
        select = _key(plan_id, still.number) if still is not None and still.orgs else (
            _key(plan_id, result.plan.waves[0].number) if result.plan.waves else None)
        self.post_message(PushOutcome(select or key, lines, clean(result.message, limit=200),
                                      select=select))

    # -- learn: history, change record, re-push ------------------------------------------------
    def action_history(self) -> None:
        found = self._need_org()
        if found is None:
            return
        _plan, _wave, org_id, name, _left = found
        self.app.push_screen(OrgHistoryScreen(org_id, name))

    def action_report(self) -> None:
        found = self._need_wave()
        if found is None:
            return
        _plan, wave = found
        if not wave.request_id:
            self.notify(f"Wave {wave.number} has no push request yet: its change record comes "
                        "with it.", severity="warning")
            return
        self.app.push_screen(PushReportScreen(wave.request_id))

    def action_repush(self) -> None:
        found = self._writable_wave_with_request("has no push request: nothing failed in it.")
        if found is None:
            return
        plan, _wave, request_id = found

        def answered(yes: bool | None) -> None:
            if yes:
                self._progress(f"Planning a re-push of the failed orgs of {request_id}…")
                self.plan_repush(plan.product, plan.version, request_id)

        self.app.push_screen(ConfirmScreen(
            f"Plan a re-push of {plan.version} to the orgs whose job failed in request "
            f"{request_id}? Nothing is sent: a new plan is made and its dry run shown; "
            "scheduling it is a step of its own.", yes="Plan it", no="Not now"), answered)

    @work(thread=True, exit_on_error=False, group="pushops-write", name="planning a re-push")
    def plan_repush(self, product: str, version: str, request_id: str) -> None:
        if self.read_only:
            return
        store = self.store
        try:
            plan, notes = plan_push(store, self.juston.get_credentials(), product=product,
                                    version=version, only_failed=request_id)
        except Exception as exc:  # PlanError, a refused version: one line
            message = clean(str(exc), limit=300)
            self.post_message(PushOutcome("", Text(), f"Not planned: {message}", error=True,
                                          reload=False))
            return
        lines = Text(f"Re-push of the failed orgs of {request_id}: planned.\n", style="bold")
        for note in notes:
            lines.append(f"note: {clean(note, limit=200)}\n", style="yellow")
        first = plan.waves[0] if plan.waves else None
        if first is not None:
            shown = dry_run(plan, first, self.max_failure_rate)
            lines.append("Dry run: nothing is sent. Scheduling would send:\n", style="bold")
            for line in shown.lines:
                lines.append(line + "\n")
            for note in shown.notes:
                lines.append(f"note: {note}\n", style="yellow")
        key = _key(plan.id, first.number) if first is not None else ""
        self.post_message(PushOutcome(key, lines, f"Planned {plan.id}: a re-push of "
                                                  f"{plan.org_count} failed org(s)",
                                      select=key or None))

    def action_back(self) -> None:
        self.dismiss()

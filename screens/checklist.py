"""Screen 2: walk one org through the JustOn installation guide's steps.

The steps come from `juston_tui.checklist`; this screen only shows them and turns keys into
core calls. Every store read and write and every call to the org runs in a thread worker that
posts its result as a message; the list is updated from the state the core returns, so what
you see is what was saved. A verification's snapshot is announced (`SnapshotArrived`), so the
registry and the access screen show the new check too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from juston_tui.checklist import (
    Checklist,
    Progress,
    StepState,
    Verified,
    load_checklist,
    load_states,
    mark,
    next_open,
    progress,
    report_markdown,
    set_note,
    skip,
    step_status,
    toggle_done,
    validate_note,
    validate_skip_reason,
    verify_and_record,
)
from juston_tui.model import Org, ValidationError, normalize_org_id
from juston_tui.screens.base import JustOnScreen
from juston_tui.screens.checklist_modals import StepDetailScreen, TextPromptScreen, step_details
from juston_tui.screens.file_export import SavesExports
from juston_tui.screens.messages import OrgsChanged, SnapshotArrived, StoreChanged
from juston_tui.screens.org_picker import OrgPickerScreen
from juston_tui.text import clean

GLYPHS = {"verified": "✔", "done": "✓", "skipped": "»", "failing": "✗", "open": "○"}
STYLES = {"verified": "bold green", "done": "green", "skipped": "dim", "failing": "bold red",
          "open": ""}
LABELS = {"verified": "verified", "done": "done", "skipped": "skipped", "failing": "FAILING",
          "open": ""}
VERIFY_LABELS = {
    "none": "none: information to read and acknowledge",
    "manual": "confirmed by the admin (no API can see this)",
    "organization": "API: the org's edition (Organization)",
    "package.billing": "API: installed package and version (Tooling InstalledSubscriberPackage)",
    "connected_app.permitted_users": "API: JustOn Platform Permitted Users (ConnectedApplication)",
    "connected_app.sysadmin": "API: profiles of JustOn Platform (SetupEntityAccess)",
    "permissions.balance": "API: permission sets covering Balance object, fields and tab",
    "permissions.task_type": "API: permission sets covering Task.Type",
    "licenses": "API: JustOn licences assigned (PackageLicense)",
    "browser_caching": "API: Session Settings browser caching (Metadata API, must be off)",
}


def row_tail(status: str, state: StepState | None, *, api_checked: bool) -> str:
    """The words at the right of a step's row. A manual mark on a step whose verification
    failed is shown beside it ("done by hand · check: fail"), so `space` visibly did something.
    """
    if status == "failing" and state is not None and state.state == "done":
        return "done by hand · check: fail"
    if status == "open" and api_checked:
        return "API"
    return LABELS[status]


def short_time(stamp: str) -> str:
    """`2026-03-01T10:00:00.123Z` as `2026-03-01 10:00 UTC` (one line of the detail pane)."""
    stamp = clean(stamp)
    if len(stamp) >= 16 and stamp[10] == "T":
        return f"{stamp[:10]} {stamp[11:16]} UTC"
    return stamp


def bar(done: int, total: int, width: int = 10) -> str:
    filled = round(width * done / total) if total else 0
    return "█" * filled + "░" * (width - filled)


# -- what the workers post back -----------------------------------------------------------------
class ChecklistLoaded(Message):
    """The org to show and its records; `wanted` the org asked for, `missing` if not found."""

    def __init__(self, org: Org | None, states: dict[str, StepState], wanted: str | None,
                 missing: str | None) -> None:
        super().__init__()
        self.org = org
        self.states = states
        self.wanted = wanted
        self.missing = missing


class StepSaved(Message):
    """One step's record as the store now has it."""

    def __init__(self, org_id: str, state: StepState, *, advance: bool = False) -> None:
        super().__init__()
        self.org_id = org_id
        self.state = state
        self.advance = advance  # a done/skip: the cursor moves on to the next open step


class VerifyProgress(Message):
    def __init__(self, done: int, total: int, what: str) -> None:
        super().__init__()
        self.done = done
        self.total = total
        self.what = what


class VerifyDone(Message):
    """The verification of one org and its records after it (saved unless read-only)."""

    def __init__(self, org_id: str, verified: Verified) -> None:
        super().__init__()
        self.org_id = org_id
        self.verified = verified


class VerifyEnded(Message):
    """The verify worker ended, whatever happened (an error is the app's worker handler's)."""


class ChecklistScreen(SavesExports, JustOnScreen):
    """The install checklist of one org, section by section, with progress."""

    MODE = "checklist"
    TITLE = "Checklist"
    CSS_PATH = "../styles/checklist.tcss"
    EDIT_ACTIONS: ClassVar[frozenset[str]] = frozenset({"toggle", "skip", "note"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle", "Done/undo"),
        Binding("s", "skip", "Skip"),
        Binding("n", "note", "Note"),
        Binding("v", "verify", "Verify"),
        Binding("w", "write_report", "Write report"),
        Binding("right_square_bracket", "jump(1)", "Next open", key_display="]"),
        Binding("left_square_bracket", "jump(-1)", "Prev open", key_display="[", show=False),
        Binding("o", "pick_org", "Org"),
        Binding("slash", "pick_org", "Find org", show=False, key_display="/"),
        Binding("r", "reload", "Refresh", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.checklist: Checklist = load_checklist()
        self.org: Org | None = None
        self.states: dict[str, StepState] = {}
        self.verifying = False
        self.loaded = False  # False until the first read from the store has come back
        self._pending: dict[str, Any] = {}

    # -- layout ------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        yield Static("", id="cl-org")
        with Horizontal(id="cl-overall"):
            yield Label("", id="cl-overall-label")
            yield ProgressBar(total=len(self.checklist.steps), show_eta=False,
                              id="cl-overall-bar")
        with Horizontal(id="cl-verify"):
            yield Label("", id="cl-verify-label")
            yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="cl-verify-bar")
        yield OptionList(id="cl-steps")
        yield Static("", id="cl-detail")

    def on_mount(self) -> None:
        self.query_one("#cl-verify").display = False
        self.render_all()
        self.reload()
        self.query_one("#cl-steps", OptionList).focus()

    def focus_request(self, **kwargs: Any) -> None:
        """`app.open_screen("checklist", org_id=..., step_id=...)`."""
        self._pending.update(kwargs)
        if self.is_mounted:
            self.reload()

    # -- loading ---------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the org and its steps in a worker (after another process wrote, the store
        reparses the whole file: far too slow for the event loop), then redraw."""
        self._load(self._pending.get("org_id"), self.org.org_id if self.org else None)

    @work(thread=True, exclusive=True, group="checklist-load", name="load checklist",
          exit_on_error=False)
    def _load(self, wanted: str | None, current: str | None) -> None:
        store = self.store
        missing: str | None = None
        org: Org | None = None
        if wanted:
            try:
                wanted = normalize_org_id(wanted)
            except ValidationError:
                pass  # reported as not found below
            org = store.find_org(wanted)
            if org is None:
                missing = wanted
        if org is None and current:
            org = store.find_org(current)
        if org is None:
            orgs = sorted(store.list_orgs(),
                          key=lambda o: (o.vendor, o.name.casefold(), o.org_id))
            org = orgs[0] if orgs else None
        states = load_states(store, org.org_id, self.checklist) if org is not None else {}
        if not get_current_worker().is_cancelled:
            self.post_message(ChecklistLoaded(org, states, wanted, missing))

    @on(ChecklistLoaded)
    def _loaded(self, event: ChecklistLoaded) -> None:
        org = event.org
        if event.wanted is not None:
            self._pending.pop("org_id", None)
        if event.missing is not None:
            self.notify(f"No org {clean(event.missing)} in the store.", severity="warning",
                        markup=False)
        switched = org is None or self.org is None or org.org_id != self.org.org_id
        self.org = org
        self.states = event.states
        self.loaded = True
        self.render_all(keep_cursor=not switched)
        step_id = self._pending.pop("step_id", None)
        if step_id:
            self.highlight(step_id)

    def render_all(self, *, keep_cursor: bool = True) -> None:
        steps = self.query_one("#cl-steps", OptionList)
        keep = steps.highlighted_option.id if steps.highlighted_option and keep_cursor else None
        org_line = Text()
        if self.org is None and not self.loaded:
            org_line.append("Loading the checklist…", style="dim")
            steps.set_options([])
        elif self.org is None:
            org_line.append("No org registered yet: add one on the Orgs screen (1) or with "
                            "`juston-tui org add`.", style="bold")
            steps.set_options([])
            self.query_one("#cl-detail", Static).update("")
        else:
            org_line.append("Org ", style="dim")
            org_line.append(clean(self.org.name, limit=40), style="bold")
            org_line.append(f"  {self.org.org_id} · {self.org.kind}", style="dim")
            if self.read_only:
                org_line.append("  READ-ONLY", style="bold yellow")
            org_line.append("   o: other org", style="dim")
            steps.set_options(self._options())
        self.query_one("#cl-org", Static).update(org_line)
        self._render_progress()
        if self.org is not None:
            if keep is not None:
                self.highlight(keep)
            else:
                first = next_open(self.checklist, self.states, None) or self.checklist.steps[0].id
                self.highlight(first)

    def _options(self) -> list[Option]:
        prog = progress(self.checklist, self.states)
        options: list[Option] = []
        for group in self.checklist.groups:
            options.append(Option(self._header(group.id, prog), id=f"group:{group.id}",
                                  disabled=True))
            for step in self.checklist.steps_in(group.id):
                options.append(Option(self._row(step.id), id=step.id))
        return options

    def _header(self, group_id: str, prog: Progress) -> Table:
        """A section line: its title and a progress bar of its steps."""
        done, total = prog.groups[group_id]
        head = Table.grid(expand=True, padding=(0, 1))
        head.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        head.add_column(justify="right", no_wrap=True)
        head.add_row(Text(self.checklist.group(group_id).title, style="bold"),
                     Text(f"{bar(done, total)} {done}/{total}",
                          style="green" if done == total else ""))
        return head

    def _row(self, step_id: str) -> Table:
        step = self.checklist.step(step_id)
        state = self.states.get(step_id)
        status = step_status(state)
        row = Table.grid(expand=True, padding=(0, 1))
        row.add_column(width=2, no_wrap=True)
        row.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        row.add_column(justify="right", no_wrap=True)
        tail = row_tail(status, state, api_checked=step.api_checked)
        if state is not None and state.note:
            tail = "✎ " + tail
        row.add_row(Text(GLYPHS[status], style=STYLES[status]), Text(step.title),
                    Text(tail, style=STYLES[status] or "dim"))
        return row

    def _render_progress(self) -> None:
        prog = progress(self.checklist, self.states)
        label = f"{prog.complete}/{prog.total} complete"
        extra = [f"{n} {s}" for s, n in prog.counts.items() if n and s in ("failing", "skipped")]
        if extra:
            label += " · " + ", ".join(extra)
        self.query_one("#cl-overall-label", Label).update(label)
        self.query_one("#cl-overall-bar", ProgressBar).update(total=prog.total,
                                                              progress=prog.complete)

    def _refresh_step(self, step_id: str) -> None:
        """Redraw one step row, its section header and the totals (after a save)."""
        steps = self.query_one("#cl-steps", OptionList)
        steps.replace_option_prompt(step_id, self._row(step_id))
        group = self.checklist.step(step_id).group
        prog = progress(self.checklist, self.states)
        steps.replace_option_prompt(f"group:{group}", self._header(group, prog))
        self._render_progress()
        self._render_detail()

    def highlight(self, step_id: str) -> None:
        steps = self.query_one("#cl-steps", OptionList)
        try:
            steps.highlighted = steps.get_option_index(step_id)
        except Exception:
            return
        self._render_detail()

    @property
    def current_step_id(self) -> str | None:
        option = self.query_one("#cl-steps", OptionList).highlighted_option
        if option is None or option.id is None or option.id.startswith("group:"):
            return None
        return option.id

    def _render_detail(self) -> None:
        """Where, the check and its fix, the mark and the note: one line each (cut with an
        ellipsis by the stylesheet, never wrapped), the whole text behind `enter`."""
        step_id = self.current_step_id
        detail = self.query_one("#cl-detail", Static)
        if step_id is None:
            detail.update("")
            return
        step = self.checklist.step(step_id)
        state = self.states.get(step_id)
        text = Text()
        text.append("Where: ", style="bold")
        text.append(" | ".join(step.where) + "\n")
        verification = state.verification if state else None
        if verification is not None:
            style = {"ok": "green", "fail": "bold red"}.get(verification.verdict, "yellow")
            text.append(f"Verified {verification.verdict}: ", style=style)
            text.append(clean(verification.reason, limit=120))
            text.append(f"  ({short_time(verification.verified_at)})\n", style="dim")
            if verification.verdict in ("warn", "fail") and verification.fix:
                text.append("Fix: ", style="bold")
                text.append(clean(verification.fix, limit=200) + "\n")
        else:
            text.append("Check: ", style="bold")
            text.append(VERIFY_LABELS.get(step.verify, step.verify) + "\n", style="dim")
        if state is not None and state.state != "open" and state.by:
            mark_word = "Done by hand" if state.state == "done" else "Skipped"
            text.append(f"{mark_word} by {clean(state.by)} at {short_time(state.at)}",
                        style="dim")
            if state.skip_reason:
                text.append(": " + clean(state.skip_reason, limit=80), style="dim")
            text.append("\n")
        if state is not None and state.note:
            text.append("Note: ", style="bold")
            text.append(clean(state.note, limit=200))
            if state.note_by:
                text.append(f"  ({clean(state.note_by)})", style="dim")
            text.append("\n")
        text.append("enter: full text", style="dim")
        detail.update(text)

    @on(OptionList.OptionHighlighted, "#cl-steps")
    def _highlighted(self) -> None:
        self._render_detail()

    @on(OptionList.OptionSelected, "#cl-steps")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.show_details(event.option.id)

    def show_details(self, step_id: str | None) -> None:
        if step_id is None or step_id.startswith("group:"):
            return
        step = self.checklist.step(step_id)
        details = step_details(step, self.checklist.group(step.group).title,
                               self.states.get(step_id),
                               VERIFY_LABELS.get(step.verify, step.verify))
        self.app.push_screen(StepDetailScreen(details))

    # -- actions -----------------------------------------------------------------------------
    def _target(self) -> str | None:
        if self.org is None:
            self.notify("Choose an org first (o).", severity="warning")
            return None
        step_id = self.current_step_id
        if step_id is None:
            self.notify("Move to a step first.", severity="warning")
        return step_id

    def action_toggle(self) -> None:
        step_id = self._target()
        if step_id is not None and not self.refuse_read_only():
            self._save("toggle", step_id)

    def action_skip(self) -> None:
        step_id = self._target()
        if step_id is None or self.refuse_read_only():
            return
        state = self.states.get(step_id)
        if state is not None and state.state == "skipped":
            self._save("open", step_id)
            return
        step = self.checklist.step(step_id)

        def answered(reason: str | None) -> None:
            if reason is not None:
                self._save("skip", step_id, reason)

        self.app.push_screen(
            TextPromptScreen("Skip this step: why?", step.title, placeholder="the reason",
                             field="skip_reason", validate=validate_skip_reason),
            answered,
        )

    def action_note(self) -> None:
        step_id = self._target()
        if step_id is None or self.refuse_read_only():
            return
        step = self.checklist.step(step_id)
        state = self.states.get(step_id)

        def answered(note: str | None) -> None:
            if note is not None:
                self._save("note", step_id, note)

        self.app.push_screen(
            TextPromptScreen("Note for this step (empty clears it)", step.title,
                             value=state.note if state else "", placeholder="a note",
                             field="note", validate=validate_note),
            answered,
        )

    def _save(self, what: str, step_id: str, text: str = "") -> None:
        if self.org is not None:
            self._write(what, self.org.org_id, step_id, text)

    @work(thread=True, group="checklist-write", name="save checklist step", exit_on_error=False)
    def _write(self, what: str, org_id: str, step_id: str, text: str) -> None:
        """One store write per change, off the UI thread; the saved state comes back."""
        store = self.store
        if what == "toggle":
            state = toggle_done(store, org_id, step_id, checklist=self.checklist)
        elif what == "open":
            state = mark(store, org_id, step_id, "open", checklist=self.checklist)
        elif what == "skip":
            state = skip(store, org_id, step_id, text, checklist=self.checklist)
        else:
            state = set_note(store, org_id, step_id, text, checklist=self.checklist)
        advance = what in ("toggle", "skip") and state.state in ("done", "skipped")
        self.post_message(StepSaved(org_id, state, advance=advance))

    @on(StepSaved)
    def _saved(self, event: StepSaved) -> None:
        if self.org is None or self.org.org_id != event.org_id:
            return
        step_id = event.state.step_id
        self.states[step_id] = event.state
        self._refresh_step(step_id)
        if event.advance and self.current_step_id == step_id:
            target = next_open(self.checklist, self.states, step_id)
            if target is not None:
                self.highlight(target)

    def action_jump(self, direction: int) -> None:
        if self.org is None:
            return
        target = next_open(self.checklist, self.states, self.current_step_id,
                           backwards=direction < 0)
        if target is None:
            self.notify("Every step is complete.")
            return
        self.highlight(target)

    def action_reload(self) -> None:
        self.reload()

    @on(StoreChanged)
    def _store_changed(self) -> None:
        self.reload()

    @on(OrgsChanged)
    def _orgs_changed(self) -> None:
        """Orgs were added, renamed or removed on another screen: show the org as it is now."""
        self.reload()

    def action_pick_org(self) -> None:
        if self.org is None:  # the load found no org at all (or has not come back yet)
            self.notify("No org registered yet.", severity="warning")
            return

        def chosen(org_ids: list[str] | None) -> None:
            if org_ids:
                self.focus_request(org_id=org_ids[0])

        self.app.push_screen(
            OrgPickerScreen([self.org.org_id], multiple=False,
                            title="Choose an org (type to filter, enter to open, esc to cancel)"),
            chosen)

    # -- verification ------------------------------------------------------------------------
    def action_write_report(self) -> None:
        """The Markdown report of `juston-tui checklist ORG --markdown`, saved to a file."""
        org = self.org
        if org is None:
            self.notify("Choose an org first (o).", severity="warning")
            return
        checklist, states = self.checklist, dict(self.states)
        self.save_export(
            "checklist report", Path.home() / f"juston-checklist-{org.org_id}.md",
            lambda: report_markdown(org, checklist, states).encode("utf-8"))

    def action_verify(self) -> None:
        if self.org is None:
            self.notify("Choose an org first (o).", severity="warning")
            return
        if self.verifying:
            self.notify("Verification is already running.")
            return
        self.verifying = True
        self.query_one("#cl-verify").display = True
        self.query_one("#cl-verify-label", Label).update("Verifying: connecting …")
        self.query_one("#cl-verify-bar", ProgressBar).update(total=None, progress=0)
        self._verify(self.org)

    @work(thread=True, exclusive=True, group="checklist-verify", name="verify checklist",
          exit_on_error=False)
    def _verify(self, org: Org) -> None:
        try:
            verified = verify_and_record(
                self.store, org, self.juston.get_credentials(), self.checklist,
                save=not self.read_only,
                on_progress=lambda done, total, what: self.post_message(
                    VerifyProgress(done, total, what)),
            )
            snapshot = verified.outcome.snapshot
            if snapshot is not None and snapshot.checks:  # what the registry would show
                self.announce(SnapshotArrived(snapshot, 1, 1))
            self.post_message(VerifyDone(org.org_id, verified))
        finally:
            self.post_message(VerifyEnded())

    @on(VerifyProgress)
    def _verify_progress(self, event: VerifyProgress) -> None:
        self.query_one("#cl-verify-bar", ProgressBar).update(total=event.total or None,
                                                             progress=event.done)
        if event.what != "done":
            self.query_one("#cl-verify-label", Label).update(
                f"Verifying {event.done + 1}/{event.total}: {event.what}")

    @on(VerifyEnded)
    def _verify_finished(self) -> None:
        self.verifying = False
        self.query_one("#cl-verify").display = False

    @on(VerifyDone)
    def _verified(self, event: VerifyDone) -> None:
        """The records as saved (read in the worker), or in read-only mode as shown."""
        if self.org is None or self.org.org_id != event.org_id:
            return
        outcome, saved = event.verified.outcome, event.verified.saved
        self.states = event.verified.states
        self.render_all()
        verdicts = [v.verdict for v in outcome.results.values()]
        summary = (f"Verified {len(verdicts)} steps: {verdicts.count('ok')} ok, "
                   f"{verdicts.count('warn')} warn, {verdicts.count('fail')} failing, "
                   f"{verdicts.count('unknown')} unknown")
        if not saved:
            summary += " (read-only: not saved)"
        snapshot = outcome.snapshot
        if snapshot is not None and snapshot.error:
            self.notify(clean(f"The org could not be checked: {snapshot.error}", limit=300),
                        severity="error", timeout=10, markup=False)
        self.notify(summary, severity="warning" if "fail" in verdicts else "information",
                    markup=False)

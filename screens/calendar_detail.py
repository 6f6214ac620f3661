"""One push in full: when, the announcement, the orgs included (with packaging-org job status),
the contacts to notify (full name, e-mail, title) and the before/after actions to tick.

Ticking (space or enter on an action) is a store write, so it runs in a worker; the list shows
the state the store returned. In read-only mode the actions are shown but cannot be ticked.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from juston_tui import schedule
from juston_tui.schedule import Action, PushPlan, countdown
from juston_tui.screens.base import JustOnModal
from juston_tui.text import clean

STATUS_TEXT = {
    "confirmed": "confirmed (entered from the announcement e-mail)",
    "scheduled": "scheduled in the packaging org (PackagePushRequest)",
    "projected": "projected by the rules (no announcement yet)",
}
JOB_STYLES = {"Succeeded": "green", "Failed": "bold red", "Canceled": "dim",
              "In Progress": "yellow", "Pending": "cyan", "Created": "cyan"}


def action_prompt(action: Action) -> Text:
    text = Text()
    text.append("[x] " if action.done else "[ ] ", style="bold green" if action.done else "bold")
    text.append(f"{action.phase:<6} ", style="dim")
    text.append(clean(action.text), style="dim strike" if action.done else "")
    return text


class ActionTicked(Message):
    """The tick worker ended: the action's stored state, or None when the write failed (the
    app's worker-error handler says why)."""

    def __init__(self, index: int, state: bool | None) -> None:
        super().__init__()
        self.index = index
        self.state = state


class PushDetailScreen(JustOnModal[str | None]):
    """Dismisses with "edit" when the user asked to edit the push, else None."""

    CSS_PATH = "../styles/calendar.tcss"
    EDIT_ACTIONS: ClassVar[frozenset[str]] = frozenset({"tick", "edit"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "tick", "Tick action"),
        Binding("e", "edit", "Edit"),
        Binding("escape", "close", "Back"),
        Binding("j", "down", "Down", show=False),
        Binding("k", "up", "Up", show=False),
    ]
    def __init__(self, plan: PushPlan, *, today: date | None = None) -> None:
        """`today`: the calendar's day, so the detail counts down exactly as the agenda does."""
        super().__init__()
        self.plan = plan
        self.today = today
        self.actions = list(plan.push.actions)
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._head(), id="detail-head")
            yield Static(Text("Actions from the announcement (space ticks):", style="bold"),
                         id="detail-actions-title")
            yield OptionList(*self._action_options(), id="detail-actions")
            with VerticalScroll(id="detail-more"):
                yield Static(self._orgs(), id="detail-orgs")
                yield Static(self._contacts(), id="detail-contacts")
            hint = "space tick · e edit · esc back" if not self.read_only else \
                "read-only: actions cannot be ticked · esc back"
            yield Static(Text(hint), id="detail-hint")

    def on_mount(self) -> None:
        self.query_one("#detail-actions", OptionList).focus()

    # -- content -----------------------------------------------------------------------------
    def _head(self) -> Text:
        plan, push = self.plan, self.plan.push
        today = self.today
        if today is None:
            now = self.juston.clock()
            today = now.astimezone(push.local_start.tzinfo).date()
        text = Text()
        letter = "p" if push.projected else ("V" if push.status == "scheduled" else "P")
        text.append(f" {letter} ", style="bold reverse green")
        text.append(f" Push {push.label}", style="bold")
        text.append(f"  ({push.kind})\n")
        text.append("Status:        ", style="bold")
        text.append(STATUS_TEXT.get(push.status, push.status) + "\n")
        text.append("Start:         ", style="bold")
        text.append(f"{push.local_start.strftime('%a %Y-%m-%d %H:%M %Z')} "
                    f"({push.start_utc.strftime('%H:%M')} UTC) · "
                    f"{countdown((push.local_day - today).days)}\n")
        text.append("Announcement:  ", style="bold")
        text.append(f"due {push.announcement_due.strftime('%a %Y-%m-%d')} · "
                    f"{countdown((push.announcement_due - today).days)}")
        if push.announced_on:
            text.append(f" · sent {push.announced_on.isoformat()}")
        text.append("\nWindow:        ", style="bold")
        text.append(f"{plan.window[0].isoformat()} to {plan.window[1].isoformat()}")
        for warning in plan.warnings:
            text.append("\n! ", style="bold red")
            text.append(clean(warning), style="red")
        if push.notes:
            text.append("\nNotes:         ", style="bold")
            text.append(clean(push.notes, limit=300))
        if not self.actions:
            text.append("\nNo actions were given for this push.", style="dim")
        return text

    def _action_options(self) -> list[Option]:
        return [Option(action_prompt(a), id=f"act-{i}") for i, a in enumerate(self.actions)]

    def _orgs(self) -> Table:
        plan = self.plan
        jobs = plan.jobs_by_org()
        table = Table(title=f"Orgs included ({len(plan.orgs)})", title_justify="left",
                      title_style="bold", expand=True, show_edge=False, pad_edge=False)
        table.add_column("Org")
        table.add_column("Org ID", no_wrap=True)
        table.add_column("Type")
        table.add_column("Push job")
        for org in plan.orgs:
            job = jobs.get(org.org_id)
            table.add_row(Text(clean(org.name, limit=60)), Text(clean(org.org_id)),
                          Text(clean(org.kind)), self._job_text(job))
        for org_id in plan.unknown_org_ids:
            table.add_row(Text("(not registered here)", style="dim"), Text(clean(org_id)), "",
                          self._job_text(jobs.get(org_id)))
        if not plan.orgs and not plan.unknown_org_ids:
            table.add_row(Text("No org is registered for push upgrades of this product "
                               "(the push-upgrade FAQ: production orgs; sandboxes on request).",
                               style="dim"), "", "", "")
        return table

    @staticmethod
    def _job_text(job: Any) -> Text:
        if not job:
            return Text("-", style="dim")
        status = str(job.get("status") or "")
        text = Text(status, style=JOB_STYLES.get(status, ""))
        for error in job.get("errors") or ():
            text.append(f"\n{clean(error.get('severity'))}: {clean(error.get('title'))}",
                        style="red")
            if error.get("message"):
                text.append(f" {clean(error.get('message'), limit=160)}", style="dim")
        return text

    def _contacts(self) -> Table:
        plan = self.plan
        table = Table(title=f"Contacts to notify ({len(plan.contacts)})", title_justify="left",
                      title_style="bold", expand=True, show_edge=False, pad_edge=False)
        table.add_column("Full name")
        table.add_column("E-mail")
        table.add_column("Title")
        for contact in plan.contacts:
            table.add_row(Text(clean(contact.full_name, limit=60)),
                          Text(clean(contact.email)), Text(clean(contact.title, limit=60)))
        if not plan.contacts:
            table.add_row(Text("No eligible contact is linked to these orgs.", style="dim"),
                          "", "")
        return table

    # -- actions -----------------------------------------------------------------------------
    @on(OptionList.OptionSelected, "#detail-actions")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.action_tick()

    def action_tick(self) -> None:
        if self.refuse_read_only():  # enter on an action comes here without the key's gate
            return
        options = self.query_one("#detail-actions", OptionList)
        if options.highlighted is None or not self.actions or self.busy:
            return
        self.busy = True
        self._toggle(options.highlighted)

    @work(thread=True, exit_on_error=False, group="calendar-tick", name="ticking an action")
    def _toggle(self, index: int) -> None:
        try:
            state = schedule.toggle_action(self.store, self.plan.push.id, self.actions[index].id)
        except Exception:
            self.post_message(ActionTicked(index, None))
            raise
        self.post_message(ActionTicked(index, state))

    @on(ActionTicked)
    def _ticked(self, event: ActionTicked) -> None:
        self.busy = False
        index, state = event.index, event.state
        if state is None:
            return
        action = self.actions[index]
        self.actions[index] = Action(action.id, action.phase, action.text, state)
        options = self.query_one("#detail-actions", OptionList)
        options.replace_option_prompt_at_index(index, action_prompt(self.actions[index]))

    def action_edit(self) -> None:
        self.dismiss("edit")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_down(self) -> None:
        self.query_one("#detail-actions", OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one("#detail-actions", OptionList).action_cursor_up()

"""Reached from the push screen: an org's push history, the change record of a request, and
the reason an org is left out of a plan.

The history and the change record are `juston_tui.push_ops.history` (what `push history ORG`
and `push report REQUEST --markdown` print), read in thread workers; the flag "failed its
last two pushes" is that module's `failed_last_two`, never judged here. The change record is
saved with the export helpers (`file_export.SavesExports`: never replaces a file unasked).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Static

from juston_tui.push_ops.history import (
    HistoryEntry,
    change_record,
    failed_last_two,
    push_history,
)
from juston_tui.push_ops.session import NoVendorOrg
from juston_tui.salesforce.errors import AccessError
from juston_tui.screens.base import JustOnModal, JustOnSubScreen
from juston_tui.screens.file_export import SavesExports
from juston_tui.screens.form_base import ERROR_CLASS
from juston_tui.screens.widgets.key_bar import KeyBar
from juston_tui.screens.widgets.title_bar import TitleBar
from juston_tui.text import clean

CSS = "../styles/push_ops.tcss"


class ReasonPrompt(JustOnModal[str | None]):
    """Why an org is left out of the plan (kept in it): dismisses with the reason or None."""

    CSS_PATH = CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, org_id: str, name: str) -> None:
        super().__init__()
        self.org_id = org_id
        self.org_name = name

    def compose(self) -> ComposeResult:
        with Vertical(id="pushops-reason"):
            text = Text("Leave ", style="bold")
            text.append(f"{self.org_id} ")
            text.append(clean(self.org_name, limit=60))
            text.append(" out of the plan", style="bold")
            yield Static(text)
            yield Label("Reason (kept in the plan and its change record)")
            yield Input(id="reason-input", validate_on=())
            yield Static("", id="reason-error", classes="field-error")
            yield Static(Text("enter: leave it out · esc: cancel", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#reason-input", Input).focus()

    @on(Input.Submitted, "#reason-input")
    def _submitted(self, event: Input.Submitted) -> None:
        reason = " ".join(event.value.split())
        if not reason:
            self.query_one("#reason-error", Static).update(Text("Give a reason, or esc."))
            event.input.set_class(True, ERROR_CLASS)
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HistoryLoaded(Message):
    def __init__(self, entries: list[HistoryEntry] | None, error: str = "") -> None:
        super().__init__()
        self.entries = entries
        self.error = error


class OrgHistoryScreen(JustOnSubScreen[None]):
    """Every push the org was in and how it ended (the packaging org is read)."""

    CSS_PATH = CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def __init__(self, org_id: str, name: str) -> None:
        super().__init__()
        self.org_id = org_id
        self.org_name = name

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with VerticalScroll(id="pushlearn-scroll"):
            yield Static(Text("Reading the pushes from the packaging org…"),
                         id="pushlearn-text")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = f"Push history of {clean(self.org_name, limit=40)}"
        self.load()

    @work(thread=True, exit_on_error=False, group="pushlearn", exclusive=True,
          name="reading the push history")
    def load(self) -> None:
        try:
            history = push_history(self.store, self.juston.get_credentials, self.org_id)
        except (NoVendorOrg, AccessError) as exc:
            self.post_message(HistoryLoaded(None, clean(str(exc), limit=300)))
            return
        self.post_message(HistoryLoaded(history.get(self.org_id, [])))

    @on(HistoryLoaded)
    def _loaded(self, event: HistoryLoaded) -> None:
        text = Text("Pushes of ", style="bold")
        text.append(f"{self.org_id} ")
        text.append(clean(self.org_name, limit=80))
        text.append("\n\n")
        if event.entries is None:
            text.append(f"Not read: {event.error}\n", style="red")
        elif not event.entries:
            text.append("It was in no scheduled push.\n")
        else:
            if failed_last_two(event.entries):
                text.append("! Failed its last two pushes: look before the next one\n\n",
                            style="bold red")
            text.append(f"{'Start (UTC)':<17} {'Version':<8} {'Wave':<4} {'Outcome':<22} "
                        "Plan / request / errors\n", style="bold")
            for e in event.entries:
                style = "red" if e.outcome == "Failed" or e.outcome.startswith("dropped") \
                    else ""
                text.append(f"{e.start_utc:%Y-%m-%d %H:%M} {clean(e.version, limit=8):<8} "
                            f"{e.wave:<4} ")
                text.append(f"{clean(e.outcome, limit=22):<22}", style=style)
                text.append(f" {e.plan_id} {e.request_id or '-'}")
                if e.error_types:
                    text.append(f" {', '.join(e.error_types)}", style="red")
                text.append("\n")
        self.query_one("#pushlearn-text", Static).update(text)

    def action_back(self) -> None:
        self.dismiss()


class ReportLoaded(Message):
    def __init__(self, markdown: str | None, error: str = "") -> None:
        super().__init__()
        self.markdown = markdown
        self.error = error


class PushReportScreen(SavesExports, JustOnSubScreen[None]):
    """The change record of one push request (Markdown), scrollable; `w` saves it."""

    CSS_PATH = CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("w", "save", "Save to file"),
    ]

    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id
        self.markdown: str | None = None

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with VerticalScroll(id="pushlearn-scroll"):
            yield Static(Text("Reading the request from the packaging org…"),
                         id="pushlearn-text")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = f"Change record of {self.request_id}"
        self.query_one("#pushlearn-scroll", VerticalScroll).focus()
        self.load()

    @work(thread=True, exit_on_error=False, group="pushlearn", exclusive=True,
          name="making the change record")
    def load(self) -> None:
        try:
            markdown = change_record(self.store, self.juston.get_credentials, self.request_id)
        except KeyError as exc:
            self.post_message(ReportLoaded(None, clean(str(exc.args[0]), limit=300)))
            return
        except (NoVendorOrg, AccessError) as exc:
            self.post_message(ReportLoaded(None, clean(str(exc), limit=300)))
            return
        self.post_message(ReportLoaded(markdown))

    @on(ReportLoaded)
    def _loaded(self, event: ReportLoaded) -> None:
        self.markdown = event.markdown
        widget = self.query_one("#pushlearn-text", Static)
        if event.markdown is None:
            widget.update(Text(f"Not read: {event.error}", style="red"))
            return
        widget.update(Text(event.markdown))  # plain text: the record holds untrusted names

    def action_save(self) -> None:
        markdown = self.markdown
        if markdown is None:
            self.notify("The change record is not read yet.", severity="warning")
            return
        self.save_export("change record", Path.cwd() / f"push-report-{self.request_id}.md",
                         lambda: markdown.encode("utf-8"))

    def action_back(self) -> None:
        self.dismiss()

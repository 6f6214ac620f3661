"""Add or edit a confirmed push from the announcement e-mail (seed 000).

`schedule.parse_push` is the single source of validation (the CLI gives the same messages);
its `ValidationError.errors` appear under each field, a field is checked when you leave it and
all of them on save (ctrl+s). Nothing typed is ever cleared. The store write runs in a worker.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from juston_tui import schedule
from juston_tui.model import ValidationError
from juston_tui.schedule import PRODUCT_LABELS, PRODUCTS, Push
from juston_tui.screens.base import JustOnModal
from juston_tui.screens.form_base import ValidatedForm

# (field, label, placeholder)
INPUTS: tuple[tuple[str, str, str], ...] = (
    ("date", "Push date (local)", "YYYY-MM-DD, e.g. 2027-01-23"),
    ("time", "Start time (local, 24 h)", "HH:MM, e.g. 01:00"),
    ("timezone", "Time zone", "IANA name, e.g. Europe/Berlin"),
    ("version", "Version", "from the announcement, e.g. 2.81"),
    ("announced_on", "Announcement received on (optional)", "YYYY-MM-DD"),
)
AREAS = (("before", "Actions before the push (one per line)"),
         ("after", "Actions after the push (one per line)"))
FIELD_ORDER = ("date", "time", "timezone", "product", "version", "kind", "announced_on",
               "before", "after", "notes")


class PushSaved(Message):
    """The save worker ended: the push as stored, or the one-line reason it was not."""

    def __init__(self, push: Push | None, error: str = "") -> None:
        super().__init__()
        self.push = push
        self.error = error


# JustOnModal brings `self.store` and the read-only gate until ValidatedForm derives from it.
class PushFormScreen(ValidatedForm[Push | None], JustOnModal[Push | None]):
    """Dismisses with the saved push, or None when cancelled."""

    CSS_PATH = "../styles/calendar.tcss"
    FIELD_ORDER = FIELD_ORDER
    REQUIRED = frozenset({"date", "version"})

    def __init__(self, push: Push | None, defaults: dict[str, str] | None = None) -> None:
        super().__init__()
        self.push = push
        self.initial = schedule.push_form_values(push) if push else {
            "date": "", "time": "01:00", "timezone": "Europe/Berlin", "product": "billing",
            "version": "", "kind": "major", "before": "", "after": "", "notes": "",
            "announced_on": ""} | (defaults or {})

    def compose(self) -> ComposeResult:
        values = self.initial
        title = ("Edit the confirmed push" if self.push else
                 "Add a confirmed push from the announcement e-mail")
        with Vertical():
            yield Static(Text(title, style="bold"))
            with VerticalScroll():
                for name, label, placeholder in INPUTS:
                    yield Label(label)
                    yield Input(self.shown(name, values.get(name, "")),
                                placeholder=placeholder, id=f"field-{name}")
                    yield Static("", classes="field-error", id=f"error-{name}")
                    if name == "timezone":
                        yield Label("Product")
                        yield Select([(PRODUCT_LABELS[p], p) for p in PRODUCTS],
                                     value=values.get("product") or "billing",
                                     allow_blank=False, id="field-product")
                        yield Static("", classes="field-error", id="error-product")
                    if name == "version":
                        yield Label("Kind")
                        yield Select([("major (new features)", "major"),
                                      ("patch (fixes only)", "patch")],
                                     value=values.get("kind") or "major", allow_blank=False,
                                     id="field-kind")
                        yield Static("", classes="field-error", id="error-kind")
                for name, label in AREAS:
                    yield Label(label)
                    yield TextArea(self.shown(name, values.get(name, ""), lines=True),
                                   id=f"field-{name}",
                                   tab_behavior="focus", soft_wrap=True)
                    yield Static("", classes="field-error", id=f"error-{name}")
                yield Label("Notes")
                yield Input(self.shown("notes", values.get("notes", "")), id="field-notes")
                yield Static("", classes="field-error", id="error-notes")
                yield Static("", classes="field-error", id="error-form")
            with Horizontal(id="push-form-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#field-date", Input).focus()

    # -- values and errors -------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """What is typed right now, in the shape `schedule.parse_push` takes."""
        out: dict[str, Any] = {}
        for name, _, _ in INPUTS:
            out[name] = self.as_typed(name, self.query_one(f"#field-{name}", Input).value)
        out["notes"] = self.as_typed("notes", self.query_one("#field-notes", Input).value)
        out["product"] = self.query_one("#field-product", Select).value
        out["kind"] = self.query_one("#field-kind", Select).value
        for name, _ in AREAS:
            out[name] = self.as_typed(name, self.query_one(f"#field-{name}", TextArea).text)
        return out

    def field_errors(self) -> dict[str, str]:
        try:
            schedule.parse_push(self.values(), previous=self.push)
        except ValidationError as exc:
            return exc.errors
        return {}

    # -- saving ------------------------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        if self.refuse_read_only() or self.saving:
            return
        try:
            push = schedule.parse_push(self.values(), previous=self.push)
        except ValidationError as exc:
            self.show_errors(exc.errors)
            self.focus_first_error(exc.errors)
            return
        self.show_errors({})
        self.saving = True
        self._save(push)

    @work(thread=True, exit_on_error=False, group="calendar-write", name="saving a push")
    def _save(self, push: Push) -> None:
        try:
            saved = schedule.save_push(self.store, push)
        except Exception as exc:
            self.post_message(PushSaved(None, str(exc)))
            return
        self.post_message(PushSaved(saved))

    @on(PushSaved)
    def _saved(self, event: PushSaved) -> None:
        if event.push is not None:
            self.dismiss(event.push)
            return
        self.saving = False
        self.show_form_error(f"Not saved: {event.error}")


"""The shared shape of every add/edit form: errors at the field where the value was typed.

A form lists its fields in `FIELD_ORDER`; field `name` is the widget `#{FIELD_PREFIX}{name}`
and its message the Static `#error-{name}`; `#error-form` takes what belongs to no field.
`field_errors()` (the model's `ValidationError.errors`, the CLI's words) decides; this base
shows them, marks the widget with `ERROR_CLASS`, focuses the first bad field, checks a field
when it is left and again while a marked field is being corrected. Nothing typed is touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar, TypeVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from juston_tui.screens.base import JustOnModal
from juston_tui.text import clean

ResultType = TypeVar("ResultType")

# One class for a field with an error in every form (Textual's Input already styles it).
ERROR_CLASS = "-invalid"
# Shown under a field only while it has a message.
ERROR_LABEL_CLASS = "field-error"


class FormSaved(Message):
    """The form's save worker finished: dismiss with `result`."""

    def __init__(self, result: object) -> None:
        super().__init__()
        self.result = result


class FormFailed(Message):
    """The form's save worker was refused: `errors` by field ("form" for the whole form)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__()
        self.errors = dict(errors)


class ValidatedForm(JustOnModal[ResultType]):
    """Base of the org, contact, push and credentials forms.

    A save worker ends with `self.post_message(FormSaved(result))` (the form dismisses) or
    `FormFailed(errors)` (the errors go under their fields, the first bad field gets focus).
    """

    FIELD_ORDER: ClassVar[tuple[str, ...]] = ()
    FIELD_PREFIX: ClassVar[str] = "field-"
    # Leaving an empty field that is not required clears its message instead of checking it.
    REQUIRED: ClassVar[frozenset[str]] = frozenset()
    VALIDATE_ON_BLUR: ClassVar[bool] = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.saving = False
        self._shown: dict[str, tuple[str, str]] = {}

    # -- stored values in fields ---------------------------------------------------------------
    def shown(self, name: str, stored: str, *, lines: bool = False) -> str:
        """What field `name` shows of a stored value: no control characters (a name with an
        OSC 52 sequence would otherwise write the clipboard from the form), bidi controls as
        visible marks. A field left as shown gives back the stored value (`as_typed`)."""
        display = clean(stored, single_line=not lines)
        self._shown[name] = (display, stored)
        return display

    def as_typed(self, name: str, value: str) -> str:
        """The value of field `name`: the stored one while the field still shows it."""
        display, stored = self._shown.get(name, (None, value))
        return stored if value == display else value

    # -- save / cancel (keys and the form's buttons) -----------------------------------------
    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_save(self) -> None:
        raise NotImplementedError

    def action_cancel(self) -> None:
        self.dismiss(None)  # type: ignore[arg-type]

    # -- what subclasses provide -------------------------------------------------------------
    def field_errors(self) -> dict[str, str]:
        """{field: message} for what is typed right now (empty when all is well)."""
        return {}

    # -- lookups -----------------------------------------------------------------------------
    def field_order(self) -> tuple[str, ...]:
        """The fields, in the order they are shown (first bad one gets the focus)."""
        return self.FIELD_ORDER

    def field_widget(self, name: str) -> Widget | None:
        try:
            return self.query_one(f"#{self.FIELD_PREFIX}{name}")
        except NoMatches:
            return None

    def field_name(self, widget: Widget) -> str | None:
        """The field a widget edits, or None (the widget is not one of the form's fields)."""
        name = (widget.id or "").removeprefix(self.FIELD_PREFIX)
        return name if widget.id and name != widget.id and name in self.field_order() else None

    def on_mount(self) -> None:
        # Textual calls this after the subclass's own on_mount (handlers run along the MRO).
        # Textual's Input clears ERROR_CLASS itself on every change and blur when it has no
        # validators; the form owns that class.
        for widget in self.query(Input):
            if self.field_name(widget) is not None:
                widget.validate_on = set()

    # -- showing errors ----------------------------------------------------------------------
    def show_errors(self, errors: Mapping[str, str], only: Iterable[str] | None = None) -> None:
        """Put each message under its field; `only` limits which fields are touched.

        Without `only`, messages for no known field go to `#error-form` as "field: message".
        """
        names = list(self.field_order()) if only is None else list(only)
        for name in names:
            message = errors.get(name, "")
            try:
                label = self.query_one(f"#error-{name}", Static)
            except NoMatches:
                label = None
            if label is not None:
                label.update(Text(clean(message)))
                label.set_class(bool(message), "-shown")
            widget = self.field_widget(name)
            if widget is not None:
                widget.set_class(bool(message), ERROR_CLASS)
        if only is None:
            self.show_form_error("; ".join(
                message if name == "form" else f"{name}: {message}"
                for name, message in errors.items() if name not in self.field_order()))

    def show_form_error(self, message: str) -> None:
        try:
            label = self.query_one("#error-form", Static)
        except NoMatches:
            return
        label.update(Text(clean(message)))
        label.set_class(bool(message), "-shown")

    def has_error(self, name: str) -> bool:
        widget = self.field_widget(name)
        return widget is not None and widget.has_class(ERROR_CLASS)

    def focus_first_error(self, errors: Mapping[str, str]) -> None:
        for name in self.field_order():
            if name in errors:
                widget = self.field_widget(name)
                if widget is None or widget.disabled:
                    continue
                widget.focus()
                widget.scroll_visible()
                return

    # -- what the save worker reported ---------------------------------------------------------
    @on(FormSaved)
    def _form_saved(self, event: FormSaved) -> None:
        self.saving = False
        self.dismiss(event.result)  # type: ignore[arg-type]

    @on(FormFailed)
    def _form_failed(self, event: FormFailed) -> None:
        self.saving = False
        self.show_errors(event.errors)
        self.focus_first_error(event.errors)
        self.refresh_bindings()

    # -- checking as you go ------------------------------------------------------------------
    def recheck(self, names: Iterable[str]) -> None:
        self.show_errors(self.field_errors(), only=set(names))

    def recheck_shown(self) -> None:
        """After a change that affects other fields (a select): recheck those marked bad."""
        self.recheck(n for n in self.field_order() if self.has_error(n))

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        if self.field_name(event.input) is not None:
            self.focus_next()

    @on(Input.Blurred)
    def _field_blurred(self, event: Input.Blurred) -> None:
        name = self.field_name(event.input)
        if name is None or not self.VALIDATE_ON_BLUR or self.saving or not self.is_attached:
            return
        if not event.input.value.strip() and name not in self.REQUIRED:
            self.show_errors({}, only={name})
            return
        self.recheck({name})

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        name = self.field_name(event.input)
        if name is not None and event.input.has_class(ERROR_CLASS):
            self.recheck({name})

"""An Input for secrets: masked on screen, and nothing it receives or sends logs the value.

With TEXTUAL_LOG set Textual writes the repr of every message it dispatches to the file: the
key events typed into a widget (one character each), `Input.Changed`, `Input.Blurred` and
`Input.Submitted` (dataclasses whose repr holds the value), and pasted text. SecretInput keeps
Textual's behaviour and handler names (`on_input_changed`, `@on(Input.Changed)`) but
- hands its keys and pastes on as events whose repr hides the key/text, and
- posts Changed/Blurred/Submitted messages whose repr says `value=<hidden>`.
Workers that get a secret take an explicit `description` (Textual's default repeats the
worker's arguments); see screens/credentials_form.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import rich.repr
from textual import events
from textual.widgets import Input


class _HiddenKey(events.Key):
    """A key typed into a SecretInput: the same event, logged without its key."""

    def __rich_repr__(self) -> rich.repr.Result:
        yield "key", "<hidden>"


class _HiddenPaste(events.Paste):
    """Text pasted into a SecretInput, logged without the text."""

    def __rich_repr__(self) -> rich.repr.Result:
        yield "text", "<hidden>"


# Same handlers as the events they stand for (`on_key`, `on_paste`), not `on__hidden_key`.
_HiddenKey.handler_name = events.Key.handler_name
_HiddenPaste.handler_name = events.Paste.handler_name


class _HidesValue:
    """Mixin for SecretInput's messages: the repr names the input, never the value."""

    input: Input

    def __repr__(self) -> str:
        return f"SecretInput.{type(self).__name__}(input={self.input!r}, value=<hidden>)"

    def __rich_repr__(self) -> rich.repr.Result:
        yield "input", self.input
        yield "value", "<hidden>"


class SecretInput(Input):
    """`Input(password=True)` whose events and messages repr without the value."""

    @dataclass(repr=False)
    class Changed(_HidesValue, Input.Changed, namespace="input"):
        pass

    @dataclass(repr=False)
    class Submitted(_HidesValue, Input.Submitted, namespace="input"):
        pass

    @dataclass(repr=False)
    class Blurred(_HidesValue, Input.Blurred, namespace="input"):
        pass

    def __init__(self, *args: object, password: bool = True, **kwargs: object) -> None:
        super().__init__(*args, password=password, **kwargs)  # type: ignore[arg-type]

    def _forward_event(self, event: events.Event) -> None:
        if type(event) is events.Key:
            event = _HiddenKey(event.key, event.character)
        elif type(event) is events.Paste:
            event = _HiddenPaste(event.text)
        super()._forward_event(event)

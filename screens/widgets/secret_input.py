"""An Input for secrets: masked on screen, and its messages never carry the value into logs.

Textual logs every message it dispatches when TEXTUAL_LOG is set, using the message's repr,
and Input.Changed/Submitted are dataclasses whose repr includes the typed value. These
subclasses keep the same handler names (`on_input_changed`, `@on(Input.Changed)`) but hide it.
"""

from __future__ import annotations

from dataclasses import dataclass

import rich.repr
from textual.widgets import Input


class SecretInput(Input):
    """`Input(password=True)` whose Changed/Submitted messages repr as `value=<hidden>`."""

    @dataclass(repr=False)
    class Changed(Input.Changed, namespace="input"):
        def __repr__(self) -> str:
            return f"SecretInput.Changed(input={self.input!r}, value=<hidden>)"

        def __rich_repr__(self) -> rich.repr.Result:
            yield "input", self.input
            yield "value", "<hidden>"

    @dataclass(repr=False)
    class Submitted(Input.Submitted, namespace="input"):
        def __repr__(self) -> str:
            return f"SecretInput.Submitted(input={self.input!r}, value=<hidden>)"

        def __rich_repr__(self) -> rich.repr.Result:
            yield "input", self.input
            yield "value", "<hidden>"

    def __init__(self, *args: object, password: bool = True, **kwargs: object) -> None:
        super().__init__(*args, password=password, **kwargs)  # type: ignore[arg-type]

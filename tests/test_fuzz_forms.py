"""Hostile input in every form, under Pilot: org, contact, push and credentials forms.

Each form is opened with keys, as a person would, and every field (Inputs and text areas)
gets hypothesis-generated hostile text (markup, escapes, control characters, very long,
empty); one field is typed key by key. Then ctrl+s. The app must keep running with no failed
worker, and the form must either accept (close) or show an error at a field while keeping
what was typed. Markup must be shown as typed: a `[b]MARK[/b]` value appears on screen only
with its brackets.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from juston_tui.model import Org, normalize_org_id

# Each form: the explicit @example, then two generated examples drawn from HOSTILE and any text
# (each starts the whole app: ~8 s); no shrinking (a failure prints its values anyway).
FORM_FUZZ = settings(max_examples=2, deadline=None, derandomize=True,
                     phases=(Phase.explicit, Phase.generate),
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow])
MARK = "[b]MARK[/b]"
HOSTILE = [
    "", " ", MARK, "[bold red]Evil[/]", "[/]", "[", "\x1b[31mred\x1b[0m", "\x1b]0;pwned\x07",
    "\x00nul", "line\nbreak", "\u202ertl", "🙂 ß", "{0} %s", "A" * 3000,
    "2027-01-23", "01:00", "Europe/Berlin", "2.81", "anna@example.de", "00D5g000004Xyz1",
    "https://acme.my.salesforce.com",
]
value = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=80),
                  st.integers(300, 2000).map(lambda n: "Ö" * n))
# What pilot.press can type as plain characters (no escape, no control keys).
typeable = st.text(alphabet=st.sampled_from("abcXYZ019[]/@.-_ äöüß"), min_size=1, max_size=12)
ORG = normalize_org_id("00D5g000004Xyz1")
# MARK on screen without the "[b]" typed before it: the markup was interpreted.
RENDERED_MARK = re.compile(r"(?<!\[b\])MARK")


def _text_of(widget: Any) -> str:
    return str(widget.render()).strip()


def _make_app(tmp: Path) -> Any:
    from textual import on
    from textual.worker import Worker, WorkerState

    from juston_tui.app import JustOnApp
    from juston_tui.credentials import open_credentials
    from juston_tui.store import Store

    store = Store.open(tmp / "store.json")
    if store.find_org(ORG) is None:
        store.add_org(Org.create(org_id=ORG, name="Fuzz GmbH", auth_method="password",
                                 username="admin@fuzz.example"))

    class FuzzApp(JustOnApp):
        failures: list[str] = []

        @on(Worker.StateChanged)
        def _record(self, event: Worker.StateChanged) -> None:
            if event.state == WorkerState.ERROR:
                self.failures.append(f"{event.worker.name}: {event.worker.error!r}")

    app = FuzzApp(store=store, credentials=open_credentials("memory"))
    app.failures = []
    return app


async def _until(pilot: Any, predicate: Callable[[], bool], what: str,
                 timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


WAIT_AFTER = {"enter": "OrgDetailScreen", "p": "PushRequestScreen"}
OPENERS: dict[str, tuple[tuple[str, ...], str]] = {
    # form -> (keys from the registry screen, class name of the form)
    "org": (("1", "a"), "OrgFormScreen"),
    "contact": (("5", "a"), "ContactFormScreen"),
    "push": (("4", "a"), "PushFormScreen"),
    "credentials": (("1", "enter", "c"), "CredentialsFormScreen"),
    "push-request": (("1", "p", "m"), "RequestedPrompt"),
}


async def _fuzz_form(tmp: Path, form: str, rounds: list[list[str]], typed: str) -> None:
    from textual.widgets import Input, TextArea

    keys, form_class = OPENERS[form]
    app = _make_app(tmp)
    async with app.run_test(size=(140, 45)) as pilot:
        await _until(pilot, lambda: getattr(app.screen, "loaded", True), "the first screen")
        for number, values in enumerate(rounds):
            # Open the form with keys, from wherever we are.
            for _ in range(5):  # back to a top-level screen (they have a MODE)
                if getattr(app.screen, "MODE", None):
                    break
                await pilot.press("escape")
                await pilot.pause()
            for key in keys:
                await pilot.press(key)
                await pilot.pause()
                if key in WAIT_AFTER:
                    await _until(pilot, lambda k=key: type(app.screen).__name__ == WAIT_AFTER[k],
                                 WAIT_AFTER[key])
            await _until(pilot, lambda: type(app.screen).__name__ == form_class,
                         f"the {form} form")
            screen = app.screen
            await pilot.pause()
            fields = [w for w in screen.query(Input) if not w.disabled]
            areas = list(screen.query(TextArea))
            assert fields, f"no input fields in the {form} form"
            # One field typed key by key (the one with focus), the rest set directly.
            focused = app.focused if isinstance(app.focused, Input) else fields[0]
            focused.focus()
            await pilot.pause()
            focused.value = ""
            await pilot.press(*typed)
            expected: dict[int, str] = {id(focused): focused.value}
            assert focused.value == typed, (focused.value, typed)
            for i, widget in enumerate(w for w in fields if w is not focused):
                widget.value = values[i % len(values)]
                expected[id(widget)] = widget.value
            for i, area in enumerate(areas):
                area.text = values[(i + 3) % len(values)]
            await pilot.press("ctrl+s")
            await _until(pilot, lambda s=screen: app.screen is not s
                         or not getattr(s, "saving", False), f"{form} round {number} to settle")
            await pilot.pause(0.05)
            assert app.is_running, f"the app stopped in round {number}"
            assert not app.failures, f"a worker failed: {app.failures}"
            if app.screen is screen:  # refused: an error at a field, and the input kept
                errors = [_text_of(s) for s in screen.query(".field-error")]
                assert any(errors), (f"{form} round {number}: neither saved nor an error "
                                     f"shown; values {[w.value for w in fields]!r}")
                for widget in fields:
                    assert widget.value == expected[id(widget)], "typed text was not kept"
            # The screen's text: the screenshot's text runs joined (a cursor splits runs).
            shown = html.unescape(re.sub(r"<[^>]*>", "", app.export_screenshot()))
            rendered = RENDERED_MARK.findall(shown)
            assert not rendered, f"{form} round {number}: markup was rendered, not shown"
        assert app.is_running


def _run(tmp: Path, form: str, values: list[str], typed: str) -> None:
    # Three rounds: the generated values, every field set to the markup marker, and the
    # generated values shifted (a different value in each field).
    rounds = [values, [MARK], values[1:] + values[:1]]
    asyncio.run(_fuzz_form(tmp, form, rounds, typed))


@pytest.mark.parametrize("form", sorted(OPENERS))
def test_every_form_survives_hostile_input(tmp_path: Path, form: str) -> None:
    @FORM_FUZZ
    @given(values=st.lists(value, min_size=4, max_size=4), typed=typeable)
    @example(values=["\x1b[2J" + MARK, "Ö" * 300, "", "\u202e" + "x" * 5000], typed="[b]x")
    def fuzz(values: list[str], typed: str) -> None:
        _run(tmp_path, form, values, typed)

    fuzz()

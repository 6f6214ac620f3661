"""The command palette's commands for the screen it was opened on: every key of that screen.

Derived from the screen's bindings (`help.key_groups`, the same reading `?` shows), so a new
binding is a palette command with no list to keep; `WORDS` adds the words a user would type
for an action ("report", "export", "mark") besides its description. Generic navigation and
the app's own keys (quit, keys, palette) are left to Textual's and the app's system commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from juston_tui.screens.help import key_groups

# Extra search words per action name; "Screen.action" overrides for one screen.
WORDS: dict[str, str] = {
    "filter": "search find",
    "add": "new create",
    "edit": "change modify",
    "delete": "remove",
    "undo": "revert",
    "refresh": "check probe status verify",
    "refresh_all": "check every org status sweep",
    "push": "push upgrade registration request support",
    "vendor_sync": "packaging org subscribers sync import",
    "select_cursor": "open details",
    "toggle_selected": "mark select",
    "cycle_sort": "order",
    "verify": "check verify steps",
    "write_report": "report markdown save file export",
    "toggle": "mark done undone step",
    "skip": "skip step mark",
    "note": "note comment",
    "jump": "next open step",
    "pick_org": "org choose switch",
    "export_ics": "export ics icalendar save file",
    "export": "export csv vcard notification list save file",
    "import_file": "import csv vcard file",
    "link": "link orgs contact",
    "toggle_eligible": "mark eligible notify",
    "copy_email": "copy e-mail clipboard",
    "copy_notify": "copy notification list clipboard",
    "open_contacts": "contacts",
    "credentials": "login secret token password",
    "checklist": "install checklist steps",
    "contacts": "linked contacts people",
    "months": "months range",
    "toggle_grid": "grid agenda month view",
    "CalendarScreen.refresh": "refresh vendor push requests",
    "ContactsScreen.reload": "reload",
}
_LEFT_OUT = {"Navigation", "App"}


@dataclass(frozen=True)
class ScreenCommand:
    title: str  # "Check all (R)"
    words: str  # what else matches: description, action words
    help: str
    node: Any
    action: str


def screen_commands(screen: Screen[Any]) -> list[ScreenCommand]:
    """One command per enabled key of `screen` (not navigation, not the app's keys)."""
    nodes = {key: active.node for key, active in screen.active_bindings.items()}
    title = getattr(screen, "TITLE", None) or type(screen).__name__
    out: list[ScreenCommand] = []
    for group, entries in key_groups(screen):
        if group in _LEFT_OUT:
            continue
        for entry in entries:
            if not entry.enabled or entry.binding_key == "escape":
                continue  # esc (close, cancel, clear) is no command: the palette is closing
            name = entry.action.split("(", 1)[0].rpartition(".")[2]
            words = WORDS.get(f"{type(screen).__name__}.{name}", WORDS.get(name, ""))
            out.append(ScreenCommand(
                f"{entry.description} ({entry.key})", f"{entry.description} {words}",
                f"{title} · {group.lower()} · key {entry.key}", nodes[entry.binding_key],
                entry.action))
    return out


class ScreenActions(Provider):
    """Every action of the screen underneath, with its key, found by the words above."""

    def _commands(self) -> list[ScreenCommand]:
        return screen_commands(self.screen)

    def _runner(self, command: ScreenCommand) -> Any:
        return partial(self.app.run_action, command.action, command.node)

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.title, self._runner(command), text=command.title,
                               help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            on_title = matcher.match(command.title)
            on_words = max((matcher.match(word) for word in command.words.split()),
                           default=0.0)
            score = max(on_title, on_words * 0.9)
            if score > 0:
                shown = matcher.highlight(command.title) if on_title else Text(command.title)
                yield Hit(score, shown, self._runner(command), text=command.title,
                          help=command.help)

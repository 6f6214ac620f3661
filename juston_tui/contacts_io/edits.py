"""Contact edits that can be taken back: what each change needs for its undo, and the undo.

The contacts screen keeps a stack of `UndoEntry`s and calls `undo` from a worker. The undo goes
through the store's own contact methods, so the store's rule (one contact per e-mail address)
decides whether a contact can come back: an address that went to someone else since is
reported, never doubled. One transaction: an undo is written whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from juston_tui.contacts_io.planning import ImportPreview
from juston_tui.model import Contact, ValidationError
from juston_tui.store import NotFoundError, Store

Changes = Mapping[str, Any] | Callable[[Contact], Mapping[str, Any]]


@dataclass(frozen=True)
class UndoEntry:
    """How to take one change back: contacts to put back as they were, IDs to remove."""

    label: str
    restore: tuple[Contact, ...] = ()
    remove: tuple[str, ...] = ()

    @classmethod
    def added(cls, contact: Contact) -> UndoEntry:
        return cls(f"add of {contact.full_name}", remove=(contact.id,))

    @classmethod
    def changed(cls, before: Contact, what: str = "change") -> UndoEntry:
        return cls(f"{what} of {before.full_name}", restore=(before,))

    @classmethod
    def deleted(cls, contact: Contact) -> UndoEntry:
        return cls(f"delete of {contact.full_name}", restore=(contact,))

    @classmethod
    def imported(cls, result: ImportPreview) -> UndoEntry:
        """An applied import: its new contacts go, the ones it updated get their old values."""
        return cls(
            f"import of {result.source}",
            restore=tuple(r.existing for r in result.rows
                          if r.action == "update" and r.contact and r.existing),
            remove=tuple(r.contact.id for r in result.rows if r.action == "add" and r.contact),
        )


@dataclass
class UndoOutcome:
    """What an undo did: contacts put back, IDs removed, and why any could not come back."""

    restored: list[Contact] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def undo(store: Store, entry: UndoEntry) -> UndoOutcome:
    """Take `entry` back in one transaction (a failed write changes nothing: try again)."""
    outcome = UndoOutcome()
    with store.transaction():
        for contact_id in entry.remove:
            try:
                store.remove_contact(contact_id)
            except NotFoundError:
                pass  # removed meanwhile (another instance, the CLI): nothing to take back
            outcome.removed.append(contact_id)
        for contact in entry.restore:
            try:
                _put_back(store, contact)
            except ValidationError as exc:  # its e-mail address belongs to someone else now
                outcome.blocked.append("; ".join(exc.errors.values()))
                continue
            outcome.restored.append(contact)
    return outcome


def _put_back(store: Store, contact: Contact) -> None:
    try:
        store.get_contact(contact.id)
    except NotFoundError:
        store.add_contact(contact)
        return
    fields = contact.to_doc()
    del fields["id"]
    store.update_contact(contact.id, **fields)


def change_contact(store: Store, contact_id: str, changes: Changes) -> tuple[Contact, Contact]:
    """Change one contact against what is stored now; (before, after) for the undo.

    `changes` may be a function of the stored contact: a toggle must flip what is stored now,
    not what a row showed before another instance changed it.
    """
    with store.transaction():
        before = store.get_contact(contact_id)
        wanted = changes(before) if callable(changes) else changes
        after = store.update_contact(contact_id, **wanted)
    return before, after

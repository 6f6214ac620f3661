"""Finding contacts as you type: one folded search string per contact, and the list's order.

Folding is case-folding plus accent-free and German-transliterated forms, so "mul" and
"muel" both find Müller and "weiss" finds Weiß.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from juston_tui.model import Contact
from juston_tui.text import fold, matches, search_terms


def sort_key(contact: Contact) -> tuple[str, str]:
    """The order of every list and export: full name, then e-mail, case-folded."""
    return (contact.full_name.casefold(), contact.email.casefold())


def doc_sort_key(doc: Mapping[str, Any]) -> tuple[str, str]:
    """`sort_key` for a stored document (a bulk display sorts 10,000 before building any)."""
    return (str(doc.get("full_name", "")).casefold(), str(doc.get("email", "")).casefold())


def sorted_contacts(contacts: Iterable[Contact]) -> list[Contact]:
    return sorted(contacts, key=sort_key)


# The folding of every filter is juston_tui.text.fold (one matcher for all screens); the old
# name stays for the callers that import it from here.
fold_text = fold


class ContactIndex:
    """Every contact with one folded search string over all its fields (incl. org names).

    The search strings are built on first use (or ahead of time by `warm()` in a worker), so
    showing a list never waits for them; a keystroke is then one substring test per contact,
    a few milliseconds for 10,000 contacts.
    """

    def __init__(self, contacts: Iterable[Contact], org_names: Mapping[str, str]) -> None:
        self.contacts = sorted_contacts(contacts)
        # Kept as given when it is a dict (100,000 names: a copy is 5 MB); never changed here.
        self.org_names = org_names if isinstance(org_names, dict) else dict(org_names)
        self._haystacks: list[str] | None = None
        self._version = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.contacts)

    def org_label(self, contact: Contact) -> str:
        return ", ".join(self.org_names.get(o, o) for o in contact.org_ids)

    @property
    def haystacks(self) -> list[str]:
        while self._haystacks is None:
            version = self._version
            built = [self._haystack(c) for c in list(self.contacts)]
            with self._lock:
                if version == self._version:  # not edited meanwhile (warm() is in a thread)
                    self._haystacks = built
        return self._haystacks

    def warm(self) -> None:
        """Build the search strings now (call from a worker thread after the first paint)."""
        _ = self.haystacks

    def get(self, contact_id: str) -> Contact | None:
        for contact in self.contacts:
            if contact.id == contact_id:
                return contact
        return None

    def find_email(self, email: str) -> Contact | None:
        wanted = email.strip().casefold()
        for contact in self.contacts:
            if contact.email.casefold() == wanted:
                return contact
        return None

    def remove(self, contact_id: str) -> Contact | None:
        """Drop one contact in place (no rebuild: an edit on a 10k list stays cheap)."""
        with self._lock:
            for position, contact in enumerate(self.contacts):
                if contact.id == contact_id:
                    self._version += 1
                    del self.contacts[position]
                    if self._haystacks is not None:
                        del self._haystacks[position]
                    return contact
        return None

    def upsert(self, contact: Contact) -> None:
        """Insert or replace one contact, keeping the name order."""
        self.remove(contact.id)
        with self._lock:
            position = bisect.bisect_left(self.contacts, sort_key(contact), key=sort_key)
            self._version += 1
            self.contacts.insert(position, contact)
            if self._haystacks is not None:
                self._haystacks.insert(position, self._haystack(contact))

    def _haystack(self, c: Contact) -> str:
        parts = [c.full_name, c.email, c.title, c.role, c.notes, " ".join(c.org_ids),
                 self.org_label(c), "eligible" if c.eligible else "not-eligible"]
        return fold_text("\x01".join(parts))

    def search(self, query: str, *, org_id: str | None = None,
               eligible_only: bool = False) -> list[Contact]:
        """Contacts containing every whitespace-separated term of `query` in any field."""
        terms = search_terms(query)
        if not terms and org_id is None and not eligible_only:
            return list(self.contacts)
        found = []
        for contact, hay in zip(self.contacts, self.haystacks, strict=True):
            if org_id is not None and org_id not in contact.org_ids:
                continue
            if eligible_only and not contact.eligible:
                continue
            if matches(terms, hay):
                found.append(contact)
        return found


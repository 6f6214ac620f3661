"""Add or edit a contact: full name, e-mail and title (seed 000), validated where typed.

`model.Contact.create` is the one source of validation (the CLI says the same words). A field
is checked when you leave it and all of them on save (ctrl+s); a duplicate e-mail is caught on
leaving the field (against the loaded list) and again by the store on save, with the name of
the contact that already has it and ctrl+g to go there. Nothing typed is lost on an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from juston_tui.model import Contact, ValidationError
from juston_tui.screens.form_base import FormFailed, FormSaved, ValidatedForm
from juston_tui.text import clean

# (field, label, placeholder)
TEXT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("full_name", "Full name *", "Anna Müller"),
    ("email", "E-mail *", "anna.mueller@example.de"),
    ("title", "Title *", "Salesforce-Administratorin, Head of Finance, …"),
    ("role", "Role", "Admin, Finance, IT … (optional)"),
)
FIELD_ORDER = ("full_name", "email", "title", "role", "notes", "eligible", "org_ids")


def edited_fields(before: Contact, after: Contact) -> dict[str, Any]:
    """Only what the user changed since the form opened.

    Sending every field would put back what another instance or the CLI changed while the
    form was open (the eligible flag, the linked orgs, ...).
    """
    old, new = before.to_doc(), after.to_doc()
    return {k: v for k, v in new.items() if k != "id" and old.get(k) != v}


class GoToContact:
    """The form's answer when the user chose to go to the contact that owns the e-mail."""

    def __init__(self, contact_id: str) -> None:
        self.contact_id = contact_id


FormResult = Contact | GoToContact | None


class ContactFormScreen(ValidatedForm[FormResult]):
    """Dismisses with the saved Contact, a GoToContact, or None when cancelled."""

    FIELD_ORDER = FIELD_ORDER
    REQUIRED = frozenset(FIELD_ORDER)  # leaving any field checks it (a duplicate e-mail too)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "link", "Link orgs"),
        Binding("ctrl+g", "goto_duplicate", "Go to existing", show=False),
    ]
    CSS_PATH = "../styles/contacts.tcss"

    def __init__(
        self,
        contact: Contact | None,
        *,
        org_names: Mapping[str, str] | None = None,
        find_email: Callable[[str], Contact | None] | None = None,
    ) -> None:
        super().__init__()
        self.contact = contact
        self.org_names = dict(org_names or {})
        self.find_email = find_email
        self.org_ids: list[str] = list(contact.org_ids) if contact else []
        self.duplicate_id: str | None = None

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        c = self.contact
        if self.read_only:
            title = f"Contact {clean(c.full_name, limit=50)} (read-only)" if c else "Contact"
        else:
            title = "Add a contact" if c is None else f"Edit {clean(c.full_name, limit=50)}"
        with Vertical():
            yield Static(Text(title, style="bold"), id="form-title")
            with VerticalScroll():
                for name, label, placeholder in TEXT_FIELDS:
                    yield Label(label)
                    value = self.shown(name, getattr(c, name) if c else "")
                    yield Input(value=value, placeholder=placeholder, id=f"field-{name}",
                                disabled=self.read_only)
                    yield Static("", classes="field-error", id=f"error-{name}")
                yield Label("Notes")
                yield TextArea(self.shown("notes", c.notes if c else "", lines=True),
                               id="field-notes", soft_wrap=True,
                               disabled=self.read_only)
                yield Static("", classes="field-error", id="error-notes")
                yield Checkbox("Eligible for push-upgrade notifications",
                               value=c.eligible if c else True, id="field-eligible",
                               disabled=self.read_only)
                yield Label("Linked orgs" + ("" if self.read_only else " (ctrl+l to change)"))
                yield Static(id="contact-orgs")
                yield Static("", classes="field-error", id="error-org_ids")
                yield Static("", classes="field-error", id="error-form")
            with Horizontal(id="form-buttons"):
                if not self.read_only:
                    yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Close (esc)" if self.read_only else "Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self._show_orgs()
        if self.read_only:
            self.query_one("#cancel", Button).focus()
        else:
            self.query_one("#field-full_name", Input).focus()

    def _show_orgs(self) -> None:
        if not self.org_ids:
            text = Text("none")
        else:
            text = Text(", ".join(
                clean(self.org_names.get(o, f"{o} (not registered)")) for o in self.org_ids))
        self.query_one("#contact-orgs", Static).update(text)

    # -- values and errors ---------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            name: self.as_typed(name, self.query_one(f"#field-{name}", Input).value)
            for name, _, _ in TEXT_FIELDS
        }
        values["notes"] = self.as_typed("notes", self.query_one("#field-notes", TextArea).text)
        values["eligible"] = self.query_one("#field-eligible", Checkbox).value
        values["org_ids"] = list(self.org_ids)
        if self.contact is not None:
            values["id"] = self.contact.id
        return values

    def field_errors(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        try:
            contact = Contact.create(**self.values())
        except ValidationError as exc:
            errors.update(exc.errors)
            contact = None
        self.duplicate_id = None
        if contact is not None and self.find_email is not None:
            other = self.find_email(contact.email)
            if other is not None and other.id != contact.id:
                errors["email"] = self._duplicate_message(other)
                self.duplicate_id = other.id
        return errors

    def _duplicate_message(self, other: Contact) -> str:
        return (f"{other.email} already belongs to {other.full_name} "
                f"({other.title}); ctrl+g goes to that contact")

    # -- actions -------------------------------------------------------------------------------
    def action_goto_duplicate(self) -> None:
        if self.duplicate_id:
            self.dismiss(GoToContact(self.duplicate_id))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("save", "link") and self.read_only:
            return False
        if action == "goto_duplicate":
            return self.duplicate_id is not None
        return True

    def action_link(self) -> None:
        # a modal, loaded when first opened (start-up: each screen module ~10-80 ms)
        from juston_tui.screens.org_picker import OrgPickerScreen

        def picked(result: list[str] | None) -> None:
            if result is not None:
                self.org_ids = list(result)
                self._show_orgs()

        self.app.push_screen(OrgPickerScreen(self.org_ids, title="Link orgs to this contact"),
                             picked)

    def action_save(self) -> None:
        if self.read_only:
            self.notify("Read-only mode: nothing can be changed.", severity="warning")
            return
        if self.refuse_read_only() or self.saving:
            return
        errors = self.field_errors()
        self.show_errors(errors)
        if errors:
            self.focus_first_error(errors)
            self.refresh_bindings()
            return
        self.saving = True
        self.show_form_error("Saving…")
        self.write(Contact.create(**self.values()))

    @work(thread=True, exit_on_error=False, group="contact-form", name="saving contact")
    def write(self, contact: Contact) -> None:
        """Store it; the outcome goes back as FormSaved / FormFailed (form_base handles both)."""
        store = self.store
        try:
            if self.contact is None:
                store.add_contact(contact)
                saved = contact
            else:
                saved = store.update_contact(self.contact.id,
                                             **edited_fields(self.contact, contact))
        except ValidationError as exc:
            errors = dict(exc.errors)
            if "email" in errors:  # another instance took the address: point at its owner
                other = store.find_contact_by_email(contact.email)
                if other is not None and (self.contact is None or other.id != self.contact.id):
                    errors["email"] = self._duplicate_message(other)
                    self.duplicate_id = other.id
            self.post_message(FormFailed(errors))
            return
        except Exception as exc:
            self.post_message(FormFailed({"form": f"Not saved: {exc}"}))
            return
        self.post_message(FormSaved(saved))

"""Add or edit an org: every field validated where it was typed, nothing typed is ever lost.

`model.Org.create` is the single source of validation (the CLI gives the same messages); its
`ValidationError.errors` are shown under each field. A field is checked when you leave it
(enter or tab) and all of them on save (ctrl+s). The store write runs in a worker.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from juston_tui.model import AUTH_METHODS, Org, ValidationError
from juston_tui.salesforce.auth_help import PASSWORD_METHOD_FACTS
from juston_tui.screens.form_base import FormFailed, FormSaved, ValidatedForm
from juston_tui.text import clean

# (field, label, placeholder, help)
TEXT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("org_id", "Org ID", "00D… (15 or 18 characters)"),
    ("name", "Name", "e.g. Acme GmbH"),
    ("parent_org_id", "Parent production org (sandboxes)", "00D… of the production org"),
    ("instance_url", "Instance URL", "https://acme.my.salesforce.com (optional)"),
    ("domain", "Login domain", "login, test, or a My Domain such as acme.my"),
    ("username", "Username", "admin@acme.com (jwt and password methods)"),
    ("consumer_key", "Consumer key", "the connected app's consumer key"),
    ("ca_bundle", "CA bundle", "path to a PEM file (optional)"),
    ("tags", "Tags", "comma separated, e.g. dach, key-account"),
    ("sandbox_push_ticket", "Sandbox push ticket", "support ticket asking to push this sandbox"),
    ("notes", "Notes", ""),
)
FIELD_ORDER = (
    "org_id", "name", "kind", "parent_org_id", "instance_url", "domain", "auth_method",
    "username", "consumer_key", "ca_bundle", "tags", "sandbox_push_ticket", "notes", "vendor",
)
# Shown where the password method is chosen or its secrets are typed (facts and sources in
# juston_tui/salesforce/auth_help.py).
PASSWORD_WARNING = PASSWORD_METHOD_FACTS


# Kept by whoever else writes them (push registration, vendor sync): never sent from here.
NOT_EDITED_HERE = frozenset({"org_id", "push", "products"})


def edited_fields(before: Org, after: Org) -> dict[str, Any]:
    """Only what the user changed since the form opened.

    Sending every field would put back what another instance, the CLI or a worker changed
    while the form was open (Store.update_org applies changes to the org as stored now).
    """
    old, new = before.to_doc(), after.to_doc()
    return {k: v for k, v in new.items() if k not in NOT_EDITED_HERE and old.get(k) != v}


class OrgFormScreen(ValidatedForm[Org | None]):
    """Dismisses with the saved Org, or None when cancelled."""

    FIELD_ORDER = FIELD_ORDER
    REQUIRED = frozenset({"org_id", "name"})

    CSS_PATH = "../styles/registry.tcss"

    def __init__(self, org: Org | None) -> None:
        super().__init__()
        self.org = org

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        org = self.org
        values = self._initial_values()
        title = "Add an org" if org is None else f"Edit {clean(org.name, limit=50)}"
        with Vertical():
            yield Static(Text(title, style="bold"), id="form-title")
            with VerticalScroll():
                for name, label, placeholder in TEXT_FIELDS:
                    with Horizontal(classes="form-row"):
                        yield Label(label, classes="form-label", id=f"label-{name}")
                        yield Input(self.shown(name, values[name]), placeholder=placeholder,
                                    id=f"field-{name}",
                                    disabled=(name == "org_id" and org is not None))
                    yield Static("", classes="field-error", id=f"error-{name}")
                    if name == "name":
                        with Horizontal(classes="form-row"):
                            yield Label("Type", classes="form-label", id="label-kind")
                            yield Select([("production", "production"), ("sandbox", "sandbox")],
                                         value=values["kind"], allow_blank=False,
                                         id="field-kind")
                        yield Static("", classes="field-error", id="error-kind")
                    if name == "domain":
                        with Horizontal(classes="form-row"):
                            yield Label("Login method", classes="form-label",
                                        id="label-auth_method")
                            yield Select([(m, m) for m in AUTH_METHODS],
                                         value=values["auth_method"], allow_blank=False,
                                         id="field-auth_method")
                        yield Static("", id="form-method-warning")
                        yield Static("", classes="field-error", id="error-auth_method")
                yield Checkbox("Packaging (vendor) org: subscribers, push jobs",
                               values["vendor"], id="field-vendor")
                yield Static("", classes="field-error", id="error-vendor")
                yield Static("", classes="field-error", id="error-form")
            yield Static(Text("tab/enter: next field · ctrl+s: save · esc: cancel"),
                         id="form-help")
            with Horizontal(id="form-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def _initial_values(self) -> dict[str, Any]:
        org = self.org
        if org is None:
            return {name: "" for name, _, _ in TEXT_FIELDS} | {
                "kind": "production", "auth_method": "token", "vendor": False, "domain": "login"}
        return {
            "org_id": org.org_id, "name": org.name, "kind": org.kind,
            "parent_org_id": org.parent_org_id or "", "instance_url": org.instance_url,
            "domain": org.domain, "auth_method": org.auth_method, "username": org.username,
            "consumer_key": org.consumer_key, "ca_bundle": org.ca_bundle,
            "tags": ", ".join(org.tags), "sandbox_push_ticket": org.sandbox_push_ticket,
            "notes": org.notes, "vendor": org.vendor,
        }

    def on_mount(self) -> None:
        first = "#field-name" if self.org is not None else "#field-org_id"
        self.query_one(first, Input).focus()
        self._show_method_warning()

    # -- values and errors -------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """What is typed right now, in the shape Org.create takes."""
        out: dict[str, Any] = {}
        for name, _, _ in TEXT_FIELDS:
            out[name] = self.as_typed(name, self.query_one(f"#field-{name}", Input).value)
        out["tags"] = [t.strip() for t in out["tags"].split(",") if t.strip()]
        out["kind"] = self.query_one("#field-kind", Select).value
        out["auth_method"] = self.query_one("#field-auth_method", Select).value
        out["vendor"] = self.query_one("#field-vendor", Checkbox).value
        if self.org is not None:
            out["org_id"] = self.org.org_id
        return out

    def field_errors(self) -> dict[str, str]:
        try:
            Org.create(**self.values())
        except ValidationError as exc:
            return exc.errors
        return {}

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        self._show_method_warning()
        self.recheck_shown()

    def _show_method_warning(self) -> None:
        method = self.query_one("#field-auth_method", Select).value
        warning = self.query_one("#form-method-warning", Static)
        warning.update(Text(PASSWORD_WARNING) if method == "password" else Text(""))
        warning.display = method == "password"

    # -- save / cancel -----------------------------------------------------------------------
    def action_save(self) -> None:
        if self.refuse_read_only() or self.saving:
            return
        values = self.values()
        try:
            org = Org.create(**values)
        except ValidationError as exc:
            self.show_errors(exc.errors)
            self.focus_first_error(exc.errors)
            return
        self.show_errors({})
        self.saving = True
        self.write(org)

    @work(thread=True, exit_on_error=False, group="org-form", name="saving org")
    def write(self, org: Org) -> None:
        store = self.store
        try:
            if self.org is None:
                store.add_org(org)
                saved = org
            else:
                saved = store.update_org(org.org_id, **edited_fields(self.org, org))
        except ValidationError as exc:
            self.post_message(FormFailed(exc.errors))
            return
        except Exception as exc:
            self.post_message(FormFailed({"form": clean(str(exc), limit=300)}))
            return
        self.post_message(FormSaved(saved))

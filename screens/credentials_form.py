"""Set an org's secrets: password inputs written to the keyring in a worker, never shown again.

Which secrets are asked follows the org's login method. Inputs are cleared as soon as the
keyring has them; an unusable keyring is explained in the modal (nothing is stored elsewhere).
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from juston_tui.credentials import CredentialsUnavailable
from juston_tui.model import Org
from juston_tui.salesforce.auth_help import PASSWORD_METHOD_FACTS
from juston_tui.screens.form_base import ValidatedForm
from juston_tui.screens.widgets.secret_input import SecretInput
from juston_tui.text import clean

# Shown where the password method is chosen or its secrets are typed (facts and sources in
# juston_tui/salesforce/auth_help.py).
PASSWORD_WARNING = PASSWORD_METHOD_FACTS
# method -> (secret kind, label, required)
FIELDS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "password": (("password", "Password", True),
                 ("security_token", "Security token (if your IP is not trusted)", False)),
    "jwt": (("private_key", "Private key file (PEM) used to sign the JWT", True),),
    "client-credentials": (("consumer_secret", "Consumer secret", True),),
    "token": (("access_token", "Access token", True),
              ("refresh_token", "Refresh token (optional)", False)),
}


class CredentialsFormScreen(ValidatedForm[bool]):
    """Dismisses True once the secrets are in the keyring, False when cancelled.

    Fields are the secret kinds of the org's login method; a required one is checked on save
    (not when left: tabbing past it is not a mistake yet), and again while it is corrected.
    """

    FIELD_PREFIX = "secret-"
    VALIDATE_ON_BLUR = False

    DEFAULT_CSS = """
    CredentialsFormScreen { align: center middle; }
    CredentialsFormScreen > Vertical {
        width: 80; max-width: 100%; height: auto; max-height: 95%; border: round $accent;
        background: $surface; padding: 0 1;
    }
    CredentialsFormScreen Label { margin-top: 1; }
    CredentialsFormScreen .field-error { color: $error; height: auto; }
    CredentialsFormScreen #cred-warning { color: $warning; height: auto; margin-top: 1; }
    CredentialsFormScreen #cred-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    CredentialsFormScreen #cred-buttons Button { margin-left: 1; }
    """

    def __init__(self, org: Org) -> None:
        super().__init__()
        self.org = org
        self.fields = FIELDS.get(org.auth_method, FIELDS["token"])

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Credentials for {clean(self.org.name, limit=50)} "
                              f"({self.org.auth_method})", style="bold"))
            yield Static(Text("Stored only in the keyring (service juston-tui); never shown "
                              "again, never written to the store.", style="dim"))
            if self.org.auth_method == "password":
                yield Static(Text(PASSWORD_WARNING), id="cred-warning")
            for kind, label, _required in self.fields:
                yield Label(label)
                is_file = kind == "private_key"
                yield SecretInput(password=not is_file, id=f"secret-{kind}",
                            placeholder="path to the .pem file" if is_file else "")
                yield Static("", classes="field-error", id=f"error-{kind}")
            yield Static("", classes="field-error", id="error-form")
            with Horizontal(id="cred-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one(f"#secret-{self.fields[0][0]}", Input).focus()

    def action_cancel(self) -> None:
        for kind, _, _ in self.fields:
            self.query_one(f"#secret-{kind}", Input).value = ""
        self.dismiss(False)

    def field_order(self) -> tuple[str, ...]:
        return tuple(kind for kind, _, _ in self.fields)

    def typed(self) -> dict[str, str]:
        return {kind: self.query_one(f"#secret-{kind}", Input).value
                for kind, _, _ in self.fields}

    def field_errors(self) -> dict[str, str]:
        values = self.typed()
        return {kind: f"{label.split(' (')[0].lower()} is required"
                for kind, label, required in self.fields
                if required and not values[kind].strip()}

    def action_save(self) -> None:
        if self.refuse_read_only() or self.saving:
            return
        errors = self.field_errors()
        self.show_errors(errors)
        if errors:
            self.focus_first_error(errors)
            return
        self.saving = True
        self.write({k: v for k, v in self.typed().items() if v.strip()})

    # An explicit description: Textual's default repeats the arguments (the secrets) in the log.
    @work(thread=True, exit_on_error=False, group="credentials-write", name="saving credentials",
          description="saving credentials")
    def write(self, values: dict[str, str]) -> None:

        try:
            if "private_key" in values:
                path = Path(values["private_key"].strip()).expanduser()
                try:
                    pem = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    self.app.call_from_thread(self._failed, {
                        "private_key": clean(f"cannot read {path}: "
                                             f"{getattr(exc, 'strerror', None) or exc}",
                                             limit=200)})
                    return
                if "PRIVATE KEY" not in pem:
                    self.app.call_from_thread(self._failed, {
                        "private_key": "this file holds no PEM private key"})
                    return
                values["private_key"] = pem
            credentials = self.app.get_credentials()  # type: ignore[attr-defined]
            for kind, secret in values.items():
                credentials.set(self.org.org_id, kind, secret)
        except CredentialsUnavailable as exc:
            self.app.call_from_thread(self._failed, {
                "form": f"{exc.summary}. {exc.explanation}".strip()})
            return
        except Exception as exc:  # the message is the backend's, never our secret
            self.app.call_from_thread(self._failed, {
                "form": clean(f"the keyring refused: {type(exc).__name__}", limit=200)})
            return
        self.app.call_from_thread(self._saved)

    def _failed(self, errors: dict[str, str]) -> None:
        self.saving = False
        self.show_errors(errors)

    def _saved(self) -> None:
        for kind, _, _ in self.fields:
            self.query_one(f"#secret-{kind}", Input).value = ""
        self.notify("Credentials saved to the keyring.", timeout=3)
        self.dismiss(True)

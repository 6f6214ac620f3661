"""Sending announcement messages over SMTP, STARTTLS only.

Server, port, user and sender are store settings (`smtp_host`, `smtp_port` (587),
`smtp_user`, `push_mail_sender`; `smtp_ca_bundle` for a private CA); the password lives in the
keyring (juston_tui.credentials, entry `smtp:<user>@<host>` kind `password`), never in the
store. The connection is upgraded with STARTTLS (RFC 3207) before anything else is said: a
server that does not offer it gets nothing, neither the password nor a message.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING

from juston_tui.text import clean

if TYPE_CHECKING:
    from juston_tui.credentials import CredentialStore
    from juston_tui.store import Store

__all__ = ["MailError", "SmtpSettings", "send_messages", "smtp_password"]


class MailError(Exception):
    """Sending failed or was refused: one line for the user."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    user: str = ""
    ca_bundle: str = ""

    @property
    def credential_id(self) -> str:
        return f"smtp:{self.user}@{self.host}"

    @classmethod
    def from_store(cls, store: Store) -> SmtpSettings:
        host = str(store.get_setting("smtp_host") or "").strip()
        if not host:
            raise MailError("no SMTP server set (store setting smtp_host)")
        try:
            port = int(store.get_setting("smtp_port") or 587)
        except (TypeError, ValueError):
            raise MailError("the setting smtp_port is not a port number") from None
        return cls(host, port, str(store.get_setting("smtp_user") or ""),
                   str(store.get_setting("smtp_ca_bundle") or ""))


def smtp_password(settings: SmtpSettings, credentials: CredentialStore) -> str | None:
    if not settings.user:
        return None
    password = credentials.get(settings.credential_id, "password")
    if not password:
        raise MailError(f"no password for {settings.credential_id} in the keyring")
    return password


def send_messages(messages: Sequence[EmailMessage], settings: SmtpSettings,
                  password: str | None, *, timeout: float = 30.0) -> int:
    """Send every message on one connection; returns how many were sent."""
    context = ssl.create_default_context(cafile=settings.ca_bundle or None)
    sent = 0
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise MailError(f"{settings.host} offers no STARTTLS; nothing was sent")
            smtp.starttls(context=context)
            smtp.ehlo()
            if settings.user:
                smtp.login(settings.user, password or "")
            for message in messages:
                smtp.send_message(message)
                sent += 1
    except MailError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        text = clean(str(exc) or type(exc).__name__, limit=300)
        if password:
            text = text.replace(password, "***")
        raise MailError(f"SMTP {settings.host}:{settings.port}: {text} ({sent} of "
                        f"{len(messages)} sent)") from None
    return sent

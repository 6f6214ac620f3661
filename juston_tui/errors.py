"""The one error the user fixes: shared by the commands and the core they call."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix; printed as one line, never a traceback (exit `code`)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code

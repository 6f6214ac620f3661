"""The packaging org a push talks to: the registry's vendor org, over one OrgConnection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from juston_tui.push_jobs import NoVendorOrg, find_vendor_org
from juston_tui.salesforce.connection import OrgConnection

if TYPE_CHECKING:
    from juston_tui.credentials import CredentialStore
    from juston_tui.model import Org
    from juston_tui.store import Store

__all__ = ["NoVendorOrg", "packaging_connection"]


@contextmanager
def packaging_connection(store: Store, credentials: CredentialStore, *,
                         timeout: float = 60.0) -> Iterator[tuple[Org, OrgConnection]]:
    """(the packaging org, a connection to it); NoVendorOrg when none is registered."""
    org = find_vendor_org(store)
    if org is None:
        raise NoVendorOrg()
    with OrgConnection(org, credentials, timeout=timeout) as conn:
        yield org, conn

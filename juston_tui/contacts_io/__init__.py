"""Contacts in and out: CSV / vCard import with a preview, exports, search, undo.

Seed 000: JustOn keeps a list of contacts eligible for push-upgrade notifications and asks for
each one's full name, e-mail address and title. People keep those contacts in Outlook, Google
Contacts or a vCard address book, so import reads those layouts; nothing is written until the
preview has been looked at, a bad row never aborts the others (it is reported with its line
number), and applying a preview is one atomic store write, so nothing is ever half-imported.

The package, one module per seam (this file is the facade: import from here):

  records.py        a parsed record, limits, yes/no words, formula cells
  decoding.py       bytes -> text (binary refused; charset-normalizer guesses the encoding)
  csv_import.py     CSV in: ours, Outlook's, Google's (csv.Sniffer finds the delimiter)
  vcard_import.py   vCard 2.1/3.0/4.0 in (vobject)
  planning.py       the import preview (add / update / skip and why) and its apply
  export.py         CSV, vCard 3.0/4.0 (vobject) and the notification list out
  search.py         the list's order, accent folding, ContactIndex
  query.py          mutt / aerc address completion
  edits.py          undo entries and the undo itself; a change against the stored contact

No Textual here (the screens and the CLI both use it); vobject and charset-normalizer are
imported only when a vCard or a non-UTF-8 file is handled.
"""

from __future__ import annotations

from juston_tui.contacts_io.csv_import import parse_csv
from juston_tui.contacts_io.decoding import Format, decode_bytes, detect_format
from juston_tui.contacts_io.edits import UndoEntry, UndoOutcome, change_contact, undo
from juston_tui.contacts_io.export import (
    CSV_COLUMNS,
    export_csv,
    export_vcard,
    iter_vcards,
    notification_list,
)
from juston_tui.contacts_io.planning import (
    Action,
    ImportPreview,
    RowOutcome,
    apply_import,
    parse_file,
    preview_import,
    preview_text,
)
from juston_tui.contacts_io.query import mutt_query_lines
from juston_tui.contacts_io.records import (
    FIELD_LABELS,
    FIELD_LIMITS,
    MAX_CELL_CHARS,
    MAX_FILE_BYTES,
    ImportRejected,
    ParsedRecord,
)
from juston_tui.contacts_io.search import (
    ContactIndex,
    doc_sort_key,
    fold_text,
    sort_key,
    sorted_contacts,
)
from juston_tui.contacts_io.vcard_import import parse_vcard

__all__ = [
    "CSV_COLUMNS",
    "FIELD_LABELS",
    "FIELD_LIMITS",
    "MAX_CELL_CHARS",
    "MAX_FILE_BYTES",
    "Action",
    "ContactIndex",
    "Format",
    "ImportPreview",
    "ImportRejected",
    "ParsedRecord",
    "RowOutcome",
    "UndoEntry",
    "UndoOutcome",
    "apply_import",
    "change_contact",
    "decode_bytes",
    "detect_format",
    "doc_sort_key",
    "export_csv",
    "export_vcard",
    "fold_text",
    "iter_vcards",
    "mutt_query_lines",
    "notification_list",
    "parse_csv",
    "parse_file",
    "parse_vcard",
    "preview_import",
    "preview_text",
    "sort_key",
    "sorted_contacts",
    "undo",
]

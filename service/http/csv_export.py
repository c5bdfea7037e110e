"""CSV downloads of the reports: chosen with `Accept: text/csv`, same data as the JSON.

Text that a spreadsheet would read as a formula (a requisition titled
`=HYPERLINK(...)`) is written with a leading `'`, as OWASP's CSV injection
guidance advises. Only text is changed: numbers we write, such as -0.5, stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from flask import Response, request

CSV = "text/csv"
# A cell starting with one of these is evaluated by Excel, LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def wants_csv() -> bool:
    """True when the client prefers text/csv to JSON in its Accept header."""
    return request.accept_mimetypes.best_match(["application/json", CSV]) == CSV


def csv_response(columns: Sequence[str], rows: Iterable[dict[str, Any]], filename: str) -> Response:
    """A CSV attachment; None is written as an empty cell (suppressed or not applicable)."""
    out = io.StringIO()
    # CRLF as RFC 4180 says; it also makes the writer quote a cell holding a lone CR,
    # which a spreadsheet would otherwise read as the end of the row.
    writer = csv.DictWriter(
        out, fieldnames=list(columns), extrasaction="raise", lineterminator="\r\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return Response(
        out.getvalue(),
        mimetype=CSV,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        # Each item too: a spreadsheet set to split on `;` would make each one a cell.
        return inert_text(";".join(inert_text(v) if isinstance(v, str) else str(v) for v in value))
    if isinstance(value, str):
        return inert_text(value)
    return value


def inert_text(text: str) -> str:
    """`text`, prefixed with `'` when a spreadsheet would run it as a formula."""
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text

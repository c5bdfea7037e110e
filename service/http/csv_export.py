"""CSV downloads of the reports: chosen with `Accept: text/csv`, same data as the JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from flask import Response, request

CSV = "text/csv"


def wants_csv() -> bool:
    """True when the client prefers text/csv to JSON in its Accept header."""
    return request.accept_mimetypes.best_match(["application/json", CSV]) == CSV


def csv_response(columns: Sequence[str], rows: Iterable[dict[str, Any]], filename: str) -> Response:
    """A CSV attachment; None is written as an empty cell (suppressed or not applicable)."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(columns), extrasaction="raise", lineterminator="\n"
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
        return ";".join(map(str, value))
    return value

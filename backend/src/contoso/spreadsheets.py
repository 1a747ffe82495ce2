"""CSV files a spreadsheet reads right and never runs: shared by the console's exports
and the API's payment file."""

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from starlette.responses import Response, StreamingResponse

# What a column may give for a row; None is an empty cell, a sequence is joined by spaces.
Cell = str | int | Decimal | date | datetime | Sequence[str] | None

# Excel reads a CSV file as UTF-8 only when it starts with a byte-order mark.
BYTE_ORDER_MARK = "\ufeff"
# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    """`text` as a spreadsheet shows it and never evaluates it: a leading `'` before
    anything that would start a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def cell_text(value: Cell, zone: ZoneInfo) -> str:
    """A cell as a spreadsheet parses it: times in ISO 8601 to the second in `zone`
    (`2026-11-21T14:03:05+01:00`), numbers as plain decimals (`1249.99`), dates in ISO,
    lists joined by spaces, nothing as an empty cell, text neutralised."""
    match value:
        case None:
            return ""
        case str():
            return neutralised(value)
        case datetime():
            return value.astimezone(zone).isoformat(timespec="seconds")
        case date():
            return value.isoformat()
        case Decimal():
            # With the decimals it carries (JPY 1500, KWD 1.234: `formatting.plain_money`
            # writes an amount with its currency's), never an exponent, never grouped:
            # "1,249.99" would be text, or two cells, to a spreadsheet.
            return format(value, "f")
        case int():
            return str(value)
        case _:
            return neutralised(" ".join(value))


def csv_lines(rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def csv_download(chunks: AsyncIterator[bytes], filename: str) -> StreamingResponse:
    """A CSV file streamed to the browser as a download named `filename`."""
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv_file(
    headers: Sequence[str], rows: Iterable[Sequence[Cell]], zone: ZoneInfo, filename: str
) -> Response:
    """A small CSV file, whole, as a download named `filename`."""
    lines = [list(headers), *([cell_text(value, zone) for value in row] for row in rows)]
    return Response(
        BYTE_ORDER_MARK.encode() + csv_lines(lines),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

"""The console's CSV exports: the rows a list shows, streamed from the database in
chunks, written so that a spreadsheet reads them right and never runs them."""

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from sqlalchemy import Row, Select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import StreamingResponse

from contoso.formatting import LOCALE

# What a column may give for a row; None is an empty cell, a sequence is joined by spaces.
Cell = str | int | Decimal | date | datetime | Sequence[str] | None

# Excel reads a CSV file as UTF-8 only when it starts with a byte-order mark.
BYTE_ORDER_MARK = "\ufeff"
# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows fetched from the database cursor, and written, at a time.
CHUNK_ROWS = 1000


@dataclass(frozen=True)
class ExportColumn:
    """One column of a CSV export: its header, and its cell for a listed row.

    `cell` receives the row's entities: the view's model instance, then whatever the
    view's `export_query` adds.
    """

    header: str
    cell: Callable[..., Cell]


def neutralised(text: str) -> str:
    """`text` as a spreadsheet shows it and never evaluates it: a leading `'` before
    anything that would start a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def cell_text(value: Cell, zone: ZoneInfo) -> str:
    """A cell as a spreadsheet parses it: times in ISO 8601 to the second in `zone`
    (`2026-11-21T14:03:05+01:00`), amounts as plain decimals (`1249.99`), dates in ISO,
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
            # No grouping: "1,249.99" would be text, or two cells, to a spreadsheet.
            return format_decimal(value, format="0.00", locale=LOCALE)
        case int():
            return str(value)
        case _:
            return neutralised(" ".join(value))


def _csv_lines(rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


async def csv_chunks(
    sessions: async_sessionmaker[AsyncSession],
    statement: Select[Any],
    columns: Sequence[ExportColumn],
    zone: ZoneInfo,
    chunk_rows: int = CHUNK_ROWS,
) -> AsyncIterator[bytes]:
    """The CSV file, a chunk at a time: the byte-order mark and headers, then the rows
    of `statement` in its order, read through a server-side cursor `chunk_rows` at a
    time, so an export of any size holds one chunk in memory."""
    yield BYTE_ORDER_MARK.encode() + _csv_lines([[column.header for column in columns]])
    async with sessions() as session:
        result = await session.stream(statement.execution_options(yield_per=chunk_rows))
        async for chunk in result.partitions():
            yield _csv_lines(_cells(row, columns, zone) for row in chunk)


def _cells(row: Row[Any], columns: Sequence[ExportColumn], zone: ZoneInfo) -> list[str]:
    return [cell_text(column.cell(*row), zone) for column in columns]


def csv_download(chunks: AsyncIterator[bytes], filename: str) -> StreamingResponse:
    """A CSV file streamed to the browser as a download named `filename`."""
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

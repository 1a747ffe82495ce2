"""The console's CSV exports: the rows a list shows, streamed from the database in
chunks, written so that a spreadsheet reads them right and never runs them."""

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contoso.spreadsheets import BYTE_ORDER_MARK, Cell, cell_text, csv_lines

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
    yield BYTE_ORDER_MARK.encode() + csv_lines([[column.header for column in columns]])
    async with sessions() as session:
        result = await session.stream(statement.execution_options(yield_per=chunk_rows))
        async for chunk in result.partitions():
            yield csv_lines(_cells(row, columns, zone) for row in chunk)


def _cells(row: Row[Any], columns: Sequence[ExportColumn], zone: ZoneInfo) -> list[str]:
    return [cell_text(column.cell(*row), zone) for column in columns]

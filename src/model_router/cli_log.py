"""`model-router log`: the request log from the command line (`log export`)."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

_WHEN = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"])


@click.group(name="log")
def log_group() -> None:
    """The request log."""


@log_group.command(name="export")
@click.option("--since", type=_WHEN, required=True, help="From this date or time (UTC), included.")
@click.option("--until", type=_WHEN, default=None, help="Up to this date or time (UTC), excluded.")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write here instead of stdout.",
)
def export_log(since: datetime, until: datetime | None, fmt: str, output: Path | None) -> None:
    """Stream the rows created in [SINCE, UNTIL) out, oldest first, every column.

    Read a page at a time (memory stays small whatever the window): run it
    before REQUEST_LOG_RETENTION_DAYS deletes them.
    """
    from model_router.cli import _run
    from model_router.services.log_export import export

    start = since.replace(tzinfo=UTC)
    end = None if until is None else until.replace(tzinfo=UTC)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        with ExitStack() as stack:
            out: TextIO = sys.stdout
            if output is not None:
                out = stack.enter_context(output.open("w", encoding="utf-8", newline=""))
            return await export(
                sessions.kw["bind"], out, "csv" if fmt == "csv" else "jsonl", start, end
            )

    written = _run(work)
    click.echo(f"exported {written:,} rows", err=True)

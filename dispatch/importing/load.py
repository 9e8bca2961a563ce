"""Running an import: each file is checked (`runs`), staged with COPY (`import_staging_queries`),
held to the rules set-wise (`import_rules_queries`) and written (`import_queries`).

Files are written in the order of the layout: once a file is written, the rows of later files
that name one of its rows find it in the database, whether this run or an earlier one wrote it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path

from dispatch.importing import import_queries, import_rules_queries as rules
from dispatch.importing.import_rules_queries import STAGING
from dispatch.importing.import_staging_queries import begin_staging, end_staging, stage_file
from dispatch.importing.runs import LAYOUT, Parsed, Rejection, check_file, present_files
from infra.db import Connection


@dataclass
class FileReport:
    added: int = 0
    present: int = 0  # already there from an earlier run: left as it is


@dataclass
class ImportReport:
    files: dict[str, FileReport] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)


async def _check(conn: Connection, name: str) -> int:
    """Set aside the staged rows of a file that are already stored (returns how many), and move
    those that break a rule to the rejections."""
    present = await rules.set_aside_stored(conn, name)
    await rules.reject_unresolved(conn, name)
    await rules.reject_off_catalogue(conn, name)
    if name == "asset_events.csv":
        await rules.reject_impossible_removals(conn)
    if name == "jobs.csv":
        await rules.reject_orphan_follow_ups(conn)
    if name == "occupancies.csv":
        present += await rules.settle_occupancies(conn)
    return present


async def _write_files(conn: Connection, files: AsyncGenerator[tuple[str, Parsed]]) -> ImportReport:
    """Stage, check and write each file in turn, inside the caller's transaction."""
    row_triggers_off = await begin_staging(conn)
    report = ImportReport()
    async with aclosing(files):
        async for name, checked in files:
            await stage_file(conn, name, checked)
            present = await _check(conn, name)
            table, _ = STAGING[name]
            # The table name comes from this package's constants.
            accepted: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
            added = await import_queries.insert_staged(conn, name, accepted)
            report.files[name] = FileReport(added=added, present=present + accepted - added)
    await end_staging(conn, row_triggers_off)
    order = list(LAYOUT)
    rejected = await conn.fetch("SELECT file, line, reason FROM import_rejections")
    report.rejected = sorted(
        (Rejection(r["file"], r["line"], r["reason"]) for r in rejected),
        key=lambda r: (order.index(r.file), r.line),
    )
    return report


async def _checked_files(directory: Path) -> AsyncGenerator[tuple[str, Parsed]]:
    """The files checked one after the other on a thread of their own, running ahead of the
    database, which writes each as soon as it is checked: reading then costs little time of
    its own. A malformed file raises here, after earlier files were written, and the caller's
    transaction rolls them back."""
    names = present_files(directory)
    loop = asyncio.get_running_loop()
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-check")
    checks = [loop.run_in_executor(reader, check_file, directory, name) for name in names]
    try:
        for name, check in zip(names, checks, strict=True):
            yield name, await check
    finally:
        for check in checks:
            check.cancel()  # after a failure, nobody waits for the rest
        reader.shutdown(wait=False, cancel_futures=True)


async def import_directory(conn: Connection, directory: Path) -> ImportReport:
    """`truckroll import DIR`, inside the caller's transaction: raises MalformedFileError (and the
    caller rolls back) if any file is not in the layout."""
    return await _write_files(conn, _checked_files(directory))

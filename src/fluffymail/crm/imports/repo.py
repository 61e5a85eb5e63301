"""The only module that runs `crm/imports/sql/*.sql`: import runs, their staged rows, and
applying a run to the user's contacts or companies with set-based statements.

Every function runs on the caller's connection (so in its transaction); `apply` must run in
one transaction, so that a run is applied whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from fluffymail.crm.contacts import companies as company_rules
from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.crm.imports.columns import Column
from fluffymail.crm.imports.records import ImportRow, Problem
from fluffymail.db.sql import load_sql

SQL = load_sql("fluffymail.crm.imports")
Conn = psycopg.AsyncConnection[Any]
PROBLEMS_KEPT = 1000
"""Rows left out that a run records with their reasons (the count covers them all)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NewRun:
    user_id: int
    workspace_id: int
    kind: str
    format: str
    filename: str
    columns: Sequence[Column]
    total_rows: int
    problems: Sequence[Problem]
    warnings: Sequence[Problem] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedRun:
    id: int
    user_id: int
    workspace_id: int
    kind: str
    filename: str
    state: str


async def _rows(conn: Conn, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(SQL[name], params)
        return await cur.fetchall() if cur.description else []


def _problems(problems: Sequence[Problem]) -> str:
    return json.dumps([{"row": p.row, "reason": p.reason} for p in problems[:PROBLEMS_KEPT]])


async def create_run(conn: Conn, run: NewRun, rows: Sequence[ImportRow], now: datetime) -> int:
    """A previewed run with its good rows staged (COPY) and its rows left out and warnings
    listed; answers its id."""
    mapping = [{"column": c.header, "field": c.field} for c in run.columns]
    params = {
        "user_id": run.user_id,
        "workspace_id": run.workspace_id,
        "kind": run.kind,
        "format": run.format,
        "filename": run.filename,
        "mapping": json.dumps(mapping),
        "total_rows": run.total_rows,
        "good_rows": len(rows),
        "problems": _problems(run.problems),
        "warnings": _problems(run.warnings),
        "now": now,
    }
    [made] = await _rows(conn, "run_insert", params)
    async with conn.cursor() as cur, cur.copy(SQL["rows_copy"]) as copy:
        for r in rows:
            await copy.write_row(
                (
                    made["id"], r.row_no, r.address, r.address_defect, r.name, r.first_name,
                    r.last_name, r.name_quality, r.company, r.company_domain, r.company_given,
                    r.website, r.title, list(r.phones), list(r.tags), list(r.notes),
                )
            )  # fmt: skip
    return int(made["id"])


async def analyze_rows(conn: Conn) -> None:
    """Fresh planner statistics for the staged rows; run it outside the staging transaction
    (ANALYZE holds its lock until the transaction ends)."""
    await conn.execute(SQL["rows_analyze"])


async def prune(conn: Conn, user_id: int, now: datetime) -> None:
    await conn.execute(SQL["runs_prune"], {"user_id": user_id, "now": now})


async def get_run(conn: Conn, user_id: int, run_id: int) -> dict[str, Any] | None:
    rows = await _rows(conn, "run_get", {"id": run_id, "user_id": user_id})
    return rows[0] if rows else None


async def list_runs(conn: Conn, user_id: int, limit: int) -> list[dict[str, Any]]:
    return await _rows(conn, "run_list", {"user_id": user_id, "limit": limit})


async def matches(conn: Conn, user_id: int, run_id: int, kind: str) -> tuple[int, int]:
    """(rows matching a contact or company the user has, all rows) of a run."""
    [row] = await _rows(conn, "run_matches", {"id": run_id, "user_id": user_id, "kind": kind})
    return int(row["existing"]), int(row["total"])


async def run_rows(conn: Conn, run_id: int, *, limit: int, offset: int) -> list[dict[str, Any]]:
    return await _rows(conn, "run_rows", {"id": run_id, "limit": limit, "offset": offset})


async def lock_run(conn: Conn, user_id: int, run_id: int) -> LockedRun | None:
    rows = await _rows(conn, "run_lock", {"id": run_id, "user_id": user_id})
    return LockedRun(**rows[0]) if rows else None


async def queue_run(conn: Conn, user_id: int, run_id: int, job_id: int, now: datetime) -> bool:
    params = {"id": run_id, "user_id": user_id, "job_id": job_id, "now": now}
    return bool(await _rows(conn, "run_queue", params))


async def record_failure(
    conn: Conn, run_id: int, error: str, *, final: bool, now: datetime
) -> None:
    """Note a failed attempt; the last one (`final`) leaves the run 'failed'."""
    params = {"id": run_id, "error": error[:1000], "final": final, "now": now}
    await conn.execute(SQL["run_failed"], params)


async def apply(conn: Conn, run: LockedRun, now: datetime) -> list[Problem]:
    """Apply the run's staged rows and mark it done; answers the warnings it found (rows
    imported in part), which the run adds to those of its preview. Call it in one transaction
    with the run locked."""
    params = {
        "run_id": run.id,
        "user_id": run.user_id,
        "workspace_id": run.workspace_id,
        "kind": run.kind,
        "filename": run.filename,
        "subject_kind": "contact" if run.kind == "contacts" else "company",
        "now": now,
    }
    warnings: list[Problem] = []
    await conn.execute(SQL["apply_settings"])
    if run.kind == "contacts":
        warnings = await _apply_contacts(conn, params, now)
    else:
        for name in ("companies_match", "companies_insert", "companies_update"):
            await conn.execute(SQL[name], params)
    await conn.execute(SQL["tags_ensure"], params)
    tagging = "contacts_tag" if run.kind == "contacts" else "companies_tag"
    for name in (tagging, "notes_insert", "activity_insert"):
        await conn.execute(SQL[name], params)
    finish = {"id": run.id, "now": now, "warnings": _problems(warnings)}
    await conn.execute(SQL["run_finish"], finish)
    return warnings


async def _apply_contacts(conn: Conn, params: dict[str, Any], now: datetime) -> list[Problem]:
    await conn.execute(SQL["contacts_match"], params)
    domains = await _rows(conn, "row_domains", params)
    names = {
        d["domain"]: d["name"] or company_rules.company_name_from_domain(d["domain"])
        for d in domains
    }
    await contacts_repo.ensure_companies(conn, params["user_id"], names, now)
    for name in ("contacts_companies", "contacts_insert", "contacts_update"):
        await conn.execute(SQL[name], params)
    await conn.execute(SQL["facts_replace"], params)
    await conn.execute(SQL["facts_refresh"], params)
    return [
        Problem(
            row=r["row_no"],
            reason=f"the company “{r['company']}” was not set: give its domain (a “Company "
            "domain” column), or make the company first",
        )
        for r in await _rows(conn, "contacts_unresolved", params)
    ]

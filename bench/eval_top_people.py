"""Are a mailbox owner's closest people in their top list, each once? (identity, issue 5/6)

Run: ``.venv/bin/python bench/eval_top_people.py [--dsn URL] [--db NAME] [--owner allen-p ...]
[--show N]`` (corpus at ``<repo>/../shared/corpus`` or ``$FLUFFYMAIL_CORPUS``). ``--db NAME``
keeps the scratch database and reuses the mailboxes imported there (only the analysis is redone);
a change to extraction needs a fresh database. ``--show N`` prints each owner's top N with the
ground-truth person behind every contact.

Per mailbox, in a scratch database: import (the `sync-emails` code), extract contacts, analyse
relationships as the worker does (an archive as of its last mail), then compare the top list
`fluffymail contacts top` shows (contacts the owner wrote to) with the ground truth *by person*:
the correspondents of ``enron_owner_correspondents.tsv`` that are people (`eval_relationships.
load_people`), grouped into one person when ``enron_address_names.tsv`` gives them the same
name (first and last word; middle initials, suffixes and ``(notes)`` dropped) and ranked by
their summed `total`. Correspondents named as the owner are the owner, not people.

Figures, per owner and as a mean: `recall_at_10` (of the ground truth's 10 largest people, how
many have an address among the contacts of the product's top 10), `recall_at_20` (20 in 20),
and the identity mistakes in the product's top 20: `split` (a person of the ground truth's top
20 spread over several live contacts), `duplicates` (top-20 slots taken by a second contact of
one person), `self` (a contact that is the owner by the names file), `not_people` (a role,
group or non-person name by the ground truth). An address the names file does not name is a
person of its own, so a split the names file cannot see is not counted.

The rules were looked at on four mailboxes (`TUNED`); the headline is the mean over the others
(`held_out`), printed first. Nothing here is a bar: the figures are for comparing revisions.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import os
import re
import statistics
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

import eval_relationships as rel
from fluffymail.config import Settings
from fluffymail.crm.relationships import analysis
from fluffymail.crm.relationships import repo as relationships_repo
from fluffymail.db import migrate
from fluffymail.jobs import build_registry
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue, runner

# the mailboxes read by hand while the identity rules were changed (2026-12-07)
TUNED = ("grigsby-m", "tholt-j", "semperger-c", "scholtes-d")
TOP = (10, 20)
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
CONTACTS = """
SELECT coalesce(c.merged_into_id, c.id), a.address
FROM crm.contact_addresses a JOIN crm.contacts c ON c.id = a.contact_id
WHERE a.user_id = %s
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Truth:
    people: list[tuple[str, list[str]]]  # (person key, addresses), largest first
    person_of: dict[str, str]  # address -> person key (people only)
    owner_named: set[str]  # addresses the names file names as the owner
    not_people: set[str]  # correspondents that are not people


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    custodian: str
    recall: dict[int, float]
    split: list[str]
    duplicates: list[str]
    self_in_top: list[str]
    not_people: list[str]
    shown: list[str]


def person_key(name: str) -> str:
    """``Allen, Phillip K.`` and ``Phillip Allen`` -> ``phillip allen``; '' when not two words."""
    name = re.sub(r"\([^)]*\)", " ", name)
    if "," in name:
        last, _, first = name.partition(",")
        name = f"{first} {last}"
    words = [
        w
        for w in re.sub(r"[.'’]", "", name).casefold().split()
        if len(w) > 1 and w not in _SUFFIXES
    ]
    return f"{words[0]} {words[-1]}" if len(words) >= 2 else ""


def load_names(root: Path) -> dict[str, str]:
    with (root / "ground_truth" / "enron_address_names.tsv").open(encoding="utf-8") as handle:
        return {
            r["address"].lower(): r["name_normalized"].strip()
            for r in csv.DictReader(handle, delimiter="\t")
        }


def owner_keys(root: Path) -> dict[str, set[str]]:
    """custodian -> person keys of the names the owner sends under (sent-folder X-From), less
    a delegate's (an assistant: a name without the custodian's family name, ``allen-p``)."""
    keys: dict[str, set[str]] = {}
    with (root / "ground_truth" / "enron_custodians.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            found = set()
            for part in row["owner_x_from_names"].split("), "):
                name = re.sub(r"\s*\(\d+\)?$", "", part.split("<", 1)[0]).strip()
                key = person_key(name)
                if key and key.split()[-1][:5] == row["custodian"][:5]:  # crandell-s: Crandall
                    found.add(key)
            keys[row["custodian"]] = found
    return keys


def build_truth(
    mine: dict[str, tuple[float, float]], people: set[str], names: dict[str, str], me: set[str]
) -> Truth:
    groups: dict[str, list[str]] = defaultdict(list)
    owner_named, not_people = set(), set()
    for address in mine:
        key = person_key(names.get(address, ""))
        if key and key in me:
            owner_named.add(address)
            continue
        if address not in people:
            not_people.add(address)
            continue
        groups[key or address].append(address)
    ranked = sorted(groups.items(), key=lambda kv: (-sum(mine[a][0] for a in kv[1]), kv[0]))
    person_of = {a: key for key, addresses in ranked for a in addresses}
    return Truth(people=ranked, person_of=person_of, owner_named=owner_named, not_people=not_people)


async def evaluate(
    pool: AsyncConnectionPool, user_id: int, custodian: str, truth: Truth, names: dict[str, str]
) -> Result:
    async with pool.connection() as conn:
        await analysis.analyze_user(conn, user_id, now=datetime.now(UTC), full=True)
        top = await relationships_repo.top(conn, user_id, limit=max(TOP), everyone=False)
        rows = await (await conn.execute(CONTACTS, (user_id,))).fetchall()
    addresses_of: dict[int, list[str]] = defaultdict(list)
    contact_of: dict[str, int] = {}
    for contact_id, address in rows:
        addresses_of[contact_id].append(address)
        contact_of[address] = contact_id
    persons = [
        {truth.person_of[a] for a in addresses_of[t.contact_id] if a in truth.person_of}
        for t in top
    ]
    recall = {}
    for n in TOP:
        wanted = [key for key, _ in truth.people[:n]]
        found = set().union(*persons[:n]) if persons[:n] else set()
        recall[n] = sum(k in found for k in wanted) / len(wanted) if wanted else float("nan")
    split = []
    for key, addresses in truth.people[: max(TOP)]:
        live = {contact_of[a] for a in addresses if a in contact_of}
        if len(live) > 1:
            split.append(f"{key}: {', '.join(sorted(addresses))}")
    seen: set[str] = set()
    duplicates = []
    for t, found in zip(top, persons, strict=True):
        if found & seen:
            duplicates.append(t.address)
        seen |= found
    return Result(
        custodian=custodian,
        recall=recall,
        split=split,
        duplicates=duplicates,
        self_in_top=[t.address for t in top if set(addresses_of[t.contact_id]) & truth.owner_named],
        not_people=[
            t.address
            for t in top
            if addresses_of[t.contact_id] and set(addresses_of[t.contact_id]) <= truth.not_people
        ],
        shown=[
            f"{t.score:5.1f} {t.name or '-':28} {t.address:40} "
            + ", ".join(sorted(persons[i]) or [names.get(t.address, "?")])
            for i, t in enumerate(top)
        ],
    )


async def run(url: str, owners: list[rel.Owner], root: Path) -> list[Result]:
    truth_all = rel.load_truth(root)
    people = rel.load_people(root, truth_all)
    names = load_names(root)
    me = owner_keys(root)
    pool = AsyncConnectionPool(url, kwargs={"autocommit": True}, open=False, max_size=4)
    await pool.open()
    async with pool.connection() as conn:
        await migrate.upgrade(conn)
    queue = JobQueue(pool)
    deps = JobDeps(
        settings=Settings(database_url=url), pool=pool, queue=queue, log=logging.getLogger("eval")
    )
    await runner.prepare(queue, build_registry(deps))
    results = []
    try:
        for owner in owners:
            user_id = await rel.import_owner(pool, queue, owner)
            truth = build_truth(truth_all.get(owner.custodian, {}), people, names,
                                me.get(owner.custodian, set()))  # fmt: skip
            results.append(await evaluate(pool, user_id, owner.custodian, truth, names))
    finally:
        await queue.stop(grace=1)
        await pool.close()
    return results


def report(results: list[Result], show: int) -> None:
    for r in results:
        part = "tuned" if r.custodian in TUNED else "held_out"
        recall = " ".join(f"recall_at_{n} {r.recall[n]:.2f}" for n in TOP)
        print(
            f"{r.custodian} ({part}) {recall} split {len(r.split)} duplicates"
            f" {len(r.duplicates)} self {len(r.self_in_top)} not_people {len(r.not_people)}"
        )
        for line in r.split:
            print(f"#   split: {line}")
        for label, found in (("duplicate", r.duplicates), ("self", r.self_in_top),
                             ("not a person", r.not_people)):  # fmt: skip
            for address in found:
                print(f"#   {label} in top {max(TOP)}: {address}")
        for i, line in enumerate(r.shown[:show], 1):
            print(f"#   {i:2} {line}")
    for part in ("held_out", "tuned"):
        chosen = [r for r in results if (r.custodian in TUNED) == (part == "tuned")]
        if not chosen:
            continue
        for n in TOP:
            value = statistics.fmean(r.recall[n] for r in chosen)
            print(f"{part}_recall_at_{n} {value:.3f}  ({len(chosen)} mailboxes)")
        for name in ("split", "duplicates", "self_in_top", "not_people"):
            print(f"{part}_{name} {sum(len(getattr(r, name)) for r in chosen)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--owner", action="append", help="Only these custodians (repeatable)")
    parser.add_argument("--db", help="Keep the scratch database under this name; reuse it")
    parser.add_argument("--show", type=int, default=0, help="Print each owner's top N")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    root = rel.corpus_root()
    owners = [o for o in rel.load_owners(root) if not args.owner or o.custodian in args.owner]
    name = args.db or f"fm_qa_top_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        results = asyncio.run(run(make_conninfo(args.dsn, dbname=name), owners, root))
    finally:
        if not args.db:
            with psycopg.connect(args.dsn, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    report(results, args.show)


if __name__ == "__main__":
    main()

"""DBOS Transact: the bench workflows as @DBOS.workflow/@DBOS.step functions on a DB-backed queue."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from dbos import DBOS, DBOSClient, EnqueueOptions

from wfpeers.common import EFFECTS_TABLE, Tally, WorkerConfig, create_effects_table

APP = "fm-bench"
VERSION = "bench"  # one application version for every process, so a new process recovers
STEPS_QUEUE = "bench"
WAIT_QUEUE = "bench_wait"  # no worker concurrency limit: every waiting workflow holds a thread
TOPIC = "go"
RECV_TIMEOUT_S = 600.0

_tally = Tally()
_effects_dsn = ""
_local = threading.local()


def _effects_conn() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg.connect(_effects_dsn, autocommit=True)
    return conn


@DBOS.step()
def noop() -> None:
    _tally.step()


@DBOS.workflow(name="steps")
def steps_workflow(i: int, n: int) -> None:
    _tally.enter(i)
    for _ in range(n):
        noop()
    _tally.end(i)


@DBOS.workflow(name="wait")
def wait_workflow(i: int) -> None:
    _tally.enter(i)
    _tally.wait_started(i)
    message = DBOS.recv(TOPIC, timeout_seconds=RECV_TIMEOUT_S)
    _tally.woke(i, float(message["t"]))
    _tally.end(i)


@DBOS.step()
def effect(i: int, j: int, sleep_s: float) -> None:
    _effects_conn().execute(
        f"INSERT INTO {EFFECTS_TABLE} (wf, step, pid, at) VALUES (%s, %s, %s, %s)",
        (i, j, os.getpid(), time.time()),
    )
    _tally.step()
    time.sleep(sleep_s)


@DBOS.workflow(name="effects")
def effects_workflow(i: int, n: int, sleep_s: float) -> None:
    _tally.enter(i)
    for j in range(n):
        effect(i, j, sleep_s)
    _tally.end(i)


def workflow_id(kind: str, i: int) -> str:
    return f"{kind}-{i}"


def _positional(kind: str, args: dict[str, Any]) -> tuple[Any, ...]:
    if kind == "steps":
        return (args["i"], args["n"])
    if kind == "wait":
        return (args["i"],)
    return (args["i"], args["n"], args["sleep"])


@dataclass
class DbosClient:
    client: DBOSClient
    dsn: str
    _conn: psycopg.Connection | None = field(default=None)

    def start(self, kind: str, args: dict[str, Any]) -> str:
        options: EnqueueOptions = {
            "workflow_name": kind,
            "queue_name": WAIT_QUEUE if kind == "wait" else STEPS_QUEUE,
            "workflow_id": workflow_id(kind, args["i"]),
            "app_version": VERSION,
            "application_name": APP,
        }
        return self.client.enqueue(options, *_positional(kind, args)).get_workflow_id()

    def open_gate(self, concurrency: int) -> None:
        """The steps queue is registered with worker_concurrency 0; each worker's queue thread
        rereads a DB-registered queue's settings on every poll, so this starts them all."""
        queue = self.client.retrieve_queue(STEPS_QUEUE)
        assert queue is not None
        queue.set_worker_concurrency(concurrency)

    def send(self, i: int, sent_at: float) -> None:
        self.client.send(workflow_id("wait", i), {"t": sent_at}, TOPIC)

    def states(self, ids: list[str]) -> dict[str, int]:
        if self._conn is None:
            self._conn = psycopg.connect(self.dsn, autocommit=True)
        rows = self._conn.execute(
            "SELECT status, count(*) FROM dbos.workflow_status"
            " WHERE workflow_uuid = ANY(%s) GROUP BY status",
            (ids,),
        ).fetchall()
        return {str(s): int(c) for s, c in rows}

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self.client.destroy()


class DbosSide:
    name = "dbos"
    done_state = "SUCCESS"

    def config(self, worker: WorkerConfig) -> dict[str, Any]:
        from importlib.metadata import version

        return {
            "version": version("dbos"),
            "api": "sync @DBOS.workflow / @DBOS.step functions (DBOS's thread pool)",
            "queue": STEPS_QUEUE,
            "worker_concurrency": worker.concurrency,
            "polling_interval_sec": worker.dbos_polling_s,
            "wait_queue": f"{WAIT_QUEUE} (no concurrency limit)",
            "wake_primitive": "DBOS.recv(topic) in the workflow, DBOSClient.send(id, msg, topic)",
            "listen_notify": True,
            "executor_id": "local (DBOS's default; a new process recovers its PENDING workflows at launch)",
        }

    def install(self, dsn: str, worker: WorkerConfig) -> None:
        DBOS.migrate(dsn)
        client = DBOSClient(system_database_url=dsn, application_name=APP)
        try:
            client.register_queue(
                STEPS_QUEUE,
                worker_concurrency=0,  # closed until the client's open_gate
                polling_interval_sec=worker.dbos_polling_s,
                application_name=APP,
            )
            client.register_queue(
                WAIT_QUEUE, polling_interval_sec=worker.dbos_polling_s, application_name=APP
            )
        finally:
            client.destroy()
        create_effects_table(dsn)

    def open_client(self, dsn: str) -> DbosClient:
        return DbosClient(DBOSClient(system_database_url=dsn, application_name=APP), dsn)

    def serve(
        self, dsn: str, worker: WorkerConfig, tally: Tally, go: Any, stop: Any, ready: Any
    ) -> None:
        global _tally, _effects_dsn
        _tally = tally
        _effects_dsn = dsn
        DBOS(
            config={
                "name": APP,
                "system_database_url": dsn,
                "application_version": VERSION,
                "log_level": "WARNING",
            }
        )
        DBOS.launch()  # recovers this executor's PENDING workflows, starts the queue thread
        ready()
        stop.wait()
        DBOS.destroy(workflow_completion_timeout_sec=0)


SIDE = DbosSide()

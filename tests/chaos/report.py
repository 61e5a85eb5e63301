"""The chaos report: lost, stuck, completed twice, executions beyond the first (each matched to
an injected fault), late acks, rescue latency per SIGKILL, recovery per fault, shutdown times."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg

from tests.chaos.app import QUEUE
from tests.chaos.harness import Fault, Log, Plan

SHUTDOWN_SLACK = 5.0  # bar: a SIGTERMed worker exits within grace + 5 s


@dataclass(frozen=True, slots=True)
class Attempt:
    job_id: int
    attempt: int
    worker: str
    claimed: float
    ended: float | None
    end_state: str | None


def _epoch(value: Any) -> float:
    return float(value.timestamp())


def _pid(worker: str | None) -> int | None:
    parts = (worker or "").split(":")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def load(url: str) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        jobs = conn.execute(
            "SELECT id, state::text, attempt FROM queue.job WHERE name = %s", (QUEUE,)
        ).fetchall()
        executions = conn.execute(
            "SELECT DISTINCT ON (job_id, attempt, pid) job_id, attempt, pid, started_at, ended_at"
            " FROM chaos.execution ORDER BY job_id, attempt, pid, started_at"
        ).fetchall()
        transitions = conn.execute(
            "SELECT job_id, attempt, old_state, new_state, worker, at FROM chaos.transition"
            " ORDER BY job_id, at"
        ).fetchall()
        outcomes = conn.execute(
            "SELECT outcome, count(*) FROM queue.job_attempt a JOIN queue.job j ON j.id = a.job_id"
            " WHERE j.name = %s GROUP BY outcome",
            (QUEUE,),
        ).fetchall()
    return {
        "jobs": jobs,
        "executions": executions,
        "transitions": transitions,
        "outcomes": dict(outcomes),
    }


def attempts_of(transitions: list[tuple[Any, ...]]) -> list[Attempt]:
    """Claim → next state change, per attempt."""
    found: list[Attempt] = []
    open_claims: dict[int, tuple[int, str, float]] = {}
    for job_id, attempt, _old, new, worker, at in transitions:
        if job_id in open_claims and new != "active":
            claimed_attempt, claimed_by, claimed_at = open_claims.pop(job_id)
            found.append(Attempt(job_id, claimed_attempt, claimed_by, claimed_at, _epoch(at), new))
        if new == "active":
            open_claims[job_id] = (attempt, worker, _epoch(at))
    for job_id, (attempt, worker, at) in open_claims.items():
        found.append(Attempt(job_id, attempt, worker, at, None, None))
    return found


def build(url: str, plan: Plan, log: Log) -> dict[str, Any]:
    data = load(url)
    jobs, executions = data["jobs"], data["executions"]
    states: dict[str, int] = defaultdict(int)
    for _id, state, _attempt in jobs:
        states[state] += 1
    completions: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for job_id, attempt, _old, new, _worker, at in data["transitions"]:
        if new == "completed":
            completions[job_id].append((attempt, _epoch(at)))
    attempts = attempts_of(data["transitions"])
    report = {
        "plan": asdict(plan),
        "jobs": len(jobs),
        "states": dict(states),
        "lost": plan.jobs - len(jobs) + states["failed"] + states["cancelled"],
        "stuck": states["created"] + states["retry"] + states["active"],
        "completed_twice": sum(1 for done in completions.values() if len(done) > 1),
        "executions": len(executions),
        "attempt_outcomes": data["outcomes"],
        "duplicates": duplicates(executions, completions, log),
        "late_acks": late_acks(executions, completions, log),
        "rescue": rescue_latency(attempts, log),
        "recovery": recovery(data["transitions"], log),
        "shutdowns": shutdowns(log),
        "faults": [
            {
                "kind": f.kind,
                "at": round(f.at - log.started, 2),
                "end": None if f.end is None else round(f.end - log.started, 2),
                "pid": f.pid,
                "detail": f.detail,
            }
            for f in log.faults
        ],
        "workers_exited_on_their_own": log.exits,
        "drain_seconds": None if log.drained is None else round(log.drained - log.started, 1),
    }
    report["bars"] = bars(report)
    suspects = [u["job_id"] for u in report["duplicates"]["unmatched"]]
    suspects += [a["job_id"] for a in report["late_acks"]["accepted_examples"]]
    report["suspects"] = history(url, suspects[:20], log)
    return report


def history(url: str, job_ids: list[int], log: Log) -> dict[int, dict[str, Any]]:
    """Everything recorded about the given jobs, times relative to the start of the run."""
    if not job_ids:
        return {}
    out: dict[int, dict[str, Any]] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for job_id in job_ids:
            rel = log.started
            out[job_id] = {
                "transitions": [
                    [a, o, n, w, round(_epoch(t) - rel, 3)]
                    for a, o, n, w, t in conn.execute(
                        "SELECT attempt, old_state, new_state, worker, at FROM chaos.transition"
                        " WHERE job_id = %s ORDER BY at",
                        (job_id,),
                    )
                ],
                "executions": [
                    [
                        a,
                        p,
                        round(_epoch(s) - rel, 3),
                        None if e is None else round(_epoch(e) - rel, 3),
                    ]
                    for a, p, s, e in conn.execute(
                        "SELECT attempt, pid, started_at, ended_at FROM chaos.execution"
                        " WHERE job_id = %s ORDER BY started_at",
                        (job_id,),
                    )
                ],
                "attempts": [
                    [a, o, str(e)[:200]]
                    for a, o, e in conn.execute(
                        "SELECT attempt, outcome, error FROM queue.job_attempt WHERE job_id = %s"
                        " ORDER BY attempt",
                        (job_id,),
                    )
                ],
            }
    return out


def duplicates(
    executions: list[tuple[Any, ...]], completions: dict[int, list[tuple[int, float]]], log: Log
) -> dict[str, Any]:
    """Every execution of an attempt that did not complete the job, matched to a fault."""
    by_job: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
    for job_id, attempt, pid, started, _ended in executions:
        by_job[job_id].append((attempt, pid, _epoch(started)))
    causes: dict[str, int] = defaultdict(int)
    unmatched: list[dict[str, Any]] = []
    for job_id, runs in by_job.items():
        if len(runs) < 2:
            continue
        runs.sort(key=lambda run: run[2])
        done = {attempt for attempt, _ in completions.get(job_id, [])}
        for index, (attempt, pid, started) in enumerate(runs):
            if attempt in done:
                continue
            following = runs[index + 1][2] if index + 1 < len(runs) else float("inf")
            cause = match(pid, started, following, log.faults)
            causes[cause] += 1
            if cause == "unmatched":
                unmatched.append({"job_id": job_id, "attempt": attempt, "pid": pid})
    extra = sum(causes.values())
    return {
        "jobs_executed_more_than_once": sum(1 for runs in by_job.values() if len(runs) > 1),
        "extra_executions": extra,
        "by_fault": dict(causes),
        "unmatched": unmatched[:20],
        "from_a_stall": causes.get("blackhole", 0),
    }


def match(pid: int, started: float, following: float, faults: list[Fault]) -> str:
    """The fault that explains why an execution (by `pid`, begun at `started`) did not count.
    (A record sent just before a SIGKILL can be written just after it: 1 s of slack.)"""
    for kind in ("sigkill", "sigterm"):
        if any(f.kind == kind and f.pid == pid and f.at + 1 >= started for f in faults):
            return kind
    for kind in ("restart", "blackhole"):
        for fault in faults:
            end = fault.end if fault.end is not None else fault.at
            if fault.kind == kind and fault.at <= following and end + 10 >= started:
                return kind
    return "unmatched"


def late_acks(
    executions: list[tuple[Any, ...]], completions: dict[int, list[tuple[int, float]]], log: Log
) -> dict[str, Any]:
    """Refused: the worker logged a stale ack. Accepted: a completion of an attempt whose
    handler had not finished (or that was superseded by a later execution)."""
    refused = 0
    for path in log.worker_logs:
        for line in path.read_text(errors="replace").splitlines():
            if '"queue.stale_ack"' in line:
                refused += 1
    finished: dict[tuple[int, int], float] = {}
    latest: dict[int, int] = defaultdict(int)
    for job_id, attempt, _pid, _started, ended in executions:
        latest[job_id] = max(latest[job_id], attempt)
        if ended is not None:
            finished[(job_id, attempt)] = _epoch(ended)
    accepted: list[dict[str, Any]] = []
    for job_id, done in completions.items():
        for attempt, at in done:
            ended = finished.get((job_id, attempt))
            if ended is None or ended > at + 0.001 or attempt < latest[job_id]:
                accepted.append(
                    {
                        "job_id": job_id,
                        "attempt": attempt,
                        "handler_ended_after_completion_s": None
                        if ended is None
                        else round(ended - at, 3),
                        "latest_executed_attempt": latest[job_id],
                    }
                )
    return {"refused": refused, "accepted": len(accepted), "accepted_examples": accepted[:10]}


def rescue_latency(attempts: list[Attempt], log: Log) -> dict[str, Any]:
    """Per SIGKILL: seconds from the kill until every attempt of the dead worker was back in
    the queue (or failed), and whether a black hole or a restart overlapped."""
    per_kill = []
    windows = [
        (f.at, (f.end or f.at) + 10) for f in log.faults if f.kind in ("blackhole", "restart")
    ]
    for fault in log.faults:
        if fault.kind != "sigkill":
            continue
        held = [
            a
            for a in attempts
            if _pid(a.worker) == fault.pid
            and a.claimed < fault.at
            and (a.ended is None or a.ended > fault.at)
        ]
        rescued = [
            a.ended - fault.at for a in held if a.ended is not None and a.end_state != "completed"
        ]
        never = sum(1 for a in held if a.ended is None)
        disturbed = any(start - 15 <= fault.at <= end for start, end in windows)
        per_kill.append(
            {
                "pid": fault.pid,
                "at": round(fault.at - log.started, 1),
                "jobs": len(rescued),
                "acked_after_kill": sum(1 for a in held if a.end_state == "completed"),
                "never_rescued": never,
                "seconds": round(max(rescued), 2) if rescued else None,
                "near_restart_or_black_hole": disturbed,
            }
        )
    clean = [
        k["seconds"]
        for k in per_kill
        if k["seconds"] is not None and not k["near_restart_or_black_hole"]
    ]
    every = [k["seconds"] for k in per_kill if k["seconds"] is not None]
    return {
        "per_kill": per_kill,
        "median": round(statistics.median(clean), 2) if clean else None,
        "max": max(clean) if clean else None,
        "median_all": round(statistics.median(every), 2) if every else None,
        "max_all": max(every) if every else None,
    }


def recovery(transitions: list[tuple[Any, ...]], log: Log) -> list[dict[str, Any]]:
    """Per restart and black hole: seconds from its end to the first completion after it."""
    completed_at = sorted(_epoch(at) for *_, new, _w, at in transitions if new == "completed")
    out = []
    for fault in log.faults:
        if fault.kind not in ("restart", "blackhole") or fault.end is None:
            continue
        after = next((t for t in completed_at if t > fault.end), None)
        out.append(
            {
                "fault": fault.kind if not fault.detail else f"{fault.kind} -m {fault.detail}",
                "at": round(fault.at - log.started, 1),
                "lasted": round(fault.end - fault.at, 1),
                "first_completion_after": None if after is None else round(after - fault.end, 2),
            }
        )
    return out


def shutdowns(log: Log) -> list[dict[str, Any]]:
    return [
        {
            "case": s.case,
            "pid": s.pid,
            "at": round(s.signalled - log.started, 1),
            "grace": s.grace,
            "seconds": None if s.exited is None else round(s.exited - s.signalled, 2),
            "exit_code": s.code,
            "within_bar": s.exited is not None
            and s.exited - s.signalled <= s.grace + SHUTDOWN_SLACK,
        }
        for s in log.shutdowns
    ]


def bars(report: dict[str, Any]) -> dict[str, bool]:
    rescue = report["rescue"]
    return {
        "no_job_lost": report["lost"] == 0,
        "none_stuck": report["stuck"] == 0,
        "no_double_completion": report["completed_twice"] == 0,
        "every_duplicate_matched_to_a_fault": not report["duplicates"]["unmatched"],
        "no_duplicate_from_a_stall": report["duplicates"]["from_a_stall"] == 0,
        "no_late_ack_accepted": report["late_acks"]["accepted"] == 0,
        "sigterm_within_grace_plus_5s": all(s["within_bar"] for s in report["shutdowns"]),
        "rescue_median_le_10s": rescue["median"] is not None and rescue["median"] <= 10,
        "rescue_max_le_15s": rescue["max"] is not None and rescue["max"] <= 15,
    }


def write(report: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")


def summary(report: dict[str, Any]) -> str:
    r, d, a = report["rescue"], report["duplicates"], report["late_acks"]
    lines = [
        f"jobs {report['jobs']}: lost {report['lost']}, stuck {report['stuck']}, "
        f"completed twice {report['completed_twice']} (drained in {report['drain_seconds']} s)",
        f"executions {report['executions']}; jobs executed more than once "
        f"{d['jobs_executed_more_than_once']}; extra executions by fault {d['by_fault']}",
        f"late acks refused {a['refused']}, accepted {a['accepted']}",
        f"rescue after SIGKILL (undisturbed kills): median {r['median']} s, max {r['max']} s; "
        f"all kills: median {r['median_all']} s, max {r['max_all']} s",
    ]
    lines += [
        f"recovery after {x['fault']} at {x['at']} s (lasted {x['lasted']} s): first completion "
        f"{x['first_completion_after']} s after"
        for x in report["recovery"]
    ]
    lines += [
        f"SIGTERM ({s['case']}, grace {s['grace']} s): exit {s['exit_code']} after {s['seconds']} s"
        for s in report["shutdowns"]
    ]
    lines.append(
        "bars: " + ", ".join(f"{k} {'OK' if v else 'FAIL'}" for k, v in report["bars"].items())
    )
    return "\n".join(lines)

"""Thread assignment for a batch of new messages: pure, no database.

Each message is known under several keys (`crm.messages.threading.thread_aliases`); messages
sharing a key are one thread, and a key already stored names the thread to join.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["ThreadPlan", "plan_threads"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadPlan:
    """Where each message of a batch goes.

    Attributes:
        existing: message index -> id of an already stored thread.
        new: message index -> key of a thread to create (its first message's primary key).
        new_subjects: key of a thread to create -> its subject.
        aliases: key -> the message index whose thread it must point to (keys not yet stored).
    """

    existing: dict[int, int]
    new: dict[int, str]
    new_subjects: dict[str, str]
    aliases: dict[str, int]


def plan_threads(
    keys: Sequence[tuple[str, ...]], subjects: Sequence[str], stored: Mapping[str, int]
) -> ThreadPlan:
    """Group messages by shared keys and decide, per group, which thread it joins or creates.

    Args:
        keys: per message, its thread keys, the primary one first.
        subjects: per message, its subject (a new thread takes its first message's).
        stored: key -> thread id for keys already stored for this user.
    """
    parent = list(range(len(keys)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for index, message_keys in enumerate(keys):
        for key in message_keys:
            other = first_with.setdefault(key, index)
            if other != index:
                parent[find(index)] = find(other)
    groups: dict[int, list[int]] = {}
    for index in range(len(keys)):
        groups.setdefault(find(index), []).append(index)
    plan = ThreadPlan(existing={}, new={}, new_subjects={}, aliases={})
    for members in groups.values():
        _plan_group(members, keys, subjects, stored, plan)
    return plan


def _plan_group(
    members: list[int],
    keys: Sequence[tuple[str, ...]],
    subjects: Sequence[str],
    stored: Mapping[str, int],
    plan: ThreadPlan,
) -> None:
    group_keys = list(dict.fromkeys(k for i in members for k in keys[i]))
    known = [stored[k] for k in group_keys if k in stored]
    first = members[0]
    if known:
        thread_id = min(known)
        plan.existing.update(dict.fromkeys(members, thread_id))
    else:
        primary = keys[first][0]
        plan.new.update(dict.fromkeys(members, primary))
        plan.new_subjects[primary] = subjects[first]
    plan.aliases.update((k, first) for k in group_keys if k not in stored)

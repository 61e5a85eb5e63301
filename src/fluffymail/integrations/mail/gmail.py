"""Gmail API mail source (google-api-python-client in a worker thread): full sync, history, quota.

A pure adapter: yields `SourcePage`s and never touches the database. Discovery comes from
the document shipped inside google-api-python-client, so nothing is fetched to start.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urljoin

import google_auth_httplib2
import httplib2
from google.auth import exceptions as auth_errors
from google.oauth2.credentials import Credentials
from googleapiclient import discovery
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from fluffymail.clock import Clock, SystemClock
from fluffymail.integrations.mail.source import (
    AuthError,
    Cursor,
    SourceError,
    SourceMail,
    SourcePage,
    TransientSourceError,
)

__all__ = [
    "DEFAULT_EXCLUDED_LABELS",
    "DEFAULT_QUERY",
    "GMAIL_FOLDER",
    "SCOPES",
    "GmailConfig",
    "GmailSource",
    "GmailToken",
    "TokenBucket",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

GMAIL_FOLDER = "all"
DEFAULT_QUERY = (
    "-in:spam -in:trash -in:drafts -category:promotions -category:social"
    " -category:forums -category:updates"
)
DEFAULT_EXCLUDED_LABELS = frozenset(
    {"SPAM", "TRASH", "DRAFT", "CATEGORY_PROMOTIONS", "CATEGORY_SOCIAL", "CATEGORY_FORUMS",
     "CATEGORY_UPDATES"}
)  # fmt: skip
SCOPES = ("https://www.googleapis.com/auth/gmail.readonly",)  # read mail and send-as settings
COST = {"getProfile": 1, "messages.list": 5, "messages.get": 5, "history.list": 2, "sendAs.list": 1}
_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded"})
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class GmailConfig:
    """Where the API lives and how to read it; defaults are Google's production endpoints.

    `quota_units_per_minute` is the per-user quota the client paces itself to (Gmail:
    15,000); `quota_burst_units` how far ahead of that pace it may run.
    """

    api_endpoint: str = "https://gmail.googleapis.com/"
    token_uri: str = "https://oauth2.googleapis.com/token"
    user_id: str = "me"
    query: str = DEFAULT_QUERY
    label_ids: tuple[str, ...] = ()
    excluded_labels: frozenset[str] = DEFAULT_EXCLUDED_LABELS
    page_size: int = 100
    batch_size: int = 50
    quota_units_per_minute: float = 15_000
    quota_burst_units: float = 250
    max_retries: int = 6
    max_backoff: float = 64.0
    timeout: float = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class GmailToken:
    """OAuth user credentials; `expiry` is when `access_token` stops working (UTC)."""

    refresh_token: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)
    access_token: str | None = field(default=None, repr=False)
    expiry: datetime | None = None
    scopes: tuple[str, ...] = SCOPES


class TokenBucket:
    """Paces quota units to `rate` per second, allowing `capacity` units of burst.

    A request that finds too few units takes them anyway (the balance goes negative) and
    waits until the debt is repaid, so large batches are paced exactly.
    """

    def __init__(self, *, rate: float, capacity: float, clock: Clock, sleep: Sleep) -> None:
        self._rate = rate
        self._capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._units = capacity
        self._stamp = clock.monotonic()

    async def acquire(self, units: float) -> None:
        now = self._clock.monotonic()
        self._units = min(self._capacity, self._units + (now - self._stamp) * self._rate)
        self._stamp = now
        self._units -= units
        if self._units < 0:
            await self._sleep(-self._units / self._rate)


class _HistoryExpired(Exception):
    """history.list answered 404: the stored historyId is too old."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Failure:
    """A classified API error: retry it (`retry`), or raise `error`."""

    retry: bool
    retry_after: float | None = None
    not_found: bool = False
    error: SourceError | None = None


class GmailSource:
    """Reads one Gmail mailbox: full sync newest first, then history.list increments.

    Cursor: `{"history_id": "<uint64>"}` once caught up; during a full sync
    `{"full_sync": {"history_id": ..., "page_token": ...}}` so a crash resumes at the page.
    """

    def __init__(
        self,
        config: GmailConfig,
        token: GmailToken,
        *,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        on_token_refresh: Callable[[GmailToken], None] | None = None,
    ) -> None:
        self._config = config
        self._clock = clock or SystemClock()
        self._sleep = sleep
        self._jitter = jitter
        self._on_token_refresh = on_token_refresh
        self._credentials = _credentials(token, config.token_uri)
        self._token = token
        self._service: Any = None
        self.bucket = TokenBucket(
            rate=config.quota_units_per_minute / 60,
            capacity=config.quota_burst_units,
            clock=self._clock,
            sleep=sleep,
        )

    @property
    def token(self) -> GmailToken:
        """The current credentials (refreshed access token included), to persist."""
        return self._token

    async def pages(self, cursor: Cursor | None) -> AsyncIterator[SourcePage]:
        """Yield new mail page by page; see the class docstring for the cursor."""
        cursor = cursor or {}
        try:
            if cursor.get("history_id") and not cursor.get("full_sync"):
                try:
                    async for page in self._incremental(str(cursor["history_id"])):
                        yield page
                    return
                except _HistoryExpired:
                    log.info(
                        "history too old; full sync", extra={"action": "gmail.history_expired"}
                    )
                    cursor = {}
            async for page in self._full(cursor.get("full_sync")):
                yield page
        finally:
            self._close()

    async def profile(self) -> dict[str, Any]:
        """users.getProfile: the account's `emailAddress`, totals and current `historyId`."""
        try:
            users = (await self._gmail()).users()
            return await self._call("getProfile", users.getProfile(userId=self._config.user_id))
        finally:
            self._close()

    async def send_as_addresses(self) -> list[str]:
        """The addresses the account sends as (users.settings.sendAs.list), lower-cased: the
        primary one and every alias Gmail has verified (pending ones are left out)."""
        try:
            users = (await self._gmail()).users()
            request = users.settings().sendAs().list(userId=self._config.user_id)
            response = await self._call("sendAs.list", request)
        finally:
            self._close()
        return [
            str(entry["sendAsEmail"]).strip().lower()
            for entry in response.get("sendAs", [])
            if entry.get("sendAsEmail")
            and (
                entry.get("isPrimary") or entry.get("verificationStatus", "accepted") == "accepted"
            )
        ]

    def _close(self) -> None:
        """Close the HTTP connections (the service is rebuilt on the next `pages()`)."""
        if self._service is not None:
            self._service.close()
            self._service = None

    async def _full(self, resume: dict[str, Any] | None) -> AsyncIterator[SourcePage]:
        """The whole listing, newest first. Listed from the start in this run (a first sync,
        a full re-sync, or history expired), it ends with an empty page whose `present_ids`
        are every message it kept: mail stored before and gone since leaves the CRM."""
        users = (await self._gmail()).users()
        present: set[str] | None = None
        if resume is None:
            profile = await self._call("getProfile", users.getProfile(userId=self._config.user_id))
            resume = {"history_id": str(profile["historyId"]), "page_token": None}
            present = set()
        history_id, page_token = resume["history_id"], resume.get("page_token")
        while True:
            listing = await self._call("messages.list", self._list_request(users, page_token))
            ids = [m["id"] for m in listing.get("messages", [])]
            mails = await self._fetch(ids)
            if present is not None:
                present.update(mail.source_id for mail in mails)
            page_token = listing.get("nextPageToken")
            next_cursor: Cursor = (
                {"full_sync": {"history_id": history_id, "page_token": page_token}}
                if page_token
                else {"history_id": history_id}
            )
            yield SourcePage(
                folder=GMAIL_FOLDER,
                mails=mails,
                cursor=next_cursor,
                remaining=int(listing.get("resultSizeEstimate", 0)) if page_token else 0,
            )
            if not page_token:
                break
        if present is not None:
            yield SourcePage(
                folder=GMAIL_FOLDER,
                mails=(),
                cursor={"history_id": history_id},
                present_ids=frozenset(present),
                remaining=0,
            )

    def _list_request(self, users: Any, page_token: str | None) -> Any:
        options: dict[str, Any] = {
            "userId": self._config.user_id,
            "maxResults": self._config.page_size,
            "includeSpamTrash": False,
        }
        if self._config.query:
            options["q"] = self._config.query
        if self._config.label_ids:
            options["labelIds"] = list(self._config.label_ids)
        if page_token:
            options["pageToken"] = page_token
        return users.messages().list(**options)

    async def _incremental(self, start: str) -> AsyncIterator[SourcePage]:
        users = (await self._gmail()).users()
        page_token: str | None = None
        while True:
            request = users.history().list(
                userId=self._config.user_id,
                startHistoryId=start,
                historyTypes=["messageAdded", "messageDeleted", "labelAdded", "labelRemoved"],
                maxResults=self._config.page_size,
                **({"pageToken": page_token} if page_token else {}),
            )
            response = await self._call("history.list", request, not_found=_HistoryExpired)
            records = response.get("history", [])
            added, deleted = _changes(
                records, self._wanted, self._config.excluded_labels, set(self._config.label_ids)
            )
            mails = await self._fetch(added)
            page_token = response.get("nextPageToken")
            last = max((int(r["id"]) for r in records), default=int(start))
            history_id = str(last) if page_token else str(response["historyId"])
            yield SourcePage(
                folder=GMAIL_FOLDER,
                mails=mails,
                cursor={"history_id": history_id},
                deleted_ids=tuple(deleted),
            )
            if not page_token:
                return

    def _wanted(self, labels: Iterable[str]) -> bool:
        labels = set(labels)
        return not (labels & self._config.excluded_labels) and labels.issuperset(
            self._config.label_ids
        )

    async def _fetch(self, ids: Sequence[str]) -> tuple[SourceMail, ...]:
        """messages.get(format=raw) for `ids` in batches; vanished ids are dropped."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), self._config.batch_size):
            await self._fetch_batch(ids[start : start + self._config.batch_size], found)
        return tuple(
            _mail(found[i])
            for i in ids
            if i in found and self._wanted(found[i].get("labelIds", ()))
        )

    async def _fetch_batch(self, ids: Sequence[str], found: dict[str, dict[str, Any]]) -> None:
        pending = list(ids)
        for attempt in range(self._config.max_retries + 1):
            await self.bucket.acquire(COST["messages.get"] * len(pending))
            results = await self._blocking(self._run_batch, pending)
            retry, waits = [], []
            for message_id, (response, error) in results.items():
                if error is None:
                    found[message_id] = response
                    continue
                failure = _classify(error)
                if failure.error is not None:
                    raise failure.error
                if failure.retry:
                    retry.append(message_id)
                    waits.append(failure.retry_after)
            if not retry:
                return
            pending = retry
            await self._backoff(
                "messages.get", attempt, max((w or 0 for w in waits), default=0) or None
            )
        raise TransientSourceError("Gmail kept throttling messages.get", retry_after=None)

    def _run_batch(self, ids: Sequence[str]) -> dict[str, tuple[Any, Exception | None]]:
        results: dict[str, tuple[Any, Exception | None]] = {}

        def collect(request_id: str, response: Any, error: Exception | None) -> None:
            results[request_id] = (response, error)

        batch = BatchHttpRequest(
            callback=collect, batch_uri=urljoin(self._config.api_endpoint, "batch")
        )
        messages = self._service.users().messages()
        for message_id in ids:
            batch.add(
                messages.get(userId=self._config.user_id, id=message_id, format="raw"),
                request_id=message_id,
            )
        try:
            batch.execute()
        except HttpError as exc:  # the whole batch was refused (429 / 5xx / 401)
            return {message_id: (None, exc) for message_id in ids}
        return results

    async def _call(
        self, method: str, request: Any, not_found: type[Exception] | None = None
    ) -> dict[str, Any]:
        """Execute one request with quota pacing and backoff on throttling / 5xx."""
        for attempt in range(self._config.max_retries + 1):
            await self.bucket.acquire(COST[method])
            try:
                return await self._blocking(request.execute)
            except HttpError as exc:
                failure = _classify(exc)
            if failure.not_found and not_found is not None:
                raise not_found()
            if failure.error is not None:
                raise failure.error
            await self._backoff(method, attempt, failure.retry_after)
        raise TransientSourceError(f"Gmail kept failing {method}")

    async def _backoff(self, method: str, attempt: int, retry_after: float | None) -> None:
        if attempt >= self._config.max_retries:
            raise TransientSourceError(f"Gmail kept throttling {method}", retry_after=retry_after)
        delay = (
            retry_after
            if retry_after is not None
            else min(self._config.max_backoff, 2**attempt + self._jitter())
        )
        log.info(
            "gmail throttled; backing off",
            extra={"action": "gmail.backoff", "method": method, "attempt": attempt, "delay": delay},
        )
        await self._sleep(delay)

    async def _gmail(self) -> Any:
        if self._service is None:
            self._service = await self._blocking(self._build)
        return self._service

    def _build(self) -> Any:
        http = google_auth_httplib2.AuthorizedHttp(
            self._credentials, http=httplib2.Http(timeout=self._config.timeout)
        )
        return discovery.build(
            "gmail",
            "v1",
            http=http,
            client_options={"api_endpoint": self._config.api_endpoint},
            static_discovery=True,
            cache_discovery=False,
        )

    async def _blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking client call in a thread; map auth and network failures."""
        try:
            return await asyncio.to_thread(fn, *args)
        except auth_errors.RefreshError as exc:
            if getattr(exc, "retryable", False):
                raise TransientSourceError(
                    f"Gmail token refresh failed: {_refresh_text(exc)}"
                ) from exc
            reason = f"Gmail refused the refresh token: {_refresh_text(exc)}"
            raise AuthError(reason, reason=reason) from exc
        except (auth_errors.TransportError, httplib2.HttpLib2Error, OSError) as exc:
            raise TransientSourceError(f"Gmail unreachable: {exc}") from exc
        finally:
            self._note_refresh()

    def _note_refresh(self) -> None:
        if self._credentials.token == self._token.access_token:
            return
        expiry = self._credentials.expiry
        self._token = GmailToken(
            refresh_token=self._token.refresh_token,
            client_id=self._token.client_id,
            client_secret=self._token.client_secret,
            access_token=self._credentials.token,
            expiry=expiry.replace(tzinfo=UTC) if expiry else None,
            scopes=self._token.scopes,
        )
        log.info("gmail access token refreshed", extra={"action": "gmail.token_refreshed"})
        if self._on_token_refresh is not None:
            self._on_token_refresh(self._token)


def _credentials(token: GmailToken, token_uri: str) -> Credentials:
    expiry = token.expiry
    if expiry is not None and expiry.tzinfo is not None:  # google-auth compares naive UTC
        expiry = expiry.astimezone(UTC).replace(tzinfo=None)
    return Credentials(
        token=token.access_token,
        refresh_token=token.refresh_token,
        token_uri=token_uri,
        client_id=token.client_id,
        client_secret=token.client_secret,
        scopes=list(token.scopes),
        expiry=expiry,
    )


def _changes(
    records: list[dict[str, Any]],
    wanted: Callable[[Iterable[str]], bool],
    skipped: Set[str],
    required: Set[str],
) -> tuple[list[str], list[str]]:
    """Ids to fetch and ids to forget, each by its last change in these records, in order.

    Fetch: a message added with labels the sync reads, or one whose skipped label (Trash,
    Spam, a skipped category) was taken off or a required label put on: "Not spam" and
    "Move to Inbox" bring it in (the fetch checks its labels as they are now). Forget: a
    message deleted, or given a skipped label or stripped of a required one: moved to Trash
    or Spam, it leaves the CRM as a message deleted on an IMAP server does. Other label
    changes (read, starred, the user's own labels) change nothing.
    """
    last: dict[str, bool] = {}  # id -> read after its latest change
    for record in records:
        for item in record.get("messagesAdded", []):
            message = item["message"]
            if wanted(message.get("labelIds", ())):
                last[message["id"]] = True
        for item in record.get("labelsAdded", []):
            labels = set(item.get("labelIds", ()))
            if labels & (skipped | required):
                last[item["message"]["id"]] = not labels & skipped
        for item in record.get("labelsRemoved", []):
            labels = set(item.get("labelIds", ()))
            if labels & (skipped | required):
                last[item["message"]["id"]] = not labels & required
        for item in record.get("messagesDeleted", []):
            last[item["message"]["id"]] = False
    return [i for i, read in last.items() if read], [i for i, read in last.items() if not read]


def _mail(message: dict[str, Any]) -> SourceMail:
    raw = message["raw"]
    internal = message.get("internalDate")
    return SourceMail(
        folder=GMAIL_FOLDER,
        source_id=message["id"],
        raw=base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)),
        gmail_id=message["id"],
        thread_id=message.get("threadId"),
        labels=tuple(message.get("labelIds", ())),
        internal_date=datetime.fromtimestamp(int(internal) / 1000, UTC) if internal else None,
    )


def _classify(error: Exception) -> _Failure:
    """Map an API error to retry / not-found / a source error (Twenty's taxonomy, §2.4)."""
    if not isinstance(error, HttpError):
        return _Failure(retry=False, error=SourceError(f"Gmail request failed: {error}"))
    status = error.resp.status
    reason, message = _error_reason(error)
    retry_after = _retry_after(error)
    if status == 429 or (status == 403 and reason in _RATE_REASONS):
        return _Failure(retry=True, retry_after=retry_after)
    if status >= 500 or (status == 400 and reason == "failedPrecondition"):
        return _Failure(retry=True, retry_after=retry_after)
    if status == 404:
        return _Failure(retry=False, not_found=True)
    if status in (401, 403):
        text = f"Gmail refused access ({status} {reason or 'unauthorized'}): {message}"
        return _Failure(retry=False, error=AuthError(text, reason=text))
    return _Failure(retry=False, error=SourceError(f"Gmail error {status} {reason}: {message}"))


def _error_reason(error: HttpError) -> tuple[str, str]:
    try:
        body = json.loads(error.content)["error"]
    except (ValueError, KeyError, TypeError):
        return "", ""
    errors = body.get("errors") or [{}]
    return str(errors[0].get("reason", body.get("status", ""))), str(body.get("message", ""))


def _retry_after(error: HttpError) -> float | None:
    value = error.resp.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _refresh_text(exc: auth_errors.RefreshError) -> str:
    return str(exc.args[0]) if exc.args else type(exc).__name__

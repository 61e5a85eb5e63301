"""Google Calendar API v3 source (google-api-python-client in a worker thread): events.list on
the primary calendar with singleEvents=true, a full listing then sync-token increments.

A pure adapter: yields `CalendarPage`s and never touches the database. It signs in with the
Gmail connection's OAuth grant, which must carry the calendar.readonly scope. Discovery comes
from the document shipped inside google-api-python-client.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

import google_auth_httplib2
import httplib2
from google.auth import exceptions as auth_errors
from google.oauth2.credentials import Credentials
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from fluffymail.crm.calendar.models import AttendeeIn, MeetingIn
from fluffymail.integrations.mail.gmail import GmailToken
from fluffymail.integrations.mail.source import AuthError, SourceError, TransientSourceError

__all__ = [
    "SCOPE",
    "CalendarConfig",
    "CalendarPage",
    "GoogleCalendarSource",
    "NoCalendarAccess",
    "meeting_of",
]

SCOPE = "https://www.googleapis.com/auth/calendar.readonly"
log = logging.getLogger(__name__)
T = TypeVar("T")
_SKIPPED_TYPES = frozenset({"outOfOffice", "focusTime", "workingLocation", "birthday"})


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarConfig:
    """Where the API lives; defaults are Google's production endpoints."""

    api_endpoint: str = "https://www.googleapis.com/calendar/v3/"
    token_uri: str = "https://oauth2.googleapis.com/token"
    calendar_id: str = "primary"
    page_size: int = 250
    max_retries: int = 5
    max_backoff: float = 32.0
    timeout: float = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarPage:
    """One page of events. `full`: part of a full listing (the caller deletes, at its end,
    what it did not list); `sync_token` only on the last page, to store for next time."""

    meetings: tuple[MeetingIn, ...]
    cancelled: tuple[str, ...]
    full: bool
    sync_token: str | None = None


class NoCalendarAccess(AuthError):
    """The grant lacks the calendar scope (a connection made before calendars were read)."""


class _SyncTokenGone(Exception):
    """410 Gone: the sync token expired; a full listing is needed."""


class GoogleCalendarSource:
    """Reads one account's primary calendar."""

    def __init__(
        self,
        config: CalendarConfig,
        token: GmailToken,
        *,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self._config = config
        self._sleep = sleep
        expiry = token.expiry.astimezone(UTC).replace(tzinfo=None) if token.expiry else None
        self._credentials = Credentials(
            token=token.access_token,
            refresh_token=token.refresh_token,
            token_uri=config.token_uri,
            client_id=token.client_id,
            client_secret=token.client_secret,
            scopes=list(token.scopes),
            expiry=expiry,
        )
        self._service: Any = None
        self._token = token

    @property
    def token(self) -> GmailToken:
        """The credentials as they are now (a refreshed access token included), to persist."""
        if self._credentials.token == self._token.access_token:
            return self._token
        expiry = self._credentials.expiry
        return replace(
            self._token,
            access_token=self._credentials.token,
            expiry=expiry.replace(tzinfo=UTC) if expiry else None,
        )

    async def pages(self, sync_token: str | None) -> AsyncIterator[CalendarPage]:
        """Changes since `sync_token`, or every event when None or when Google says the token
        is gone (410): then every page is `full`."""
        try:
            if sync_token:
                try:
                    async for page in self._listing(sync_token):
                        yield page
                    return
                except _SyncTokenGone:
                    log.info("sync token gone; full sync", extra={"action": "calendar.resync"})
            async for page in self._listing(None):
                yield page
        finally:
            if self._service is not None:
                self._service.close()
                self._service = None

    async def _listing(self, sync_token: str | None) -> AsyncIterator[CalendarPage]:
        page_token: str | None = None
        while True:
            response = await self._call(self._request(sync_token, page_token))
            meetings, cancelled = [], []
            for event in response.get("items", []):
                if event.get("status") == "cancelled":
                    cancelled.append(str(event["id"]))
                elif (meeting := meeting_of(event)) is not None:
                    meetings.append(meeting)
                else:
                    cancelled.append(str(event["id"]))  # no longer a meeting: forget it
            page_token = response.get("nextPageToken")
            yield CalendarPage(
                meetings=tuple(meetings),
                cancelled=tuple(cancelled),
                full=sync_token is None,
                sync_token=None if page_token else response.get("nextSyncToken"),
            )
            if not page_token:
                return

    def _request(self, sync_token: str | None, page_token: str | None) -> Any:
        if self._service is None:
            self._service = self._build()
        options: dict[str, Any] = {
            "calendarId": self._config.calendar_id,
            "singleEvents": True,
            "maxResults": self._config.page_size,
        }
        if sync_token:
            options["syncToken"] = sync_token  # deleted events come as status=cancelled
        if page_token:
            options["pageToken"] = page_token
        return self._service.events().list(**options)

    def _build(self) -> Any:
        http = google_auth_httplib2.AuthorizedHttp(
            self._credentials, http=httplib2.Http(timeout=self._config.timeout)
        )
        return discovery.build(
            "calendar",
            "v3",
            http=http,
            client_options={"api_endpoint": self._config.api_endpoint},
            static_discovery=True,
            cache_discovery=False,
        )

    async def _call(self, request: Any) -> dict[str, Any]:
        """Execute with backoff on 429/5xx; map 410, 401/403 and network failures."""
        for attempt in range(self._config.max_retries + 1):
            try:
                return await self._blocking(request.execute)
            except HttpError as exc:
                status, reason, message = _error(exc)
            if status == 410:
                raise _SyncTokenGone()
            if status in (401, 403) and reason not in _RATE_REASONS:
                text = f"Google Calendar refused access ({status} {reason}): {message}"
                kind = NoCalendarAccess if reason in _SCOPE_REASONS else AuthError
                raise kind(text, reason=text)
            if status != 429 and status < 500 and reason not in _RATE_REASONS:
                raise SourceError(f"Google Calendar error {status} {reason}: {message}")
            if attempt < self._config.max_retries:
                await self._sleep(min(self._config.max_backoff, 2.0**attempt))
        raise TransientSourceError("Google Calendar kept failing events.list")

    async def _blocking(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.to_thread(fn, *args)
        except auth_errors.RefreshError as exc:
            if getattr(exc, "retryable", False):
                raise TransientSourceError(f"Google token refresh failed: {exc}") from exc
            reason = f"Google refused the refresh token: {exc}"
            raise AuthError(reason, reason=reason) from exc
        except (auth_errors.TransportError, httplib2.HttpLib2Error, OSError) as exc:
            raise TransientSourceError(f"Google Calendar unreachable: {exc}") from exc


_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})
_SCOPE_REASONS = frozenset({"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"})


def _error(exc: HttpError) -> tuple[int, str, str]:
    try:
        body = json.loads(exc.content)["error"]
        errors = body.get("errors") or [{}]
        return exc.resp.status, str(errors[0].get("reason", "")), str(body.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return exc.resp.status, "", ""


def meeting_of(event: dict[str, Any]) -> MeetingIn | None:
    """A Calendar v3 event resource as a meeting; None for what is not one (no time, or an
    out-of-office or focus-time block)."""
    if event.get("eventType") in _SKIPPED_TYPES:
        return None
    start, all_day = _when(event.get("start") or {})
    end, _ = _when(event.get("end") or {})
    if start is None:
        return None
    organizer = event.get("organizer") or {}
    attendees = [
        AttendeeIn(
            address=str(a.get("email", "")),
            name=str(a.get("displayName", "")),
            response=str(a.get("responseStatus", "needsAction")),
            organizer=bool(a.get("organizer")),
            is_self=bool(a.get("self")),
        )
        for a in event.get("attendees", [])
        if a.get("email") and not a.get("resource")
    ]
    if not attendees and organizer.get("email") and not organizer.get("self"):
        attendees = [AttendeeIn(address=organizer["email"], name=organizer.get("displayName", ""),
                                response="accepted", organizer=True)]  # fmt: skip
    return MeetingIn(
        event_id=str(event["id"]),
        title=str(event.get("summary", "")),
        location=str(event.get("location", "")),
        starts_on=start,
        ends_on=end or start,
        all_day=all_day,
        organizer=organizer.get("email"),
        organizer_is_self=bool(organizer.get("self")),
        attendees=tuple(attendees),
    )


def _when(value: dict[str, Any]) -> tuple[datetime | None, bool]:
    if value.get("dateTime"):
        at = datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
        return (at if at.tzinfo else at.replace(tzinfo=UTC)), False
    if value.get("date"):
        return datetime.combine(date.fromisoformat(value["date"]), time(), UTC), True
    return None, False

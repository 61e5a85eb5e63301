"""A local Gmail and Google Calendar API emulator (stdlib http.server in a thread) for the real
google client.

Follows the Gmail v1 discovery document shipped with google-api-python-client: getProfile,
messages.list/get, history.list, users.settings.sendAs.list, the multipart batch endpoint;
and Calendar v3's events.list (singleEvents instances, pageToken paging, syncToken increments
with cancelled events, 410 Gone for an expired token, 403 without the calendar scope),
OAuth 2.0 (an auto-consenting authorisation endpoint, the token endpoint's authorization_code
grant with PKCE S256 and its refresh_token grant), per-user quota (token bucket) and injectable
quota errors.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

COST = {"getProfile": 1, "messages.list": 5, "messages.get": 5, "history.list": 2, "sendAs.list": 1,
        "events.list": 1}  # fmt: skip
_ROUTES = [
    (re.compile(r"^/gmail/v1/users/([^/]+)/profile$"), "getProfile"),
    (re.compile(r"^/gmail/v1/users/([^/]+)/messages$"), "messages.list"),
    (re.compile(r"^/gmail/v1/users/([^/]+)/messages/([^/]+)$"), "messages.get"),
    (re.compile(r"^/gmail/v1/users/([^/]+)/history$"), "history.list"),
    (re.compile(r"^/gmail/v1/users/([^/]+)/settings/sendAs$"), "sendAs.list"),
    (re.compile(r"^/calendar/v3/calendars/([^/]+)/events$"), "events.list"),
]
SCOPE = "https://www.googleapis.com/auth/gmail.readonly"
HISTORY_KINDS = {  # history.list's historyTypes -> the record field each fills
    "messageAdded": "messagesAdded", "messageDeleted": "messagesDeleted",
    "labelAdded": "labelsAdded", "labelRemoved": "labelsRemoved",
}  # fmt: skip
CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.readonly"
BOTH_SCOPES = f"{SCOPE} {CALENDAR_SCOPE}"
_QUERY_LABELS = {
    "in:spam": "SPAM", "in:trash": "TRASH", "in:drafts": "DRAFT",
    "category:promotions": "CATEGORY_PROMOTIONS", "category:social": "CATEGORY_SOCIAL",
    "category:forums": "CATEGORY_FORUMS", "category:updates": "CATEGORY_UPDATES",
}  # fmt: skip


@dataclass(slots=True, kw_only=True)
class Message:
    id: str
    thread_id: str
    raw: bytes
    label_ids: list[str]
    history_id: int
    internal_date: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """An authorisation code waiting to be exchanged."""

    client_id: str
    redirect_uri: str
    scope: str
    challenge: str | None
    method: str | None


@dataclass(slots=True, kw_only=True)
class Injected:
    method: str | None
    status: int
    reason: str
    retry_after: float | None


class Quota:
    """Gmail's per-user quota as a token bucket: `per_minute` units, `burst` units of slack."""

    def __init__(self, per_minute: float, burst: float) -> None:
        self.rate = per_minute / 60
        self.burst = burst
        self._units = burst
        self._stamp = time.monotonic()
        self.accepted: list[tuple[float, int]] = []  # (monotonic time, units) of served calls
        self.refused = 0

    def take(self, units: int) -> float | None:
        """Charge `units`; None when allowed, else seconds until they would be."""
        now = time.monotonic()
        self._units = min(self.burst, self._units + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._units < units:
            self.refused += 1
            return (units - self._units) / self.rate
        self._units -= units
        self.accepted.append((now, units))
        return None


class GmailEmulator:
    """One mailbox (any userId) behind an HTTP server on 127.0.0.1."""

    def __init__(self, *, email_address: str = "owner@example.com") -> None:
        self.email_address = email_address
        self.messages: dict[str, Message] = {}
        self.history: list[dict[str, Any]] = []
        self.history_id = 1000
        self.oldest_history_id = 1000
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.calls: dict[str, int] = {}
        self.batches = 0
        self.refreshes = 0
        self.client_id = "client-id"
        self.client_secret = "client-secret"
        self.send_as: list[dict[str, Any]] = [
            {"sendAsEmail": email_address, "displayName": "Owner", "isPrimary": True,
             "isDefault": True, "verificationStatus": "accepted"},
        ]  # fmt: skip
        self.consent = True  # False: the authorisation endpoint answers error=access_denied
        self.unticked: set[str] = set()  # scopes the user unticks on the consent screen
        self.require_pkce = True  # Google lets web clients skip PKCE; these tests demand it
        self.codes: dict[str, Grant] = {}
        self.quota: Quota | None = None
        self.scopes: dict[str, str] = {}  # access or refresh token -> the scopes it carries
        self.events: dict[str, dict[str, Any]] = {}  # the primary calendar's event instances
        self.event_seq: dict[str, int] = {}  # event id -> change number of its last change
        self.changes = 0
        self.oldest_sync = 0  # sync tokens below this answer 410 Gone
        self._injected: list[Injected] = []
        self._ids = itertools.count(0x18C0000000000000)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> GmailEmulator:
        handler = type("Handler", (_Handler,), {"emulator": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def token_uri(self) -> str:
        return self.url + "token"

    @property
    def auth_uri(self) -> str:
        return self.url + "o/oauth2/auth"

    # -- test controls ---------------------------------------------------------------------
    def grant(self, scope: str = BOTH_SCOPES) -> tuple[str, str]:
        """A fresh (access_token, refresh_token) pair carrying `scope` (space-separated)."""
        with self._lock:
            access, refresh = f"ya29.{uuid.uuid4().hex}", f"1//{uuid.uuid4().hex}"
            self.access_tokens.add(access)
            self.refresh_tokens.add(refresh)
            self.scopes[access] = self.scopes[refresh] = scope
            return access, refresh

    # -- calendar controls -----------------------------------------------------------------
    def add_event(self, **fields: Any) -> str:
        """Add an event instance (Calendar v3 fields: summary, start, end, attendees, ...)."""
        with self._lock:
            event_id = fields.pop("id", None) or f"ev{len(self.events) + 1:06d}"
            event = {"kind": "calendar#event", "id": event_id, "status": "confirmed",
                     "iCalUID": f"{event_id}@google.com", **fields}  # fmt: skip
            self._change(event)
            return event_id

    def update_event(self, event_id: str, **fields: Any) -> None:
        with self._lock:
            self._change({**self.events[event_id], **fields})

    def cancel_event(self, event_id: str) -> None:
        """Delete it: full listings leave it out, increments report it status=cancelled."""
        with self._lock:
            self._change({"kind": "calendar#event", "id": event_id, "status": "cancelled"})

    def expire_sync_tokens(self) -> None:
        """Every sync token given so far now answers 410 Gone."""
        with self._lock:
            self.changes += 1
            self.oldest_sync = self.changes

    def _change(self, event: dict[str, Any]) -> None:
        self.changes += 1
        self.events[event["id"]] = event
        self.event_seq[event["id"]] = self.changes

    def revoke(self, refresh_token: str) -> None:
        with self._lock:
            self.refresh_tokens.discard(refresh_token)
            self.access_tokens.clear()

    def expire_access_tokens(self) -> None:
        with self._lock:
            self.access_tokens.clear()

    def add_message(self, raw: bytes, labels: tuple[str, ...] = ("INBOX",)) -> str:
        with self._lock:
            message_id = f"{next(self._ids):x}"
            self.history_id += 1
            thread = self._thread_of(raw) or message_id
            message = Message(
                id=message_id, thread_id=thread, raw=raw, label_ids=list(labels),
                history_id=self.history_id, internal_date=1_700_000_000_000 + len(self.messages),
            )  # fmt: skip
            self.messages[message_id] = message
            self._record("messagesAdded", message)
            return message_id

    def delete_message(self, message_id: str) -> None:
        with self._lock:
            message = self.messages.pop(message_id)
            self.history_id += 1
            self._record("messagesDeleted", message)

    def change_labels(
        self, message_id: str, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()
    ) -> None:
        """messages.modify as the user does it (Trash, Spam, Not spam, Move to Inbox): one
        history record per direction, naming the labels that changed."""
        with self._lock:
            message = self.messages[message_id]
            for kind, labels in (("labelsAdded", add), ("labelsRemoved", remove)):
                if not labels:
                    continue
                self.history_id += 1
                if kind == "labelsAdded":
                    message.label_ids.extend(x for x in labels if x not in message.label_ids)
                else:
                    message.label_ids[:] = [x for x in message.label_ids if x not in labels]
                self._record(kind, message, list(labels))

    def expire_history(self) -> None:
        """Forget all history: any earlier startHistoryId now answers 404."""
        with self._lock:
            self.history_id += 1
            self.oldest_history_id = self.history_id
            self.history.clear()

    def inject(self, count: int, *, status: int = 429, reason: str = "rateLimitExceeded",
               retry_after: float | None = 1.0, method: str | None = None) -> None:  # fmt: skip
        """Fail the next `count` calls (of `method`, or any; batched calls count one by one)."""
        with self._lock:
            self._injected.extend(
                Injected(method=method, status=status, reason=reason, retry_after=retry_after)
                for _ in range(count)
            )

    def enforce_quota(self, per_minute: float, burst: float) -> Quota:
        self.quota = Quota(per_minute, burst)
        return self.quota

    def _record(self, kind: str, message: Message, labels: list[str] | None = None) -> None:
        ref = {"id": message.id, "threadId": message.thread_id, "labelIds": list(message.label_ids)}
        change: dict[str, Any] = {"message": ref}
        if labels is not None:
            change["labelIds"] = labels
        self.history.append({"id": str(self.history_id), "messages": [ref], kind: [change]})

    @staticmethod
    def _thread_of(raw: bytes) -> str | None:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        subject = re.sub(r"^((re|fw|fwd):\s*)+", "", str(headers.get("Subject", "")), flags=re.I)
        return f"t{abs(hash(subject.strip().lower())) % 10**12:x}" if subject else None

    # -- API -------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        """Serve one (possibly batched) request."""
        path, query = _split(target)
        if path == "/token" and method == "POST":
            return self._token(body, headers.get("authorization", ""))
        if path == "/o/oauth2/auth" and method == "GET":
            return self._authorize(query)
        if path in ("/batch", "/batch/gmail/v1") and method == "POST":
            return self._batch(headers, body)
        return self._api(method, path, query, headers.get("authorization", ""))

    def _api(self, method: str, path: str, query: dict[str, list[str]], auth: str) -> Reply:
        with self._lock:
            token = auth.removeprefix("Bearer ").strip()
            if token not in self.access_tokens:
                return _error(401, "Request had invalid authentication credentials.",
                              "authError", status="UNAUTHENTICATED")  # fmt: skip
            route = _route(method, path)
            if route is None:
                return _error(404, f"Not Found: {method} {path}", "notFound")
            name, args = route
            if name == "events.list" and CALENDAR_SCOPE not in self.scopes.get(token, "").split():
                return _error(403, "Request had insufficient authentication scopes.",
                              "insufficientPermissions", status="PERMISSION_DENIED")  # fmt: skip
            self.calls[name] = self.calls.get(name, 0) + 1
            if refused := self._throttle(name):
                return refused
            return getattr(self, "_" + name.replace(".", "_"))(query, *args)

    def _throttle(self, name: str) -> Reply | None:
        fault = next((f for f in self._injected if f.method in (None, name)), None)
        if fault is not None:
            self._injected.remove(fault)
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after else {}
            return _error(fault.status, "Quota exceeded (injected).", fault.reason, headers=headers)
        if self.quota is not None and (wait := self.quota.take(COST[name])) is not None:
            return _error(429, "User-rate limit exceeded.", "rateLimitExceeded",
                          headers={"Retry-After": f"{max(1, round(wait + 0.5))}"})  # fmt: skip
        return None

    def _getProfile(self, query: dict[str, list[str]]) -> Reply:
        threads = {m.thread_id for m in self.messages.values()}
        return Reply(status=200, body={
            "emailAddress": self.email_address, "messagesTotal": len(self.messages),
            "threadsTotal": len(threads), "historyId": str(self.history_id)})  # fmt: skip

    def _messages_list(self, query: dict[str, list[str]]) -> Reply:
        excluded = _excluded_labels(query.get("q", [""])[0])
        if query.get("includeSpamTrash", ["false"])[0] != "true":
            excluded |= {"SPAM", "TRASH"}
        required = set(query.get("labelIds", []))
        matching = [
            m for m in sorted(self.messages.values(), key=lambda m: -m.history_id)
            if not excluded & set(m.label_ids) and required <= set(m.label_ids)
        ]  # fmt: skip
        start = int(query.get("pageToken", ["0"])[0])
        size = min(500, int(query.get("maxResults", ["100"])[0]))
        page = matching[start : start + size]
        body: dict[str, Any] = {"resultSizeEstimate": len(matching)}
        if page:
            body["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
        if start + size < len(matching):
            body["nextPageToken"] = str(start + size)
        return Reply(status=200, body=body)

    def _messages_get(self, query: dict[str, list[str]], message_id: str) -> Reply:
        message = self.messages.get(message_id)
        if message is None:
            return _error(404, "Requested entity was not found.", "notFound")
        body: dict[str, Any] = {
            "id": message.id, "threadId": message.thread_id, "labelIds": message.label_ids,
            "snippet": "", "historyId": str(message.history_id),
            "internalDate": str(message.internal_date), "sizeEstimate": len(message.raw),
        }  # fmt: skip
        if query.get("format", ["full"])[0] == "raw":
            body["raw"] = base64.urlsafe_b64encode(message.raw).decode()
        return Reply(status=200, body=body)

    def _history_list(self, query: dict[str, list[str]]) -> Reply:
        start = int(query["startHistoryId"][0])
        if start < self.oldest_history_id:
            return _error(404, "Requested entity was not found.", "notFound")
        types = set(query.get("historyTypes", [])) or set(HISTORY_KINDS)
        kinds = {HISTORY_KINDS[t] for t in types}
        records = [
            r for r in self.history if int(r["id"]) > start and kinds & set(r)
        ]  # fmt: skip
        offset = int(query.get("pageToken", ["0"])[0])
        size = min(500, int(query.get("maxResults", ["100"])[0]))
        body: dict[str, Any] = {"historyId": str(self.history_id)}
        if page := records[offset : offset + size]:
            body["history"] = page
        if offset + size < len(records):
            body["nextPageToken"] = str(offset + size)
        return Reply(status=200, body=body)

    def _events_list(self, query: dict[str, list[str]]) -> Reply:
        """events.list: a full listing without syncToken, else the changes after it."""
        token = query.get("syncToken", [None])[0]
        order = sorted(self.events, key=lambda i: self.event_seq[i])
        if token is None:
            items = [self.events[i] for i in order if self.events[i]["status"] != "cancelled"]
        else:
            since = int(token.removeprefix("sync-"))
            if since < self.oldest_sync:
                return _error(410, "Sync token is no longer valid, a full sync is required.",
                              "fullSyncRequired", status="GONE")  # fmt: skip
            items = [self.events[i] for i in order if self.event_seq[i] > since]
        start = int(query.get("pageToken", ["0"])[0])
        size = min(2500, int(query.get("maxResults", ["250"])[0]))
        body: dict[str, Any] = {"kind": "calendar#events", "summary": self.email_address,
                                "timeZone": "UTC", "items": items[start : start + size]}  # fmt: skip
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        else:
            body["nextSyncToken"] = f"sync-{self.changes}"
        return Reply(status=200, body=body)

    def _sendAs_list(self, query: dict[str, list[str]]) -> Reply:
        return Reply(status=200, body={"sendAs": [dict(entry) for entry in self.send_as]})

    def _authorize(self, query: dict[str, list[str]]) -> Reply:
        """The consent screen, already clicked: 302 back to redirect_uri with a code."""
        args = {k: v[0] for k, v in query.items()}
        redirect = args.get("redirect_uri", "")
        if args.get("client_id") != self.client_id or not redirect:
            return Reply(status=400, body={"error": "invalid_request",
                                           "error_description": "unknown client or no redirect_uri"})  # fmt: skip
        back: dict[str, str] = {"state": args["state"]} if "state" in args else {}
        if refusal := self._pkce_refusal(args):
            back["error"], back["error_description"] = "invalid_request", refusal
        elif not self.consent:
            back["error"] = "access_denied"
        else:
            code = f"4/{uuid.uuid4().hex}"
            # Google's granular consent: each permission asked for is a box the user may untick
            scope = " ".join(s for s in args.get("scope", SCOPE).split() if s not in self.unticked)
            with self._lock:
                self.codes[code] = Grant(
                    client_id=args["client_id"], redirect_uri=redirect,
                    scope=scope, challenge=args.get("code_challenge"),
                    method=args.get("code_challenge_method", "plain"),
                )  # fmt: skip
            back["code"] = code
            back["scope"] = scope
        sep = "&" if "?" in redirect else "?"
        return Reply(status=302, body={}, headers={"Location": f"{redirect}{sep}{urlencode(back)}"})

    def _pkce_refusal(self, args: dict[str, str]) -> str | None:
        """Why the authorisation request's PKCE parameters are refused (RFC 7636 §4.3)."""
        challenge = args.get("code_challenge")
        if challenge is None:
            return "code_challenge is required" if self.require_pkce else None
        if args.get("code_challenge_method", "plain") not in ("S256", "plain"):
            return "Invalid code_challenge_method."
        if not re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", challenge):
            return "Invalid code_challenge."
        return None

    def _exchange(self, form: dict[str, str], auth: str) -> Reply:
        """grant_type=authorization_code: one use per code, client and PKCE checked."""
        with self._lock:
            grant = self.codes.pop(form.get("code", ""), None)
        if grant is None:
            return Reply(status=400, body={"error": "invalid_grant",
                                           "error_description": "Malformed auth code."})  # fmt: skip
        if _client(form, auth) != (self.client_id, self.client_secret):
            return Reply(status=401, body={"error": "invalid_client"})
        if form.get("redirect_uri") != grant.redirect_uri:
            return Reply(status=400, body={"error": "redirect_uri_mismatch"})
        if not _verifier_fits(grant, form.get("code_verifier")):
            return Reply(status=400, body={"error": "invalid_grant",
                                           "error_description": "Invalid code verifier."})  # fmt: skip
        access, refresh = self.grant(grant.scope)
        return Reply(status=200, body={
            "access_token": access, "refresh_token": refresh, "expires_in": 3599,
            "token_type": "Bearer", "scope": grant.scope})  # fmt: skip

    def _token(self, body: bytes, auth: str = "") -> Reply:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") == "authorization_code":
            return self._exchange(form, auth)
        with self._lock:
            self.refreshes += 1
            if form.get("grant_type") != "refresh_token":
                return Reply(status=400, body={"error": "unsupported_grant_type"})
            if form.get("refresh_token") not in self.refresh_tokens:
                return Reply(status=400, body={
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked."})  # fmt: skip
            access = f"ya29.{uuid.uuid4().hex}"
            self.access_tokens.add(access)
            scope = self.scopes.get(form["refresh_token"], SCOPE)
            self.scopes[access] = scope
        return Reply(status=200, body={
            "access_token": access, "expires_in": 3599, "token_type": "Bearer",
            "scope": scope})  # fmt: skip

    def _batch(self, headers: dict[str, str], body: bytes) -> Reply:
        """Answer a multipart/mixed batch part by part (each part is charged on its own)."""
        boundary = re.search(r'boundary="?([^";]+)"?', headers.get("content-type", ""))
        if boundary is None:
            return _error(400, "Missing multipart boundary.", "badRequest")
        with self._lock:
            self.batches += 1
        outer_auth = headers.get("authorization", "")
        parts = []
        for part in _split_parts(body, boundary.group(1).encode()):
            content_id, inner = _part_request(part)
            method, target, inner_headers = inner
            reply = self.handle(method, target, {"authorization": outer_auth, **inner_headers}, b"")
            parts.append(_response_part(content_id, reply))
        out = f"batch_{uuid.uuid4().hex}"
        payload = "".join(f"--{out}\r\n{p}\r\n" for p in parts) + f"--{out}--\r\n"
        return Reply(status=200, body={"__raw__": payload},
                     headers={"Content-Type": f"multipart/mixed; boundary={out}"})  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    emulator: GmailEmulator
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.emulator.handle(self.command, self.path, headers, body)
        raw = reply.body.get("__raw__")
        data = raw.encode() if raw is not None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header(
            "Content-Type", reply.headers.get("Content-Type", "application/json; charset=UTF-8")
        )
        for name, value in reply.headers.items():
            if name != "Content-Type":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


def _route(method: str, path: str) -> tuple[str, tuple[str, ...]] | None:
    """The API method name and path arguments (after userId) for a GET, or None."""
    for pattern, name in _ROUTES:
        if (match := pattern.match(path)) and method == "GET":
            return name, match.groups()[1:]
    return None


def _client(form: dict[str, str], auth: str) -> tuple[str | None, str | None]:
    """The client's (id, secret): HTTP Basic (RFC 6749 §2.3.1) or in the form body."""
    if auth.lower().startswith("basic "):
        client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        return client_id, secret
    return form.get("client_id"), form.get("client_secret")


def _verifier_fits(grant: Grant, verifier: str | None) -> bool:
    """RFC 7636 §4.6: a code issued with a challenge needs the verifier that made it."""
    if grant.challenge is None:
        return verifier is None
    if verifier is None or not re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", verifier):
        return False
    return (_s256(verifier) if grant.method == "S256" else verifier) == grant.challenge


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _split(target: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(target)
    return parts.path, parse_qs(parts.query)


def _excluded_labels(q: str) -> set[str]:
    return {label for term, label in _QUERY_LABELS.items() if f"-{term}" in q.split()}


def _error(code: int, message: str, reason: str, *, status: str = "",
           headers: dict[str, str] | None = None) -> Reply:  # fmt: skip
    body = {"error": {"code": code, "message": message, "status": status or _STATUS.get(code, ""),
                      "errors": [{"domain": "global", "reason": reason, "message": message}]}}  # fmt: skip
    return Reply(status=code, body=body, headers=headers or {})


_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
           404: "NOT_FOUND", 410: "GONE", 429: "RESOURCE_EXHAUSTED"}  # fmt: skip
_REASON = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 410: "Gone", 429: "Too Many Requests"}  # fmt: skip


def _split_parts(body: bytes, boundary: bytes) -> list[bytes]:
    chunks = body.split(b"--" + boundary)
    return [c.strip(b"\r\n") for c in chunks[1:] if not c.startswith(b"--")]


def _part_request(part: bytes) -> tuple[str, tuple[str, str, dict[str, str]]]:
    """(Content-ID, (method, target, headers)) of one application/http part."""
    text = part.decode().replace("\r\n", "\n")
    outer, _, inner = text.partition("\n\n")
    outer = re.sub(r"\n[ \t]+", " ", outer)  # unfold folded header lines
    content_id = next(
        (line.split(":", 1)[1].strip() for line in outer.split("\n")
         if line.lower().startswith("content-id:")), "<none + 0>")  # fmt: skip
    lines = inner.split("\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if not line.strip():
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return content_id, (method, target, headers)


def _response_part(content_id: str, reply: Reply) -> str:
    body = json.dumps(reply.body)
    extra = "".join(f"{k}: {v}\r\n" for k, v in reply.headers.items())
    return (
        "Content-Type: application/http\r\n"
        f"Content-ID: <response-{content_id.strip('<>')}>\r\n\r\n"
        f"HTTP/1.1 {reply.status} {_REASON.get(reply.status, 'Error')}\r\n"
        f"Content-Type: application/json; charset=UTF-8\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    )


Factory = Callable[[], GmailEmulator]

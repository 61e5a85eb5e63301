"""What the connections page says on coming back from Google's sign-in: the account connected
or signed in again, those still waiting for a sign-in, or in words why nothing was connected.

The page is reached by a redirect whose query string anyone can write, so only fixed texts and
the user's own connections are shown from it.
"""

from __future__ import annotations

import contextlib

from fluffymail.web.api.schemas import BIGINT_MAX
from fluffymail.web.deps import State
from fluffymail.web.services import connections as service

NOTICES = {
    "connected": ("ok", "Gmail connected. The first sync has started; progress shows below."),
    "oauth_denied": ("error", "Google sign-in was cancelled, so nothing was connected."),
    "gmail_not_configured": (
        "error",
        "Gmail is not set up on this server yet: an operator must set "
        "FLUFFYMAIL_GMAIL_CLIENT_ID and FLUFFYMAIL_GMAIL_CLIENT_SECRET.",
    ),
    "oauth_state_expired": ("error", "The Google sign-in took too long. Please try again."),
    "oauth_other_session": (
        "error",
        "That Google sign-in was started in another browser or session, so nothing was "
        "connected. Use Connect Gmail here to start your own.",
    ),
    "oauth_state_used": ("error", "That Google sign-in was already used. Please try again."),
    "oauth_bad_state": (
        "error",
        "That Google sign-in was not started here, or it ended with your session, so nothing "
        "was connected. Use Connect Gmail to start again.",
    ),
    "oauth_no_code": (
        "error",
        "Google sent back no authorisation, so nothing was connected. Use Connect Gmail to "
        "try again.",
    ),
    "oauth_refused": (
        "error",
        "Google refused to complete the sign-in (it must be finished within a few minutes), "
        "so nothing was connected. Use Connect Gmail to try again.",
    ),
    "oauth_no_refresh_token": (
        "error",
        "Google did not give FluffyMail lasting access, so nothing was connected. Remove "
        "FluffyMail under “Third-party apps with account access” in your Google Account, "
        "then use Connect Gmail again.",
    ),
    "oauth_no_mail_access": (
        "error",
        "The permission to read your mail was unticked on Google's screen, so nothing was "
        "connected. Use Connect Gmail again and leave it ticked (the calendar is optional).",
    ),
    "gmail_refused": (
        "error",
        "Google signed you in, but Gmail refused access to that account (Gmail may be off "
        "for it, as in some Google Workspace accounts), so nothing was connected.",
    ),
    "google_unreachable": (
        "error",
        "FluffyMail could not reach Google just now, so nothing was connected. Try again in "
        "a minute.",
    ),
    "gmail_unreachable": (
        "error",
        "FluffyMail could not reach Gmail just now, so nothing was connected. Try again in "
        "a minute.",
    ),
    "gmail_error": (
        "error",
        "Gmail answered with an error, so nothing was connected. Try again in a minute.",
    ),
    "deleting": (
        "error",
        "That Gmail account is still being deleted here; connect it again once it has gone "
        "from the list.",
    ),
}


async def flash(state: State, user_id: int, code: str, connection: str) -> tuple[str, str]:
    """What the page says on coming back from Google: which account was connected or signed
    in again (from the user's own connection `connection`), and which still need a sign-in;
    else the notice for the failure `code` (fixed texts: the query string is anyone's)."""
    view = None
    if code in ("connected", "reconnected") and (connection_id := row_id(connection)):
        with contextlib.suppress(service.ConnectionNotFound):
            view = await service.get_connection(state.pool, user_id, connection_id)
    if view is None or view.kind != "gmail":
        default = ("error", f"Connecting Gmail failed ({code}). Please try again.")
        return NOTICES.get(code, default)
    if code == "connected":
        said = f"Gmail connected: {view.label}. The first sync has started; progress shows below."
    elif view.paused:
        said = f"{view.label} is signed in again. It is paused: resume it to sync."
    else:
        said = f"{view.label} is signed in again; it syncs now and every 15 minutes."
    waiting = [
        c.label
        for c in await service.list_connections(state.pool, user_id)
        if c.kind == "gmail" and c.status == "needs_reauth" and c.id != view.id
    ]
    if waiting:
        said += (
            f" Still waiting for a sign-in: {', '.join(waiting)}. Use its Connect again button"
            " and choose that account at Google."
        )
    return ("ok", said)


def row_id(text: str) -> int | None:
    """`text` as a row id when it is one (ASCII digits, 1 to the largest bigint), else None:
    query parameters that only name a connection never fail the page."""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 1 <= value <= BIGINT_MAX else None

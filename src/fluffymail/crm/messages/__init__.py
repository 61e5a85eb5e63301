"""Email messages: pure parsing of raw RFC 5322 bytes and thread keys; no database, no I/O."""

from __future__ import annotations

from fluffymail.crm.messages.models import Address, ParsedMessage, RawMail
from fluffymail.crm.messages.parse import parse_message
from fluffymail.crm.messages.threading import thread_key

__all__ = ["Address", "ParsedMessage", "RawMail", "parse_message", "thread_key"]

"""Byte and header decoding with graceful fallbacks: charsets, RFC 2047 words, transfer encodings.

Every function here records what went wrong in a `problems` list instead of raising.
"""

from __future__ import annotations

import binascii
import codecs
from email.header import decode_header
from functools import lru_cache

__all__ = [
    "decode_8bit_header",
    "decode_bytes",
    "decode_encoded_words",
    "decode_header_value",
    "decode_transfer",
    "normalize_charset",
]

_ASCII_ALIASES = frozenset({"ascii", "us-ascii", "ansi_x3.4-1968", "us", "iso646-us", "646"})
_FALLBACK = "cp1252"


@lru_cache(maxsize=256)
def normalize_charset(label: str) -> str | None:
    """Return a Python codec name for a MIME charset label, or None when unknown.

    Tolerates quoting and quoted-printable debris such as "3Dutf-8" (from "=3Dutf-8").
    """
    name = label.strip().strip("\"'").lower()
    if name.startswith("3d"):
        name = name[2:]
    if name in _ASCII_ALIASES or not name:
        return "ascii"
    if name in ("ks_c_5601-1987", "ks_c_5601"):
        return "cp949"
    if name == "gb2312":
        return "gb18030"  # a superset: real-world "gb2312" text often uses GBK characters
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None, problems: list[str], where: str) -> str:
    """Decode `data` declared as `charset`; fall back to utf-8, then cp1252 with replacement.

    Args:
        data: the bytes to decode.
        charset: the declared MIME charset label, or None.
        problems: receives "bad-charset:<label>" or "undecodable-<where>:<label>".
        where: "body" or "header:<name>", used in problem codes.
    """
    if data.isascii():
        return data.decode("ascii")
    codec = normalize_charset(charset) if charset else "ascii"
    if codec is None:
        problems.append(f"bad-charset:{charset.strip().lower()[:40]}")  # type: ignore[union-attr]
    elif codec != "ascii":
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            problems.append(f"undecodable-{where}:{codec}")
    return _decode_unlabelled(data, problems, where)


def _decode_unlabelled(data: bytes, problems: list[str], where: str) -> str:
    """Decode 8-bit bytes with no usable label: utf-8 if it fits, else cp1252 with replacement."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(f"undecodable-{where}")
        return data.decode(_FALLBACK, errors="replace")


def decode_header_value(value: bytes, name: str, problems: list[str]) -> str:
    """Decode one unfolded header value: raw 8-bit bytes and RFC 2047 encoded-words."""
    text = decode_8bit_header(value, name, problems)
    if "=?" in text:
        text = decode_encoded_words(text, name, problems)
    return text


def decode_8bit_header(value: bytes, name: str, problems: list[str]) -> str:
    """Header bytes -> str: ASCII, else UTF-8 (RFC 6532), else cp1252 plus a problem."""
    if value.isascii():
        return value.decode("ascii")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(f"undecodable-header:{name}")
        return value.decode(_FALLBACK, errors="replace")


def decode_encoded_words(text: str, name: str, problems: list[str]) -> str:
    """Decode RFC 2047 words in `text`; undecodable words are kept as written."""
    try:
        parts = decode_header(text)
    except Exception:  # binascii.Error, ValueError, ... on broken words
        problems.append(f"undecodable-header:{name}")
        return text
    out: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            out.append(chunk)
        elif charset is None:
            out.append(chunk.decode("raw-unicode-escape", errors="replace"))
        else:
            out.append(decode_bytes(chunk, charset, problems, f"header:{name}"))
    return "".join(out)


def decode_transfer(payload: bytes, encoding: str, problems: list[str]) -> bytes:
    """Undo a Content-Transfer-Encoding (base64, quoted-printable); others pass through."""
    if encoding == "quoted-printable":
        return binascii.a2b_qp(payload)
    if encoding == "base64":
        return _decode_base64(payload, problems)
    return payload


def _decode_base64(payload: bytes, problems: list[str]) -> bytes:
    try:
        return binascii.a2b_base64(payload)
    except binascii.Error:
        pass
    cleaned = b"".join(payload.split())
    cleaned = cleaned[: len(cleaned) - len(cleaned) % 4]
    try:
        problems.append("broken-mime:bad-base64")
        return binascii.a2b_base64(cleaned)
    except binascii.Error:
        return payload

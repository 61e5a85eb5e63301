"""The workflow bench's counting proxy reads the frontend protocol however the bytes are split."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from wfpeers.proxy import SSL_REQUEST, STATEMENTS, ClientStream


def message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def untyped(code: int, body: bytes = b"") -> bytes:
    return struct.pack("!ii", len(body) + 8, code) + body


def test_counts_queries_and_executes_across_any_split() -> None:
    stream = (
        untyped(SSL_REQUEST)
        + untyped(196608, b"user\0postgres\0\0")  # protocol 3.0 startup
        + message(b"Q", b"BEGIN\0")
        + message(b"P", b"\0SELECT 1\0\0\0")
        + message(b"B", b"\0\0\0\0\0\0\0\0")
        + message(b"E", b"\0\0\0\0\0")
        + message(b"S", b"")
        + message(b"Q", b"COMMIT\0")
    )
    for size in (1, 3, 7, len(stream)):
        counters = [0, 0, 0]
        parser = ClientStream(counters)
        for start in range(0, len(stream), size):
            parser.feed(stream[start : start + size])
        assert counters[STATEMENTS] == 3
        assert parser.buf == bytearray()

"""iter_mbox_from: the import's chunked mbox reader frames mail exactly as the line reader does."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from fluffymail.integrations.mail import file_source
from fluffymail.integrations.mail.file_source import iter_mbox_from
from fluffymail.integrations.mail.files import iter_mbox

PIECES = (
    b"From a@b Mon Jan  1 00:00:00 2001\n",
    b"From x\r\n",
    b"Subject: s\n",
    b"\n",
    b"\r\n",
    b">From escaped\n",
    b"From",
    b" ",
    b"body From inside\n",
    b"\n\n",
    b"no newline at the end",
)


@pytest.mark.parametrize("chunk", [1, 2, 5, 7, 64, 1 << 20])
def test_iter_mbox_from__same_messages_as_the_line_reader_at_any_chunk_size(
    chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_source, "_CHUNK", chunk)
    rnd = random.Random(chunk)
    mbox = tmp_path / "t.mbox"
    for _ in range(400):
        mbox.write_bytes(b"".join(rnd.choice(PIECES) for _ in range(rnd.randint(0, 14))))
        expected = [(int(m.source_id.rsplit(":", 1)[1]), m.raw) for m in iter_mbox(mbox)]

        found = list(iter_mbox_from(mbox))

        assert [(start, raw) for start, raw, _ in found] == expected
        for index, (_, _, end) in enumerate(found):  # resuming after any message reads the rest
            assert list(iter_mbox_from(mbox, end)) == found[index + 1 :]

"""The demo's sample mailbox: deterministic, parseable, and shaped to show every feature."""

from __future__ import annotations

import mailbox
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from fluffymail.demo.mailbox import OWNER, messages, write_mbox

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
README = Path(__file__).resolve().parents[3] / "README.md"


def test_same_now_and_seed_give_the_same_mail() -> None:
    first = [m.as_bytes() for m in messages(NOW)]
    assert first == [m.as_bytes() for m in messages(NOW)]
    assert first != [m.as_bytes() for m in messages(NOW, seed=8)]


def test_a_few_hundred_messages_all_in_the_past_oldest_first() -> None:
    mail = list(messages(NOW))
    dates = [m["Date"].datetime for m in mail]
    assert 300 <= len(mail) <= 600
    assert dates == sorted(dates) and dates[-1] <= NOW
    assert len({m["Message-ID"] for m in mail}) == len(mail)


def test_the_mail_has_two_way_threads_bulk_mail_and_an_introduction() -> None:
    mail = list(messages(NOW))
    senders = Counter(m["From"].addresses[0].addr_spec for m in mail)
    assert senders[OWNER.email] > 100  # Dana writes: contacts are created under the default policy
    assert sum(1 for m in mail if m["In-Reply-To"]) > 100
    assert sum(1 for m in mail if m["List-Id"]) >= 30
    assert any(m["Subject"].startswith("Intro:") for m in mail)
    cold = [m for m in mail if m["From"].addresses[0].addr_spec == "kyle.vance@leadgenpros.biz"]
    assert cold and not any(OWNER.email in str(m["From"]) and "kyle" in str(m["To"]) for m in mail)


def test_write_mbox_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "sample.mbox"
    count = write_mbox(path, NOW)
    box = mailbox.mbox(path)
    try:
        assert len(box) == count
    finally:
        box.close()
    assert not path.with_suffix(".partial").exists()


def test_the_readme_gives_the_demo_mailbox_its_true_size() -> None:
    stated = re.search(r"sample mailbox of (\d+)\s+invented messages", README.read_text())
    assert stated is not None, "README.md no longer says how many messages the demo writes"
    assert int(stated.group(1)) == sum(1 for _ in messages(NOW))

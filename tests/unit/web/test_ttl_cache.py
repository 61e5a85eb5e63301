"""The web app's small expiring cache (the connections list's explanations)."""

from __future__ import annotations

from fluffymail.web.services.ttl_cache import TtlCache


def test_ttl_cache__expires_and_stays_bounded() -> None:
    now = [100.0]
    cache = TtlCache(30.0, size=2, clock=lambda: now[0])
    cache.put("a", 1)
    now[0] += 29.9
    assert cache.get("a") == 1
    now[0] += 0.1
    assert cache.get("a") is None  # expired after exactly `ttl`
    cache.put("a", 2)
    cache.put("b", 3)
    cache.put("c", 4)  # over `size`: the oldest goes
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, 3, 4)
    assert cache.get("missing") is None

"""The per-request state cache: repeated reads are free, takes always reach the store."""

from __future__ import annotations

from lti_tool.lti.state import RequestStateCache


class _DictStore:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.gets = 0

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        self.values[key] = value

    def get(self, key: str) -> str | None:
        self.gets += 1
        return self.values.get(key)

    def take(self, key: str) -> str | None:
        return self.values.pop(key, None)


def test_a_key_read_twice_costs_one_read() -> None:
    store = _DictStore()
    store.put("k", "v", 60)
    cache = RequestStateCache(store)
    assert cache.get("k") == "v"
    assert cache.get("k") == "v"
    assert store.gets == 1


def test_take_goes_to_the_store_and_later_reads_see_it_gone() -> None:
    store = _DictStore()
    store.put("k", "v", 60)
    cache = RequestStateCache(store)
    assert cache.get("k") == "v"
    store.take("k")  # another request spent it meanwhile
    assert cache.take("k") is None  # single use is decided by the store, never the cache
    assert cache.get("k") is None


def test_a_put_replaces_what_was_read() -> None:
    store = _DictStore()
    cache = RequestStateCache(store)
    assert cache.get("k") is None
    cache.put("k", "new", 60)
    assert cache.get("k") == "new"

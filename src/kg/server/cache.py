"""The server's one cache: recent answers and pictures, least recently used first out, within a byte budget.

The store behind a server is read-only, so an entry stays right for the
server's life. Keys are canonical values (a frozen query message, a picture
named by the IRIs it shows), so two spellings of one question share an entry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

# A value over this share of the budget is large; large values together take at most half of it.
LARGE_SHARE = 64


class BudgetCache:
    """Values with their sizes in bytes; the total never exceeds `budget`, no value may take over a
    quarter of it, and large values (over a LARGE_SHARE-th each) at most half of it together: four
    answers of 16 MB in a cache of 64 MB had pushed out every small page the home page and the
    resource pages need, which then needed costly work again while those who asked for the large
    ones held the threads for it."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self.large_used = 0
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._large: OrderedDict[Hashable, None] = OrderedDict()  # the large ones' keys, in the same order
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._entries)

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            if key in self._large:
                self._large.move_to_end(key)
            return entry[0]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        """Keep `value`, of `size` bytes, under `key`, whose own text is counted too: a picture of a
        client's answer is kept under its query's text, up to 100,000 characters, and four pictures of
        one text held 2.7 times the bytes counted for them."""
        size += key_size(key)
        if size > self.budget // 4:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (value, size)
            self.used += size
            if size > self.budget // LARGE_SHARE:
                self._large[key] = None
                self.large_used += size
                while self.large_used > self.budget // 2:  # the least recently used large ones out
                    self._drop(next(iter(self._large)))
            while self.used > self.budget:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: Hashable) -> None:
        """Take `key`'s entry out (call with the lock held)."""
        _, size = self._entries.pop(key)
        self.used -= size
        if key in self._large:
            del self._large[key]
            self.large_used -= size

    def get_or_make(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """The bytes under `key`, made (outside the lock) and kept if they fit."""
        found = self.get(key)
        if found is None:
            found = make()
            self.put(key, found, len(found) + 64)
        return found


def key_size(key: object) -> int:
    """What a key holds, in bytes: its texts, through the tuples it is made of; anything else (a
    query message, whose text its caller counts) as a few dozen bytes."""
    if isinstance(key, str | bytes):
        return len(key)
    if isinstance(key, tuple):
        return 64 + sum(key_size(part) for part in key)
    return 64

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


class BudgetCache:
    """Values with their sizes in bytes; the total never exceeds `budget`, and no value may take over
    a quarter of it."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
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
            return entry[0]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        if size > self.budget // 4:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (value, size)
            self.used += size
            while self.used > self.budget:
                _, (_, old_size) = self._entries.popitem(last=False)
                self.used -= old_size

    def get_or_make(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """The bytes under `key`, made (outside the lock) and kept if they fit."""
        found = self.get(key)
        if found is None:
            found = make()
            self.put(key, found, len(found) + 64)
        return found

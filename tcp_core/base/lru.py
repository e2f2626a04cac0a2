"""The one least-recently-used cache of the project (model encodings, swaps, interpolation frames)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class LRU(OrderedDict):
    """A dict that keeps at most `size` entries, dropping the least recently used."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_or(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The cached value for `key`, or `make()` (stored, evicting the oldest beyond `size`)."""
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = make()
        self[key] = value
        while len(self) > self.size:
            self.popitem(last=False)
        return value

"""Caches of the explorers: least-recently-used values, bounded in bytes.

Every cache an explorer keeps is a :class:`Cache` made where the explorer is
made, with a comment there giving its key, why each field of the key is
needed, and its bound in bytes. Values are shared between pictures, so they
are made read-only (:func:`frozen`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Hashable, Tuple, TypeVar

import numpy as np

__all__ = ["Cache", "frozen"]

T = TypeVar("T")


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    return 64  # small Python values: a nominal size, so a bound in bytes also bounds their number


class Cache:
    """Least-recently-used values, bounded by the bytes of the arrays they hold.

    A value larger than the whole bound is computed and returned but not kept.

    Examples
    --------
    >>> cache = Cache(max_bytes=100)
    >>> cache.get("a", lambda: np.zeros(10)).nbytes, len(cache)   # 80 bytes: kept
    (80, 1)
    >>> _ = cache.get("b", lambda: np.zeros(10)); len(cache), cache.nbytes   # 160 > 100: "a" goes
    (1, 80)
    """

    def __init__(self, max_bytes: int):
        self.max_bytes, self.nbytes = max_bytes, 0
        self._items: "OrderedDict[Hashable, Tuple[Any, int]]" = OrderedDict()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value kept for ``key``, else ``compute()`` (kept when it fits the bound)."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key][0]
        value = compute()
        size = _nbytes(value)
        if size <= self.max_bytes:
            self._items[key] = (value, size)
            self.nbytes += size
            while self.nbytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self.nbytes -= dropped
        return value

    def __len__(self) -> int:
        return len(self._items)


def frozen(array: np.ndarray) -> np.ndarray:
    """``array`` made read-only: cached values are shared, nobody may change them."""
    array.setflags(write=False)
    return array

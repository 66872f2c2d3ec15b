"""Memo tables of immutable values that the garbage collector does not walk.

The parser remembers what it worked out for each distinct line, token and label
(the same ones recur in every report).  Such tables grow to tens of thousands
of entries, and a dict holding them is walked, entry by entry, by every full
garbage collection: with ``functools.lru_cache`` or a plain dict that walk cost
more than a tenth of the parse time.

CPython stops tracking a tuple of strings and numbers at the first collection
that sees it, and a dict whose keys and values are all untracked at a full
collection.  A dict stays untracked as long as only untracked objects are put
into it.  So a :class:`Memo` keeps new entries in a small dict first and moves
them to its main dict only once the collector has untracked them: the main dict
is then never walked.  Values must be immutable atoms: str, numbers, None,
Decimal, plain objects without references, and tuples of those.

Most distinct lines of a corpus occur once (a row of numbers, a sentence with a
date), and a table that keeps them fills up and is cleared long before the lines
that do recur pay off.  So a key is remembered only when it is seen a second
time; the first sighting leaves just its hash behind.
"""
from __future__ import annotations

import functools
from gc import is_tracked
from typing import Any, Callable, Hashable, TypeVar

__all__ = ["Memo", "memoize"]

_MISSING = object()
_YOUNG = 512  # new entries held back before they are moved to the main dict
T = TypeVar("T")


class Memo:
    """A bounded key -> value table (cleared when full) that full collections do not walk."""

    __slots__ = ("_old", "_young", "_once", "_size", "_settle_at", "_young_hits", "get")

    def __init__(self, size: int) -> None:
        self._old: dict[Hashable, Any] = {}  # untracked keys and values only: stays untracked
        self._young: dict[Hashable, Any] = {}
        self._once: dict[int, None] = {}  # hashes of keys seen once (ints: a dict the collector never walks)
        self._size = size
        self._settle_at = _YOUNG
        self._young_hits = 0
        #: the main table's lookup; fall back to :meth:`lookup` for entries it does not hold yet
        self.get = self._old.get

    def lookup(self, key: Hashable, default: Any = None) -> Any:
        """The value remembered for ``key``, or ``default``."""
        value = self._old.get(key, _MISSING)
        if value is not _MISSING:
            return value
        value = self._young.get(key, _MISSING)
        if value is _MISSING:
            return default
        self._young_hits += 1
        if self._young_hits >= _YOUNG:  # entries in use wait in the young table: move them on
            self._settle()
        return value

    def put(self, key: Hashable, value: T) -> T:
        """Remember ``value`` for ``key`` (from its second sighting on); returns ``value``."""
        once, h = self._once, hash(key)
        if once.pop(h, _MISSING) is _MISSING:  # (pop: one step, safe between threads)
            if len(once) >= self._size:
                once.clear()
            once[h] = None
            return value
        young = self._young
        young[key] = value
        if len(young) >= self._settle_at:
            self._settle()
        return value

    def _settle(self) -> None:
        self._young_hits = 0
        old, waiting = self._old, {}
        if len(old) + len(self._young) > self._size:
            old.clear()  # bounded: what recurs comes back at once
        for key, value in list(self._young.items()):  # a snapshot: another thread may add meanwhile
            if is_tracked(key) or is_tracked(value):
                waiting[key] = value  # not seen by a collection yet (or never untracked: kept aside)
            else:
                old[key] = value
        if len(waiting) >= self._size:
            waiting = {}  # the collector is off: forget rather than grow
        self._young = waiting
        self._settle_at = len(waiting) + _YOUNG  # what waits is looked at again only after as many new entries

    def __len__(self) -> int:
        return len(self._old) + len(self._young)


def memoize(size: int) -> Callable[[Callable[[Any], T]], Callable[[Any], T]]:
    """Decorate a one-argument function of a hashable argument whose results are immutable atoms."""

    def decorate(fn: Callable[[Any], T]) -> Callable[[Any], T]:
        memo = Memo(size)
        get, lookup, put = memo.get, memo.lookup, memo.put

        @functools.wraps(fn)
        def memoized(arg: Any) -> T:
            value = get(arg, _MISSING)
            if value is _MISSING:
                value = lookup(arg, _MISSING)
                if value is _MISSING:
                    value = put(arg, fn(arg))
            return value

        memoized.memo = memo  # type: ignore[attr-defined]
        return memoized

    return decorate

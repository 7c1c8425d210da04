# ---- RunSurge automatic mode: partial results (generated code; every name starts with _runsurge_) ----
import base64 as _runsurge_base64
import collections as _runsurge_collections
import copy as _runsurge_copy
import datetime as _runsurge_datetime
import decimal as _runsurge_decimal
import enum as _runsurge_enum
import fractions as _runsurge_fractions
from functools import reduce as _runsurge_functools_reduce
import heapq as _runsurge_heapq
import itertools as _runsurge_itertools
import math as _runsurge_math
import operator as _runsurge_operator
import re as _runsurge_re
import statistics as _runsurge_statistics

_RUNSURGE_FORMAT = 'runsurge-partials/1'
_RUNSURGE_SAFE_INT = 2 ** 53
_RUNSURGE_SURROGATE = _runsurge_re.compile(r'[\ud800-\udfff]')
_RUNSURGE_BUILTIN_CALLABLES = {f.__name__: f for f in (
    int, float, complex, str, bytes, bytearray, bool, list, tuple, dict, set, frozenset, len, abs, sum, min, max,
    sorted, repr, ord, chr, round, object)}
_RUNSURGE_EXCEPTIONS = {e.__name__: e for e in (
    Exception, ArithmeticError, AssertionError, AttributeError, IndexError, KeyError, LookupError, NameError,
    NotImplementedError, OverflowError, RecursionError, RuntimeError, StopIteration, TypeError, UnicodeError,
    UnicodeDecodeError, UnicodeEncodeError, ValueError, ZeroDivisionError)}
# Immutable leaves the encoder writes as themselves or with a tag, never by reference.
_RUNSURGE_SCALARS = (type(None), bool, int, float, str)


class _RunsurgeNoValue:
    """An accumulator of a chunk that has combined nothing yet: `acc OP v` is v (a copy if v is mutable)."""
    __slots__ = ()

    def _first(self, other):
        if isinstance(other, (list, dict, set, bytearray)):
            # acc = [] ; acc += x never aliases x: neither may the partial.
            return _runsurge_copy.copy(other)
        return other

    __add__ = __mul__ = __or__ = __and__ = __xor__ = _first

    def __repr__(self):
        return '<no value>'


_runsurge_NOVALUE = _RunsurgeNoValue()


class _RunsurgeOrderedSet:
    """
    A chunk's `set()` accumulator: `add`/`update` as a set, remembering the order elements first arrived in. The
    partial is that order; adding every chunk's elements in chunk order builds the same set one run builds (same
    elements kept among equal ones, same hash-table layout, same iteration order).
    """
    __slots__ = ('_seen',)

    def __init__(self, iterable=()):
        self._seen = {}
        self.update(iterable)

    def add(self, x):
        self._seen.setdefault(x, None)

    def update(self, *iterables):
        for iterable in iterables:
            for x in iterable:
                self._seen.setdefault(x, None)

    def partial(self):
        return list(self._seen)


def _runsurge_orderable(v):
    """Whether `v` compares in a total order with values like it (no NaN inside), so a chunk may keep only its best."""
    t = type(v)
    if t is int or t is str or t is bool or t is bytes:
        return True
    if t is float:
        return v == v
    if t is tuple or t is list:
        return all(_runsurge_orderable(x) for x in v)
    if t is _runsurge_decimal.Decimal:
        return not v.is_nan()
    return t in (_runsurge_fractions.Fraction, _runsurge_datetime.date, _runsurge_datetime.datetime,
                 _runsurge_datetime.time, _runsurge_datetime.timedelta)


class _RunsurgeRecorder:
    """
    The start value of a `acc = min(acc, g(x))` / `max(...)` accumulator in a chunk. Every comparison min or max
    makes with it records the other operand, and which way round the user's call was written (which decides
    the winner among equal values), and answers "keep the recorder". At the end, `partial()` keeps only the
    best value per orientation when all values are totally ordered, else the whole sequence: replaying it in
    the aggregator gives exactly the sequential fold, NaN and all.
    """
    __slots__ = ('op', 'from_none', 'seen')

    def __init__(self, op, from_none=False):
        self.op = op
        # `if best is None or x > best: best = x`: the first value is taken, whatever it is.
        self.from_none = from_none
        self.seen = []

    # min(acc, v) asks v < acc -> acc.__gt__(v); min(v, acc) asks acc < v -> acc.__lt__(v).
    # max(acc, v) asks v > acc -> acc.__lt__(v); max(v, acc) asks acc > v -> acc.__gt__(v).
    def __gt__(self, other):
        self.seen.append((self.op == 'min', other))
        return self.op == 'max'

    def __lt__(self, other):
        self.seen.append((self.op == 'max', other))
        return self.op == 'min'

    def partial(self):
        if not self.seen:
            return _runsurge_NOVALUE
        if self.from_none:
            # The first value starts the best from no value, whatever it is; None makes the next one start it again.
            if any(v is None for _, v in self.seen):
                return ['replay', [[first, v] for first, v in self.seen]]
            return ['replay', [list(self.seen[0])] + self._compressed(self.seen[1:])]
        return ['replay', self._compressed(self.seen)]

    def _compressed(self, seen):
        if not seen:
            return []
        orientations = {first for first, _ in seen}
        if len(orientations) == 1 and all(_runsurge_orderable(v) for _, v in seen):
            first = seen[0][0]
            values = [v for _, v in seen]
            pick = min if self.op == 'min' else max
            # acc first keeps the earliest best value, acc second the latest one.
            best = pick(values) if first else pick(reversed(values))
            return [[first, best]]
        if all(type(v) in (int, float, bool) for _, v in seen):
            return self._numbers(seen)
        return [[first, v] for first, v in seen]

    def _numbers(self, seen):
        """
        The comparisons with numbers, nan among them, cut to as few as replay to the same value from any number:
        `min(nan, acc)` (acc second) makes acc nan whatever it was, so only what follows the last one counts;
        `min(acc, nan)` (acc first) leaves acc as it is; a run of one orientation acts as its best value (the
        earliest for acc first, the latest for acc second).
        """
        start = 0
        for i, (first, v) in enumerate(seen):
            if not first and v != v:
                start = i
        pick = min if self.op == 'min' else max
        out = []
        i = start
        if not seen[start][0] and seen[start][1] != seen[start][1]:
            out.append([False, seen[start][1]])
            i = start + 1
        while i < len(seen):
            first = seen[i][0]
            j = i
            while j < len(seen) and seen[j][0] == first:
                j += 1
            run = [v for _, v in seen[i:j] if v == v]
            if run:
                out.append([first, pick(run) if first else pick(reversed(run))])
            elif not out or out[-1][0] != first:
                # Only nan, acc first: no effect on a number; one is kept for what it does to anything else.
                out.append([first, seen[i][1]])
            i = j
        return out


def _runsurge_order_kind(v):
    """
    The kind of a key that compares in a total order with every key of the same kind and never raises: its type, with
    the kinds of a tuple's or list's items; None for anything else (NaN, sets, aware datetimes, objects of the job).
    """
    t = type(v)
    if t is tuple or t is list:
        kinds = tuple(_runsurge_order_kind(x) for x in v)
        return None if None in kinds else (t, kinds)
    if t in (_runsurge_datetime.datetime, _runsurge_datetime.time):
        return t if v.tzinfo is None else None
    return t if _runsurge_orderable(v) else None


def _runsurge_compare(operator, a, b):
    if operator == '>':
        return a > b
    if operator == '<':
        return a < b
    if operator == '>=':
        return a >= b
    return a <= b

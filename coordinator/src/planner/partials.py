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


class _RunsurgeBest:
    """
    A running best by key on a chunk (`if len(w) > len(longest): longest = w`): `offer(key, values)` for every element,
    both as functions. While the keys are of one totally ordered kind, it keeps the chunk's best candidate (as the
    user's comparison picks it: the first of ties for > and <, the last for >= and <=) and, before it, any earlier
    candidate whose values raised (one run raises there if it takes it). Otherwise it keeps every element from there
    on, its key or the exception computing it raised. Replaying the candidates from any state (`_runsurge_best`) gives
    what replaying all the chunk's elements would.

    With `V is None or …` (`none` is V's position), an element is taken without its key while V is None: a chunk's
    first element may be, so its key is computed under a guard; after a candidate whose V is not None, the state is
    not None in one run either, and a key that raises raises there. A candidate whose V is None keeps every element
    from there on.
    """
    __slots__ = ('element_first', 'operator', 'none', 'kind', 'chain', 'raw', 'nan', 'done')

    def __init__(self, element_first, operator, none=None):
        self.element_first = element_first
        self.operator = operator
        self.none = none
        self.kind = None
        self.chain = []
        self.raw = False
        self.nan = False
        self.done = False

    def offer(self, key, values):
        if self.operator == 'first':
            self._first(key, values)
            return
        if self.raw or (self.none is not None and not self.chain):
            got = _runsurge_guarded(lambda: ['value', key()])
            if got[0] != 'value':
                self.raw = True
                self._append(got, values, 1)
                return
            key = got[1]
        else:
            key = key()
        if not self.raw:
            kind = _runsurge_order_kind(key)
            if kind is None and type(key) is float and self.kind in (None, int, float):
                # NaN compares false with every number: after a number it is never taken; before any, the first one
                # is kept for what comparing it does to a state that is not a number.
                if self.kind is not None or self.nan:
                    return
                self.nan = True
            elif kind is None or (self.kind is not None and kind != self.kind):
                self.raw = True
            elif self.kind is not None:
                best = self.chain[-1][0]
                if not (_runsurge_compare(self.operator, key, best) if self.element_first else _runsurge_compare(self.operator, best, key)):
                    return
                if self.chain[-1][2] == 0:
                    self.chain.pop()
            else:
                self.kind = kind
        self._append(key, values, 0)

    def _first(self, condition, values):
        # `if V is None and C: V = E`: until the chunk's first element for which C holds (with a V that is not None),
        # or C or E raises, each such event is kept; one run meets them only while V is None.
        if self.done:
            return
        got = _runsurge_guarded(lambda: ['value', bool(condition())])
        if got[0] != 'value':
            self.chain.append([got, None, 1])
            self.done = True
            return
        if not got[1]:
            return
        self._append(True, values, 0)
        last = self.chain[-1]
        self.done = bool(last[2] & 2) or last[1][self.none] is not None

    def _append(self, key, values, flags):
        # [key, values, flags]: flags 1 when key is the exception computing it raised, 2 when values is.
        got = _runsurge_guarded(lambda: ['value', list(values())])
        if got[0] != 'value':
            self.chain.append([key, got, flags | 2])
            return
        self.chain.append([key, got[1], flags])
        if self.none is not None and self.none >= 0 and got[1][self.none] is None:
            self.raw = True

    def partial(self):
        return ['best', self.chain] if self.chain else _runsurge_NOVALUE


class _RunsurgeKeyedBest:
    """
    A running best per key on a chunk (`if k not in d or v > d[k]: d[k] = v`, `d[k] = max(d.get(k, v), v)`):
    `offer(key, element, values)` for every element. Each key keeps a `_RunsurgeBest` from "missing": its first
    element in the chunk may be taken in one run without comparing (the key may be new there too), so its key is
    computed under a guard. The partial lists the keys in the order they first came, each with its candidates.
    """
    __slots__ = ('element_first', 'operator', 'keys')

    def __init__(self, element_first, operator):
        self.element_first = element_first
        self.operator = operator
        self.keys = {}

    def offer(self, key, element, values):
        k = key()
        best = self.keys.get(k)
        if best is None:
            best = self.keys[k] = _RunsurgeBest(self.element_first, self.operator, -1)
        best.offer(element, values)

    def partial(self):
        return ['kbest', [[k, b.chain] for k, b in self.keys.items()]]


def _runsurge_keyed_best(parts, i, start, element_first, operator, key):
    """
    A running best per key (a dict) from every chunk's candidates per key, in chunk order, onto `start`: a key not
    there yet takes its first candidate at once (it is inserted where one run inserts it: keys in first-occurrence
    order); otherwise each candidate is replayed as `_runsurge_best` replays one.
    """
    result = dict(start)
    states = {}
    for p in parts:
        if p[i] is _runsurge_NOVALUE:
            continue
        for k, chain in p[i][1]:
            if k in result:
                known, current = states.get(k, (False, None))
                state = result[k]
            else:
                known, current, state = False, None, None
            cache = [known, current]
            for candidate, got, flags in chain:
                if k not in result or _runsurge_candidate_wins(candidate, flags, element_first, operator, cache, lambda: key(state)):
                    state = result[k] = _runsurge_candidate_taken(candidate, got, flags, cache)[0]
            states[k] = tuple(cache)
    return result


def _runsurge_best(parts, i, start, element_first, operator, key, none=None):
    """
    A running best's variables (a tuple) from every chunk's candidates, in chunk order, from their values before the
    loop. Each candidate is taken at once while the variable at `none` is None (`V is None or …`), else its key is
    compared with the state's (`key(*state)`, evaluated when first needed, in the operands' order, as one run does)
    as the user's condition compares them; a key that raised raises there; a candidate taken replaces the state, or
    raises what its values raised.
    """
    state = tuple(start)
    if operator == 'first':
        # The first event of the first chunk with one, while V is None: a condition or values that raised, or values.
        for p in parts:
            if p[i] is _runsurge_NOVALUE:
                continue
            for candidate, got, flags in p[i][1]:
                if state[none] is not None:
                    return state
                if flags & 1:
                    _runsurge_raise_partial(candidate)
                if flags & 2:
                    _runsurge_raise_partial(got)
                state = tuple(got)
        return state
    cache = [False, None]
    for p in parts:
        if p[i] is _runsurge_NOVALUE:
            continue
        for candidate, got, flags in p[i][1]:
            if (none is not None and state[none] is None) or _runsurge_candidate_wins(candidate, flags, element_first, operator, cache, lambda: key(*state)):
                state = tuple(_runsurge_candidate_taken(candidate, got, flags, cache))
    return state


def _runsurge_candidate_wins(candidate, flags, element_first, operator, cache, state_key):
    """
    Whether a candidate replaces the state, compared as the user's condition compares: the state's key (`cache`, [known,
    key]) computed when first needed, and a candidate's key that raised raised in the operands' order.
    """
    if element_first and flags & 1:
        _runsurge_raise_partial(candidate)
    if not cache[0]:
        cache[1] = state_key()
        cache[0] = True
    if flags & 1:
        _runsurge_raise_partial(candidate)
    current = cache[1]
    return _runsurge_compare(operator, candidate, current) if element_first else _runsurge_compare(operator, current, candidate)


def _runsurge_candidate_taken(candidate, got, flags, cache):
    """A candidate taken: its values, or what they raised; the state's key is then its key (computed later if it raised)."""
    if flags & 2:
        _runsurge_raise_partial(got)
    cache[0] = not flags & 1
    cache[1] = candidate if cache[0] else None
    return got


def _runsurge_positions(lengths, chunk):
    """Where chunk `chunk`'s elements start in the whole input: the lengths of the chunks before it, added."""
    if type(chunk) is not int or not 0 <= chunk < len(lengths):
        raise RuntimeError('RunSurge: this task was not told which of the %d chunks it runs on' % len(lengths))
    return sum(lengths[:chunk])


def _runsurge_sum(iterable, start=0):
    """sum() over one chunk: the start value is added once, by the aggregator."""
    return sum(iterable)


# math.fsum and statistics.fmean over one chunk: its exact sum as floats that add up to it exactly (fsum of them and
# of the other chunks' is the sequential fsum), or the special values it holds, with the sum of its finite values'
# magnitudes: while all chunks' together stay below 2**1022, no partial sum fsum keeps can overflow, so its
# order-dependent "intermediate overflow" cannot happen in the sequential run either.
_RUNSURGE_FSUM_LIMIT = 2.0 ** 1022


def _runsurge_fsum_partial(data):
    values = list(data)
    nan = pinf = ninf = False
    finite = []
    for x in values:
        # Converts as fsum does, in order: the first value it cannot take raises the same error.
        if _runsurge_math.isfinite(x):
            finite.append(x)
            continue
        f = _runsurge_math.fsum((x,))
        if f != f:
            nan = True
        elif f > 0:
            pinf = True
        else:
            ninf = True
    try:
        magnitude = _runsurge_math.fsum(abs(x) for x in finite)
    except OverflowError:
        magnitude = float('inf')
    if magnitude >= _RUNSURGE_FSUM_LIMIT:
        return ['unsupported', len(values), magnitude]
    if nan or pinf or ninf:
        return ['special', len(values), magnitude, [nan, pinf, ninf]]
    pieces = []
    rest = _runsurge_math.fsum(values)
    while rest != 0.0:
        pieces.append(rest)
        rest = _runsurge_math.fsum(_runsurge_itertools.chain(values, [-p for p in pieces]))
    return ['pieces', len(values), magnitude, pieces]


def _runsurge_fsum_combine(got):
    """The sequential fsum from the chunks' partials (in chunk order), and how many values there were."""
    count = sum(x[1] for x in got)
    if any(x[0] == 'unsupported' for x in got) or sum(x[2] for x in got) >= _RUNSURGE_FSUM_LIMIT:
        raise RuntimeError('RunSurge cannot add values whose magnitudes sum to 2**1022 or more exactly across chunks (fsum could overflow where one run would not)')
    special = [x[3] for x in got if x[0] == 'special']
    if special:
        nan, pinf, ninf = (any(flags[i] for flags in special) for i in range(3))
        if pinf and ninf:
            raise ValueError('-inf + inf in fsum')
        return (float('nan') if nan else float('inf') if pinf else float('-inf')), count
    return _runsurge_math.fsum(p for x in got for p in x[3]), count


def _runsurge_exact_ratio(x):
    """statistics' own conversion of a value to (numerator, denominator); (x, None) for nan and infinities."""
    try:
        return x.as_integer_ratio()
    except AttributeError:
        pass
    except (OverflowError, ValueError):
        return (x, None)
    try:
        return (x.numerator, x.denominator)
    except AttributeError:
        raise TypeError(f"can't convert type '{type(x).__name__}' to numerator/denominator")


def _runsurge_moments_partial(data, squares=True):
    """statistics.mean/variance/stdev over one chunk: its count, a value of each type, and exact sums (x and x*x)."""
    count = 0
    samples = []
    seen = set()
    sx = {}
    sxx = {}
    for typ, values in _runsurge_itertools.groupby(data, type):
        for x in values:
            if typ not in seen:
                seen.add(typ)
                samples.append(x)
            n, d = _runsurge_exact_ratio(x)
            count += 1
            sx[d] = sx.get(d, 0) + n
            if squares:
                sxx[d] = sxx.get(d, 0) + n * n
    # Exact: the sequential run adds the same fractions in another order.
    finite = [sum(_runsurge_fractions.Fraction(n, d ** power) for d, n in parts.items() if d is not None) for parts, power in ((sx, 1), (sxx, 2))]
    return ['moments', count, samples, [[f.numerator, f.denominator] for f in finite], [sx.get(None), sxx.get(None)], None in sx]


def _runsurge_moments_combine(got, op):
    """statistics.<op>(data) from the chunks' moments: what its own _sum/_ss would have returned, then its own code."""
    count = 0
    types = set()
    sums = [_runsurge_fractions.Fraction(0), _runsurge_fractions.Fraction(0)]
    special = [0, 0]
    has_special = False
    for _, n, samples, finite, specials, any_special in got:
        count += n
        types.update(type(x) for x in samples)
        for i in range(2):
            sums[i] += _runsurge_fractions.Fraction(finite[i][0], finite[i][1])
            if specials[i] is not None:
                special[i] = special[i] + specials[i]
        has_special = has_special or any_special
    coerce = _runsurge_statistics._coerce
    if op == 'mean':
        total = special[0] if has_special else sums[0]
        result = (_runsurge_functools_reduce(coerce, types, int), total, count)
        name = '_sum'
    else:
        if not count:
            ssd = c = _runsurge_fractions.Fraction(0)
        elif has_special:
            ssd = c = special[0]
        else:
            sx, sxx = sums
            ssd = (count * sxx - sx * sx) / count
            c = sx / count
        result = (_runsurge_functools_reduce(coerce, types, int), ssd, c, count)
        name = '_ss'
    # The statistics module's own function finishes (its checks, messages, conversion and square root), fed what its
    # helper would have computed over all the data.
    own = getattr(_runsurge_statistics, name)
    setattr(_runsurge_statistics, name, lambda *args: result)
    try:
        return getattr(_runsurge_statistics, op)([])
    finally:
        setattr(_runsurge_statistics, name, own)


def _runsurge_len(obj):
    return len(obj)


def _runsurge_minmax(op, iterable, key):
    items = list(iterable)
    if not items:
        return _runsurge_NOVALUE
    keys = items if key is None else [key(x) for x in items]
    if all(_runsurge_orderable(k) for k in keys):
        best = (min if op == 'min' else max)(range(len(keys)), key=keys.__getitem__)
        return ['pairs', [[items[best], keys[best]]]]
    if all(type(k) in (int, float, bool) for k in keys):
        # Numbers with nan: a nan never replaces the best so far, and stays best only as the very first element; the
        # chunk's first element and its earliest best among the others replay the same.
        numbers = [i for i, k in enumerate(keys) if k == k]
        kept = [0] + ([(min if op == 'min' else max)(numbers, key=keys.__getitem__)] if numbers else [])
        return ['pairs', [[items[i], keys[i]] for i in kept]]
    return ['pairs', [[x, k] for x, k in zip(items, keys)]]


def _runsurge_enumerated(op, xs, key):
    """min/max(enumerate(xs), key=…) on one chunk: its length (the next chunk's index offset) and its candidates."""
    return ['enum', len(xs), _runsurge_minmax(op, enumerate(xs), key)]


def _runsurge_min(iterable, key=None):
    return _runsurge_minmax('min', iterable, key)


def _runsurge_max(iterable, key=None):
    return _runsurge_minmax('max', iterable, key)


def _runsurge_anyall(op, iterable):
    # A chunk cannot know whether an earlier chunk already decided the answer: an exception is kept as a
    # partial and raised by the aggregator only if the sequential run would have reached it.
    decisive = op == 'any'
    try:
        for x in iterable:
            if bool(x) is decisive:
                return decisive
        return not decisive
    except MemoryError:
        raise
    except Exception as error:
        return ['raised', type(error).__name__, str(error)]


def _runsurge_any(iterable):
    return _runsurge_anyall('any', iterable)


def _runsurge_all(iterable):
    return _runsurge_anyall('all', iterable)


# ---- encoding ----

def _runsurge_module_objects():
    """Mutable objects reachable from module-level constants, numbered in a walk both task scripts repeat."""
    g = globals()
    objects = []
    seen = set()

    def visit(v):
        t = type(v)
        if t in _RUNSURGE_SCALARS or id(v) in seen:
            return
        if t is tuple:
            seen.add(id(v))
            for x in v:
                visit(x)
            return
        if t in (list, dict, set, bytearray, _runsurge_collections.OrderedDict, _runsurge_collections.Counter,
                 _runsurge_collections.defaultdict, _runsurge_collections.deque) or _runsurge_user_instance(v):
            seen.add(id(v))
            objects.append(v)
            if isinstance(v, dict):
                for x in v.values():
                    visit(x)
            elif isinstance(v, (list, _runsurge_collections.deque)):
                for x in v:
                    visit(x)
            elif hasattr(v, '__dict__'):
                for x in vars(v).values():
                    visit(x)

    for name in sorted(g):
        if name.startswith('_runsurge') or (name.startswith('__') and name.endswith('__')):
            continue
        value = g[name]
        if isinstance(value, type) or callable(value) or type(value) is type(_runsurge_re):
            continue
        visit(value)
    return objects


def _runsurge_user_type(t):
    """The dotted path of a class defined in the job's module, or None."""
    if getattr(t, '__module__', None) != __name__:
        return None
    path = getattr(t, '__qualname__', '')
    if '<' in path:
        return None
    return path if _runsurge_resolve(path) is t else None


def _runsurge_resolve(path):
    parts = path.split('.')
    obj = globals().get(parts[0])
    for part in parts[1:]:
        obj = getattr(obj, part, None)
    return obj


def _runsurge_user_instance(v):
    t = type(v)
    if isinstance(v, (_runsurge_enum.Enum, tuple, type)) or _runsurge_user_type(t) is None:
        return False
    # Subclasses of builtin containers or scalars would need their own constructor protocol.
    return not isinstance(v, (int, float, complex, str, bytes, bytearray, list, dict, set, frozenset))


def _runsurge_encode(value):
    """
    Encodes a value exactly as JSON (the RunSurge partial-results format, `runsurge-partials/1`).

    None, booleans, strings (without lone surrogates), finite floats and ints with |v| <= 2**53 are JSON
    themselves (Python writes floats with repr, which round-trips exactly, -0.0 included). Everything else is
    a JSON array whose first element is a tag, so a raw JSON array never appears as a value:

      ["I", hex]            int beyond 2**53 (hex is exempt from int/str digit limits)
      ["F", "nan"|"inf"|"-inf"]
      ["U", [code points]]  str holding lone surrogates
      ["C", re, im]         complex
      ["L", x, ...]         list            ["T", x, ...]   tuple
      ["D", k, v, k, v ...] dict, in order, keys of any hashable type
      ["S", x, ...]         set             ["Z", x, ...]   frozenset
      ["B", base64]         bytes           ["BA", base64]  bytearray
      ["Q", num, den]       Fraction        ["M", str]      Decimal
      ["DT"|"DA"|"TI", isoformat]  datetime / date / time     ["TD", days, seconds, microseconds]
      ["OD"|"CN", k, v, ...] OrderedDict / Counter   ["DD", factory, k, v, ...] defaultdict
      ["DQ", maxlen, x, ...] deque
      ["E", class, member]  enum member of a class of the job
      ["NT", class, x, ...] tuple subclass (namedtuple) of the job
      ["O", class, state]   instance of a class of the job; state is the encoded dict of its attributes
      ["FN", name] / ["BI", name]  a function of the job / a builtin, by name
      ["N"]                 no value (an accumulator of a chunk that combined nothing)
      ["R", i]              the i-th mutable object (list, dict, set, bytearray, deque, instance…) of this
                            same encoding, numbered in order of first appearance: shared and cyclic
                            structures keep their sharing
      ["G", i, type]        the i-th mutable object reachable from the job's module-level constants (a walk
                            in sorted name order, repeated identically by the aggregator): identity with
                            module constants survives too

    Unsupported values (open iterators, generators, lambdas, objects of other modules) raise TypeError.
    """
    memo = {}
    module = {}
    for i, obj in enumerate(_runsurge_module_objects()):
        module[id(obj)] = i
    keep = []

    def ref(v):
        i = module.get(id(v))
        if i is not None:
            return ['G', i, type(v).__name__]
        i = memo.get(id(v))
        if i is not None:
            return ['R', i]
        memo[id(v)] = len(memo)
        keep.append(v)
        return None

    def items(tag, values):
        out = [tag]
        for x in values:
            out.append(enc(x))
        return out

    def pairs(tag, d, extra=()):
        out = [tag]
        out.extend(extra)
        for k, v in d.items():
            out.append(enc(k))
            out.append(enc(v))
        return out

    def enc(v):
        t = type(v)
        if v is None or t is bool:
            return v
        if t is int:
            return v if -_RUNSURGE_SAFE_INT <= v <= _RUNSURGE_SAFE_INT else ['I', hex(v)]
        if t is float:
            if v != v:
                return ['F', 'nan']
            if v in (float('inf'), float('-inf')):
                return ['F', 'inf' if v > 0 else '-inf']
            return v
        if t is str:
            return ['U', [ord(c) for c in v]] if _RUNSURGE_SURROGATE.search(v) else v
        if t is tuple:
            return items('T', v)
        if t is list:
            return ref(v) or items('L', v)
        if t is dict:
            return ref(v) or pairs('D', v)
        if t is set:
            return ref(v) or items('S', v)
        if t is frozenset:
            return items('Z', v)
        if t is bytes:
            return ['B', _runsurge_base64.b64encode(v).decode('ascii')]
        if t is bytearray:
            return ref(v) or ['BA', _runsurge_base64.b64encode(bytes(v)).decode('ascii')]
        if t is complex:
            return ['C', enc(v.real), enc(v.imag)]
        if v is _runsurge_NOVALUE:
            return ['N']
        if t is _runsurge_fractions.Fraction:
            return ['Q', enc(v.numerator), enc(v.denominator)]
        if t is _runsurge_decimal.Decimal:
            return ['M', str(v)]
        if t is _runsurge_datetime.datetime:
            if v.tzinfo is not None and type(v.tzinfo) is not _runsurge_datetime.timezone:
                raise TypeError('cannot send a datetime with tzinfo %r between tasks' % (v.tzinfo,))
            return ['DT', v.isoformat(), v.fold]
        if t is _runsurge_datetime.date:
            return ['DA', v.isoformat()]
        if t is _runsurge_datetime.time:
            if v.tzinfo is not None and type(v.tzinfo) is not _runsurge_datetime.timezone:
                raise TypeError('cannot send a time with tzinfo %r between tasks' % (v.tzinfo,))
            return ['TI', v.isoformat(), v.fold]
        if t is _runsurge_datetime.timedelta:
            return ['TD', v.days, v.seconds, v.microseconds]
        if t is _runsurge_collections.OrderedDict:
            return ref(v) or pairs('OD', v)
        if t is _runsurge_collections.Counter:
            return ref(v) or pairs('CN', v)
        if t is _runsurge_collections.defaultdict:
            return ref(v) or pairs('DD', v, [enc_callable(v.default_factory)])
        if t is _runsurge_collections.deque:
            return ref(v) or items('DQ', [v.maxlen] + list(v))
        if isinstance(v, _runsurge_enum.Enum):
            path = _runsurge_user_type(t)
            if path is not None:
                return ['E', path, v.name]
        elif isinstance(v, tuple):
            path = _runsurge_user_type(t)
            if path is not None and not hasattr(v, '__dict__'):
                return items('NT', [path] + list(v))
        elif _runsurge_user_instance(v):
            return ref(v) or ['O', _runsurge_user_type(t), enc(_runsurge_state(v))]
        elif callable(v):
            return enc_callable(v)
        raise TypeError('cannot send a value of type %s from a chunk task to the aggregator' % t.__qualname__)

    def enc_callable(f):
        if f is None:
            return None
        name = getattr(f, '__name__', '')
        if _RUNSURGE_BUILTIN_CALLABLES.get(name) is f:
            return ['BI', name]
        if getattr(f, '__module__', None) == __name__ and globals().get(name) is f:
            return ['FN', name]
        raise TypeError('cannot send the function %r between tasks' % (f,))

    return enc(value)


def _runsurge_state(v):
    state = dict(vars(v)) if hasattr(v, '__dict__') else {}
    for klass in type(v).__mro__:
        slots = klass.__dict__.get('__slots__', ())
        for name in ([slots] if isinstance(slots, str) else slots):
            if name not in ('__dict__', '__weakref__') and hasattr(v, name):
                state[name] = getattr(v, name)
    return state


def _runsurge_decoder():
    """A decoder for one encoded value (its own numbering of shared objects)."""
    memo = []
    module = []

    def register(obj):
        memo.append(obj)
        return obj

    def fill(obj, data):
        for i in range(0, len(data), 2):
            obj[dec(data[i])] = dec(data[i + 1])
        return obj

    def dec(x):
        if type(x) is not list:
            return x
        tag = x[0]
        if tag == 'L':
            out = register([])
            out.extend(dec(v) for v in x[1:])
            return out
        if tag == 'T':
            return tuple(dec(v) for v in x[1:])
        if tag == 'D':
            return fill(register({}), x[1:])
        if tag == 'R':
            return memo[x[1]]
        if tag == 'G':
            if not module:
                module.extend(_runsurge_module_objects())
            obj = module[x[1]]
            if type(obj).__name__ != x[2]:
                raise RuntimeError('module constants differ between the chunk task and the aggregator')
            return obj
        if tag == 'I':
            return int(x[1], 16)
        if tag == 'F':
            return float(x[1])
        if tag == 'U':
            return ''.join(chr(c) for c in x[1])
        if tag == 'S':
            out = register(set())
            out.update(dec(v) for v in x[1:])
            return out
        if tag == 'Z':
            return frozenset(dec(v) for v in x[1:])
        if tag == 'B':
            return _runsurge_base64.b64decode(x[1])
        if tag == 'BA':
            return register(bytearray(_runsurge_base64.b64decode(x[1])))
        if tag == 'C':
            return complex(dec(x[1]), dec(x[2]))
        if tag == 'N':
            return _runsurge_NOVALUE
        if tag == 'Q':
            return _runsurge_fractions.Fraction(dec(x[1]), dec(x[2]))
        if tag == 'M':
            return _runsurge_decimal.Decimal(x[1])
        if tag == 'DT':
            return _runsurge_datetime.datetime.fromisoformat(x[1]).replace(fold=x[2])
        if tag == 'DA':
            return _runsurge_datetime.date.fromisoformat(x[1])
        if tag == 'TI':
            return _runsurge_datetime.time.fromisoformat(x[1]).replace(fold=x[2])
        if tag == 'TD':
            return _runsurge_datetime.timedelta(days=x[1], seconds=x[2], microseconds=x[3])
        if tag == 'OD':
            return fill(register(_runsurge_collections.OrderedDict()), x[1:])
        if tag == 'CN':
            return fill(register(_runsurge_collections.Counter()), x[1:])
        if tag == 'DD':
            out = register(_runsurge_collections.defaultdict())
            out.default_factory = dec_callable(x[1])
            return fill(out, x[2:])
        if tag == 'DQ':
            out = register(_runsurge_collections.deque(maxlen=x[1]))
            out.extend(dec(v) for v in x[2:])
            return out
        if tag == 'E':
            return _runsurge_resolve(x[1])[x[2]]
        if tag == 'NT':
            return tuple.__new__(_runsurge_resolve(x[1]), [dec(v) for v in x[2:]])
        if tag == 'O':
            klass = _runsurge_resolve(x[1])
            obj = register(klass.__new__(klass))
            for name, value in dec(x[2]).items():
                object.__setattr__(obj, name, value)
            return obj
        if tag in ('FN', 'BI'):
            return dec_callable(x)
        raise ValueError('unknown tag %r in partial results' % (tag,))

    def dec_callable(x):
        if x is None:
            return None
        if x[0] == 'BI':
            return _RUNSURGE_BUILTIN_CALLABLES[x[1]]
        return globals()[x[1]]

    return dec


def _runsurge_partials(values, measure=False):
    """
    What a chunk task returns: its partial values, in the plan's order, as one encoding (shared objects kept). With
    `measure`, what decoding them will take comes first, where the node reads it to size the task that decodes them.
    """
    values = [v.partial() if type(v) in (_RunsurgeRecorder, _RunsurgeOrderedSet, _RunsurgeBest, _RunsurgeKeyedBest) else v for v in values]
    if not measure:
        return {'format': _RUNSURGE_FORMAT, 'values': _runsurge_encode(values)}
    return {'memory': int(_RUNSURGE_DECODED_PER_BYTE * _runsurge_deep_size(values)), 'format': _RUNSURGE_FORMAT, 'values': _runsurge_encode(values)}


# Per byte of a chunk's values in memory, at most what the task that decodes them holds once they are decoded and
# combined (the decoded values, the parsed encoding on the way, the combined value): measured 2.0 for sets of distinct
# floats, whose union holds every value again, 1.0 to 1.2 for groups, counts, bests and sets of repeated values.
_RUNSURGE_DECODED_PER_BYTE = 2.5


def _runsurge_decode_results(results, count):
    """Decodes every chunk's partials (in chunk order), releasing each encoded result once decoded."""
    parts = []
    for i, result in enumerate(results):
        if type(result) is not dict or result.get('format') != _RUNSURGE_FORMAT:
            raise ValueError('chunk %d did not return RunSurge partial results' % i)
        values = _runsurge_decoder()(result['values'])
        if len(values) != count:
            raise ValueError('chunk %d returned %d partial values, expected %d' % (i, len(values), count))
        parts.append(values)
        results[i] = None
    return parts


def _runsurge_decode_inputs(results, counts):
    """A segment's inputs: each earlier segment's values (counts[i] of them), decoded, in the plan's order."""
    if len(results) != len(counts):
        raise ValueError('a segment received %d results, expected %d' % (len(results), len(counts)))
    parts = []
    for i, count in enumerate(counts):
        parts.append(_runsurge_decode_results([results[i]], count)[0])
        results[i] = None
    return parts


# ---- combining partials, in chunk order ----

def _runsurge_concat(parts, i):
    pieces = [p[i] for p in parts]
    kinds = {type(x) for x in pieces}
    if kinds == {list}:
        out = []
        for x in pieces:
            out.extend(x)
        return out
    if kinds == {tuple}:
        return tuple(v for x in pieces for v in x)
    raise TypeError('cannot concatenate partial results of types %s' % sorted(k.__name__ for k in kinds))


def _runsurge_merge(parts, i):
    out = {}
    for p in parts:
        # Later chunks override earlier ones; a key keeps the position of its first insertion, as sequentially.
        out.update(p[i])
    return out


def _runsurge_add(parts, i, start):
    return sum([p[i] for p in parts], start)


def _runsurge_fold(parts, i, op, init):
    apply = {'+': _runsurge_operator.add, '*': _runsurge_operator.mul, '|': _runsurge_operator.or_,
             '&': _runsurge_operator.and_, '^': _runsurge_operator.xor}[op]
    acc = init
    for p in parts:
        if p[i] is not _runsurge_NOVALUE:
            acc = apply(acc, p[i])
    return acc


def _runsurge_replay(parts, i, op, init, from_none=False):
    acc = init
    pick = min if op == 'min' else max
    for p in parts:
        if p[i] is _runsurge_NOVALUE:
            continue
        for first, v in p[i][1]:
            if from_none and acc is None:
                acc = v
            else:
                acc = pick(acc, v) if first else pick(v, acc)
    return acc


def _runsurge_pick(parts, i, op):
    pairs = []
    for p in parts:
        if p[i] is not _runsurge_NOVALUE:
            pairs.extend(p[i][1])
    if not pairs:
        return (min if op == 'min' else max)(())
    best = pairs[0]
    for pair in pairs[1:]:
        if (pair[1] < best[1]) if op == 'min' else (pair[1] > best[1]):
            best = pair
    return best[0]


def _runsurge_decide(parts, i, op):
    decisive = op == 'any'
    for p in parts:
        v = p[i]
        if v is decisive:
            return decisive
        if type(v) is list:
            raise _RUNSURGE_EXCEPTIONS.get(v[1], RuntimeError)(v[2] if v[1] in _RUNSURGE_EXCEPTIONS else '%s: %s' % (v[1], v[2]))
    return not decisive


def _runsurge_group(parts, i):
    """Lists per key: the first chunk's dict, then each later chunk's keys in order, lists extended."""
    out = parts[0][i]
    for p in parts[1:]:
        for k, values in p[i].items():
            if k in out:
                out[k].extend(values)
            else:
                out[k] = values
    return out


def _runsurge_count(parts, i):
    """Numbers per key (a dict or Counter, keys in first-occurrence order) or per position (a list), added up."""
    out = parts[0][i]
    for p in parts[1:]:
        v = p[i]
        if type(out) is list:
            if type(v) is not list or len(v) != len(out):
                raise ValueError('RunSurge: per-position counts of different lengths')
            for j, x in enumerate(v):
                out[j] = out[j] + x
        else:
            for k, x in v.items():
                if k not in out:
                    out[k] = x
                elif type(out[k]) is dict and type(x) is dict:
                    # A record of counts per key (`d[k]["n"] += 1` from {"n": 0, …}): added field by field.
                    record = out[k]
                    for f, y in x.items():
                        record[f] = record[f] + y if f in record else y
                else:
                    out[k] = out[k] + x
    return out


def _runsurge_union(parts, i):
    """A set: every chunk's distinct elements added in chunk order, each chunk's in its order of arrival."""
    out = set()
    for p in parts:
        out.update(p[i])
    return out


# ---- reductions hoisted out of the rest of main (hoist.ts): per-chunk sites, rounds, broadcast values ----

def _runsurge_guard(compute):
    """A site's partial on one chunk: its value, or the exception it raised (raised only if the site is reached)."""
    try:
        return ['value', compute()]
    except MemoryError:
        raise
    except Exception as error:
        return ['raised', type(error).__name__, str(error)]


def _runsurge_guarded(fn, *args):
    """fn(*args), or the exception it raised as a partial."""
    try:
        return fn(*args)
    except MemoryError:
        raise
    except Exception as error:
        return ['raised', type(error).__name__, str(error)]


def _runsurge_raise_partial(v):
    raise _RUNSURGE_EXCEPTIONS.get(v[1], RuntimeError)(v[2] if v[1] in _RUNSURGE_EXCEPTIONS else '%s: %s' % (v[1], v[2]))


def _runsurge_decode_rounds(results, counts):
    """Every round's chunk results (round after round, chunks in order within each) as one parts list per round."""
    rounds = len(counts)
    if rounds == 0 or len(results) % rounds != 0:
        raise ValueError('%d chunk results do not make %d rounds' % (len(results), rounds))
    chunks = len(results) // rounds
    out = []
    for r, count in enumerate(counts):
        piece = results[r * chunks:(r + 1) * chunks]
        out.append(_runsurge_decode_results(piece, count))
    del results[:]
    return out


def _runsurge_release(parts, count):
    """Drops the chunks' copies of the split part's outputs once combined."""
    for p in parts:
        for i in range(count):
            p[i] = None


def _runsurge_first(xs):
    return xs[0] if len(xs) > 0 else _runsurge_NOVALUE


def _runsurge_last(xs):
    return xs[-1] if len(xs) > 0 else _runsurge_NOVALUE


def _runsurge_distinct(iterable):
    """A chunk's distinct elements in the order they first arrived (what set() keeps of equal elements)."""
    return list(dict.fromkeys(iterable))


def _runsurge_truth(xs):
    return len(xs) > 0


def _runsurge_top(op, k, iterable, key):
    """heapq.nlargest/nsmallest(k, iterable, key) on one chunk, as [k, [[key, element], …]] in the order they rank."""
    pick = _runsurge_heapq.nlargest if op == 'nlargest' else _runsurge_heapq.nsmallest
    if key is None:
        return [k, [[x, x] for x in pick(k, iterable)]]
    return [k, [[key(x), x] for x in pick(k, iterable, key=key)]]


def _runsurge_sorted_tail(k, iterable, key, reverse):
    """sorted(iterable, key=key, reverse=reverse)[-k:] on one chunk: the candidates, as [key, element], in their order
    in the chunk (every element of the whole sort's last k is among its chunk's last k)."""
    items = list(iterable)
    keys = items if key is None else [key(x) for x in items]
    last = sorted(sorted(range(len(items)), key=keys.__getitem__, reverse=reverse)[-k:]) if k > 0 else []
    return [k, [[keys[i], items[i]] for i in last]]


def _runsurge_site_value(values, op, start, default=None):
    """A hoisted site's value from its per-chunk partials, in chunk order, as the sequential expression would give it."""
    if op in ('any', 'all'):
        return _runsurge_decide([[v[1] if v[0] == 'value' else v] for v in values], 0, op)
    if op == 'inline':
        # A helper's return expression: each of its reductions combined when the expression reaches it (start holds
        # their ops and start values, in order), so they raise in the order the helper's own code would.
        for v in values:
            if v[0] != 'value':
                _runsurge_raise_partial(v)

        def inner(j):
            inner_op, inner_start = start[j]
            return _runsurge_site_value([v[1][j] for v in values], inner_op, inner_start)
        return inner
    for v in values:
        if v[0] != 'value':
            _runsurge_raise_partial(v)
    got = [v[1] for v in values]
    if op in ('loop', 'best', 'lengths'):
        return got
    if op in ('fsum', 'fmean'):
        total, count = _runsurge_fsum_combine(got)
        if op == 'fsum':
            return total
        if not count:
            raise _runsurge_statistics.StatisticsError('fmean requires at least one data point')
        return total / count
    if op in ('mean', 'pvariance', 'pstdev', 'variance', 'stdev'):
        return _runsurge_moments_combine(got, op)
    if op in ('sum', 'len', 'count'):
        return _runsurge_add([[x] for x in got], 0, start)
    if op == 'truth':
        return any(got)
    if op in ('first', 'last'):
        present = [x for x in got if x is not _runsurge_NOVALUE]
        if not present:
            raise IndexError('list index out of range')
        return present[0] if op == 'first' else present[-1]
    if op in ('counts', 'groups'):
        return (_runsurge_count if op == 'counts' else _runsurge_group)([[x] for x in got], 0)
    if op == 'union':
        out = set()
        for x in got:
            out.update(x)
        return out
    if op in ('head', 'tail'):
        k = got[0][0]
        joined = [v for x in got for v in x[1]]
        return joined[:k] if op == 'head' else joined[-k:]
    if op == 'sortedtail':
        # The candidates in input order (chunk after chunk): the same stable sort of them ends with the same k.
        pairs = [pair for x in got for pair in x[1]]
        k = got[0][0] if got else 0
        ranked = sorted(pairs, key=lambda pair: pair[0], reverse=start)
        return [pair[1] for pair in ranked[-k:]] if k > 0 else []
    if op in ('nlargest', 'nsmallest'):
        # Each chunk's best k in rank order; a stable sort of them in chunk order ranks ties as one run would.
        pairs = [pair for x in got for pair in x[1]]
        k = got[0][0] if got else 0
        ranked = sorted(pairs, key=lambda pair: pair[0], reverse=op == 'nlargest')
        return [pair[1] for pair in ranked[:max(0, k)]]
    if op in ('min', 'max') and got and all(type(x) is list and x[0] == 'enum' for x in got):
        # enumerate(xs): each chunk counted from 0; shift its candidates' indexes by the chunks before it.
        offset = 0
        shifted = []
        for _, n, partial in got:
            if partial is not _runsurge_NOVALUE:
                partial = [partial[0], [[(item[0] + offset, item[1]), k] for item, k in partial[1]]]
            shifted.append(partial)
            offset += n
        got = shifted
    if default is not None and all(x is _runsurge_NOVALUE for x in got):
        return default()
    return _runsurge_pick([[x] for x in got], 0, op)


def _runsurge_loop_partial(error, value):
    """A loop accumulator's partial on one chunk, or the exception the loop met there (raised again for the guard)."""
    if error is not None:
        raise error
    v = value()
    return v.partial() if type(v) in (_RunsurgeRecorder, _RunsurgeOrderedSet, _RunsurgeBest, _RunsurgeKeyedBest) else v


def _runsurge_last_bound(parts, i, start):
    """A name a loop binds, as main reads it after the loop: the last chunk that bound it gives its last value."""
    for p in reversed(parts):
        if p[i] is not _runsurge_NOVALUE:
            return p[i]
    return start


def _runsurge_loop_combine(start, parts, op):
    """A loop's accumulator from its chunks' partials: folded onto the value its initialiser gave, or merged by key."""
    one = [[p] for p in parts]
    if op == 'last':
        return _runsurge_last_bound(one, 0, start)
    if op == 'group':
        return _runsurge_group(one, 0)
    if op == 'count':
        return _runsurge_count(one, 0)
    if op == 'union':
        return _runsurge_union(one, 0)
    if op in ('min', 'max'):
        return _runsurge_replay(one, 0, op, start)
    return _runsurge_fold(one, 0, op, start)


def _runsurge_site_table(rounds, specs):
    """`_runsurge_site(k)`: hoisted site k's combined value (computed once), raising where the sequential run would."""
    cache = {}

    def site(k, default=None):
        if k in cache:
            return cache[k]
        r, i, op, start = specs[k]
        if r >= len(rounds):
            raise RuntimeError('RunSurge: reduction %d was not computed before this task' % k)
        value = _runsurge_site_value([p[i] for p in rounds[r]], op, start, default)
        if default is None:
            cache[k] = value
        return value

    return site


def _runsurge_inline_access(site, first, positions):
    """A helper's reduction j (its pass and index in `positions`), combined from the site of its pass (site first + pass)."""
    def value(j):
        level, index = positions[j]
        return site(first + level)(index)

    return value


def _runsurge_broadcast_sites(values):
    """`_runsurge_site(k)` on a later round's chunk: the values the stage task computed (or the exception it met)."""
    def site(k, default=None):
        v = values[k]
        if v[0] != 'value':
            _runsurge_raise_partial(v)
        return v[1]

    return site

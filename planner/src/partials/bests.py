# ---- running bests kept by chunks and replayed by the aggregator (bests.ts) ----

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

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

# ---- builtins and statistics computed over one chunk, finished on the chunks' totals ----

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

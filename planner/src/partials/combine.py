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

# ---- encoding ----
#
# A value is encoded exactly as JSON (the RunSurge partial-results format, `runsurge-partials/1`).
#
# None, booleans, strings (without lone surrogates), finite floats and ints with |v| <= 2**53 are JSON
# themselves (Python writes floats with repr, which round-trips exactly, -0.0 included). Everything else is
# a JSON array whose first element is a tag, so a raw JSON array never appears as a value:
#
#   ["I", hex]            int beyond 2**53 (hex is exempt from int/str digit limits)
#   ["F", "nan"|"inf"|"-inf"]
#   ["U", [code points]]  str holding lone surrogates
#   ["C", re, im]         complex
#   ["L", x, ...]         list            ["T", x, ...]   tuple
#   ["D", k, v, k, v ...] dict, in order, keys of any hashable type
#   ["S", x, ...]         set             ["Z", x, ...]   frozenset
#   ["B", base64]         bytes           ["BA", base64]  bytearray
#   ["Q", num, den]       Fraction        ["M", str]      Decimal
#   ["DT"|"DA"|"TI", isoformat]  datetime / date / time     ["TD", days, seconds, microseconds]
#   ["OD"|"CN", k, v, ...] OrderedDict / Counter   ["DD", factory, k, v, ...] defaultdict
#   ["DQ", maxlen, x, ...] deque
#   ["E", class, member]  enum member of a class of the job
#   ["NT", class, x, ...] tuple subclass (namedtuple) of the job
#   ["O", class, state]   instance of a class of the job; state is the encoded dict of its attributes
#   ["FN", name] / ["BI", name]  a function of the job / a builtin, by name
#   ["N"]                 no value (an accumulator of a chunk that combined nothing)
#   ["R", i]              the i-th mutable object (list, dict, set, bytearray, deque, instance…) of this
#                         same encoding, numbered in order of first appearance: shared and cyclic
#                         structures keep their sharing
#   ["G", i, type]        the i-th mutable object reachable from the job's module-level constants (a walk
#                         in sorted name order, repeated identically by the aggregator): identity with
#                         module constants survives too
#
# Unsupported values (open iterators, generators, lambdas, objects of other modules) raise TypeError.

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


class _RunsurgeEncoder:
    """One encoding (see above): its numbering of shared objects and of the module's constants."""

    def __init__(self):
        self.memo = {}
        self.module = {}
        for i, obj in enumerate(_runsurge_module_objects()):
            self.module[id(obj)] = i
        # Objects numbered by id stay alive until the encoding ends, so no id is reused.
        self.keep = []

    def ref(self, v):
        i = self.module.get(id(v))
        if i is not None:
            return ['G', i, type(v).__name__]
        i = self.memo.get(id(v))
        if i is not None:
            return ['R', i]
        self.memo[id(v)] = len(self.memo)
        self.keep.append(v)
        return None

    def items(self, tag, values):
        out = [tag]
        enc = self.enc
        for x in values:
            out.append(enc(x))
        return out

    def pairs(self, tag, d, extra=()):
        out = [tag]
        out.extend(extra)
        enc = self.enc
        for k, v in d.items():
            out.append(enc(k))
            out.append(enc(v))
        return out

    def enc(self, v):
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
            return self.items('T', v)
        if t is list:
            return self.ref(v) or self.items('L', v)
        if t is dict:
            return self.ref(v) or self.pairs('D', v)
        if t is set:
            return self.ref(v) or self.items('S', v)
        return self.enc_other(v, t)

    def enc_other(self, v, t):
        """Values other than JSON's own, tuples, lists, dicts and sets."""
        if t is frozenset:
            return self.items('Z', v)
        if t is bytes:
            return ['B', _runsurge_base64.b64encode(v).decode('ascii')]
        if t is bytearray:
            return self.ref(v) or ['BA', _runsurge_base64.b64encode(bytes(v)).decode('ascii')]
        if t is complex:
            return ['C', self.enc(v.real), self.enc(v.imag)]
        if v is _runsurge_NOVALUE:
            return ['N']
        if t is _runsurge_fractions.Fraction:
            return ['Q', self.enc(v.numerator), self.enc(v.denominator)]
        if t is _runsurge_decimal.Decimal:
            return ['M', str(v)]
        if t in (_runsurge_datetime.datetime, _runsurge_datetime.date, _runsurge_datetime.time, _runsurge_datetime.timedelta):
            return self.enc_time(v, t)
        if t is _runsurge_collections.OrderedDict:
            return self.ref(v) or self.pairs('OD', v)
        if t is _runsurge_collections.Counter:
            return self.ref(v) or self.pairs('CN', v)
        if t is _runsurge_collections.defaultdict:
            return self.ref(v) or self.pairs('DD', v, [self.enc_callable(v.default_factory)])
        if t is _runsurge_collections.deque:
            return self.ref(v) or self.items('DQ', [v.maxlen] + list(v))
        return self.enc_job_value(v, t)

    def enc_time(self, v, t):
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
        return ['TD', v.days, v.seconds, v.microseconds]

    def enc_job_value(self, v, t):
        """Enum members, named tuples, instances and functions of the job's own classes, and builtins."""
        if isinstance(v, _runsurge_enum.Enum):
            path = _runsurge_user_type(t)
            if path is not None:
                return ['E', path, v.name]
        elif isinstance(v, tuple):
            path = _runsurge_user_type(t)
            if path is not None and not hasattr(v, '__dict__'):
                return self.items('NT', [path] + list(v))
        elif _runsurge_user_instance(v):
            return self.ref(v) or ['O', _runsurge_user_type(t), self.enc(_runsurge_state(v))]
        elif callable(v):
            return self.enc_callable(v)
        raise TypeError('cannot send a value of type %s from a chunk task to the aggregator' % t.__qualname__)

    def enc_callable(self, f):
        if f is None:
            return None
        name = getattr(f, '__name__', '')
        if _RUNSURGE_BUILTIN_CALLABLES.get(name) is f:
            return ['BI', name]
        if getattr(f, '__module__', None) == __name__ and globals().get(name) is f:
            return ['FN', name]
        raise TypeError('cannot send the function %r between tasks' % (f,))


def _runsurge_encode(value):
    """Encodes a value exactly as JSON (`runsurge-partials/1`, see above)."""
    return _RunsurgeEncoder().enc(value)


def _runsurge_state(v):
    state = dict(vars(v)) if hasattr(v, '__dict__') else {}
    for klass in type(v).__mro__:
        slots = klass.__dict__.get('__slots__', ())
        for name in ([slots] if isinstance(slots, str) else slots):
            if name not in ('__dict__', '__weakref__') and hasattr(v, name):
                state[name] = getattr(v, name)
    return state


class _RunsurgeDecoder:
    """A decoder for one encoded value (its own numbering of shared objects)."""

    def __init__(self):
        self.memo = []
        self.module = []
        self.tags = {
            'L': self.dec_list, 'T': lambda x: tuple(self.dec(v) for v in x[1:]), 'D': lambda x: self.fill(self.register({}), x[1:]),
            'R': lambda x: self.memo[x[1]], 'G': self.dec_module, 'I': lambda x: int(x[1], 16), 'F': lambda x: float(x[1]),
            'U': lambda x: ''.join(chr(c) for c in x[1]), 'S': self.dec_set, 'Z': lambda x: frozenset(self.dec(v) for v in x[1:]),
            'B': lambda x: _runsurge_base64.b64decode(x[1]), 'BA': lambda x: self.register(bytearray(_runsurge_base64.b64decode(x[1]))),
            'C': lambda x: complex(self.dec(x[1]), self.dec(x[2])), 'N': lambda x: _runsurge_NOVALUE,
            'Q': lambda x: _runsurge_fractions.Fraction(self.dec(x[1]), self.dec(x[2])), 'M': lambda x: _runsurge_decimal.Decimal(x[1]),
            'DT': lambda x: _runsurge_datetime.datetime.fromisoformat(x[1]).replace(fold=x[2]),
            'DA': lambda x: _runsurge_datetime.date.fromisoformat(x[1]),
            'TI': lambda x: _runsurge_datetime.time.fromisoformat(x[1]).replace(fold=x[2]),
            'TD': lambda x: _runsurge_datetime.timedelta(days=x[1], seconds=x[2], microseconds=x[3]),
            'OD': lambda x: self.fill(self.register(_runsurge_collections.OrderedDict()), x[1:]),
            'CN': lambda x: self.fill(self.register(_runsurge_collections.Counter()), x[1:]),
            'DD': self.dec_defaultdict, 'DQ': self.dec_deque,
            'E': lambda x: _runsurge_resolve(x[1])[x[2]],
            'NT': lambda x: tuple.__new__(_runsurge_resolve(x[1]), [self.dec(v) for v in x[2:]]),
            'O': self.dec_instance, 'FN': self.dec_callable, 'BI': self.dec_callable
        }

    def register(self, obj):
        self.memo.append(obj)
        return obj

    def fill(self, obj, data):
        dec = self.dec
        for i in range(0, len(data), 2):
            obj[dec(data[i])] = dec(data[i + 1])
        return obj

    def dec(self, x):
        if type(x) is not list:
            return x
        tag = x[0]
        handler = self.tags.get(tag)
        if handler is None:
            raise ValueError('unknown tag %r in partial results' % (tag,))
        return handler(x)

    def dec_list(self, x):
        out = self.register([])
        out.extend(self.dec(v) for v in x[1:])
        return out

    def dec_set(self, x):
        out = self.register(set())
        out.update(self.dec(v) for v in x[1:])
        return out

    def dec_module(self, x):
        if not self.module:
            self.module.extend(_runsurge_module_objects())
        obj = self.module[x[1]]
        if type(obj).__name__ != x[2]:
            raise RuntimeError('module constants differ between the chunk task and the aggregator')
        return obj

    def dec_defaultdict(self, x):
        out = self.register(_runsurge_collections.defaultdict())
        out.default_factory = self.dec_callable(x[1])
        return self.fill(out, x[2:])

    def dec_deque(self, x):
        out = self.register(_runsurge_collections.deque(maxlen=x[1]))
        out.extend(self.dec(v) for v in x[2:])
        return out

    def dec_instance(self, x):
        klass = _runsurge_resolve(x[1])
        obj = self.register(klass.__new__(klass))
        for name, value in self.dec(x[2]).items():
            object.__setattr__(obj, name, value)
        return obj

    def dec_callable(self, x):
        if x is None:
            return None
        if x[0] == 'BI':
            return _RUNSURGE_BUILTIN_CALLABLES[x[1]]
        return globals()[x[1]]


def _runsurge_decoder():
    """A decoder for one encoded value (its own numbering of shared objects)."""
    return _RunsurgeDecoder().dec


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

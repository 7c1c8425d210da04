/**
 * What the analyzer knows about names it did not see defined: which builtins and methods are pure, and which
 * library functions mutate their argument. Anything not listed is treated as impure (conservative).
 */

/** Builtins with no side effects on their arguments. `hash`/`id` are left out: they differ between processes. */
export const PURE_BUILTINS: ReadonlySet<string> = new Set([
  'abs', 'all', 'any', 'ascii', 'bin', 'bool', 'bytes', 'callable', 'chr', 'complex', 'dict', 'divmod',
  'enumerate', 'filter', 'float', 'format', 'frozenset', 'hex', 'int', 'isinstance', 'issubclass', 'iter', 'len',
  'list', 'map', 'max', 'min', 'oct', 'ord', 'pow', 'range', 'repr', 'reversed', 'round', 'set', 'slice',
  'sorted', 'str', 'sum', 'tuple', 'type', 'zip', 'print', 'ValueError', 'TypeError', 'KeyError', 'IndexError',
  'ZeroDivisionError', 'RuntimeError', 'Exception', 'ArithmeticError', 'StopIteration', 'NotImplementedError',
  'True', 'False', 'None'
])

/** Methods that only read their receiver (str, bytes, tuple, dict and list readers, number helpers). */
export const PURE_METHODS: ReadonlySet<string> = new Set([
  // str / bytes
  'capitalize', 'casefold', 'center', 'count', 'decode', 'encode', 'endswith', 'expandtabs', 'find', 'format',
  'format_map', 'index', 'isalnum', 'isalpha', 'isascii', 'isdecimal', 'isdigit', 'isidentifier', 'islower',
  'isnumeric', 'isprintable', 'isspace', 'istitle', 'isupper', 'join', 'ljust', 'lower', 'lstrip', 'partition',
  'removeprefix', 'removesuffix', 'replace', 'rfind', 'rindex', 'rjust', 'rpartition', 'rsplit', 'rstrip', 'split',
  'splitlines', 'startswith', 'strip', 'swapcase', 'title', 'translate', 'upper', 'zfill', 'hex',
  // dict / set / list readers
  'get', 'keys', 'values', 'items', 'copy', 'union', 'intersection', 'difference', 'symmetric_difference',
  'issubset', 'issuperset', 'isdisjoint', 'most_common', 'total', 'elements',
  // numbers, dates, regex matches, hashes
  'is_integer', 'as_integer_ratio', 'bit_length', 'bit_count', 'conjugate', 'real', 'imag', 'isoformat',
  'strftime', 'timestamp', 'weekday', 'isoweekday', 'date', 'time', 'group', 'groups', 'groupdict', 'start',
  'end', 'span', 'match', 'fullmatch', 'search', 'findall', 'finditer', 'sub', 'subn', 'hexdigest', 'digest',
  'quantize', 'sqrt', 'exp', 'ln', 'log10', 'to_integral_value', 'normalize', 'limit_denominator'
])

/** Module functions that mutate their first argument. Other functions of allowed modules are pure. */
export const MUTATING_MODULE_FUNCTIONS: ReadonlySet<string> = new Set([
  'heapq.heappush', 'heapq.heappop', 'heapq.heapify', 'heapq.heapreplace', 'heapq.heappushpop',
  'bisect.insort', 'bisect.insort_left', 'bisect.insort_right', 'operator.setitem', 'operator.delitem',
  'operator.iadd', 'operator.iconcat'
])

/** Reductions whose result over a concatenation equals the reduction of the partial results. */
export const ASSOCIATIVE_BUILTINS: ReadonlySet<string> = new Set(['sum', 'len', 'min', 'max', 'any', 'all'])

/** Binary operators `acc = acc OP x` may use in a reduction: associative on numbers, strings, lists, sets. */
export const ASSOCIATIVE_OPERATORS: ReadonlySet<string> = new Set(['+', '*', '|', '&', '^'])

def _runsurge_deep_size(value, _getsizeof=__import__('sys').getsizeof, _deque=__import__('collections').deque):
    """Bytes of a value with everything it holds (containers, keys, values, instance attributes), each object once."""
    seen = set()
    stack = [value]
    total = 0
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        total += _getsizeof(v)
        if isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, (list, tuple, set, frozenset, _deque)):
            stack.extend(v)
        elif hasattr(v, '__dict__') and not isinstance(v, type):
            stack.append(vars(v))
    return total

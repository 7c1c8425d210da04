import { describe, expect, it } from 'vitest'
import { analyze } from '../src/index.ts'

/** Class (and source) of the first statement of main that is not an accumulator initialiser. */
function classOf (body: string, helpers = ''): string {
  const source = `${helpers}\n\ndef main(data):\n${body.split('\n').map(l => `    ${l}`).join('\n')}\n    return 0\n`
  const report = analyze(source)
  if (report.status !== 'accepted') throw new Error(report.error?.message)
  const cls = report.classes?.find(c => c.initOf === undefined)
  return `${cls?.class ?? '?'}${cls?.source !== undefined ? ` ${cls.source}` : ''}`
}

describe('maps', () => {
  const maps: Array<[string, string, string?]> = [
    ['ys = [x * 2 for x in data]', 'list comprehension'],
    ['ys = [x for x in data if x > 0]', 'filter'],
    ['ys = list(x + 1 for x in data)', 'list(generator)'],
    ['ys = list(map(str, data))', 'list(map(builtin, xs))'],
    ['ys = list(filter(lambda x: x % 2, data))', 'list(filter(lambda, xs))'],
    ['ys = [w for line in data for w in line.split()]', 'flat map'],
    ['ys = {r["k"]: r["v"] for r in data}', 'dict comprehension (merged in order)'],
    ['ys = [f(x) for x in data]', 'pure helper per element', 'def f(x):\n    return x * x'],
    ['ys = double_all(data)', 'helper that is a map', 'def double_all(xs):\n    return [x * 2 for x in xs]'],
    ['ys = []\nfor x in data:\n    if x < 0:\n        continue\n    y = x * 2\n    ys.append(y)', 'loop with continue and a temporary'],
    ['ys = []\nfor row in data:\n    for item in row:\n        ys.append(item)', 'nested loop (flat map)'],
    ['d = {}\nfor r in data:\n    d[r["id"]] = r["name"]', 'loop filling a dict'],
    ['ys = []\nfor x in data:\n    print(x)\n    ys.append(x)', 'print inside the element code']
  ]
  for (const [body, what, helpers] of maps) {
    it(`${what}: map`, () => {
      expect(classOf(body, helpers)).toBe('map data')
    })
  }

  it('broadcasts scalars and lookup tables computed earlier', () => {
    const report = analyze('def main(data):\n    table = {"a": 1}\n    scale = 2\n    ys = [table.get(x, 0) * scale for x in data]\n    return ys\n')
    expect(report.classes?.[2]).toMatchObject({ class: 'map', source: 'data', broadcast: ['scale', 'table'] })
  })
})

describe('reductions', () => {
  const reductions: Array<[string, string]> = [
    ['t = sum(data)', 'sum'],
    ['t = sum(x * x for x in data)', 'sum of a map'],
    ['t = len([x for x in data if x])', 'len of a filter'],
    ['t = max(data, key=lambda r: r[1])', 'max with a pure key'],
    ['t = all(x > 0 for x in data)', 'all'],
    ['t = 0\nfor x in data:\n    t = t + x * x', 'acc = acc + g(x)'],
    ['t = 1\nfor x in data:\n    t *= x', 'acc *= x'],
    ['t = 0\nfor x in data:\n    t |= x', 'acc |= x'],
    ['lo = None\nhi = 0\nfor x in data:\n    hi = max(hi, x)', 'acc = max(acc, x)'],
    ['n = 0\nfor x in data:\n    if x > 3:\n        n += 1', 'filtered count']
  ]
  for (const [body, what] of reductions) {
    it(`${what}: reduce`, () => {
      expect(classOf(body.includes('lo = None') ? body.replace('lo = None\n', '') : body)).toBe('reduce data')
    })
  }
})

describe('keyed reductions (group-by, counts, histograms, sets)', () => {
  const keyed: Array<[string, string, string]> = [
    ['d = {}\nfor r in data:\n    d.setdefault(r[0], []).append(r[1])', 'group', 'setdefault(k, []).append'],
    ['d = defaultdict(list)\nfor r in data:\n    d[r[0]].append(r[1])', 'group', 'defaultdict(list)'],
    ['d = {k: [] for k in KEYS}\nfor r in data:\n    if r[0] in d:\n        d[r[0]].append(r[1])', 'group', 'keys fixed by the initial value, tested with in'],
    ['d = {}\nfor r in data:\n    if r[0] not in d:\n        d[r[0]] = []\n    d[r[0]].append(r[1])', 'group', 'if k not in d: d[k] = []'],
    ['c = {}\nfor w in data:\n    c[w] = c.get(w, 0) + 1', 'count', 'd[k] = d.get(k, 0) + 1'],
    ['c = Counter()\nfor w in data:\n    c[w] += 1', 'count', 'Counter, c[w] += 1'],
    ['c = Counter()\nfor line in data:\n    c.update(line.split())', 'count', 'Counter.update'],
    ['c = defaultdict(int)\nfor w in data:\n    c[w] += len(w)', 'count', 'defaultdict(int)'],
    ['c = {}\nfor w in data:\n    if w not in c:\n        c[w] = 0\n    c[w] += 1', 'count', 'if k not in d: d[k] = 0'],
    ['bins = [0] * 10\nfor x in data:\n    bins[x % 10] += 1', 'count', 'histogram on [0] * n'],
    ['c = {"a": 0, "b": 0}\nfor w in data:\n    c[w] += 1', 'count', 'keys fixed by a literal of zeros'],
    ['c = Counter(w.lower() for w in data)', 'count', 'Counter(generator)'],
    ['s = set()\nfor x in data:\n    s.add(x % 7)', 'union', 'set.add'],
    ['d = {}\nfor r in data:\n    k, n = r.split()\n    if k not in d:\n        d[k] = {"n": 0, "t": 0.0}\n    d[k]["n"] += 1\n    d[k]["t"] += float(n)', 'count', 'a record of zeros per key, unpacked temporaries'],
    ['s = set()\nfor x in data:\n    s.update(x)', 'union', 'set.update'],
    ['s = {x % 7 for x in data}', 'union', 'set comprehension (arrival order kept)'],
    ['s = set(x % 7 for x in data)', 'union', 'set(generator)'],
    ['b = None\nfor x in data:\n    if b is None or x > b:\n        b = x', 'max_from_none', 'a running best from None (max)'],
    ['b = None\nfor x in data:\n    v = x * 2\n    if b is None or b > v:\n        b = v', 'min_from_none', 'a running best from None (min, of a per-element value)'],
    ['b = ""\nfor w in data:\n    if len(w) > len(b):\n        b = w', 'best', 'a running best by a key of the element (len(w) > len(b))'],
    ['b = 0\nfor x in data:\n    if x >= b:\n        b = x', 'best', 'a running best, the last of ties (x >= b)'],
    ['b = 10 ** 9\nfor x in data:\n    k = x % 97\n    if b > k:\n        b = k', 'best', 'a running best with the state first (b > k)'],
    ['b = None\nfor w in data:\n    if b is None or len(w) < len(b):\n        b = w', 'best', 'a running best by key from None (b is None or len(w) < len(b))'],
    ['b = None\nfor x in data:\n    if b is None or x >= b:\n        b = x', 'best', 'a running best from None that takes the last of ties (>=)'],
    ['d = {}\nfor x in data:\n    k = x % 7\n    if k not in d or x > d[k]:\n        d[k] = x', 'kbest', 'a running best per key (k not in d or x > d[k])'],
    ['d = {}\nfor w in data:\n    if w[0] not in d or len(w) >= len(d[w[0]]):\n        d[w[0]] = w', 'kbest', 'a running best per key by a key of the value, the last of ties'],
    ['d = {}\nfor x in data:\n    d[x % 7] = min(d.get(x % 7, x), x)', 'kbest', 'a running min per key (d[k] = min(d.get(k, x), x))'],
    ['d = {}\nfor r in data:\n    if r[0] not in d or r[1] > d[r[0]][1]:\n        d[r[0]] = (r[2], r[1])', 'kbest', 'a best per key kept with what it scores (d[k] = (w, s), s > d[k][1])'],
    ['b = None\nfor r in data:\n    if b is None or r[1] > b[1]:\n        b = (r[0], r[1])', 'best', 'a running best kept with what it scores (b = (w, s), s > b[1])'],
    ['b = None\nfor x in data:\n    if b is None and x < 0 and x % 2:\n        b = x', 'best', 'the first element that meets a condition (b is None and …)']
  ]
  const helpers = 'from collections import Counter, defaultdict\nKEYS = ["a", "b"]'
  for (const [body, op, what] of keyed) {
    it(`${what}: reduce with ${op}`, () => {
      const report = analyze(`${helpers}\n\ndef main(data):\n${body.split('\n').map(l => `    ${l}`).join('\n')}\n    return 0\n`)
      const cls = report.classes?.find(c => c.initOf === undefined)
      expect(cls?.reason).toBe('reduce over data')
      expect(cls?.accumulators.map(a => a.op)).toEqual([op])
    })
  }

  it('a loop over enumerate(data, START) is a reduce whose element code may read positions; a helper\'s is not a reduction', () => {
    const report = analyze('def main(data):\n    t = 0\n    for i, x in enumerate(data, 1):\n        t += i * x\n    return t\n')
    const cls = report.classes?.find(c => c.reason === 'reduce over data')
    expect(cls?.positions).toBe('1')
    expect(report.blocks?.find(b => b.source === 'data')?.positions).toBe('1')
    const helper = analyze('def weighted(xs):\n    t = 0\n    for i, x in enumerate(xs):\n        t += i * x\n    return t\n\ndef main(data):\n    return weighted(data)\n')
    expect(helper.functions?.find(f => f.name === 'weighted')?.class).toBe('opaque')
    for (const loop of ['for i, x in enumerate(data, start=1):', 'for i, x in enumerate(data, k):', 'for t in enumerate(data):', 'for (i, j), x in enumerate(data):']) {
      const other = analyze(`def main(data):\n    k = 1\n    t = 0\n    ${loop}\n        t += 1\n    return t\n`)
      expect(other.classes?.some(c => c.positions !== undefined), loop).toBe(false)
    }
  })

  it('a name the loop binds and main reads after it: its last binding (op last), unless it carries a value between elements', () => {
    const ops = (body: string, after: string): string[] | undefined => {
      const report = analyze(`def main(data):\n${body.split('\n').map(l => `    ${l}`).join('\n')}\n    return ${after}\n`)
      return report.classes?.find(c => c.reason === 'reduce over data')?.accumulators.map(a => `${a.variable} ${a.op}`)
    }
    expect(ops('last = None\nn = 0\nfor x in data:\n    n += 1\n    if x > 0:\n        last = x * 2', 'last, n')).toEqual(['n +', 'last last'])
    expect(ops('seen = None\nfor x in data:\n    y = x + 1\n    seen = y', 'seen')).toEqual(['seen last'])
    // A value carried from one element to the next, the loop's own variable, a name never bound before the loop.
    expect(ops('prev = None\nt = 0\nfor x in data:\n    if prev is not None:\n        t += x - prev\n    prev = x', 't')).toBeUndefined()
    expect(ops('t = 0\nfor x in data:\n    t += x', 'x')).toBeUndefined()
    expect(ops('t = 0\nfor x in data:\n    t += x\n    y = x', 'y')).toBeUndefined()
  })

  it('a score kept beside its element: one running best over several variables, replaced together', () => {
    const report = analyze('def main(data):\n    top = -1\n    word = None\n    n = 0\n    for line in data:\n        w, s = line.split()\n        n += 1\n        if int(s) >= top:\n            top = int(s)\n            word = w.upper()\n    return top, word, n\n')
    const cls = report.classes?.find(c => c.reason === 'reduce over data')
    expect(cls?.accumulators.map(a => [a.variable, a.op])).toEqual([['n', '+'], ['top', 'best'], ['word', 'best']])
    expect(cls?.accumulators[1]?.best).toMatchObject({ variables: ['top', 'word'], operator: '>=', elementFirst: true, element: 'int(s)', state: 'top', values: ['int(s)', 'w.upper()'], line: 8, endLine: 10 })
  })

  it('a list appended to next to reductions: a reduce loop whose list concatenates', () => {
    const report = analyze('def main(data):\n    ys = []\n    t = 0\n    c = {}\n    for x in data:\n        t += x\n        ys.append(x * 2)\n        c[x] = c.get(x, 0) + 1\n    return ys, t, c\n')
    expect(report.classes?.[3]).toMatchObject({ class: 'reduce', source: 'data' })
    expect(report.classes?.[3]?.accumulators.map(a => [a.variable, a.op])).toEqual([['t', '+'], ['ys', 'append'], ['c', 'count']])
  })

  const refused: Array<[string, string]> = [
    ['d = {}\nfor w in data:\n    if w in d:\n        d[w] += 1\n    else:\n        d[w] = 1', 'a membership test of a dict the loop adds keys to'],
    ['c = Counter()\nfor w in data:\n    if w in c:\n        c[w] += 1', 'a membership test of a Counter (which adds keys on +=)'],
    ['c = {}\nfor w in data:\n    c[w] = c.get(w, 1) + 1', 'a default that is not the identity'],
    ['c = {}\nfor w in data:\n    c[w] = c.get(w, 0) * 2', 'a keyed update that is not an addition'],
    ['c = Counter()\nfor w in data:\n    c[w] -= 1', 'a keyed subtraction'],
    ['c = {"a": 1}\nfor w in data:\n    c[w] += 1', 'a starting count that is not zero'],
    ['c = defaultdict(lambda: 5)\nfor w in data:\n    c[w] += 1', 'a defaultdict whose default is not zero'],
    ['s = {1}\nfor x in data:\n    s.add(x)', 'a set that does not start empty'],
    ['s = set()\nn = 0\nfor x in data:\n    if x in s:\n        n += 1\n    s.add(x)', 'a set read while it is built (seen-before)'],
    ['d = {}\nfor r in data:\n    d.setdefault(r[0], [0]).append(r[1])', 'setdefault with a non-empty list'],
    ['d = {}\nfor r in data:\n    d.setdefault(r[0], []).append(len(d))', 'a group whose values read the dict'],
    ['b = 0\nfor x in data:\n    if b is None or x > b:\n        b = x', 'a running best that starts as 0, not None'],
    ['b = ""\nfor w in data:\n    if len(b) < len(w):\n        b = w', 'a key of the state evaluated before the element\'s (len(b) < len(w))'],
    ['b = ""\nfor w in data:\n    if len(w) > len(b):\n        b = w.upper()', 'a key of the state that is not the element\'s key of the new value'],
    ['b = 0\nfor x in data:\n    if x > b:\n        b = x\n    if x < b - 5:\n        b = x', 'a running best replaced by two steps'],
    ['b = 0\nc = 0\nfor x in data:\n    if x > b:\n        b = x\n        c = c + 1', 'a replacement that reads what it replaces'],
    ['b = 0\nfor x in data:\n    if x > b:\n        b = x\n    y = b * 2', 'a running best read inside the loop'],
    ['b = 0\nw = 0\nfor x in data:\n    if x > b + w:\n        b = x\n        w = 1', 'a state key over two variables'],
    ['d = {}\nfor x in data:\n    d[x % 7] = max(x, d.get(x % 7, x))', 'a max per key with the new value first (its ties differ)'],
    ['b = None\nfor x in data:\n    if b is None and x < 0 or x > 5:\n        b = x', 'a first match whose condition holds also when set (… or …)'],
    ['d = {}\nfor x in data:\n    d[x % 7] = max(d.get(x % 7, 0), x)', 'a max per key from a default that is not the value'],
    ['d = {}\nfor x in data:\n    if x % 7 not in d or x > d[x % 5]:\n        d[x % 7] = x', 'a best per key compared with another key'],
    ['d = {1: 5}\nfor x in data:\n    if x % 7 not in d or x > d[x % 7]:\n        d[x % 7] = x', 'a best per key that does not start empty'],
    ['d = {}\nfor w in data:\n    if w[0] not in d or len(d[w[0]]) < len(w):\n        d[w[0]] = w', 'a key of the state evaluated before the element\'s, per key']
  ]
  for (const [body, what] of refused) {
    it(`${what}: opaque`, () => {
      expect(classOf(body, 'from collections import Counter, defaultdict').split(' ')[0]).toBe('opaque')
    })
  }
})

describe('records of counts per key, conservatively', () => {
  const record = (step: string, init = '{"n": 0, "t": 0.0}'): string =>
    classOf(`d = {}\nfor r in data:\n    k = r[:3]\n    if k not in d:\n        d[k] = ${init}\n${step.split('\n').map(l => `    ${l}`).join('\n')}`)
  it('only += on a field of a record that starts at zeros', () => {
    expect(record('d[k]["n"] += 1\nd[k]["t"] += 2.5')).toBe('reduce data')
    for (const step of ['d[k]["n"] = 5', 'd[k]["n"] += d[k]["t"]', 'd[k]["n"] += 1\nd[k]["last"] = r', 'd[k] = {"n": 1, "t": 0.0}', 'd[k]["n"] -= 1']) {
      expect(record(step), step).toMatch(/^opaque/)
    }
    expect(record('d[k]["n"] += 1', '{"n": 1, "t": 0.0}')).toMatch(/^opaque/)
    expect(record('d[k]["n"] += 1', '{name: 0}')).toMatch(/^opaque/)
  })
})

describe('opaque, conservatively', () => {
  const opaque: Array<[string, string, string?]> = [
    ['ys = sorted(data)', 'sorting'],
    ['ys = list(set(data))', 'dedupe with a set'],
    ['ys = [(i, x) for i, x in enumerate(data)]', 'positions (enumerate)'],
    ['ys = [x / len(data) for x in data]', 'element code reads the whole collection'],
    ['ys = [a + b for a, b in zip(data, data[1:])]', 'pairs of neighbours'],
    ['ys = data[:10]', 'slicing'],
    ['t = 0\nfor x in data:\n    t -= x', 'non-associative operator'],
    ['t = 0\nfor x in data:\n    t = x - t', 'accumulator on the right'],
    ['ys = []\nfor x in data:\n    if x < 0:\n        break\n    ys.append(x)', 'early exit (break)'],
    ['d = {}\nt = 0\nfor x in data:\n    t += x\n    d[x] = t', 'a dict filled by key next to a reduction'],
    ['ys = [x]\nfor x in data:\n    ys.append(x)', 'accumulator not initialised empty'],
    ['ys = [g(x) for x in data]', 'helper mutating its argument', 'def g(x):\n    x.append(1)\n    return x'],
    ['ys = [x.pop() for x in data]', 'element code mutating the element'],
    ['ys = [(y := x * 2) for x in data]', 'walrus in a comprehension'],
    ['ys = (x * 2 for x in data)', 'a bare generator (lazy, single use)'],
    ['f = len\nys = [f(x) for x in data]', 'call through a variable'],
    ['ys = []\nfor x in data:\n    ys.append(x)\n    ys.append(len(ys))', 'accumulator read inside the loop'],
    ['while data:\n    data = data[1:]', 'while loop'],
    ['ys = []\nfor x in data:\n    if x > 0:\n        y = x\n    ys.append(y)', 'a temporary kept from an earlier element'],
    ['ys = []\nfor row in data:\n    for v in row:\n        pass\n    ys.append(v)', 'an inner loop variable used after the inner loop']
  ]
  for (const [body, what, helpers] of opaque) {
    it(`${what}: opaque`, () => {
      expect(classOf(body, helpers).split(' ')[0]).toBe('opaque')
    })
  }

  it('keeps the loop variable out of the map when it is read after the loop', () => {
    const report = analyze('def main(data):\n    ys = []\n    for x in data:\n        ys.append(x)\n    return [ys, x]\n')
    expect(report.classes?.[1]).toMatchObject({ class: 'opaque', reason: "x is read after the loop, where it holds the last element's value" })
  })
})

describe('helper functions', () => {
  it('classifies helpers over their collection parameter and reports impurity', () => {
    const report = analyze([
      'SEEN = []', '', '',
      'def total(xs):', '    acc = 0', '    for x in xs:', '        acc += x', '    return acc', '', '',
      'def evens(xs):', '    return [x for x in xs if x % 2 == 0]', '', '',
      'def remember(x):', '    SEEN.append(x)', '    return x', '', '',
      'def fresh(xs):', '    out = []', '    out.append(len(xs))', '    return out', '', '',
      'def main(data):', '    return total(evens(data))', ''
    ].join('\n'))
    expect(report.functions?.map(f => `${f.name}:${f.class}:${f.over ?? '-'}:${f.pure ? 'pure' : f.impurity.join(';')}`)).toEqual([
      'total:reduce:xs:pure',
      'evens:map:xs:pure',
      'remember:opaque:-:mutates the module-level SEEN',
      'fresh:opaque:-:pure',
      'main:opaque:-:pure'
    ])
  })
})

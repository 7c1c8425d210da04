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
    ['ys = []\nt = 0\nfor x in data:\n    t += x\n    ys.append(x)', 'a map and a reduction in one loop'],
    ['ys = [x]\nfor x in data:\n    ys.append(x)', 'accumulator not initialised empty'],
    ['ys = [g(x) for x in data]', 'helper mutating its argument', 'def g(x):\n    x.append(1)\n    return x'],
    ['ys = [x.pop() for x in data]', 'element code mutating the element'],
    ['ys = [(y := x * 2) for x in data]', 'walrus in a comprehension'],
    ['ys = {x for x in data}', 'set comprehension (iteration order)'],
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

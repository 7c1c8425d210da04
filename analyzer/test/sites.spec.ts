import { describe, expect, it } from 'vitest'
import { analyze } from '../src/index.ts'

/** The reduction sites of `return EXPR` over a local list `xs`: op and collection of each. */
function sitesOf (expr: string): string[] {
  const report = analyze(`import heapq\n\n\ndef main(data):\n    xs = [x * 2 for x in data]\n    return ${expr}\n`)
  if (report.status !== 'accepted') throw new Error(report.error?.message)
  return (report.reductions?.sites ?? []).filter(s => s.problem === undefined).map(s => `${s.op} ${s.over}`)
}

const HELPERS = `
def total(xs):
    s = 0
    for x in xs:
        s += x
    return s


def from_one(xs):
    s = 1
    for x in xs:
        s += x
    return s


def biggest(xs):
    best = None
    for x in xs:
        if best is None or x > best:
            best = x
    return best


def biggest_double(xs):
    best = None
    for x in xs:
        v = x * 2
        if best is None or v > best:
            best = v
    return best


def tally(xs, k):
    counts = {}
    for x in xs:
        counts[x % k] = counts.get(x % k, 0) + 1
    return counts
`

/** Sites of `return EXPR` with the loop helpers above. */
function helperSitesOf (expr: string): string[] {
  const report = analyze(`${HELPERS}\n\ndef main(data):\n    xs = [x * 2 for x in data]\n    return ${expr}\n`)
  if (report.status !== 'accepted') throw new Error(report.error?.message)
  return (report.reductions?.sites ?? []).filter(s => s.problem === undefined).map(s => `${s.op} ${s.over}`)
}

describe('reduction sites through loop helpers', () => {
  it('adding from 0, counting by key with another argument, a running best of the elements from None', () => {
    expect(helperSitesOf('(total(xs), tally(xs, 7), biggest(xs))')).toEqual(['sum xs', 'counts xs', 'best xs'])
  })

  it('not a start that is not the identity, nor a running best of something else than the elements', () => {
    expect(helperSitesOf('(from_one(xs), biggest_double(xs))')).toEqual([])
  })
})

/** Sites of `return EXPR` over `xs` in a module that imports `header` first. */
function importedSitesOf (header: string, expr: string, local = ''): string[] {
  const report = analyze(`${header}\n\n\ndef main(data):\n    xs = [x * 2 for x in data]\n${local}    return ${expr}\n`)
  if (report.status !== 'accepted') throw new Error(report.error?.message)
  return (report.reductions?.sites ?? []).filter(s => s.problem === undefined).map(s => `${s.op} ${s.over}`)
}

describe('helpers that return an expression of reductions (inline)', () => {
  const HEADER = [
    'import math',
    'SCALE = 2',
    'def mean(xs):\n    """The average."""\n    return sum(xs) / len(xs)',
    'def spread(v):\n    return (max(v) - min(v)) * SCALE + math.fsum(v) * 0',
    'def ends(xs):\n    return (xs[0], xs[-1])',
    'def whole(xs):\n    return sorted(xs)',
    'def pair(xs, k):\n    return sum(xs) * k',
    'def two(xs):\n    m = sum(xs) / len(xs)\n    return m',
    'def outside(xs):\n    return len(xs) + xs.index(3)'
  ].join('\n\n\n')

  it('a call of one on a local collection is one site; its reductions are combined, the expression evaluated in the aggregator', () => {
    expect(importedSitesOf(HEADER, '(mean(xs), spread(xs), ends(xs))')).toEqual(['inline xs', 'inline xs', 'inline xs'])
    const report = analyze(`${HEADER}\n\n\ndef main(data):\n    xs = [x * 2 for x in data]\n    return mean(xs)\n`)
    const site = report.reductions?.sites.find(x => x.op === 'inline')
    expect(site?.inline).toEqual({ text: '_runsurge_s(0) / _runsurge_s(1)', inner: [{ op: 'sum', start: '0' }, { op: 'len', start: '0' }] })
    expect(site?.chunk).toBe('(lambda xs: [_runsurge_guard(lambda: _runsurge_sum(xs)), _runsurge_guard(lambda: _runsurge_len(xs))])(xs)')
  })

  it('not when the parameter is used whole, the helper has more parameters or statements, or main binds a name it reads', () => {
    expect(importedSitesOf(HEADER, '(whole(xs), pair(xs, 3), outside(xs))')).toEqual([])
    expect(importedSitesOf(HEADER, 'spread(xs)', '    SCALE = 3\n')).toEqual([])
  })
})

describe('helpers that compute values before they return (inline in passes)', () => {
  const HEADER = [
    'import math',
    'LIMIT = 3',
    'def mean(xs):\n    return sum(xs) / len(xs)',
    'def stdev(xs):\n    m = mean(xs)\n    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))',
    'def moments(xs):\n    n = len(xs)\n    mu = sum(xs) / n\n    sd = math.sqrt(sum((x - mu) ** 2 for x in xs) / n)\n    return sum(((x - mu) / sd) ** 3 for x in xs) / n',
    'def span(xs):\n    lo = min(xs)\n    hi = max(xs)\n    return hi - lo',
    'def early(xs):\n    s = t + sum(xs)\n    t = 1\n    return s',
    'def whole(xs):\n    ys = sorted(xs)\n    return ys[0]',
    'def twice(xs):\n    m = sum(xs)\n    m = m * 2\n    return m',
    'def outer(xs):\n    m = stdev(xs)\n    return m',
    'def capture(xs):\n    m = max(xs)\n    return sum(x * LIMIT for x in xs if x < m)',
    'def shadow(xs):\n    LIMIT = max(xs)\n    return mean(xs) + LIMIT'
  ].join('\n\n\n')

  function sitesIn (expr: string, local = ''): Array<{ op: string, level?: number, after?: number, inner: string[], statements?: string[] }> {
    const report = analyze(`${HEADER}\n\n\ndef main(data):\n    xs = [x * 2 for x in data]\n${local}    return ${expr}\n`)
    if (report.status !== 'accepted') throw new Error(report.error?.message)
    return (report.reductions?.sites ?? []).filter(s => s.problem === undefined).map(s => ({
      op: s.op,
      ...(s.inline?.level !== undefined ? { level: s.inline.level } : {}),
      ...(s.after !== undefined ? { after: s.after } : {}),
      inner: s.inline?.inner.map(x => x.op) ?? [],
      ...(s.inline?.statements !== undefined ? { statements: s.inline.statements.map(st => `${st.name}@${st.level} = ${st.text}`) } : {})
    }))
  }

  it('one site per pass: what reads none of the helper\'s values, then what reads a value of the pass before', () => {
    expect(sitesIn('stdev(xs)')).toEqual([
      { op: 'inline', level: 1, inner: ['sum', 'len', 'len'], statements: ['m@1 = (_runsurge_s(0) / _runsurge_s(1))'] },
      { op: 'inline', level: 2, after: 0, inner: ['sum'] }
    ])
    const report = analyze(`${HEADER}\n\n\ndef main(data):\n    xs = [x * 2 for x in data]\n    return stdev(xs)\n`)
    const [first, second] = report.reductions?.sites ?? []
    expect(first?.inline?.text).toBe('math.sqrt(_runsurge_s(2) / (_runsurge_s(3) - 1))')
    expect(first?.inline?.positions).toEqual([[0, 0], [0, 1], [1, 0], [0, 2]])
    expect([second?.start, second?.end, second?.text]).toEqual([-1, -1, 'stdev(xs) (pass 2)'])
    // The later pass reads m from the stage's broadcast of the helper's values (its own key: -1 - its index).
    expect(second?.chunk).toBe("(lambda xs, _runsurge_l: [_runsurge_guard(lambda: (lambda m: _runsurge_sum((x - m) ** 2 for x in xs))(_runsurge_l['m']))])(xs, _runsurge_site(-2))")
  })

  it('three passes when a value reads one of the second; statements of reductions alone in one pass', () => {
    expect(sitesIn('moments(xs)').map(s => [s.level, s.after, s.inner.join(' ')])).toEqual([[1, undefined, 'len sum'], [2, 0, 'sum'], [3, 1, 'sum']])
    expect(sitesIn('(span(xs), mean(xs))').map(s => [s.op, s.level, s.statements?.length])).toEqual([['inline', 1, 2], ['inline', undefined, undefined]])
  })

  it('not when a value is read before it is bound or bound twice, the parameter is used whole, a nested helper has statements, or a name means something else where the reductions run', () => {
    expect(sitesIn('(early(xs), whole(xs), twice(xs), outer(xs))')).toEqual([])
    // LIMIT is main's own here: the chunks would read main's, not the module's.
    expect(sitesIn('capture(xs)', '    LIMIT = 4\n')).toEqual([])
    expect(sitesIn('capture(xs)').map(s => s.level)).toEqual([1, 2])
    // The helper's value LIMIT would capture mean's reading of it, were mean to read one: mean reads none, so it is fine.
    expect(sitesIn('shadow(xs)').map(s => s.level)).toEqual([1])
  })
})

describe('the last k of a sort', () => {
  it('sorted(…)[-k:] with a key and either direction is a site; with a start and a stop, or a variable k, it is not', () => {
    expect(sitesOf('(sorted(xs)[-3:], sorted(xs, key=abs, reverse=True)[-1:])')).toEqual(['sortedtail xs', 'sortedtail xs'])
    expect(sitesOf('(sorted(xs)[-3:-1], sorted(xs)[-len(xs):])')).toEqual(['len xs'])
  })
})

describe('reduction sites of the statistics module and math.fsum', () => {
  it('by module, by imported name and alias, over the list or a generator over it', () => {
    expect(importedSitesOf('import math\nimport statistics', '(statistics.pstdev(xs), math.fsum(x / 2 for x in xs), statistics.fmean(xs), statistics.variance(xs))'))
      .toEqual(['pstdev xs', 'fsum xs', 'fmean xs', 'variance xs'])
    expect(importedSitesOf('from statistics import mean as avg, stdev, pvariance\nimport statistics as st', '[avg(xs), stdev(xs), pvariance(xs), st.mean(xs)]'))
      .toEqual(['mean xs', 'stdev xs', 'pvariance xs', 'mean xs'])
  })

  it('not with a second argument (mu, weights), not the median, not a name the job binds itself', () => {
    expect(importedSitesOf('import statistics', '(statistics.pstdev(xs, 3), statistics.fmean(xs, [1] * len(xs)), statistics.median(xs))')).toEqual(['len xs'])
    expect(importedSitesOf('import statistics', 'statistics.fmean(xs)', '    statistics = {"fmean": len}\n')).toEqual([])
    expect(importedSitesOf('def fsum(xs):\n    return 0', 'fsum(xs)')).toEqual([])
  })
})

describe('reduction sites', () => {
  const found: Array<[string, string[]]> = [
    ['{"n": len(xs), "t": sum(xs), "hi": max(xs, key=abs)}', ['len xs', 'sum xs', 'max xs']],
    ['(xs[0], xs[-1], xs[:3], xs[-2:])', ['first xs', 'last xs', 'head xs', 'tail xs']],
    ['len(set(x % 7 for x in xs))', ['union xs']],
    ['len([x for x in xs if x > 3])', ['len xs']],
    ['xs.count(0) + xs.count(len(data) % 2)', ['count xs', 'count xs']],
    ['sorted({x % 7 for x in xs})', ['union xs']],
    ['set(xs)', ['union xs']],
    ['min(enumerate(xs), key=lambda t: t[1])', ['min xs']],
    ['max(enumerate(xs), key=lambda p: abs(p[1]) % 10)', ['max xs']],
    ['heapq.nlargest(3, xs)', ['nlargest xs']]
  ]
  for (const [expr, sites] of found) {
    it(`${expr}: ${sites.join(', ')}`, () => {
      expect(sitesOf(expr)).toEqual(sites)
    })
  }

  const none: Array<[string, string]> = [
    ['xs[-0:]', 'a slice from -0 (all of xs)'],
    ['xs[1:3]', 'a slice with a start'],
    ['xs[::2]', 'a slice with a step'],
    ['xs[:n]', 'a slice whose bound is not a literal'],
    ['min(enumerate(xs), key=lambda t: (t[1], -t[0]))', 'an enumerate key that reads the index'],
    ['min(enumerate(xs), key=lambda t: t)', 'an enumerate key that reads the whole pair'],
    ['min(enumerate(xs))', 'enumerate without a key (the index decides)'],
    ['min(enumerate(xs, 1), key=lambda t: t[1])', 'enumerate with a start']
  ]
  for (const [expr, what] of none) {
    it(`not a site: ${what}`, () => {
      expect(sitesOf(expr.replace('xs[:n]', 'xs[:len(data)]'))).not.toContainEqual(expect.stringMatching(/^(head|tail|min|max) xs$/))
    })
  }
})

/**
 * The automatic-mode corpus: plain `main(data)` programs (test/fixtures/auto-corpus/) and, for each, a seeded
 * generator of its input in the format it expects. 01–17 are the planner unit tests' programs
 * (planner/test/fixtures/auto/, read from there); 18 onwards were written for the
 * end-to-end tests (test/integration/auto.spec.ts).
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { prng } from './analyzer.ts'

export const CORPUS_DIR = join(import.meta.dirname, '..', 'test', 'fixtures', 'auto-corpus')
/** Runs a program once on a whole input file and prints its result as the node's runner writes it. */
export const SEQUENTIAL_DRIVER = join(CORPUS_DIR, 'sequential.py')
/** Programs 01–17 are the planner's own fixtures; 18 onwards live here. */
export const PLANNER_FIXTURES = join(import.meta.dirname, '..', 'planner', 'test', 'fixtures', 'auto')

/** Where a corpus program's file is. */
export function programPath (file: string): string {
  return existsSync(join(CORPUS_DIR, file)) ? join(CORPUS_DIR, file) : join(PLANNER_FIXTURES, file)
}

export type InputExtension = 'jsonl' | 'csv' | 'txt'

export interface CorpusProgram {
  /** File name in this folder. */
  file: string
  ext: InputExtension
  /**
   * Whether the planner can split it: on an idle mesh of two nodes and an input of more than 1 MiB and 10,000
   * elements it runs at level 3. Otherwise (prefix sums, a mean broadcast into a map of data, indexing data) it
   * runs at level 1.
   */
  splittable: boolean
  /**
   * The large input: its size (MiB) and the level it runs at on two nodes offering 48 MiB each. Level 3: the
   * whole program's estimate is well above 48 MiB and the split fits, so memory forces the split. Level 1: it is
   * not splittable, or it fits one node, where it stays unless calibrated times say a split would be faster (these
   * programs are cheap: one task is faster). The size of the latter is kept where one node suffices because their
   * aggregator would hold about the whole input (a map's list returned, a sort or word count over every element),
   * so memory can never force their split.
   */
  large: { mib: number, level: 1 | 3 }
  /** The whole input for `n` elements: deterministic for a seed. */
  input: (n: number, seed: number) => string
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32): the analyzer tests' generator. */
export const random = prng

export type Random = () => number

export const WORDS = ['alpha', 'beta', 'Gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu', 'über', 'naïve', 'x']
const PROSE = ['the', 'a', 'of', 'and', 'River', 'stone', 'light', 'Quiet', 'north', 'harbour', 'x', 'café', 'Ω-mega', 'seven7', 'ALPHA', 'data']

/** `n` lines, each `line(r, i)` followed by a newline. */
export function lines (n: number, seed: number, line: (r: Random, i: number) => string): string {
  const r = random(seed)
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push(line(r, i))
  return out.length === 0 ? '' : out.join('\n') + '\n'
}
/** `n` JSON lines. */
export const jsonl = (n: number, seed: number, row: (r: Random, i: number) => unknown): string => lines(n, seed, (r, i) => JSON.stringify(row(r, i)))
export const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
export const int = (r: Random, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1))
/** A number that is sometimes an int and sometimes the equal float (5 vs 5.0 decide min/max ties). */
export const intOrFloat = (r: Random, lo: number, hi: number): string => {
  const v = int(r, lo, hi)
  return r() < 0.5 ? `${v}` : `${v}.0`
}
const sentence = (r: Random, from: number, to: number): string =>
  Array.from({ length: int(r, from, to) }, () => pick(r, PROSE) + pick(r, ['', '', '', ',', '.', '!', '?', ';'])).join(' ')

export const CORPUS: CorpusProgram[] = [
  { file: '01-squares.py', ext: 'jsonl', splittable: true, large: { mib: 1.3, level: 1 }, input: (n, s) => lines(n, s, r => r() < 0.2 ? `${int(r, -1e15, 1e15)}` : `${int(r, -1000, 1000)}`) },
  {
    file: '02-filter-orders.py',
    ext: 'jsonl',
    splittable: true,
    large: { mib: 3, level: 3 },
    input: (n, s) => jsonl(n, s, (r, i) => ({ id: i, status: pick(r, ['paid', 'open', 'void', 'paid']), amount: r() < 0.5 ? int(r, -5, 500) : Math.round(r() * 50000) / 100, region: pick(r, ['n', 's', 'e', 'w']) }))
  },
  { file: '03-chain-helpers.py', ext: 'jsonl', splittable: true, large: { mib: 3, level: 3 }, input: (n, s) => jsonl(n, s, r => ({ amount: Math.round(r() * 1e6) / 100, qty: int(r, 0, 30) })) },
  {
    file: '04-reductions.py',
    ext: 'jsonl',
    splittable: true,
    large: { mib: 3, level: 3 },
    input: (n, s) => jsonl(n, s, (r, i) => ({ id: i, price: r() < 0.001 ? 0 : int(r, 1, 900), qty: int(r, 0, 9), weight: int(r, 0, 20) }))
  },
  {
    file: '05-accumulators.py',
    ext: 'jsonl',
    splittable: true,
    large: { mib: 4, level: 3 },
    // The first and last rows hold the extremes as int and as float: which one survives shows the tie rule.
    input: (n, s) => lines(n, s, (r, i) => `{"ok": ${r() < 0.7 ? 'true' : 'false'}, "amount": ${i === 0 ? '60' : i === 1 ? '1.0' : i === n - 2 ? '1' : i === n - 1 ? '60.0' : intOrFloat(r, 1, 60)}, "qty": ${int(r, 0, 10)}, "mask": ${1 << int(r, 0, 20)}, "code": "${pick(r, WORDS).slice(0, 2)}"}`)
  },
  {
    file: '06-index-setitem.py',
    ext: 'jsonl',
    splittable: true,
    large: { mib: 4, level: 3 },
    input: (n, s) => jsonl(n, s, (r, i) => ({ id: i, region: pick(r, ['a', 'b', 'c', 'd', 'e']), year: int(r, 2000, 2012), amount: int(r, 0, 1e6), name: pick(r, WORDS) + i }))
  },
  {
    file: '07-text-words.py',
    ext: 'txt',
    splittable: true,
    large: { mib: 1.3, level: 1 },
    input: (n, s) => lines(n, s, r => r() < 0.05 ? '' : Array.from({ length: int(r, 1, 9) }, () => pick(r, WORDS) + pick(r, ['', '', ',', '.', '!'])).join(' '))
  },
  {
    file: '08-csv-records.py',
    ext: 'csv',
    splittable: true,
    large: { mib: 3, level: 3 },
    input: (n, s) => 'id,name,amount,city\n' + lines(n, s, r => `${int(r, 0, n / 2)},"${pick(r, WORDS)} ${pick(r, WORDS)}",${(r() * 1e5).toFixed(2)},${pick(r, ['Oslo', 'Lima', 'Pune', 'Kyiv'])}`)
  },
  { file: '09-broadcast-constant.py', ext: 'jsonl', splittable: true, large: { mib: 3, level: 3 }, input: (n, s) => jsonl(n, s, r => ({ amount: Math.round(r() * 20000) / 100, currency: pick(r, ['EUR', 'USD', 'GBP', 'JPY']) })) },
  {
    file: '10-opaque-after-chain.py',
    ext: 'txt',
    splittable: true,
    large: { mib: 0.7, level: 1 },
    input: (n, s) => lines(n, s, r => r() < 0.1 ? 'garbage line' : `${pick(r, WORDS)}${int(r, 0, 99)},${int(r, 0, 5000)}`)
  },
  { file: '11-prefix-sum.py', ext: 'jsonl', splittable: false, large: { mib: 1.3, level: 1 }, input: (n, s) => lines(n, s, r => `${int(r, -100000, 100000)}`) },
  { file: '12-mean-center.py', ext: 'jsonl', splittable: false, large: { mib: 1.3, level: 1 }, input: (n, s) => lines(n, s, r => `${int(r, -100000, 100000)}`) },
  {
    file: '13-float-edges.py',
    ext: 'txt',
    splittable: true,
    large: { mib: 1.1, level: 1 },
    input: (n, s) => lines(n, s, r => {
      const u = r()
      return u < 0.01 ? 'nan' : u < 0.015 ? 'inf' : u < 0.02 ? '-inf' : u < 0.04 ? '-0.0' : u < 0.06 ? '0.0' : u < 0.5 ? `${int(r, -50, 50)}` : `${(r() * 200 - 100).toFixed(3)}`
    })
  },
  {
    file: '14-tuples-sets-aliasing.py',
    ext: 'jsonl',
    splittable: true,
    large: { mib: 1.3, level: 1 },
    input: (n, s) => jsonl(n, s, (r, i) => ({ id: i, a: int(r, 0, 9), b: pick(r, WORDS), tags: Array.from({ length: int(r, 0, 3) }, () => pick(r, ['x', 'y', 'z', 'w'])), ok: r() < 0.5 }))
  },
  {
    file: '15-any-all-short-circuit.py',
    ext: 'jsonl',
    splittable: true,
    large: { mib: 2.5, level: 3 },
    // The first element decides any(): the zeros further on would raise ZeroDivisionError if reached.
    input: (n, s) => '5\n' + lines(n - 1, s, r => r() < 0.01 ? '0' : `${int(r, 11, 500)}`)
  },
  { file: '16-records-classes.py', ext: 'jsonl', splittable: true, large: { mib: 2, level: 1 }, input: (n, s) => jsonl(n, s, (r, i) => ({ id: i, w: int(r, 0, 100), x: int(r, -9, 9), y: r() })) },
  { file: '17-return-reduction.py', ext: 'txt', splittable: true, large: { mib: 6, level: 3 }, input: (n, s) => lines(n, s, r => Array.from({ length: int(r, 0, 6) }, () => pick(r, WORDS)).join(' ')) },
  // ---- written for the end-to-end tests
  { file: '18-big-int-powers.py', ext: 'jsonl', splittable: true, large: { mib: 2.5, level: 3 }, input: (n, s) => lines(n, s, r => r() < 0.3 ? `${int(r, -1e12, 1e12)}` : `${int(r, -99, 99)}`) },
  {
    file: '19-jsonl-events.py',
    ext: 'jsonl',
    splittable: true,
    large: { mib: 3, level: 3 },
    input: (n, s) => jsonl(n, s, (r, i) => ({ user: r() < 0.1 ? null : `u${int(r, 1, 5000)}`, kind: pick(r, ['click', 'view', 'scroll', 'click']), ms: int(r, 0, 10000), seq: i }))
  },
  {
    file: '20-csv-tuples-opaque.py',
    ext: 'csv',
    splittable: true,
    large: { mib: 1.3, level: 3 },
    input: (n, s) => 'sku,qty,price,note\n' + lines(n, s, r => `${pick(r, [' ', '', ''])}${pick(r, ['ab', 'cd', 'ef', 'gh'])}${int(r, 0, 300)},${int(r, -2, 20)},${(r() * 500).toFixed(2)},"${sentence(r, 0, 3)}"`)
  },
  {
    file: '21-text-char-stats.py',
    ext: 'txt',
    splittable: true,
    large: { mib: 4, level: 1 },
    input: (n, s) => lines(n, s, r => r() < 0.04 ? pick(r, ['', '   ']) : sentence(r, 1, 12))
  },
  { file: '22-word-count-dict.py', ext: 'txt', splittable: true, large: { mib: 1.3, level: 1 }, input: (n, s) => lines(n, s, r => sentence(r, 0, 10)) },
  { file: '23-nested-helpers.py', ext: 'jsonl', splittable: true, large: { mib: 3, level: 3 }, input: (n, s) => jsonl(n, s, r => ({ text: sentence(r, 1, 9), pad: int(r, 0, 9) })) },
  {
    file: '24-float-moments.py',
    ext: 'jsonl',
    splittable: true,
    large: { mib: 3, level: 3 },
    input: (n, s) => jsonl(n, s, r => ({ x: r() < 0.3 ? int(r, -500, 500) : Math.round((r() * 2000 - 1000) * 1e6) / 1e6 }))
  },
  {
    file: '25-dedupe-emails.py',
    ext: 'jsonl',
    splittable: true,
    large: { mib: 3, level: 3 },
    input: (n, s) => jsonl(n, s, r => ({
      email: r() < 0.03 ? 'not-an-email' : `${pick(r, [' ', '', ''])}${pick(r, ['Ann', 'bob', 'CARL', 'dee', 'Eve'])}.${int(r, 0, 3000)}@${pick(r, ['Example.com', 'mail.org', 'runsurge.dev', 'post.EU'])}${pick(r, [' ', ''])}`
    }))
  },
  { file: '26-broadcast-bands.py', ext: 'txt', splittable: true, large: { mib: 1.1, level: 1 }, input: (n, s) => lines(n, s, r => `${Math.floor(10 ** (r() * 5.2))}`) },
  {
    file: '27-nested-records-flatten.py',
    ext: 'jsonl',
    splittable: true,
    large: { mib: 3, level: 3 },
    input: (n, s) => jsonl(n, s, (r, i) => ({ id: i, items: Array.from({ length: int(r, 0, 4) }, () => ({ p: r() < 0.5 ? int(r, 1, 200) : Math.round(r() * 20000) / 100, q: int(r, 1, 6) })) }))
  },
  { file: '28-running-max.py', ext: 'jsonl', splittable: false, large: { mib: 2, level: 1 }, input: (n, s) => lines(n, s, r => `${int(r, -1e9, 1e9)}`) },
  { file: '29-differences.py', ext: 'jsonl', splittable: false, large: { mib: 2, level: 1 }, input: (n, s) => lines(n, s, r => `${int(r, -1e9, 1e9)}`) },
  { file: '30-sort-everything.py', ext: 'txt', splittable: true, large: { mib: 1.3, level: 1 }, input: (n, s) => lines(n, s, r => `${pick(r, WORDS)}${int(r, 0, 999)}`) },
  {
    file: '31-csv-accumulate.py',
    ext: 'csv',
    splittable: true,
    large: { mib: 3, level: 3 },
    input: (n, s) => 'cents,kg,service,city\n' + lines(n, s, r => `${int(r, -500, 250000)},${(r() * 80).toFixed(3)},${pick(r, ['express', 'standard', 'economy'])},${pick(r, ['Oslo', 'Lima', 'Pune', 'Kyiv'])}`)
  }
]

/**
 * Not in the corpus: a program the planner splits (on two 64 MiB nodes, at 6 MiB) although every value of the
 * input ends up in its aggregator, because a min/max accumulator over values that are not totally ordered (nan)
 * sends all the values it compared.
 */
export const NAN_MIN_LOOP: CorpusProgram = {
  file: 'nan-min-loop.py',
  ext: 'txt',
  splittable: true,
  large: { mib: 6, level: 3 },
  input: (n, s) => lines(n, s, r => r() < 0.01 ? 'nan' : (r() * 2000 - 1000).toFixed(4))
}

/** The corpus program named `file`. */
export function program (file: string): CorpusProgram {
  const found = CORPUS.find(p => p.file === file)
  if (found === undefined) throw new Error(`no corpus program ${file}`)
  return found
}

/**
 * The input of `program` with at least `minElements` elements and at least `minBytes` bytes (UTF-8): the element
 * count is estimated from a sample, then raised until both hold.
 */
export function inputOfSize (program: CorpusProgram, minElements: number, minBytes: number, seed: number): { text: string, elements: number } {
  const sample = Buffer.byteLength(program.input(2_000, seed))
  let n = Math.max(minElements, Math.ceil((minBytes / sample) * 2_000 * 1.02))
  for (;;) {
    const text = program.input(n, seed)
    if (Buffer.byteLength(text) >= minBytes) return { text, elements: n }
    n = Math.ceil(n * 1.1)
  }
}

/**
 * The reach corpus (issue 14): `main(data)` programs written the way people write a quick script — reductions inside
 * returned expressions, two- and three-pass statistics, group-by, order-sensitive reductions, helper functions —
 * not shaped around what the planner splits today. Each has a seeded generator of its input whose data hits the
 * edge cases a split must respect: ties in max/min with a key, an int and the equal float (5 vs 5.0), negative
 * numbers, empty groups, unicode words. The programs in held-out/ are the same style and stay out of the
 * planner's tuning, so that they measure generalisation.
 *
 * `scripts/reach.ts` runs every program on 3 nodes offering 48 MiB each, at a size whose sequential python3 peak
 * is at least 1.5 times that, and compares with python3.
 */
import { join } from 'node:path'
import { int, intOrFloat, jsonl, lines, pick } from './auto.ts'
import type { InputExtension, Random } from './auto.ts'

export const REACH_DIR = join(import.meta.dirname, '..', 'test', 'fixtures', 'reach-corpus')

/** What a program is mostly about (issue 14's list of shapes). */
export type ReachShape = 'returned-reductions' | 'multi-pass' | 'group-by' | 'order-sensitive' | 'helper-reductions'

export interface ReachProgram {
  /** Path relative to this folder (`held-out/…` for the held-out ones). */
  file: string
  ext: InputExtension
  /** The whole input for `n` elements: deterministic for a seed. */
  input: (n: number, seed: number) => string
  /** In held-out/: not looked at while the planner is tuned. */
  heldOut: boolean
  /** A pass needs a scalar (or small value) computed by an earlier pass over the same data. */
  multiPass: boolean
  shape: ReachShape
}

/** Where a reach program's file is. */
export function reachPath (program: ReachProgram): string {
  return join(REACH_DIR, program.file)
}

const WORDS = ['the', 'a', 'of', 'and', 'river', 'Stone', 'light', 'quiet', 'north', 'harbour', 'café', 'naïve', 'über',
  'Ω-mega', 'seven7', 'DATA', 'data', 'Zürich', 'smörgåsbord', 'façade', 'jalapeño', 'x', 'I', 'résumé', 'crème', 'tea']
const PUNCTUATION = ['', '', '', '', ',', '.', '!', '?', ';']
const CITIES = ['Oslo', 'Lima', 'São Paulo', 'Zürich', 'Kyiv', 'Pune', 'Washington, D.C.', 'Málaga']

const sentence = (r: Random, from: number, to: number): string =>
  Array.from({ length: int(r, from, to) }, () => pick(r, WORDS) + pick(r, PUNCTUATION)).join(' ')
/** A decimal with `digits` places in [lo, hi). */
const decimal = (r: Random, lo: number, hi: number, digits: number): string => (lo + r() * (hi - lo)).toFixed(digits)
/** An int, the equal float, or a decimal: the mix a numeric column of real data has. */
const number = (r: Random, lo: number, hi: number): string => r() < 0.6 ? intOrFloat(r, lo, hi) : decimal(r, lo, hi, 2)
/** A CSV field, quoted when it holds a comma. */
const field = (text: string): string => text.includes(',') ? `"${text}"` : text

export const REACH: ReachProgram[] = [
  // ---- reductions inside returned expressions
  {
    file: '01-return-dict-summary.py',
    ext: 'jsonl',
    heldOut: false,
    multiPass: false,
    shape: 'returned-reductions',
    // Many rows hold the extremes 1000 and -200, as int and as float: which one the result shows is the tie rule.
    input: (n, s) => lines(n, s, r => `{"sensor": "s${int(r, 1, 40)}", "ok": ${r() < 0.8 ? 'true' : 'false'}, "value": ${number(r, -200, 1000)}}`)
  },
  {
    file: '02-return-tuple-mixed.py',
    ext: 'csv',
    heldOut: false,
    multiPass: false,
    shape: 'returned-reductions',
    input: (n, s) => 'id,price,qty\n' + lines(n, s, (r, i) => `${i},${decimal(r, -20, 500, 2)},${r() < 0.05 ? '' : int(r, -3, 40)}`)
  },
  {
    file: '03-mean-one-liner.py',
    ext: 'txt',
    heldOut: false,
    multiPass: false,
    shape: 'returned-reductions',
    input: (n, s) => lines(n, s, r => {
      const u = r()
      return u < 0.03 ? '' : u < 0.05 ? '   ' : u < 0.1 ? ` ${int(r, -50, 900)} ` : number(r, -50, 900)
    })
  },
  {
    file: '04-rounded-report.py',
    ext: 'jsonl',
    heldOut: false,
    multiPass: false,
    shape: 'returned-reductions',
    input: (n, s) => lines(n, s, (r, i) => `{"id": ${i}, "amount": ${r() < 0.05 ? int(r, -500, -1) : number(r, 1, 2500)}, "card": ${r() < 0.6 ? 'true' : 'false'}}`)
  },
  // ---- two- and three-pass statistics
  {
    file: '05-variance-two-pass.py',
    ext: 'jsonl',
    heldOut: false,
    multiPass: true,
    shape: 'multi-pass',
    input: (n, s) => lines(n, s, r => number(r, -300, 1000))
  },
  {
    file: '06-normalize-by-max.py',
    ext: 'jsonl',
    heldOut: false,
    multiPass: true,
    shape: 'multi-pass',
    input: (n, s) => lines(n, s, (r, i) => `{"player": "p${i % 997}", "score": ${r() < 0.02 ? int(r, -40, -1) : intOrFloat(r, 0, 5000)}}`)
  },
  {
    file: '07-outliers-zscore.py',
    ext: 'txt',
    heldOut: false,
    multiPass: true,
    shape: 'multi-pass',
    // Mostly 10–550 ms, a few spikes far beyond three standard deviations.
    input: (n, s) => lines(n, s, r => r() < 0.003 ? decimal(r, 5000, 20000, 3) : (10 * Math.exp(r() * 4)).toFixed(3))
  },
  {
    file: '08-stdev-helpers.py',
    ext: 'csv',
    heldOut: false,
    multiPass: true,
    shape: 'helper-reductions',
    input: (n, s) => 'id,height_cm,weight_kg\n' + lines(n, s, (r, i) => `${i},${decimal(r, 145, 205, 1)},${r() < 0.1 ? '' : decimal(r, 40, 130, 1)}`)
  },
  // ---- group-by
  {
    file: '09-groupby-setdefault.py',
    ext: 'jsonl',
    heldOut: false,
    multiPass: false,
    shape: 'group-by',
    input: (n, s) => lines(n, s, (r, i) => `{"id": ${i}, "region": ${JSON.stringify(pick(r, CITIES))}, "amount": ${number(r, -50, 800)}}`)
  },
  {
    file: '10-groupby-empty-groups.py',
    ext: 'jsonl',
    heldOut: false,
    multiPass: false,
    shape: 'group-by',
    // "legal" never has a ticket (an empty group); "hr" is not a known team and is skipped.
    input: (n, s) => lines(n, s, (r, i) => `{"id": ${i}, "team": "${pick(r, ['infra', 'web', 'mobile', 'data', 'billing', 'hr', 'web'])}", "hours": ${intOrFloat(r, 0, 40)}}`)
  },
  {
    file: '11-dict-get-totals.py',
    ext: 'csv',
    heldOut: false,
    multiPass: false,
    shape: 'group-by',
    input: (n, s) => 'merchant,cents,ts\n' + lines(n, s, (r, i) => `${field(pick(r, CITIES) + ' ' + pick(r, ['Café', 'Books', 'Market', 'Garage']))},${int(r, -2000, 50000)},${1_700_000_000 + i}`)
  },
  {
    file: '12-counter-most-common.py',
    ext: 'txt',
    heldOut: false,
    multiPass: false,
    shape: 'group-by',
    input: (n, s) => lines(n, s, r => r() < 0.05 ? '' : sentence(r, 1, 12))
  },
  {
    file: '13-histogram-fixed-bins.py',
    ext: 'txt',
    heldOut: false,
    multiPass: false,
    shape: 'group-by',
    input: (n, s) => lines(n, s, r => `${int(r, -5, 110)}`)
  },
  {
    file: '14-histogram-data-range.py',
    ext: 'jsonl',
    heldOut: false,
    multiPass: true,
    shape: 'multi-pass',
    input: (n, s) => lines(n, s, (r, i) => `{"sku": "k${i % 5000}", "price": ${number(r, -10, 990)}}`)
  },
  {
    file: '15-distinct-sets.py',
    ext: 'jsonl',
    heldOut: false,
    multiPass: false,
    shape: 'group-by',
    input: (n, s) => jsonl(n, s, r => ({
      user: `u${int(r, 1, Math.max(50, Math.floor(n / 4)))}`,
      page: `/${pick(r, ['docs', 'blog', 'shop', 'wiki'])}/${pick(r, WORDS)}`,
      tags: Array.from({ length: int(r, 0, 3) }, () => pick(r, ['new', 'sale', 'ünïcode', 'beta', 'x'])),
      country: r() < 0.1 ? (r() < 0.5 ? '' : null) : pick(r, ['NO', 'PE', 'BR', 'CH', 'UA', 'IN'])
    }))
  },
  // ---- order-sensitive reductions
  {
    file: '16-longest-word-ties.py',
    ext: 'txt',
    heldOut: false,
    multiPass: false,
    shape: 'order-sensitive',
    // The longest words tie (smörgåsbord with different punctuation), so do the shortest (a, x, I): the first wins.
    input: (n, s) => lines(n, s, r => sentence(r, 1, 10))
  },
  {
    file: '17-argmin-enumerate.py',
    ext: 'jsonl',
    heldOut: false,
    multiPass: false,
    shape: 'order-sensitive',
    input: (n, s) => lines(n, s, r => intOrFloat(r, -1000, 1000))
  },
  {
    file: '18-top-k-heapq.py',
    ext: 'csv',
    heldOut: false,
    multiPass: false,
    shape: 'order-sensitive',
    // Cents up to 999.99: a large input holds the top amounts several times (the first rows must win the ties).
    input: (n, s) => 'id,amount,store\n' + lines(n, s, (r, i) => `r${i},${(int(r, -500, 99999) / 100).toFixed(2)},${field(pick(r, CITIES))}`)
  },
  {
    file: '19-sorted-first-last.py',
    ext: 'txt',
    heldOut: false,
    multiPass: false,
    shape: 'order-sensitive',
    input: (n, s) => lines(n, s, r => `${int(r, -1_000_000, 1_000_000)}`)
  },
  // ---- reductions written as helper functions
  {
    file: '20-helper-loops.py',
    ext: 'jsonl',
    heldOut: false,
    multiPass: false,
    shape: 'helper-reductions',
    input: (n, s) => lines(n, s, (r, i) => `{"sku": "s${i}", "stock": ${int(r, 0, 200)}, "unit_price": ${number(r, 0, 80)}}`)
  },
  {
    file: '21-statistics-module.py',
    ext: 'txt',
    heldOut: false,
    multiPass: false,
    shape: 'helper-reductions',
    input: (n, s) => lines(n, s, r => r() < 0.02 ? '' : decimal(r, 1, 900, 3))
  },
  // ---- mixed, everyday reports
  {
    file: '22-csv-sales-report.py',
    ext: 'csv',
    heldOut: false,
    multiPass: false,
    shape: 'group-by',
    input: (n, s) => 'order,city,unit_price,qty,status\n' + lines(n, s, (r, i) =>
      `${i},${field(pick(r, CITIES))},${decimal(r, 0.5, 120, 2)},${int(r, 1, 12)},${pick(r, ['paid', 'paid', 'paid', 'shipped', 'refunded'])}`)
  },
  {
    file: '23-text-line-stats.py',
    ext: 'txt',
    heldOut: false,
    multiPass: false,
    shape: 'returned-reductions',
    input: (n, s) => lines(n, s, r => r() < 0.05 ? '' : sentence(r, 1, 14))
  },
  {
    file: '24-regex-log-parse.py',
    ext: 'txt',
    heldOut: false,
    multiPass: false,
    shape: 'group-by',
    input: (n, s) => lines(n, s, r => r() < 0.02
      ? pick(r, ['-- restart --', '', 'GET /health'])
      : `10.0.${int(r, 0, 9)}.${int(r, 1, 254)} ${pick(r, ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'])} /${pick(r, ['api', 'img', 'café'])}/${int(r, 1, 999)} ` +
        `status=${pick(r, [200, 200, 200, 200, 201, 204, 301, 404, 404, 500, 503])} ms=${r() < 0.5 ? int(r, 1, 3000) : decimal(r, 0, 3000, 1)}`)
  },
  {
    file: '25-nested-orders.py',
    ext: 'jsonl',
    heldOut: false,
    multiPass: false,
    shape: 'returned-reductions',
    input: (n, s) => lines(n, s, (r, i) => `{"id": ${i}, "items": [${Array.from({ length: int(r, 0, 5) }, () => `{"qty": ${int(r, 1, 6)}, "price": ${number(r, 1, 200)}}`).join(', ')}]}`)
  },
  {
    file: '26-minmax-scale-three-pass.py',
    ext: 'csv',
    heldOut: false,
    multiPass: true,
    shape: 'multi-pass',
    input: (n, s) => 'id,feature\n' + lines(n, s, (r, i) => `${i},${r() < 0.3 ? int(r, -400, 1600) : decimal(r, -400, 1600, 4)}`)
  },
  // ---- held out from the planner's tuning
  {
    file: 'held-out/27-ratings-defaultdict.py',
    ext: 'jsonl',
    heldOut: true,
    multiPass: false,
    shape: 'group-by',
    input: (n, s) => jsonl(n, s, r => ({ user: `u${int(r, 1, 9999)}`, product: `p${int(r, 1, Math.max(5, Math.floor(n / 300)))}`, stars: int(r, 1, 5) }))
  },
  {
    file: 'held-out/28-station-anomalies.py',
    ext: 'csv',
    heldOut: true,
    multiPass: true,
    shape: 'multi-pass',
    input: (n, s) => 'station,ts,temp\n' + lines(n, s, (r, i) => {
      const station = int(r, 0, 11)
      return `${field(['Tromsø', 'Lima', 'Zürich', 'Pune', 'Kyiv', 'Málaga', 'São Paulo', 'Oslo', 'Nuuk', 'Cairo', 'Perth', 'Reykjavík'][station] ?? 'Oslo')},${i},${(station * 3 - 15 + (r() - 0.5) * 20 + (r() < 0.01 ? 12 : 0)).toFixed(1)}`
    })
  },
  {
    file: 'held-out/29-word-length-histogram.py',
    ext: 'txt',
    heldOut: true,
    multiPass: false,
    shape: 'group-by',
    input: (n, s) => lines(n, s, r => r() < 0.03 ? '' : sentence(r, 1, 11) + (r() < 0.001 ? ' Donaudampfschifffahrt' : ''))
  },
  {
    file: 'held-out/30-centered-tuple.py',
    ext: 'jsonl',
    heldOut: true,
    multiPass: true,
    shape: 'multi-pass',
    input: (n, s) => lines(n, s, r => r() < 0.02 ? 'null' : number(r, -500, 1500))
  },
  {
    file: 'held-out/31-first-last-seen.py',
    ext: 'jsonl',
    heldOut: true,
    multiPass: false,
    shape: 'order-sensitive',
    // Timestamps arrive out of order and repeat: the earliest occurs several times, the first one must win.
    input: (n, s) => jsonl(n, s, (r, i) => ({ id: `e${i}`, ts: 1_700_000_000 + int(r, 0, Math.max(10, Math.floor(n / 20))), kind: pick(r, ['open', 'close', 'ping']) }))
  },
  {
    file: 'held-out/32-tally-helper.py',
    ext: 'csv',
    heldOut: true,
    multiPass: false,
    shape: 'helper-reductions',
    input: (n, s) => 'id,colour,pet\n' + lines(n, s, (r, i) =>
      `${i},${pick(r, ['red', ' red', 'blue', 'grün', 'green', 'Blue', 'violet'])},${pick(r, ['cat', 'dog', 'dog', '', 'axolotl', 'cat '])}`)
  }
]

/** The reach program whose file is `file` (with or without `held-out/`). */
export function reachProgram (file: string): ReachProgram {
  const found = REACH.find(p => p.file === file || p.file === `held-out/${file}`)
  if (found === undefined) throw new Error(`no reach program ${file}`)
  return found
}

/**
 * The input of `program` about `bytes` long (UTF-8, at least that, within a few percent): the element count is
 * estimated from a sample of 2,000, then raised until the text is long enough.
 */
export function inputOfBytes (program: ReachProgram, bytes: number, seed: number): { text: string, elements: number } {
  const sample = Math.max(1, Buffer.byteLength(program.input(2_000, seed)))
  let n = Math.max(1, Math.ceil((bytes / sample) * 2_000))
  for (;;) {
    const text = program.input(n, seed)
    if (Buffer.byteLength(text) >= bytes) return { text, elements: n }
    n = Math.ceil(n * 1.02) + 1
  }
}

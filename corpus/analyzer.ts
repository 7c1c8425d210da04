/**
 * The analyzer's corpus: a dozen jobs (analyzer/test/fixtures/) and a deterministic input generator for each, shared
 * by the analyzer's tests and `bench/analyzer.ts`.
 */
import { fileURLToPath } from 'node:url'
import type { InputFormat } from '../analyzer/src/index.ts'

/** A fixture job and how to make its input. */
export interface CorpusJob {
  file: string
  format: InputFormat
  /** Element i of the input (a JSON value, a CSV row object, or a text line). */
  element: (i: number, random: () => number) => unknown
}

export const FIXTURES = fileURLToPath(new URL('../analyzer/test/fixtures/', import.meta.url))

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu']
const STATUSES = ['paid', 'open', 'refunded', 'paid']

export const CORPUS: CorpusJob[] = [
  { file: '01-map-squares.py', format: 'json', element: i => 1000 + i * 7 },
  { file: '02-filter-loop.py', format: 'json', element: (i, r) => ({ id: i, status: STATUSES[i % 4], amount: Math.round(r() * 10000) / 100, note: `order ${i}` }) },
  { file: '03-chain.py', format: 'json', element: (i, r) => ({ amount: Math.round(r() * 500) / 10, qty: 1 + (i % 9), sku: `sku-${i % 977}` }) },
  { file: '04-broadcast.py', format: 'json', element: (_i, r) => r() * 1000 },
  { file: '05-reductions.py', format: 'json', element: (i, r) => ({ id: i, price: i % 50 === 0 ? 0 : Math.round(r() * 9000) / 100, qty: 1 + (i % 5), weight: r() * 30 }) },
  { file: '06-accumulators.py', format: 'json', element: (i, r) => ({ ok: i % 3 !== 0, amount: Math.round(r() * 100000) / 100 }) },
  { file: '07-independent.py', format: 'json', element: (i, r) => Math.floor(r() * 1_000_000) + i },
  { file: '08-prefix-sum.py', format: 'json', element: (_i, r) => Math.floor(r() * 1000) },
  { file: '09-dedupe-sort.py', format: 'json', element: (i, r) => `${WORDS[i % WORDS.length] ?? ''}-${Math.floor(r() * 5000)}` },
  { file: '10-text-lines.py', format: 'lines', element: (i, r) => Array.from({ length: 3 + (i % 6) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ') },
  { file: '11-csv-records.py', format: 'csv', element: (i, r) => ({ id: `c${i}`, name: `${WORDS[i % 12] ?? ''} ${WORDS[(i * 7) % 12] ?? ''}`, amount: (r() * 1000).toFixed(2) }) },
  { file: '12-reassign-exit.py', format: 'json', element: i => i * 13 }
]

/** Deterministic PRNG (mulberry32) so inputs are the same on every run. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The text of an input of `n` elements in the job's format. */
export function inputText (job: CorpusJob, n: number): string {
  const random = prng(42)
  const elements = Array.from({ length: n }, (_, i) => job.element(i, random))
  if (job.format === 'json') return JSON.stringify(elements)
  if (job.format === 'jsonl') return elements.map(e => JSON.stringify(e)).join('\n') + '\n'
  if (job.format === 'csv') {
    const rows = elements as Array<Record<string, string>>
    const header = Object.keys(rows[0] ?? {})
    return [header.join(','), ...rows.map(r => header.map(h => r[h] ?? '').join(','))].join('\n') + '\n'
  }
  return (elements as string[]).join('\n') + '\n'
}

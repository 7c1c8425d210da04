/**
 * The planner specs' corpus and driver: programs with seeded inputs, analysis (static or calibrated) against an input,
 * plans forced onto small nodes, and a plan run for real with /usr/bin/python3 (test/fixtures/auto/run-plan.py):
 * the input cut into K line-based chunks, each chunk's script, the stages, the aggregator.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, expect } from 'vitest'
import { analyze, calibrate, formatOf, sampleInput } from '../../../analyzer/src/index.ts'
import { pythonRunner } from '../../../corpus/python.ts'
import type { AnalysisReport } from '../../../analyzer/src/index.ts'
import { PYTHON_OVERHEAD_BYTES, planAuto, runtimeBytes } from '../../src/index.ts'
import type { AutoPlan, PlanInput } from '../../src/index.ts'
import { WORDS, int, intOrFloat, jsonl, lines, pick, random } from '../../../corpus/auto.ts'

export const run = promisify(execFile)
export const PYTHON = '/usr/bin/python3'
export const FIXTURES = new URL('../fixtures/auto/', import.meta.url)
export const DRIVER = new URL('run-plan.py', FIXTURES).pathname
export const MiB = 1024 * 1024

export type Format = PlanInput['format']

export interface Program {
  file: string
  ext: 'jsonl' | 'csv' | 'txt'
  input: (n: number, seed: number) => string
  /** Splittable: planned as level 3 when nodes are small, and run. */
  split: boolean
}

export const CORPUS: Program[] = [
  { file: '01-squares.py', ext: 'jsonl', split: true, input: (n, s) => lines(n, s, r => r() < 0.2 ? `${int(r, -1e15, 1e15)}` : `${int(r, -1000, 1000)}`) },
  {
    file: '02-filter-orders.py',
    ext: 'jsonl',
    split: true,
    input: (n, s) => jsonl(n, s, (r, i) => ({ id: i, status: pick(r, ['paid', 'open', 'void', 'paid']), amount: r() < 0.5 ? int(r, -5, 500) : Math.round(r() * 50000) / 100, region: pick(r, ['n', 's', 'e', 'w']) }))
  },
  { file: '03-chain-helpers.py', ext: 'jsonl', split: true, input: (n, s) => jsonl(n, s, r => ({ amount: Math.round(r() * 1e6) / 100, qty: int(r, 0, 30) })) },
  {
    file: '04-reductions.py',
    ext: 'jsonl',
    split: true,
    input: (n, s) => jsonl(n, s, (r, i) => ({ id: i, price: r() < 0.001 ? 0 : int(r, 1, 900), qty: int(r, 0, 9), weight: int(r, 0, 20) }))
  },
  {
    file: '05-accumulators.py',
    ext: 'jsonl',
    split: true,
    // The first and last rows hold the extremes as int and as float: which one survives shows the tie rule.
    input: (n, s) => lines(n, s, (r, i) => `{"ok": ${r() < 0.7 ? 'true' : 'false'}, "amount": ${i === 0 ? '60' : i === 1 ? '1.0' : i === n - 2 ? '1' : i === n - 1 ? '60.0' : intOrFloat(r, 1, 60)}, "qty": ${int(r, 0, 10)}, "mask": ${1 << int(r, 0, 20)}, "code": "${pick(r, WORDS).slice(0, 2)}"}`)
  },
  {
    file: '06-index-setitem.py',
    ext: 'jsonl',
    split: true,
    input: (n, s) => jsonl(n, s, (r, i) => ({ id: i, region: pick(r, ['a', 'b', 'c', 'd', 'e']), year: int(r, 2000, 2012), amount: int(r, 0, 1e6), name: pick(r, WORDS) + i }))
  },
  {
    file: '07-text-words.py',
    ext: 'txt',
    split: true,
    input: (n, s) => lines(n, s, r => r() < 0.05 ? '' : Array.from({ length: int(r, 1, 9) }, () => pick(r, WORDS) + pick(r, ['', '', ',', '.', '!'])).join(' '))
  },
  {
    file: '08-csv-records.py',
    ext: 'csv',
    split: true,
    input: (n, s) => 'id,name,amount,city\n' + lines(n, s, r => `${int(r, 0, n / 2)},"${pick(r, WORDS)} ${pick(r, WORDS)}",${(r() * 1e5).toFixed(2)},${pick(r, ['Oslo', 'Lima', 'Pune', 'Kyiv'])}`)
  },
  { file: '09-broadcast-constant.py', ext: 'jsonl', split: true, input: (n, s) => jsonl(n, s, r => ({ amount: Math.round(r() * 20000) / 100, currency: pick(r, ['EUR', 'USD', 'GBP', 'JPY']) })) },
  {
    file: '10-opaque-after-chain.py',
    ext: 'txt',
    split: true,
    input: (n, s) => lines(n, s, r => r() < 0.1 ? 'garbage line' : `${pick(r, WORDS)}${int(r, 0, 99)},${int(r, 0, 5000)}`)
  },
  { file: '11-prefix-sum.py', ext: 'jsonl', split: false, input: (n, s) => lines(n, s, r => `${int(r, -100, 100)}`) },
  { file: '12-mean-center.py', ext: 'jsonl', split: true, input: (n, s) => lines(n, s, r => `${int(r, -100, 100)}`) },
  {
    file: '13-float-edges.py',
    ext: 'txt',
    split: true,
    input: (n, s) => lines(n, s, r => {
      const u = r()
      return u < 0.01 ? 'nan' : u < 0.015 ? 'inf' : u < 0.02 ? '-inf' : u < 0.04 ? '-0.0' : u < 0.06 ? '0.0' : u < 0.5 ? `${int(r, -50, 50)}` : `${(r() * 200 - 100).toFixed(3)}`
    })
  },
  {
    file: '14-tuples-sets-aliasing.py',
    ext: 'jsonl',
    split: true,
    input: (n, s) => jsonl(n, s, (r, i) => ({ id: i, a: int(r, 0, 9), b: pick(r, WORDS), tags: Array.from({ length: int(r, 0, 3) }, () => pick(r, ['x', 'y', 'z', 'w'])), ok: r() < 0.5 }))
  },
  {
    file: '15-any-all-short-circuit.py',
    ext: 'jsonl',
    split: true,
    // The first element decides any(): the zeros further on would raise ZeroDivisionError if reached.
    input: (n, s) => '5\n' + lines(n - 1, s, r => r() < 0.01 ? '0' : `${int(r, 11, 500)}`)
  },
  { file: '16-records-classes.py', ext: 'jsonl', split: true, input: (n, s) => jsonl(n, s, (r, i) => ({ id: i, w: int(r, 0, 100), x: int(r, -9, 9), y: r() })) },
  { file: '17-return-reduction.py', ext: 'txt', split: true, input: (n, s) => lines(n, s, r => Array.from({ length: int(r, 0, 6) }, () => pick(r, WORDS)).join(' ')) }
]
export const SIZES = [1_500, 8_000, 20_000]

export const FORMATS: Record<Program['ext'], Format> = { jsonl: 'jsonl', csv: 'csv', txt: 'text' }

let work: string

/** Gives the spec file that calls it a scratch directory for the plans it runs (created before, removed after). */
export function withWorkDir (): void {
  beforeAll(async () => { work = await mkdtemp(join(tmpdir(), 'runsurge-planner-')) })
  afterAll(async () => { await rm(work, { recursive: true, force: true }) })
}

/** The scratch directory of the running spec file. */
export function workDir (): string {
  return work
}

export async function source (file: string): Promise<string> {
  return await readFile(new URL(file, FIXTURES), 'utf8')
}

export function analyzeFor (src: string, text: string, ext: Program['ext']): { report: AnalysisReport, elements: number } {
  const sample = sampleInput(text, formatOf(`input.${ext}`))
  const report = analyze(src, { mode: 'auto', input: { format: sample.format, elements: sample.elements, sample: sample.sample } })
  expect(report.status).toBe('accepted')
  return { report, elements: sample.elements }
}

/** As the coordinator plans a job: the analysis calibrated by running it on a sample of its input with python3. */
export async function calibratedFor (src: string, text: string, ext: Program['ext']): Promise<{ report: AnalysisReport, elements: number }> {
  const format = formatOf(`input.${ext}`)
  const { report, elements } = analyzeFor(src, text, ext)
  const small = sampleInput(text.slice(0, 256 * 1024), format, 400)
  const input = { format: small.format, elements, sample: small.sample }
  return { report: await calibrate(src, { mode: 'auto', input, sampleText: small.text, sampleElements: small.sample.length, runner: pythonRunner }), elements: report.status === 'accepted' ? elements : 0 }
}

/**
 * The aggregator fits the nodes: as planned, or, sized when the chunks report (keyed values), from the partials they
 * sent.
 */
export function aggregatorFits (plan: AutoPlan, memory: number, partialBytes: number): void {
  const sizing = plan.finalTask.sizing
  if (sizing === undefined) expect(plan.finalTask.memoryBytes).toBeLessThanOrEqual(memory)
  else expect(runtimeBytes(sizing, partialBytes), `sized from ${partialBytes} bytes of partials: ${JSON.stringify(sizing)}`).toBeLessThanOrEqual(memory)
}

/** Plans with nodes offering a fraction of the sequential estimate, the largest fraction (< 1) giving level 3. */
export function forcedPlan (input: Omit<PlanInput, 'nodes'>, nodes = 2): { plan: AutoPlan, memory: number } {
  const whole = planAuto({ ...input, nodes: [{ memoryBytes: 2 ** 40 }] }).estimate.peakBytes
  let last: unknown
  for (const fraction of [0.3, 0.45, 0.6, 0.75, 0.9, 0.97]) {
    const memory = PYTHON_OVERHEAD_BYTES + Math.floor((whole - PYTHON_OVERHEAD_BYTES) * fraction)
    try {
      const plan = planAuto({ ...input, nodes: Array.from({ length: nodes }, () => ({ memoryBytes: memory })) })
      // Nodes the aggregator surely fits (not only once the chunks report how many distinct keys they found).
      if (plan.finalTask.memoryBytes <= memory) return { plan, memory }
      last = new Error(`the aggregator needs ${plan.finalTask.memoryBytes} bytes if every key is distinct, more than ${memory}`)
    } catch (err) {
      last = err
    }
  }
  throw last
}

/** Cuts the input into `k` chunks on line boundaries (csv: the header starts every chunk). */
export function cut (text: string, ext: Program['ext'], k: number, uneven: boolean, seed: number): string[] {
  const all = text.split('\n')
  if (all.at(-1) === '') all.pop()
  const header = ext === 'csv' ? all.shift() : undefined
  const r = random(seed)
  const bounds = uneven
    ? [0, ...Array.from({ length: k - 1 }, () => Math.floor(r() * (all.length + 1))).sort((a, b) => a - b), all.length]
    : Array.from({ length: k + 1 }, (_, i) => Math.round((i * all.length) / k))
  return Array.from({ length: k }, (_, i) => {
    const rows = all.slice(bounds[i], bounds[i + 1])
    const body = rows.length === 0 ? '' : rows.join('\n') + '\n'
    return header === undefined ? body : `${header}\n${body}`
  })
}

export interface Outcome {
  equal: boolean
  where: string | null
  sequential: string
  split: string
  /** UTF-8 bytes of every chunk task's output. */
  partialBytes: number
  /** With `measure`: the aggregator's traced peak (bytes Python allocated reading, decoding and combining). */
  aggregatePeak: number | null
  /** What decoding the partials takes, as the chunk tasks measured it (the `memory` their outputs begin with). */
  partialMemory?: number
}

export async function execute (name: string, src: string, text: string, ext: Program['ext'], plan: AutoPlan, uneven: boolean, measure = false): Promise<Outcome> {
  const dir = join(work, name)
  await mkdir(dir, { recursive: true })
  const chunks = cut(text, ext, plan.chunks, uneven, plan.chunks * 7919)
  const spec = {
    source: join(dir, 'job.py'),
    input: join(dir, `input.${ext}`),
    chunkScript: join(dir, 'chunk.py'),
    finalScript: join(dir, 'final.py'),
    chunks: chunks.map((_, i) => join(dir, `chunk-${i}.${ext}`)),
    rounds: (plan.rounds ?? []).map((_, r) => ({ stageScript: join(dir, `stage-${r + 2}.py`), chunkScript: join(dir, `chunk-round-${r + 2}.py`) })),
    measure
  }
  await Promise.all((plan.rounds ?? []).flatMap((round, r) => [
    writeFile(spec.rounds[r]?.stageScript as string, round.stage.script),
    writeFile(spec.rounds[r]?.chunkScript as string, round.chunk.script)
  ]))
  await writeFile(spec.source, src)
  await writeFile(spec.input, text)
  await writeFile(spec.chunkScript, plan.chunkTask?.script ?? '')
  await writeFile(spec.finalScript, plan.finalTask.script)
  await Promise.all(chunks.map(async (c, i) => { await writeFile(spec.chunks[i] as string, c) }))
  await writeFile(join(dir, 'spec.json'), JSON.stringify(spec))
  const { stdout } = await run(PYTHON, ['-I', DRIVER, join(dir, 'spec.json')], { maxBuffer: 64 * MiB })
  return JSON.parse(stdout) as Outcome
}

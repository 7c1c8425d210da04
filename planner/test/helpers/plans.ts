/**
 * The planner specs' corpus and driver: programs with seeded inputs, analysis (static or calibrated) against an input,
 * plans forced onto small nodes, and a plan run for real with /usr/bin/python3 (test/fixtures/auto/run-plan.py):
 * the input cut into K line-based chunks, each chunk's script, the stages, the aggregator.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
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
import { CORPUS as AUTO_CORPUS, random } from '../../../corpus/auto.ts'

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

/**
 * The corpus's programs that are the planner's own fixtures (01–17), with the corpus's inputs. `split`: planned as
 * level 3 when nodes are small — every one the corpus calls splittable on an idle mesh, and the mean broadcast into a
 * map of data, which stays whole there only because calibrated times say one task is faster.
 */
export const CORPUS: Program[] = AUTO_CORPUS
  .filter(program => existsSync(new URL(program.file, FIXTURES)))
  .map(({ file, ext, input, splittable }) => ({ file, ext, input, split: splittable || file === '12-mean-center.py' }))
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

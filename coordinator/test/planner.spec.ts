/**
 * Automatic-mode planner. Every splittable program of the corpus (test/fixtures/auto/) is planned with nodes
 * too small for it, and the plan is run for real with /usr/bin/python3: the input cut into K line-based
 * chunks (csv chunks each with the header), the chunk script's main(data) on each chunk, the aggregator on
 * their JSON outputs, compared with the original main(data) run once (floats within 1e-9 relative).
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { analyze, calibrate, formatOf, sampleInput } from '../../analyzer/src/index.ts'
import { pythonRunner } from '../../analyzer/test/helpers/python.ts'
import type { AnalysisReport } from '../../analyzer/src/index.ts'
import { DECODED_BYTES_PER_PARTIAL_BYTE, MAX_CHUNKS, PARTIAL_TEXT_BYTES_PER_BYTE, PARTIALS_RUNTIME, PlanError, PYTHON_OVERHEAD_BYTES, REST_BYTES_PER_PARTIAL_BYTE, planAuto, runtimeBytes } from '../src/planner/index.ts'
import type { TaskSizing } from '../src/planner/index.ts'
import type { AutoPlan, PlanInput } from '../src/planner/index.ts'
import { WORDS, int, intOrFloat, jsonl, lines, pick, random } from '../../test/fixtures/auto-corpus/corpus.ts'
import { reachPath, reachProgram } from '../../test/fixtures/reach-corpus/corpus.ts'

const run = promisify(execFile)
const PYTHON = '/usr/bin/python3'
const FIXTURES = new URL('./fixtures/auto/', import.meta.url)
const DRIVER = new URL('run-plan.py', FIXTURES).pathname
const MiB = 1024 * 1024

type Format = PlanInput['format']

interface Program {
  file: string
  ext: 'jsonl' | 'csv' | 'txt'
  input: (n: number, seed: number) => string
  /** Splittable: planned as level 3 when nodes are small, and run. */
  split: boolean
}

const CORPUS: Program[] = [
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
const SIZES = [1_500, 8_000, 20_000]

const FORMATS: Record<Program['ext'], Format> = { jsonl: 'jsonl', csv: 'csv', txt: 'text' }

let work: string

beforeAll(async () => { work = await mkdtemp(join(tmpdir(), 'runsurge-planner-')) })
afterAll(async () => { await rm(work, { recursive: true, force: true }) })

async function source (file: string): Promise<string> {
  return await readFile(new URL(file, FIXTURES), 'utf8')
}

function analyzeFor (src: string, text: string, ext: Program['ext']): { report: AnalysisReport, elements: number } {
  const sample = sampleInput(text, formatOf(`input.${ext}`))
  const report = analyze(src, { mode: 'auto', input: { format: sample.format, elements: sample.elements, sample: sample.sample } })
  expect(report.status).toBe('accepted')
  return { report, elements: sample.elements }
}

/** As the coordinator plans a job: the analysis calibrated by running it on a sample of its input with python3. */
async function calibratedFor (src: string, text: string, ext: Program['ext']): Promise<{ report: AnalysisReport, elements: number }> {
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
function aggregatorFits (plan: AutoPlan, memory: number, partialBytes: number): void {
  const sizing = plan.finalTask.sizing
  if (sizing === undefined) expect(plan.finalTask.memoryBytes).toBeLessThanOrEqual(memory)
  else expect(runtimeBytes(sizing, partialBytes), `sized from ${partialBytes} bytes of partials: ${JSON.stringify(sizing)}`).toBeLessThanOrEqual(memory)
}

/** Plans with nodes offering a fraction of the sequential estimate, the largest fraction (< 1) giving level 3. */
function forcedPlan (input: Omit<PlanInput, 'nodes'>, nodes = 2): { plan: AutoPlan, memory: number } {
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
function cut (text: string, ext: Program['ext'], k: number, uneven: boolean, seed: number): string[] {
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

interface Outcome {
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

async function execute (name: string, src: string, text: string, ext: Program['ext'], plan: AutoPlan, uneven: boolean, measure = false): Promise<Outcome> {
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

describe('planAuto on the corpus, run with python3', () => {
  for (const program of CORPUS.filter(p => p.split)) {
    it(`${program.file}: level 3 with small nodes, same result as one sequential run`, async () => {
      const src = await source(program.file)
      await Promise.all(SIZES.map(async (n, i) => {
        const text = program.input(n, 1000 + i)
        const { report, elements } = analyzeFor(src, text, program.ext)
        const { plan, memory } = forcedPlan({ source: src, report, format: FORMATS[program.ext], inputBytes: Buffer.byteLength(text), elements })
        expect(plan.level, plan.reasons.join('\n')).toBe(3)
        expect(plan.chunks).toBeGreaterThanOrEqual(2)
        expect(plan.chunks).toBeLessThanOrEqual(MAX_CHUNKS)
        expect(plan.finalTask.entry).toBe('aggregate')
        expect(plan.fused.length).toBeGreaterThan(0)
        expect(plan.chunkTask?.memoryBytes).toBeLessThanOrEqual(memory)
        const outcome = await execute(`${program.file}-${n}`, src, text, program.ext, plan, i === SIZES.length - 1)
        aggregatorFits(plan, memory, outcome.partialBytes)
        expect(outcome.where, `${program.file} at ${n} elements, ${plan.chunks} chunks:\nsequential ${outcome.sequential}\nsplit      ${outcome.split}`).toBeNull()
        expect(outcome.equal).toBe(true)
      }))
    })
  }

  it('reductions send partial values, not the lists they reduce', async () => {
    const src = await source('04-reductions.py')
    const text = CORPUS[3]?.input(20_000, 7) as string
    const { report, elements } = analyzeFor(src, text, 'jsonl')
    const { plan } = forcedPlan({ source: src, report, format: 'jsonl', inputBytes: Buffer.byteLength(text), elements })
    const outcome = await execute('reductions-size', src, text, 'jsonl', plan, false)
    expect(outcome.equal).toBe(true)
    // A few hundred bytes per chunk, whatever the input size.
    expect(outcome.partialBytes).toBeLessThan(plan.chunks * 400)
  })

  it('splits for speed when several idle nodes have room and the input is large', async () => {
    const src = await source('04-reductions.py')
    const text = CORPUS[3]?.input(30_000, 11) as string
    expect(Buffer.byteLength(text)).toBeGreaterThan(MiB)
    const { report, elements } = analyzeFor(src, text, 'jsonl')
    const plan = planAuto({ source: src, report, format: 'jsonl', inputBytes: Buffer.byteLength(text), elements, nodes: [{ memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }] })
    expect(plan.level).toBe(3)
    expect(plan.chunks).toBe(3)
    expect(plan.reasons.join('\n')).toMatch(/split for speed/)
    const outcome = await execute('speed', src, text, 'jsonl', plan, false)
    expect(outcome.equal).toBe(true)
  })
})

describe('cost model', () => {
  it('splits for speed only when calibrated times say the split finishes sooner', async () => {
    const src = await source('04-reductions.py')
    const text = CORPUS[3]?.input(30_000, 13) as string
    const { report, elements } = analyzeFor(src, text, 'jsonl')
    const timed = (perElement: number): AnalysisReport => ({ ...report, blocks: report.blocks?.map(b => ({ ...b, seconds: { fixed: 0.001, perElement } })) })
    const input = { source: src, format: 'jsonl' as const, inputBytes: Buffer.byteLength(text), elements, nodes: [{ memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }] }
    const slow = planAuto({ ...input, report: timed(1e-4) })
    expect(slow.level).toBe(3)
    expect(slow.reasons.join('\n')).toMatch(/calibrated estimate: ~[\d.]+ s split vs ~[\d.]+ s sequential/)
    const quick = planAuto({ ...input, report: timed(1e-8) })
    expect(quick.level).toBe(1)
    expect(quick.reasons.join('\n')).toMatch(/splitting by data would not be faster/)
  })
})

describe('planAuto keeps level 1', () => {
  const plan = async (file: string, n: number, options: Partial<PlanInput> = {}): Promise<AutoPlan> => {
    const program = CORPUS.find(p => p.file === file) as Program
    const src = await source(file)
    const text = program.input(n, 3)
    const { report, elements } = analyzeFor(src, text, program.ext)
    return planAuto({ source: src, report, format: FORMATS[program.ext], inputBytes: Buffer.byteLength(text), elements, nodes: [{ memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }], ...options })
  }

  it('when the input is small', async () => {
    const p = await plan('04-reductions.py', 2_000)
    expect(p.level).toBe(1)
    expect(p.chunks).toBe(1)
    expect(p.finalTask.entry).toBe('main')
    expect(p.chunkTask).toBeUndefined()
    expect(p.reasons.join('\n')).toMatch(/small/)
  })

  it('when there is only one node and the program fits it', async () => {
    const p = await plan('04-reductions.py', 30_000, { nodes: [{ memoryBytes: 2 ** 32 }] })
    expect(p.level).toBe(1)
    expect(p.reasons.join('\n')).toMatch(/only one node/)
  })

  it('for a .json input, which cannot be cut on line boundaries', async () => {
    const src = await source('04-reductions.py')
    const text = JSON.stringify(Array.from({ length: 30_000 }, (_, i) => ({ id: i, price: i % 7, qty: 1, weight: i % 5 })))
    const sample = sampleInput(text, 'json')
    const report = analyze(src, { mode: 'auto', input: { format: 'json', elements: sample.elements, sample: sample.sample } })
    const p = planAuto({ source: src, report, format: 'json', inputBytes: text.length, elements: sample.elements, nodes: [{ memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }] })
    expect(p.level).toBe(1)
    expect(p.reasons.join('\n')).toMatch(/JSON array/)
  })

  it('for prefix sums, which the analyzer cannot prove element-wise', async () => {
    const p = await plan('11-prefix-sum.py', 30_000)
    expect(p.level).toBe(1)
    expect(p.reasons.join('\n')).toMatch(/not split by data: line 7, the loop that line 5 starts: the loop reads running while accumulating it \(a prefix dependence\)/)
  })

  it('when a later statement reads data itself (a mean broadcast into a map of data whose result is sorted whole)', async () => {
    // 12-mean-center.py returns centered[:5], which a second round computes on the chunks; sorted(centered) needs it all.
    const src = (await source('12-mean-center.py')).replace('"first": centered[:5]', '"median": sorted(centered)[len(centered) // 2]')
    const text = CORPUS.find(p => p.file === '12-mean-center.py')?.input(30_000, 3) as string
    const { report, elements } = analyzeFor(src, text, 'jsonl')
    const p = planAuto({ source: src, report, format: 'jsonl', inputBytes: Buffer.byteLength(text), elements, nodes: [{ memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }] })
    expect(p.level).toBe(1)
    expect(p.reasons.join('\n')).toMatch(/line 8 reads data itself/)
  })

  it('when the job defines a name the generated code needs', async () => {
    const src = 'def aggregate(xs):\n    return sum(xs)\n\n\ndef main(data):\n    total = sum(data)\n    return aggregate([total])\n'
    const text = lines(30_000, 1, r => `${int(r, 0, 9)}`)
    const { report, elements } = analyzeFor(src, text, 'jsonl')
    const p = planAuto({ source: src, report, format: 'jsonl', inputBytes: 2 * MiB, elements, nodes: [{ memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }] })
    expect(p.level).toBe(1)
    expect(p.reasons.join('\n')).toMatch(/aggregate/)
  })

  it('when a reduction goes through a helper of several statements (one returning an expression of reductions splits)', async () => {
    const text = lines(30_000, 1, r => `${int(r, 0, 9)}`)
    const nodes = [{ memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }]
    const several = 'def largest(xs):\n    ordered = sorted(xs)\n    return ordered[-1]\n\n\ndef main(data):\n    top = largest(data)\n    return top\n'
    const p = planAuto({ source: several, ...analyzeFor(several, text, 'jsonl'), format: 'jsonl', inputBytes: 2 * MiB, nodes })
    expect(p.level).toBe(1)
    expect(p.reasons.join('\n')).toMatch(/call to largest\(\) is not a recognised map or reduction/)
    const one = 'def largest(xs):\n    return max(xs)\n\n\ndef main(data):\n    top = largest(data)\n    return top\n'
    const split = planAuto({ source: one, ...analyzeFor(one, text, 'jsonl'), format: 'jsonl', inputBytes: 2 * MiB, nodes })
    expect(split.level).toBe(3)
    expect(split.sites?.map(x => x.op)).toEqual(['inline'])
    const outcome = await execute('helper-max', one, text, 'jsonl', split, true)
    expect(outcome.where).toBeNull()
  })
})

describe('PlanError', () => {
  it('names the statement and the memory when a program that cannot be split does not fit', async () => {
    const program = CORPUS.find(p => p.file === '11-prefix-sum.py') as Program
    const src = await source(program.file)
    const text = program.input(20_000, 5)
    const { report, elements } = analyzeFor(src, text, 'jsonl')
    let error: unknown
    try {
      planAuto({ source: src, report, format: 'jsonl', inputBytes: Buffer.byteLength(text), elements, nodes: [{ memoryBytes: 17 * MiB }, { memoryBytes: 17 * MiB }] })
    } catch (err) { error = err }
    expect(error).toBeInstanceOf(PlanError)
    const e = error as PlanError
    expect(e.name).toBe('PlanError')
    expect(e.message).toMatch(/^line (5|6|7|8|9|10) \(`.+`\) needs about [\d.]+ MiB at 20,000 elements/)
    expect(e.message).toMatch(/cannot be split/)
    expect(e.bytes).toBeGreaterThan(17 * MiB)
    expect(e.available).toBe(17 * MiB)
  })

  it('names the aggregator statement when the split part fits but the rest needs everything at once', async () => {
    const program = CORPUS.find(p => p.file === '10-opaque-after-chain.py') as Program
    const src = await source(program.file)
    const text = program.input(20_000, 5)
    const { report, elements } = analyzeFor(src, text, 'txt')
    expect(() => planAuto({ source: src, report, format: 'text', inputBytes: Buffer.byteLength(text), elements, nodes: [{ memoryBytes: 18 * MiB }] }))
      .toThrow(/^line 1[6-9] \(`.+`\) needs about [\d.]+ MiB .* in the aggregator/)
  })
})

describe('generated code', () => {
  it('the runtime defines each of its functions and classes once (a second definition would silently replace the first)', () => {
    const names = [...PARTIALS_RUNTIME.matchAll(/^(?:def|class) (\w+)/gm)].map(m => m[1] ?? '')
    expect(names.length).toBeGreaterThan(50)
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([])
  })

  it('round-trips values exactly through the partial-results encoding', async () => {
    const script = [
      'import collections, dataclasses, datetime, decimal, enum, fractions, json, math, sys',
      'sys.set_int_max_str_digits(0)',
      'P = collections.namedtuple("P", "x y")',
      'class Color(enum.Enum):',
      '    RED = 1',
      '@dataclasses.dataclass',
      'class Box:',
      '    w: int',
      '    tags: list',
      'TABLE = {"k": [1, 2]}',
      PARTIALS_RUNTIME,
      'shared = [1, 2]',
      'cycle = []',
      'cycle.append(cycle)',
      'values = [None, True, 7, 2 ** 200, -2 ** 60, 1.5, -0.0, float("nan"), float("inf"), float("-inf"), "x\\ud800y", "héllo",',
      '          (1, (2, 3)), [shared, shared], {(1, 2): "a", 3: [4], None: 1, frozenset({1}): 2}, {1, 2}, frozenset({3}),',
      '          b"\\x00\\xff", bytearray(b"ab"), 3 + 4j, fractions.Fraction(1, 3), decimal.Decimal("-0.00"),',
      '          datetime.datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc), datetime.date(2020, 5, 6),',
      '          datetime.timedelta(days=1, microseconds=5), collections.OrderedDict(a=1), collections.Counter("abca"),',
      '          collections.defaultdict(list, {"a": [1]}), collections.deque([1, 2], maxlen=3), P(1, [2]), Color.RED,',
      '          Box(3, ["t"]), cycle, TABLE["k"], len, Box]',
      'text = json.dumps(_runsurge_partials([values]), allow_nan=False)',
      'back = _runsurge_decode_results([json.loads(text)], 1)[0][0]',
      'same = all(repr(a) == repr(b) and type(a) is type(b) for a, b in zip(values, back)) and len(values) == len(back)',
      'print(json.dumps([same, back[13][0] is back[13][1], back[32][0] is back[32], back[33] is TABLE["k"],',
      '                  math.copysign(1, back[6]), math.isnan(back[7]), back[34] is len, back[35] is Box]))'
    ].join('\n')
    const path = join(work, 'encoding.py')
    await writeFile(path, script)
    const { stdout } = await run(PYTHON, ['-I', path])
    expect(JSON.parse(stdout)).toEqual([true, true, true, true, -1, true, true, true])
  })

  it('combines math.fsum and statistics.fmean/mean/pvariance/pstdev/variance/stdev over chunks exactly as one call, exceptions included', async () => {
    const runtime = join(work, 'partials-statistics.py')
    await writeFile(runtime, PARTIALS_RUNTIME)
    for (const seed of ['3', '4']) {
      const { stdout } = await run(PYTHON, ['-I', new URL('statistics-combine.py', FIXTURES).pathname, runtime, seed])
      expect(stdout.trim()).toBe('0 10500')
    }
  })

  it('combines sorted(xs, key=…, reverse=…)[-k:] over chunks: the same last k, ties resolved as one stable sort', async () => {
    const runtime = join(work, 'partials-sorted-tail.py')
    await writeFile(runtime, PARTIALS_RUNTIME)
    const { stdout } = await run(PYTHON, ['-I', new URL('sorted-tail.py', FIXTURES).pathname, runtime, '5'])
    expect(stdout.trim()).toBe('0')
  })

  it('replays min/max over numbers with nan from a few values per chunk, exactly as one run folds or calls them', async () => {
    const runtime = join(work, 'partials.py')
    await writeFile(runtime, PARTIALS_RUNTIME)
    const { stdout } = await run(PYTHON, ['-I', new URL('nan-replay.py', FIXTURES).pathname, runtime, '7'])
    expect(stdout.trim()).toBe('0')
  })

  it('keeps the user module (line numbers included) and leaves nothing of main but the fused lines', async () => {
    const src = await source('05-accumulators.py')
    const text = CORPUS[4]?.input(8_000, 1) as string
    const { report, elements } = analyzeFor(src, text, 'jsonl')
    const { plan } = forcedPlan({ source: src, report, format: 'jsonl', inputBytes: Buffer.byteLength(text), elements })
    const chunk = plan.chunkTask?.script as string
    const final = plan.finalTask.script
    expect(chunk.split('\n')[0]).toBe(src.split('\n')[0])
    expect(chunk).toContain("    low = _RunsurgeRecorder('min')\n    for r in data:\n        low = min(low, r[\"amount\"])")
    expect(chunk).toContain('    total = _runsurge_NOVALUE')
    expect(final).toContain('    total = _runsurge_fold(_runsurge_parts, ')
    expect(final).toContain("'+', (0.0))")
    expect(final).toMatch(/def aggregate\(_runsurge_results\):[\s\S]*return \{"total": total/)
    expect(final).not.toMatch(/def main\(/)
  })
})

describe('planAuto hoists the reductions of the rest of main into the chunks (issue 14), run with python3', () => {
  /**
   * Reach-corpus programs (test/fixtures/reach-corpus/, written the way users write them) whose every use of a
   * split collection after the split part is a reduction or a comprehension over it: level 3, the collections never
   * sent, rounds where a pass needs an earlier pass's value; the result python3's, at two sizes and uneven chunks.
   */
  const HOISTED: Array<{ file: string, rounds: number }> = [
    { file: '07-outliers-zscore.py', rounds: 3 },
    { file: '17-argmin-enumerate.py', rounds: 1 },
    { file: '06-normalize-by-max.py', rounds: 2 },
    { file: '23-text-line-stats.py', rounds: 1 },
    { file: '14-histogram-data-range.py', rounds: 2 },
    { file: '20-helper-loops.py', rounds: 1 },
    { file: '01-return-dict-summary.py', rounds: 1 },
    { file: '02-return-tuple-mixed.py', rounds: 1 },
    { file: '03-mean-one-liner.py', rounds: 1 },
    { file: '05-variance-two-pass.py', rounds: 2 },
    { file: '21-statistics-module.py', rounds: 1 },
    { file: '08-stdev-helpers.py', rounds: 2 }
  ]
  for (const { file, rounds } of HOISTED) {
    it(`${file}: level 3 in ${rounds} round${rounds === 1 ? '' : 's'}, no collection sent to the aggregator, python3's result`, async () => {
      const program = reachProgram(file)
      const src = await readFile(reachPath(program), 'utf8')
      await Promise.all([6_000, 30_000].map(async (n, i) => {
        const text = program.input(n, 4100 + i)
        const { report, elements } = analyzeFor(src, text, program.ext)
        const { plan, memory } = forcedPlan({ source: src, report, format: FORMATS[program.ext], inputBytes: Buffer.byteLength(text), elements }, 3)
        expect(plan.level, plan.reasons.join('\n')).toBe(3)
        expect(1 + (plan.rounds?.length ?? 0), plan.reasons.join('\n')).toBe(rounds)
        expect(plan.sites?.length).toBeGreaterThan(0)
        expect(plan.finalTask.memoryBytes).toBeLessThanOrEqual(memory)
        for (const round of plan.rounds ?? []) expect(round.chunk.memoryBytes).toBeLessThanOrEqual(memory)
        const outcome = await execute(`reach-${file}-${n}`, src, text, program.ext, plan, i === 1)
        expect(outcome.where, `${file} at ${n} elements, ${plan.chunks} chunks:\nsequential ${outcome.sequential}\nsplit      ${outcome.split}`).toBeNull()
        expect(outcome.equal).toBe(true)
        // Partials only: a few hundred bytes per chunk and round, whatever the input size.
        expect(outcome.partialBytes).toBeLessThan(plan.chunks * rounds * 600)
      }))
    })
  }

  it('sends O(chunks) bytes, not the list, for return {"n": len(ys), "total": sum(ys)}, at any size', async () => {
    const src = 'def main(data):\n    ys = [int(s) * 3 for s in data]\n    return {"n": len(ys), "total": sum(ys)}\n'
    const sizes: number[] = []
    for (const n of [20_000, 80_000]) {
      const text = lines(n, 77, r => `${int(r, -1e9, 1e9)}`)
      const { report, elements } = analyzeFor(src, text, 'txt')
      const { plan } = forcedPlan({ source: src, report, format: 'text', inputBytes: Buffer.byteLength(text), elements }, 3)
      expect(plan.level).toBe(3)
      const outcome = await execute(`reach-bytes-${n}`, src, text, 'txt', plan, false)
      expect(outcome.equal).toBe(true)
      sizes.push(outcome.partialBytes / plan.chunks)
    }
    // Per chunk, the same few dozen bytes at 4 times the elements.
    for (const perChunk of sizes) expect(perChunk).toBeLessThan(200)
  })

  it('keeps exception order: a reduction that raises is raised only where the sequential run evaluates it', async () => {
    const src = [
      'def main(data):',
      '    xs = [int(s) for s in data]',
      '    if not xs:',
      '        return None',
      '    m = sum(xs) / len(xs)',
      '    small = min((x for x in xs if x > 10 ** 12), default=-1)',
      '    return {"m": m, "first": xs[0], "last": xs[-1], "small": small, "top": sorted(xs, reverse=True)[:3], "any": any(x > m for x in xs)}',
      ''
    ].join('\n')
    const text = lines(30_000, 5, r => `${int(r, -500, 500)}`)
    const { report, elements } = analyzeFor(src, text, 'txt')
    const { plan } = forcedPlan({ source: src, report, format: 'text', inputBytes: Buffer.byteLength(text), elements }, 3)
    expect(plan.level, plan.reasons.join('\n')).toBe(3)
    // main may return early (`if not xs: return None`): no later round, `any(x > m …)` runs in the aggregator.
    expect(plan.rounds, plan.reasons.join('\n')).toBeUndefined()
    const outcome = await execute('reach-order', src, text, 'txt', plan, true)
    expect(outcome.where, `sequential ${outcome.sequential}\nsplit      ${outcome.split}`).toBeNull()
  })
})

describe('running bests kept by a guarded replacement raise what one run raises first (issue 14), run with python3', () => {
  const run = async (name: string, src: string, text: string): Promise<string> => {
    const { report, elements } = analyzeFor(src, text, 'txt')
    const { plan } = forcedPlan({ source: src, report, format: 'text', inputBytes: Buffer.byteLength(text), elements }, 3)
    expect(plan.level, plan.reasons.join('\n')).toBe(3)
    const outcome = await execute(name, src, text, 'txt', plan, true)
    expect(outcome.where, `sequential ${outcome.sequential}\nsplit      ${outcome.split}`).toBeNull()
    return outcome.split
  }
  const inverse = ['def main(lines):', '    best = -1.0', '    inv = None', '    for line in lines:', '        v = float(line)', '        if v > best:', '            best = v', '            inv = 100 / v', '    return [best, inv]', ''].join('\n')
  /** Integers in [-1000, 1000], a zero in every 20 lines or so: in most chunks a zero is a best candidate before a positive. */
  const values = (n: number, seed: number, first: string): string => first + '\n' + lines(n, seed, r => r() < 0.05 ? '0' : `${int(r, -1000, 1000)}`)

  it('the values of a candidate raise only when one run would take it', async () => {
    const got = await Promise.all([['5', 'no zero taken'], ['0', 'the first zero taken']].map(async ([first], i) => run(`best-raise-${i}`, inverse, values(20_000, 5800 + i, first ?? ''))))
    expect(got[0]).toBe('[1000.0,0.1]')
    expect(got[1]).toBe('{"raised":"ZeroDivisionError: float division by zero"}')
  })

  it('from None (`b is None or int(w) > int(b)`): the first element is taken without its key, whose exception comes at the next comparison', async () => {
    const src = ['def main(lines):', '    b = None', '    for w in lines:', '        if b is None or int(w) > int(b):', '            b = w', '    return b', ''].join('\n')
    const numbers = (n: number, seed: number): string => lines(n, seed, r => `${int(r, -1e6, 1e6)}`)
    const [plain, first, inside] = await Promise.all([
      run('best-none-plain', src, numbers(20_000, 5820)),
      run('best-none-first', src, `abc\n${numbers(20_000, 5821)}`),
      run('best-none-inside', src, lines(20_000, 5822, (r, i) => i === 12_345 ? 'abc' : `${int(r, -1e6, 1e6)}`))
    ])
    expect(plain).toMatch(/^"\d+"$/)
    expect(first).toBe('{"raised":"ValueError: invalid literal for int() with base 10: \'abc\'"}')
    expect(inside).toBe('{"raised":"ValueError: invalid literal for int() with base 10: \'abc\'"}')
  })

  it('per key: a key\'s first element in a chunk is taken or compared as one run would, its exception raised either way', async () => {
    const src = ['def main(lines):', '    d = {}', '    for line in lines:', '        k, v = line.split()', '        x = float(v)', '        if k not in d or 100 / x > d[k]:', '            d[k] = 100 / x', '    return d', ''].join('\n')
    const readings = (n: number, seed: number, zero: number): string => lines(n, seed, (r, i) => `k${int(r, 1, 30)} ${i === zero ? '0' : int(r, 1, 1000)}`)
    const [plain, zero] = await Promise.all([run('kbest-plain', src, readings(20_000, 5830, -1)), run('kbest-zero', src, readings(20_000, 5831, 13_000))])
    expect(plain).toMatch(/^\{"k\d+":\d/)
    expect(zero).toBe('{"raised":"ZeroDivisionError: float division by zero"}')
  })

  it('the first match (`v is None and 100 / x > 1`): a condition raises only before the first match, in any chunk', async () => {
    const src = ['def main(lines):', '    v = None', '    for line in lines:', '        x = int(line)', '        if v is None and 100 / x > 1:', '            v = x', '    return v', ''].join('\n')
    const data = (zero: number, small: number): string => lines(20_000, 5840 + zero, (r, i) => i === zero ? '0' : i === small ? '7' : `${int(r, 200, 1000)}`)
    const [matched, raised] = await Promise.all([run('first-matched', src, data(15_000, 9_000)), run('first-raised', src, data(9_000, 15_000))])
    expect(matched).toBe('7')
    expect(raised).toBe('{"raised":"ZeroDivisionError: division by zero"}')
  })

  it('the key of the initial value raises when the first element is compared with it', async () => {
    const src = ['def main(lines):', '    longest = None', '    for line in lines:', '        if len(line) > len(longest):', '            longest = line', '    return longest', ''].join('\n')
    expect(await run('best-raise-init', src, lines(20_000, 5810, r => 'x'.repeat(int(r, 1, 30))))).toBe('{"raised":"TypeError: object of type \'NoneType\' has no len()"}')
  })
})

describe('helpers that compute values before they return, in passes (issue 14), run with python3', () => {
  const file = 'statement-helpers.py'
  /** `id,value` lines, values skewed (exponential), `faulty` readings of -999.x among them. */
  const readings = (n: number, seed: number, faulty: number): string => {
    const at = new Set(Array.from({ length: faulty }, (_, i) => Math.floor(((i + 0.5) * n) / faulty)))
    return lines(n, seed, (r, i) => `${i},${at.has(i) ? `-999.${int(r, 0, 9)}` : (-Math.log(1 - r()) * 40).toFixed(4)}`)
  }

  it('a three-pass summary, a stdev and a share run in 3 rounds with python3\'s result; only partials reach the aggregator', async () => {
    const src = await readFile(new URL(`./fixtures/keyed/${file}`, import.meta.url), 'utf8')
    await Promise.all([6_000, 30_000].map(async (n, i) => {
      const text = readings(n, 5500 + i, 7)
      const { report, elements } = analyzeFor(src, text, 'txt')
      const { plan, memory } = forcedPlan({ source: src, report, format: 'text', inputBytes: Buffer.byteLength(text), elements }, 3)
      expect(plan.level, plan.reasons.join('\n')).toBe(3)
      expect(1 + (plan.rounds?.length ?? 0), plan.reasons.join('\n')).toBe(3)
      expect(plan.sites?.map(s => `${s.text} ${s.round}`)).toEqual([
        'summary(readings) 1', 'summary(readings) (pass 2) 2', 'summary(readings) (pass 3) 3', 'stdev(readings) 1', 'stdev(readings) (pass 2) 2',
        'share_high(readings) 1', 'share_high(readings) (pass 2) 2', 'stdev(faulty) 1', 'stdev(faulty) (pass 2) 2'
      ])
      expect(plan.reasons.join('\n')).toMatch(/round 3 needs n, mu, sd \(computed by `summary\(readings\)`\)/)
      for (const round of plan.rounds ?? []) expect(round.chunk.memoryBytes).toBeLessThanOrEqual(memory)
      const outcome = await execute(`statement-helpers-${n}`, src, text, 'txt', plan, i === 1)
      expect(outcome.where, `${n} elements, ${plan.chunks} chunks:\nsequential ${outcome.sequential}\nsplit      ${outcome.split}`).toBeNull()
      expect(outcome.sequential).not.toMatch(/raised/)
      expect(outcome.partialBytes).toBeLessThan(plan.chunks * 3 * 600)
    }))
  })

  it('a helper\'s value inside a comprehension (one expression or in passes) reaches its chunks as a value, computed once by a stage', async () => {
    const src = [
      'import math', '', '',
      'def mean(xs):', '    return sum(xs) / len(xs)', '', '',
      'def stdev(xs):', '    m = mean(xs)', '    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))', '', '',
      'def main(lines):',
      '    xs = [float(s) for s in lines if s.strip()]',
      '    centered = [x - mean(xs) for x in xs]',
      '    z = [(x - mean(xs)) / stdev(xs) for x in xs]',
      '    return {"lo": min(centered), "hi": max(z), "n": len(z), "first": z[0]}',
      ''
    ].join('\n')
    // The sequential run computes the mean and the stdev once per element: small inputs.
    await Promise.all([1_500, 3_000].map(async (n, i) => {
      const text = lines(n, 5700 + i, r => (r() * 1000 - 300).toFixed(3))
      const { report, elements } = analyzeFor(src, text, 'txt')
      const { plan } = forcedPlan({ source: src, report, format: 'text', inputBytes: Buffer.byteLength(text), elements }, 3)
      expect(plan.level, plan.reasons.join('\n')).toBe(3)
      expect(1 + (plan.rounds?.length ?? 0), plan.reasons.join('\n')).toBe(3)
      expect(plan.reasons.join('\n')).toMatch(/line 16: z is built on each chunk from xs in round 3/)
      const outcome = await execute(`statement-helpers-map-${n}`, src, text, 'txt', plan, true)
      expect(outcome.where, `sequential ${outcome.sequential}\nsplit      ${outcome.split}`).toBeNull()
      expect(outcome.sequential).not.toMatch(/raised/)
    }))
  })

  it('raises what the helper raises first: no faulty reading fails in mean, one fails in stdev\'s division', async () => {
    const src = await readFile(new URL(`./fixtures/keyed/${file}`, import.meta.url), 'utf8')
    const raised = await Promise.all([0, 1].map(async faulty => {
      const text = readings(8_000, 5600 + faulty, faulty)
      const { report, elements } = analyzeFor(src, text, 'txt')
      const { plan } = forcedPlan({ source: src, report, format: 'text', inputBytes: Buffer.byteLength(text), elements }, 3)
      expect(1 + (plan.rounds?.length ?? 0), plan.reasons.join('\n')).toBe(3)
      const outcome = await execute(`statement-helpers-raise-${faulty}`, src, text, 'txt', plan, true)
      expect(outcome.where, `sequential ${outcome.sequential}\nsplit      ${outcome.split}`).toBeNull()
      return outcome.split
    }))
    expect(raised).toEqual(['{"raised":"ZeroDivisionError: division by zero"}', '{"raised":"ZeroDivisionError: float division by zero"}'])
  })
})

describe('planAuto combines keyed accumulators: group-by, counts, histograms, sets (issue 14), run with python3', () => {
  /** Reach-corpus programs whose split part builds a dict of lists, counts per key or position, or a set. */
  const KEYED = ['09-groupby-setdefault.py', '10-groupby-empty-groups.py', '11-dict-get-totals.py', '12-counter-most-common.py', '13-histogram-fixed-bins.py', '15-distinct-sets.py', '22-csv-sales-report.py', '24-regex-log-parse.py']
  it('sizes an aggregator that also holds what the rest makes of keyed values from what the chunks send, measured', async () => {
    const src = await readFile(new URL('./fixtures/keyed/derived.py', import.meta.url), 'utf8')
    // Few keys (what the every-key-distinct estimate cannot know) and many: the bound holds either way.
    for (const [keys, seed] of [[50, 5400], [30_000, 5401]] as const) {
      const text = lines(40_000, seed, r => `k${int(r, 1, keys)} ${int(r, -1e6, 1e6)}`)
      const { report, elements } = await calibratedFor(src, text, 'txt')
      const { plan } = forcedPlan({ source: src, report, format: 'text', inputBytes: Buffer.byteLength(text), elements }, 3)
      const sizing = plan.finalTask.sizing
      expect(sizing, plan.reasons.join('\n')).toBeDefined()
      const outcome = await execute(`derived-${keys}`, src, text, 'txt', plan, true, true)
      expect(outcome.equal).toBe(true)
      const fixed = (sizing?.fixedBytes ?? 0) - PYTHON_OVERHEAD_BYTES
      // Its peak is the rows the rest builds from the counts: sized by what the chunks send, per byte generously, or
      // from what the chunks measured decoding them takes.
      const perByte = sizing?.perByte ?? DECODED_BYTES_PER_PARTIAL_BYTE
      expect(perByte).toBe(REST_BYTES_PER_PARTIAL_BYTE)
      expect(outcome.partialMemory).toBeGreaterThan(0)
      const sized = runtimeBytes(sizing as TaskSizing, outcome.partialBytes, outcome.partialMemory) - PYTHON_OVERHEAD_BYTES
      expect(outcome.aggregatePeak, `${keys} keys: ${outcome.aggregatePeak ?? 0} bytes traced for ${outcome.partialBytes} bytes of partials, ${outcome.partialMemory ?? 0} measured`)
        .toBeLessThanOrEqual(Math.min(fixed + perByte * outcome.partialBytes, sized))
    }
  })

  it('sizes the aggregator of keyed partials from what the chunks send: at most DECODED_BYTES_PER_PARTIAL_BYTE per byte, measured', async () => {
    for (const file of KEYED) {
      const program = reachProgram(file)
      const src = await readFile(reachPath(program), 'utf8')
      const text = program.input(40_000, 5300)
      const { report, elements } = await calibratedFor(src, text, program.ext)
      const { plan } = forcedPlan({ source: src, report, format: FORMATS[program.ext], inputBytes: Buffer.byteLength(text), elements }, 3)
      const sizing = plan.finalTask.sizing
      // Group-by, Counter, histogram and set programs whose aggregator's peak is decoding the partials.
      if (['09', '10', '11', '12', '13', '15'].some(prefix => file.startsWith(prefix))) expect(sizing, plan.reasons.join('\n')).toBeDefined()
      if (sizing === undefined) continue
      const outcome = await execute(`sized-${file}`, src, text, program.ext, plan, true, true)
      expect(outcome.equal).toBe(true)
      // What the aggregator allocates is within what it is sized by, the interpreter aside: from the bytes the chunks
      // send, and from what they measured decoding them takes.
      const fixed = (sizing?.fixedBytes ?? 0) - PYTHON_OVERHEAD_BYTES
      expect(outcome.aggregatePeak, `${file}: ${outcome.aggregatePeak ?? 0} bytes traced for ${outcome.partialBytes} bytes of partials`)
        .toBeLessThanOrEqual(fixed + DECODED_BYTES_PER_PARTIAL_BYTE * outcome.partialBytes)
      expect(outcome.aggregatePeak, `${file}: ${outcome.aggregatePeak ?? 0} bytes traced for ${outcome.partialMemory ?? 0} bytes measured`)
        .toBeLessThanOrEqual(fixed + PARTIAL_TEXT_BYTES_PER_BYTE * outcome.partialBytes + (outcome.partialMemory ?? 0))
    }
  })

  it('plans a set of distinct values that would not fit if every value were distinct, sizing its aggregator when the chunks report', async () => {
    const program = reachProgram('15-distinct-sets.py')
    const src = await readFile(reachPath(program), 'utf8')
    const text = program.input(40_000, 5400)
    const { report, elements } = await calibratedFor(src, text, program.ext)
    const input = { source: src, report, format: FORMATS[program.ext], inputBytes: Buffer.byteLength(text), elements }
    const roomy = planAuto({ ...input, nodes: [{ memoryBytes: 2 ** 40 }] })
    const all = roomy.level === 3 ? roomy.finalTask : forcedPlan(input, 3).plan.finalTask
    const sizing = all.sizing as TaskSizing
    expect(sizing.keyedBytes).toBeGreaterThan(0)
    // Nodes between what the aggregator holds without the keyed partials and what it would hold if all were distinct.
    const memory = Math.max(PYTHON_OVERHEAD_BYTES + 8 * MiB, Math.floor(sizing.fixedBytes + sizing.keyedBytes / 2))
    expect(memory).toBeLessThan(all.memoryBytes)
    const plan = planAuto({ ...input, nodes: Array.from({ length: 3 }, () => ({ memoryBytes: memory })) })
    expect(plan.level, plan.reasons.join('\n')).toBe(3)
    expect(plan.finalTask.sizing).toEqual(sizing)
    expect(plan.reasons.join('\n')).toMatch(/the aggregator needs ~[\d.]+ [KM]iB and what the keyed partials hold: up to ~[\d.]+ MiB if every key is distinct, so it is sized from the bytes the chunks send/)
    // Once the chunks report, what it needs is known; here far less than if every value were distinct.
    const outcome = await execute('sized-15', src, text, program.ext, plan, true, true)
    expect(outcome.equal).toBe(true)
    expect(runtimeBytes(sizing, outcome.partialBytes)).toBeLessThan(memory)
    // Nodes that cannot hold even the rest: refused at planning, as before.
    expect(() => planAuto({ ...input, nodes: [{ memoryBytes: sizing.fixedBytes - 1 }] })).toThrow(PlanError)
  })

  for (const file of KEYED) {
    it(`${file}: level 3, python3's result at two sizes with uneven chunks`, async () => {
      const program = reachProgram(file)
      const src = await readFile(reachPath(program), 'utf8')
      await Promise.all([6_000, 30_000].map(async (n, i) => {
        const text = program.input(n, 5100 + i)
        const { report, elements } = analyzeFor(src, text, program.ext)
        const { plan, memory } = forcedPlan({ source: src, report, format: FORMATS[program.ext], inputBytes: Buffer.byteLength(text), elements }, 3)
        expect(plan.level, plan.reasons.join('\n')).toBe(3)
        const outcome = await execute(`keyed-${file}-${n}`, src, text, program.ext, plan, true)
        aggregatorFits(plan, memory, outcome.partialBytes)
        expect(outcome.where, `${file} at ${n} elements, ${plan.chunks} chunks:\nsequential ${outcome.sequential}\nsplit      ${outcome.split}`).toBeNull()
        expect(outcome.equal).toBe(true)
      }))
    })
  }

  /**
   * Written for this test, not tuned against: every keyed form in one loop (a set of ints and floats whose iteration
   * order depends on the order of arrival, `if k not in d: d[k] = []`, defaultdict(list), Counter.update, a per-position
   * sum), a set comprehension and Counter(…) with most_common ties; and a dict whose keys are fixed by its initial value.
   */
  const WORDS = ['queue', 'quiet', 'rhythm', 'sky', 'banana', 'strengths', 'aeon', 'io', 'a', 'quixotic', 'crwth', 'encyclopaedia', 'zz']
  const OWN = [
    { file: 'mixed-keyed.py', input: (n: number, seed: number) => lines(n, seed, r => `${int(r, 0, 10 ** (1 + Math.floor(r() * 9)))}`), rounds: undefined },
    { file: 'fixed-keys.py', input: (n: number, seed: number) => lines(n, seed, r => `${pick(r, ['1', '2', '3'])}${int(r, 0, 999)}`) },
    { file: 'rest-loop.py', input: (n: number, seed: number) => lines(n, seed, r => `${int(r, -1e6, 1e6)}`), rounds: 2 },
    { file: 'best-from-none.py', input: (n: number, seed: number) => lines(n, seed, r => r() < 0.02 ? 'nan' : `${int(r, -1e6, 1e6)}`), rounds: 1 },
    // Loop helpers called on a kept list: adding, counting above a mean computed from it (a second round), a running
    // best from None, a tally by key.
    { file: 'helpers.py', input: (n: number, seed: number) => lines(n, seed, r => `${int(r, -1e6, 1e6)}`), rounds: 2 },
    // A record of counts per key (`if k not in d: d[k] = {"orders": 0, …}` then `d[k]["orders"] += 1`), quarter prices
    // so that float sums are exact in any order; a blank line now and then.
    { file: 'records.py', input: (n: number, seed: number) => lines(n, seed, r => r() < 0.01 ? '' : `${pick(r, ['north', 'south', 'east', 'west', 'zürich'])} i${int(r, 1, 99)} ${int(r, 1, 9)} ${(int(r, 1, 400) / 4).toFixed(2)}`), rounds: 1 },
    // The statistics module (by module and by imported name) and math.fsum over kept lists and a generator: exact.
    // Helpers returning an expression of reductions (mean, span, a share, a root mean square), one feeding a second round.
    { file: 'expression-helpers.py', input: (n: number, seed: number) => lines(n, seed, r => `${int(r, -1000, 1000)}`), rounds: 2, partialsOnly: true },
    { file: 'stats.py', input: (n: number, seed: number) => lines(n, seed, r => r() < 0.3 ? `${int(r, -500, 2000)}` : `${(r() * 4000 - 1000).toFixed(r() < 0.5 ? 2 : 7)}`), rounds: 1, partialsOnly: true },
    // Running bests kept by a guarded replacement: `if len(w) > len(longest)`, a score kept beside its word (>=, the
    // last of ties), `if fewest_k > k` (the state first), a tuple key, NaN keys (never taken), and a closest-to-the-mean
    // loop in a second round. Words repeat and values tie often.
    // Bests per key: `if k not in d or t > d[k]`, `d[k] = min(d.get(k, t), t)`, a key of the value (`len(d[k])`), the
    // state first with <= (the last of ties), NaN readings (first of a station now and then), and a second round.
    { file: 'keyed-best.py', input: (n: number, seed: number) => lines(n, seed, r => `s${int(r, 1, 40)},${r() < 0.01 ? 'nan' : `${int(r, -400, 400) / 4}`},${pick(r, ['a', 'b', 'c'])}${int(r, 1, 10 ** int(r, 1, 4))}`), rounds: 2, partialsOnly: false },
    // Loops over enumerate(…): a first round counts each chunk's elements, the loop runs in the second from its offset.
    { file: 'numbered.py', input: (n: number, seed: number) => lines(n, seed, r => `${int(r, -1e6, 1e6)}`), rounds: 2 },
    // The first element meeting a condition (`if v is None and x < 0`): negatives only in the second half, a check
    // that would divide by zero later on, values that may be None.
    { file: 'first-match.py', input: (n: number, seed: number) => lines(n, seed, (r, i) => `${i < n / 2 ? int(r, 0, 1000) : int(r, -5, 1000)}`), rounds: 2, partialsOnly: true },
    { file: 'running-best.py', input: (n: number, seed: number) => lines(n, seed, r => `${pick(r, WORDS)}${pick(r, ['', 's', 'ing', 'ed'])} ${int(r, 0, 400) / 4}`), rounds: 2, partialsOnly: 600 }
  ]
  for (const { file, input, rounds, partialsOnly } of OWN as Array<typeof OWN[number] & { partialsOnly?: boolean | number }>) {
    it(`${file}: level 3, python3's result (iteration orders included) at two sizes with uneven chunks`, async () => {
      const src = await readFile(new URL(`./fixtures/keyed/${file}`, import.meta.url), 'utf8')
      await Promise.all([5_000, 25_000].map(async (n, i) => {
        const text = input(n, 5200 + i)
        const { report, elements } = analyzeFor(src, text, 'txt')
        // Level 3 for speed (slow calibrated blocks, roomy nodes): the static estimate of what the keyed values hold
        // is deliberately pessimistic, and this test is about their results.
        const timed = { ...report, blocks: report.blocks?.map(b => ({ ...b, seconds: { fixed: 0.001, perElement: 1e-3 } })) }
        const plan = planAuto({ source: src, report: timed, format: 'text', inputBytes: Buffer.byteLength(text), elements, nodes: Array.from({ length: 3 }, () => ({ memoryBytes: 2 ** 32 })) })
        expect(plan.level, plan.reasons.join('\n')).toBe(3)
        // A loop after a value computed from the data (a mean) runs on the chunks in a second round.
        if (rounds !== undefined) expect(1 + (plan.rounds?.length ?? 0), plan.reasons.join('\n')).toBe(rounds)
        const outcome = await execute(`own-${file}-${n}`, src, text, 'txt', plan, true)
        expect(outcome.where, `${file} at ${n} elements, ${plan.chunks} chunks:\nsequential ${outcome.sequential}\nsplit      ${outcome.split}`).toBeNull()
        expect(outcome.split).toBe(outcome.sequential)
        // Only partials reach the aggregator: a few hundred bytes a chunk and site (exact sums as fractions are the
        // largest), at either size.
        // (Running bests send a candidate with its values: up to 600.)
        if (partialsOnly !== undefined && partialsOnly !== false) expect(outcome.partialBytes, plan.reasons.join('\n')).toBeLessThan(plan.chunks * (plan.sites?.length ?? 1) * (partialsOnly === true ? 400 : partialsOnly))
      }))
    })
  }
})

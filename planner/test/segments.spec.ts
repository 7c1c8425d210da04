/**
 * Level 2 and task parallelism (planner/segments.ts): main cut into parts that run as separate tasks. Every plan is
 * run for real with /usr/bin/python3 the way nodes run it — each part in a fresh process, with the input when it
 * reads it and the encoded values of the parts it depends on — and compared with main(data) run once.
 * Calibrated times are set on the report by hand where a test needs the planner to weigh them.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { analyze, calibrate, sampleInput } from '../../analyzer/src/index.ts'
import { pythonRunner } from '../../corpus/python.ts'
import type { AnalysisReport } from '../../analyzer/src/index.ts'
import { planAuto, TASK_STARTUP_SECONDS } from '../src/index.ts'
import { planSegments } from '../src/segments.ts'
import type { Segment } from '../src/segments.ts'

const run = promisify(execFile)
const PYTHON = '/usr/bin/python3'
const RUNTIME = new URL('../../node/src/runtime/', import.meta.url).pathname
const MiB = 1024 * 1024

/** Runs one part the way the node's runner does, printing its output as JSON. */
const PART_DRIVER = `
import importlib.util, json, sys
sys.set_int_max_str_digits(0)
sys.path.insert(0, ${JSON.stringify(RUNTIME)})
from runner import load_input
script, data_path, results_path = sys.argv[1:4]
spec = importlib.util.spec_from_file_location('__runsurge_job__', script)
module = importlib.util.module_from_spec(spec)
sys.modules['__runsurge_job__'] = module
spec.loader.exec_module(module)
with open(results_path) as f:
    results = json.load(f)
value = module._runsurge_segment(load_input(data_path or None, 'auto'), results)
sys.stdout.write(json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(',', ':')))
`
const MAIN_DRIVER = `
import importlib.util, json, sys
sys.set_int_max_str_digits(0)
sys.path.insert(0, ${JSON.stringify(RUNTIME)})
from runner import load_input
spec = importlib.util.spec_from_file_location('__runsurge_job__', sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules['__runsurge_job__'] = module
spec.loader.exec_module(module)
sys.stdout.write(json.dumps(module.main(load_input(sys.argv[2], 'auto')), allow_nan=False, ensure_ascii=False, separators=(',', ':')))
`

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runsurge-segments-'))
  await writeFile(join(dir, 'part.py'), PART_DRIVER)
  await writeFile(join(dir, 'main.py'), MAIN_DRIVER)
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

function numbers (n: number): string {
  return Array.from({ length: n }, (_, i) => String((i * 7919) % 10007 - 5000)).join('\n') + '\n'
}

/**
 * The analysis of `source` for `input`, calibrated on a sample of it with python3 as the coordinator does (which
 * also tells the planner which values can be copied between tasks), and with each block's seconds per element
 * then set from `perElement` (by first line), so a test decides what is heavy.
 */
async function report (source: string, input: string, perElement?: (line: number) => number): Promise<AnalysisReport> {
  const lines = input.split('\n').filter(Boolean)
  const sample = sampleInput(input.slice(0, 64 * 1024), 'lines', 400)
  const analysis = await calibrate(source, { mode: 'auto', input: { format: 'lines', elements: lines.length, sample: sample.sample }, sampleText: sample.text, sampleElements: sample.sample.length, runner: pythonRunner })
  expect(analysis.status, JSON.stringify(analysis.findings)).toBe('accepted')
  if (perElement !== undefined) for (const b of analysis.blocks ?? []) b.seconds = { fixed: 0, perElement: perElement(b.startLine) }
  return analysis
}

/** Runs the parts in dependency order, each in its own python3; returns the final part's output text. */
async function runParts (segments: Segment[], name: string, input: string): Promise<string> {
  const inputPath = join(dir, `${name}.txt`)
  await writeFile(inputPath, input)
  const outputs = new Map<number, string>()
  const done = new Set<number>()
  let result: string | undefined
  while (done.size < segments.length) {
    const ready = segments.map((seg, i) => ({ seg, i })).filter(({ seg, i }) => !done.has(i) && seg.dependsOn.every(d => done.has(d)))
    expect(ready.length, 'the parts form a graph without cycles').toBeGreaterThan(0)
    await Promise.all(ready.map(async ({ seg, i }) => {
      const script = join(dir, `${name}-part${i}.py`)
      const results = join(dir, `${name}-part${i}-results.json`)
      await writeFile(script, seg.script)
      await writeFile(results, `[${seg.dependsOn.map(d => outputs.get(d)).join(',')}]`)
      const { stdout } = await run(PYTHON, [join(dir, 'part.py'), script, seg.readsData ? inputPath : '', results], { maxBuffer: 64 * MiB })
      outputs.set(i, stdout)
      if (seg.final) result = stdout
      done.add(i)
    }))
  }
  expect(segments.filter(seg => seg.final)).toHaveLength(1)
  expect(segments.at(-1)?.final).toBe(true)
  return result as string
}

async function sequential (source: string, name: string, input: string): Promise<string> {
  const script = join(dir, `${name}-main.py`)
  const inputPath = join(dir, `${name}.txt`)
  await writeFile(script, source)
  await writeFile(inputPath, input)
  return (await run(PYTHON, [join(dir, 'main.py'), script, inputPath], { maxBuffer: 64 * MiB })).stdout
}

function plan (source: string, rep: AnalysisReport, n: number, largest: number, purpose: 'memory' | 'time'): Segment[] {
  const planned = planSegments(source, rep, n, largest, purpose)
  if ('reason' in planned) throw new Error(`not cut: ${planned.reason}`)
  return planned.segments
}

/** Two heavy independent checksums of the same sorted numbers (lines 15 and 16), after an in-place reverse. */
const FORK_JOIN = readFileSync(new URL('../../test/fixtures/auto-corpus/32-fork-join.py', import.meta.url), 'utf8')

describe('task parallelism from calibrated times', () => {
  const input = numbers(3000)
  const heavy = (lines: number[]) => (line: number) => lines.includes(line) ? (2 * TASK_STARTUP_SECONDS) / 1000 : 1e-8

  it('runs two heavy independent statements in parts of their own, after the head, and joins them: python3\'s result', async () => {
    const segments = plan(FORK_JOIN, await report(FORK_JOIN, input, heavy([15, 16])), 3000, 1024 * MiB, 'time')
    expect(segments.length).toBeGreaterThanOrEqual(3)
    const withA = segments.findIndex(seg => seg.lines.some(([a, b]) => a <= 15 && b >= 15))
    const withB = segments.findIndex(seg => seg.lines.some(([a, b]) => a <= 16 && b >= 16))
    expect(withA).not.toBe(withB)
    // Neither waits for the other.
    expect(segments[withA]?.dependsOn).not.toContain(withB)
    expect(segments[withB]?.dependsOn).not.toContain(withA)
    // The head (up to nums.reverse(), an in-place change) is one part, which both read from.
    const head = segments.findIndex(seg => seg.statements.includes(0))
    expect(segments[head]?.statements).toEqual(expect.arrayContaining([0, 1]))
    expect(segments[withA]?.dependsOn).toContain(head)
    expect(await runParts(segments, 'fork-join', input)).toBe(await sequential(FORK_JOIN, 'fork-join', input))
  })

  it('keeps everything in one run when the statements are too light to pay for task start-ups', async () => {
    const planned = planSegments(FORK_JOIN, await report(FORK_JOIN, input, () => 1e-8), 3000, 1024 * MiB, 'time')
    expect(planned).toMatchObject({ reason: expect.stringMatching(/worth running at the same time|would not be faster/) })
  })

  it('needs a calibrated analysis to cut at all', () => {
    const lines = input.split('\n').filter(Boolean)
    const uncalibrated = analyze(FORK_JOIN, { mode: 'auto', input: { format: 'lines', elements: lines.length, sample: lines.slice(0, 200) } })
    expect(planSegments(FORK_JOIN, uncalibrated, 3000, 1024 * MiB, 'time')).toMatchObject({ reason: expect.stringContaining('not calibrated') })
    expect(planSegments(FORK_JOIN, uncalibrated, 3000, 1024 * MiB, 'memory')).toMatchObject({ reason: expect.stringContaining('not calibrated') })
  })

  it('keeps a value that cannot be copied to another task (a function, an iterator) in the part that made it', async () => {
    const early = `def spin(xs, k):
    return sum((x * k) % 11 for x in xs)


def main(data):
    values = (int(x) for x in data)
    rest = sorted(values)
    a = spin(rest, 3)
    b = spin(rest, 5)
    return [rest[0], a, b]
`
    const rep = await report(early, input, heavy([8, 9]))
    expect(rep.memory?.calibration?.unencodable).toEqual(['values'])
    const segments = plan(early, rep, 3000, 1024 * MiB, 'time')
    expect(segments.length).toBeGreaterThanOrEqual(3)
    // The generator is made and consumed in the head; only the list it gave travels.
    expect(segments.find(seg => seg.statements.includes(0))?.statements).toEqual(expect.arrayContaining([0, 1]))
    for (const seg of segments) expect(seg.receives.flat()).not.toContain('values')
    expect(await runParts(segments, 'uncopyable', input)).toBe(await sequential(early, 'uncopyable', input))

    const late = early.replace('    return [rest[0], a, b]', '    pairs = zip(rest, rest)\n    return [rest[0], a, b, len(list(pairs))]')
    const lateReport = await report(late, input, heavy([8, 9]))
    expect(lateReport.memory?.calibration?.unencodable).toEqual(['pairs', 'values'])
    expect(planSegments(late, lateReport, 3000, 1024 * MiB, 'time')).toMatchObject({ reason: expect.stringMatching(/uses pairs, which held a value that cannot be copied to another task/) })
  })

  it('gives parts that read the input the input, and parts that do not, none', async () => {
    const source = `def spin(xs, k):
    return sum((int(x) * k) % 11 for x in xs)


def main(data):
    a = spin(data, 3)
    b = spin(data, 5)
    return [a, b, a - b]
`
    const segments = plan(source, await report(source, input, heavy([6, 7])), 3000, 1024 * MiB, 'time')
    expect(segments).toHaveLength(3)
    expect(segments.filter(seg => seg.readsData)).toHaveLength(2)
    expect(segments.find(seg => seg.final)?.readsData).toBe(false)
    expect(await runParts(segments, 'both-read', input)).toBe(await sequential(source, 'both-read', input))
  })

  it('sends values between parts exactly: big ints, tuples, sets, dicts with non-string keys, nan, -0.0', async () => {
    const source = `def main(data):
    nums = [int(x) for x in data]
    big = 3 ** 300 + len(nums)
    pairs = tuple((n, n * n) for n in nums[:5])
    keyed = {n: str(n) for n in nums[:5]}
    tupled = {(n, -n): 1.5 for n in nums[:3]}
    odd = [float('nan'), -0.0, float('inf'), 1e-310]
    frozen = frozenset(nums[:4])
    return repr([big, pairs, keyed, tupled, odd, sorted(frozen), type(pairs).__name__, type(frozen).__name__])
`
    const segments = plan(source, await report(source, input, () => (2 * TASK_STARTUP_SECONDS) / 1000), 3000, 1024 * MiB, 'time')
    expect(segments.length).toBeGreaterThanOrEqual(3)
    expect(await runParts(segments, 'exact', input)).toBe(await sequential(source, 'exact', input))
  })
})

describe('what stays in one part', () => {
  const input = numbers(500)
  const allHeavy = (): number => (2 * TASK_STARTUP_SECONDS) / 500
  const heavyLines = (lines: number[]) => (line: number): number => lines.includes(line) ? (5 * TASK_STARTUP_SECONDS) / 500 : 1e-8

  it('an alias changed in place: everything up to the change runs together, and the result is python3\'s', async () => {
    const source = `def main(data):
    xs = [int(x) for x in data]
    ys = xs
    ys.append(-1)
    a = sum(xs)
    b = max(ys)
    return [a, b, len(xs)]
`
    const segments = plan(source, await report(source, input, heavyLines([5, 6])), 500, 1024 * MiB, 'time')
    const head = segments.find(seg => seg.statements.includes(0))
    expect(head?.statements).toEqual(expect.arrayContaining([0, 1, 2]))
    expect(await runParts(segments, 'alias', input)).toBe(await sequential(source, 'alias', input))
  })

  it('a name bound twice: the head reaches its last binding', async () => {
    const source = `def main(data):
    xs = [int(x) for x in data]
    a = sum(xs)
    a = a * 2
    b = min(xs)
    c = max(xs)
    return [a, b, c]
`
    const segments = plan(source, await report(source, input, heavyLines([5, 6])), 500, 1024 * MiB, 'time')
    expect(segments.find(seg => seg.statements.includes(0))?.statements).toEqual(expect.arrayContaining([0, 1, 2]))
    expect(await runParts(segments, 'rebind', input)).toBe(await sequential(source, 'rebind', input))
  })

  it('a program that may return early is not cut', async () => {
    const source = `def main(data):
    xs = [int(x) for x in data]
    if not xs:
        return None
    a = sum(xs)
    b = max(xs)
    return [a, b]
`
    expect(planSegments(source, await report(source, input, allHeavy), 500, 1024 * MiB, 'time')).toMatchObject({ reason: expect.stringContaining('may end main early') })
  })

  it('a program whose in-place changes reach its last statement is not cut', async () => {
    const source = `def main(data):
    out = []
    for x in data:
        out.append(int(x))
    out.sort()
    return out
`
    expect(planSegments(source, await report(source, input, allHeavy), 500, 1024 * MiB, 'time')).toMatchObject({ reason: expect.stringMatching(/changes out in place|nothing after/) })
  })
})

describe('level 2 for memory (calibrated on a sample, as the coordinator does)', () => {
  // The median line needs the whole input sorted at once: not a reduction the chunks can compute.
  const source = `def main(data):
    middle = sorted(data, key=len)[len(data) // 2]
    size = len(data)
    table = [i % 7 for i in range(size * 200)]
    return [sum(table), len(middle)]
`
  // 20,000 lines of about 1 KB: the input and the table are each ~20-30 MiB, and main holds both at the end.
  const n = 20_000
  const input = Array.from({ length: n }, (_, i) => 'x'.repeat(900 + (i * 7919) % 200)).join('\n') + '\n'
  let rep: AnalysisReport
  let whole: number

  beforeAll(async () => {
    const lines = input.split('\n').filter(Boolean)
    const analysis = analyze(source, { mode: 'auto', input: { format: 'lines', elements: n, sample: lines.slice(0, 256) } })
    const small = sampleInput(input.slice(0, 256 * 1024), 'lines', 400)
    rep = await calibrate(source, { mode: 'auto', input: { format: 'lines', elements: n, sample: small.sample }, sampleText: small.text, sampleElements: small.sample.length, runner: pythonRunner })
    expect(analysis.status).toBe('accepted')
    const plan = planAuto({ source, report: rep, format: 'text', inputBytes: input.length, elements: n, nodes: [{ memoryBytes: 1024 * MiB }] })
    expect(plan.level).toBe(1)
    whole = plan.estimate.peakBytes
  })

  it('has nothing to cut for when the whole program fits', () => {
    expect(planSegments(source, rep, n, 1024 * MiB, 'memory')).toMatchObject({ reason: expect.stringContaining('no cut') })
  })

  it('cuts a program too big for any node into parts that each fit, run in order: python3\'s result', async () => {
    const largest = Math.floor(whole * 0.8)
    const segments = plan(source, rep, n, largest, 'memory')
    expect(segments.length).toBeGreaterThan(1)
    for (const seg of segments) expect(seg.memoryBytes).toBeLessThanOrEqual(largest)
    expect(segments[0]?.readsData).toBe(true)
    expect(segments.at(-1)?.readsData).toBe(false)
    expect(await runParts(segments, 'memory', input)).toBe(await sequential(source, 'memory', input))
  })

  it('planAuto chooses level 2 when the whole program does not fit and cannot be split by data', () => {
    const small = planAuto({ source, report: rep, format: 'text', inputBytes: input.length, elements: n, nodes: [{ memoryBytes: Math.floor(whole * 0.8) }] })
    expect(small.level).toBe(2)
    expect(small.segments?.length).toBeGreaterThan(1)
    expect(small.finalTask.entry).toBe('segment')
    expect(small.reasons.join('\n')).toMatch(/cut into parts that each fit/)
  })

  it('fails naming the part that does not fit when no cut helps', () => {
    expect(planSegments(source, rep, n, 24 * MiB, 'memory')).toMatchObject({ reason: expect.stringMatching(/the part at line \d+ .* needs about [\d.]+ MiB, more than the largest node's 24.0 MiB/) })
    expect(() => planAuto({ source, report: rep, format: 'text', inputBytes: input.length, elements: n, nodes: [{ memoryBytes: 24 * MiB }] })).toThrow(/nor cut into parts: the part at line/)
  })
})

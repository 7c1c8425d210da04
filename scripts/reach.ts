/**
 * How far automatic mode reaches (issue 14): every program of test/fixtures/reach-corpus/ runs through
 * `runsurge run --nodes 3 --node-memory 48MB --json` on an input whose sequential python3 peak is at least 1.5 × 48 MiB,
 * so that no single node can run it whole, and once at 200 elements; each result is compared with python3's.
 *
 *   node_modules/.bin/node --import tsx scripts/reach.ts [--size-mib N] [--filter RE] [--seed S] [--remeasure] [--keep-inputs]
 *
 * The input size of each program is found by growing it until `/usr/bin/time -f %M` says python3 peaks at 72 MiB or
 * more; the chosen size is cached in .scratch/reach/sizes.json (and checked again on every run, since the expected
 * result comes from that same measured run). `--size-mib` uses one size for every program instead. One line per
 * program, a summary, and every detail in .scratch/reach/results.json.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { SEQUENTIAL_DRIVER } from '../corpus/auto.ts'
import { REACH, inputOfBytes, reachPath } from '../corpus/reach.ts'
import type { ReachProgram } from '../corpus/reach.ts'
import { resultDifference } from '../corpus/compare.ts'

const ROOT = join(import.meta.dirname, '..')
const WORK = join(ROOT, '.scratch', 'reach')
const SIZES = join(WORK, 'sizes.json')
const RESULTS = join(WORK, 'results.json')
const PYTHON = '/usr/bin/python3'
const TIME = '/usr/bin/time'
const MiB = 1024 * 1024

const NODES = 3
const NODE_MEMORY_MIB = 48
/** The sequential peak the large input must reach: 1.5 × what one node offers, so no node can run it whole. */
const TARGET_PEAK = 1.5 * NODE_MEMORY_MIB * MiB
/** Stop growing within this much above the target: a much larger input only makes the run slower. */
const ENOUGH_PEAK = 1.25 * TARGET_PEAK
/** python3's peak with an empty input (interpreter, json, csv, re): what does not grow with the input. */
const BASE_PEAK = 11 * MiB
const FIRST_GUESS = 4 * MiB
const MAX_INPUT = 512 * MiB
const MAX_TRIES = 8
const SMALL_ELEMENTS = 200
/** A job's bound: a hang shows as `failed: timeout` instead of stopping the whole table. */
const JOB_DEADLINE_MS = 10 * 60_000

interface Plan {
  level?: number
  tasks?: number
  chunks?: number
  rounds?: number | unknown[]
  reasons?: string[]
}

interface RunOutcome {
  /**
   * One word for the summary: ok-L1, ok-L3, WRONG, does_not_fit (refused at planning), ran_out (planned, then
   * out of memory at run time), failed.
   */
  kind: string
  /** What the table prints. */
  text: string
  plan?: Plan
  difference?: string
  error?: { code: string, message: string }
  wallMs: number
}

interface Sized {
  bytes: number
  elements: number
  peakBytes: number
  expected: string
  pythonMs: number
}

interface Row {
  file: string
  shape: string
  multiPass: boolean
  heldOut: boolean
  inputBytes: number
  elements: number
  pythonPeakBytes: number
  pythonMs: number
  /** python3's result at the large size. */
  expected: string
  large: RunOutcome
  small: RunOutcome
}

interface Exited {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}

function run (command: string, args: string[], timeoutMs = JOB_DEADLINE_MS): Promise<Exited> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.once('error', reject)
    child.once('close', code => resolve({
      code,
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
      ms: performance.now() - started
    }))
  })
}

/** python3's result and peak resident memory (`/usr/bin/time -f %M`, KiB, on the last line of stderr). */
async function sequential (program: ReachProgram, input: string): Promise<{ expected: string, peakBytes: number, ms: number }> {
  const exited = await run(TIME, ['-f', '%M', PYTHON, SEQUENTIAL_DRIVER, reachPath(program), input])
  const lines = exited.stderr.trim().split('\n')
  if (exited.code !== 0) throw new Error(`python3 failed on ${program.file}: ${lines.slice(-3).join(' | ')}`)
  return { expected: exited.stdout, peakBytes: Number(lines.at(-1)) * 1024, ms: exited.ms }
}

function inputFile (program: ReachProgram, label: string): string {
  return join(WORK, 'inputs', `${program.file.replace(/\//g, '_').replace(/\.py$/, '')}-${label}.${program.ext}`)
}

/**
 * Grows the input from `start` (a size in bytes, or a cached element count) until python3 peaks at TARGET_PEAK or
 * more, each next size from a line through BASE_PEAK and the last measurement; shrinks it when the first try lands
 * far above ENOUGH_PEAK. With `fixed`, measures `start` only.
 */
async function sizeInput (program: ReachProgram, path: string, start: { bytes: number } | { elements: number }, seed: number, fixed: boolean): Promise<Sized> {
  let input = 'elements' in start ? { text: program.input(start.elements, seed), elements: start.elements } : inputOfBytes(program, start.bytes, seed)
  for (let tries = 1; ; tries++) {
    await writeFile(path, input.text)
    const measured = await sequential(program, path)
    const sized = { bytes: Buffer.byteLength(input.text), elements: input.elements, peakBytes: measured.peakBytes, expected: measured.expected, pythonMs: measured.ms }
    const low = measured.peakBytes < TARGET_PEAK
    const high = measured.peakBytes > ENOUGH_PEAK && tries === 1
    if (fixed || (!low && !high) || tries >= MAX_TRIES || (low && sized.bytes >= MAX_INPUT)) return sized
    const perByte = Math.max(1e-3, (measured.peakBytes - BASE_PEAK) / sized.bytes)
    const wanted = (TARGET_PEAK * 1.06 - BASE_PEAK) / perByte
    // Growing: at least 10% more each time so that a poor estimate still converges.
    input = inputOfBytes(program, Math.min(MAX_INPUT, Math.round(low ? Math.max(wanted, sized.bytes * 1.1) : wanted)), seed)
  }
}

function planOf (stdout: string): { parsed?: Record<string, unknown>, resultText?: string } {
  const text = stdout.trim()
  let parsed: Record<string, unknown>
  try {
    parsed = JSON.parse(text) as Record<string, unknown>
  } catch {
    return {}
  }
  if (parsed.status !== 'completed') return { parsed }
  // renderOutcome (cli/src/outcome.ts) splices Python's result text between these two, untouched.
  const prefix = `{"id":${JSON.stringify(parsed.id)},"status":"completed","result":`
  const suffix = `,"plan":${JSON.stringify(parsed.plan)},"cost":${JSON.stringify(parsed.cost ?? {})},"metrics":${JSON.stringify(parsed.metrics ?? {})}}`
  if (!text.startsWith(prefix) || !text.endsWith(suffix)) return { parsed, resultText: JSON.stringify(parsed.result) }
  return { parsed, resultText: text.slice(prefix.length, text.length - suffix.length) }
}

function roundsOf (plan: Plan): number {
  if (Array.isArray(plan.rounds)) return plan.rounds.length
  return typeof plan.rounds === 'number' ? plan.rounds : 1
}

/**
 * The variables whose whole lists the chunks send to the aggregator, read from the plan's reasons ("the aggregator
 * combines in chunk order: top (max of …), xs (concatenated)"): where a partial would do, issue 14 wants none.
 */
function shippedLists (plan: Plan): string[] {
  return (plan.reasons ?? []).flatMap(reason => [...reason.matchAll(/(\w+) \(concatenated\)/g)].map(m => m[1] ?? ''))
}

async function runsurge (program: ReachProgram, input: string, expected: string): Promise<RunOutcome> {
  const exited = await run(process.execPath, [join(ROOT, 'bin', 'runsurge.js'), 'run', reachPath(program), '--input', input,
    '--nodes', String(NODES), '--node-memory', `${NODE_MEMORY_MIB}MB`, '--json'])
  const wallMs = exited.ms
  const { parsed, resultText } = planOf(exited.stdout)
  if (parsed === undefined) {
    const why = exited.code === null ? 'timeout' : `exit ${exited.code}`
    return { kind: 'failed', text: `failed: ${why} ${exited.stderr.trim().split('\n').at(-1)?.slice(0, 80) ?? ''}`, wallMs }
  }
  const plan = (parsed.plan ?? {}) as Plan
  if (parsed.status !== 'completed' || resultText === undefined) {
    const error = (parsed.error ?? { code: String(parsed.status), message: '' }) as { code: string, message: string }
    // Refused at planning, or (the analyzer's estimate too low) planned and then out of memory in a task.
    if (error.code === 'does_not_fit' && /ran out of memory/.test(error.message)) return { kind: 'ran_out', text: `does_not_fit at run time: ${error.message.slice(0, 80)}`, error, plan, wallMs }
    if (error.code === 'does_not_fit') return { kind: 'does_not_fit', text: `does_not_fit: ${error.message.slice(0, 90)}`, error, plan, wallMs }
    return { kind: 'failed', text: `failed: ${error.code}`, error, plan, wallMs }
  }
  const difference = resultDifference(expected, resultText)
  if (difference !== undefined) return { kind: 'WRONG', text: `WRONG ${difference}`, difference, plan, wallMs }
  const level = plan.level ?? 0
  const rounds = level === 3 ? ` rounds=${roundsOf(plan)}` : ''
  const lists = shippedLists(plan)
  return { kind: `ok-L${level}`, text: `ok L${level}${rounds}${lists.length > 0 ? ` (aggregator gets lists: ${lists.join(', ')})` : ''}`, plan, wallMs }
}

/** The large input chosen for each program: its element count, for the seed it was measured with. */
type SizeCache = Record<string, { elements: number, bytes: number, peakBytes: number, seed: number }>

async function readSizes (): Promise<SizeCache> {
  if (!existsSync(SIZES)) return {}
  const cache = JSON.parse(await readFile(SIZES, 'utf8')) as SizeCache
  // An entry of an older format (no element count) is measured again.
  return Object.fromEntries(Object.entries(cache).filter(([, entry]) => typeof entry.elements === 'number'))
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`
const mib = (bytes: number): string => (bytes / MiB).toFixed(1)

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      'size-mib': { type: 'string' },
      filter: { type: 'string' },
      seed: { type: 'string', default: '14' },
      remeasure: { type: 'boolean', default: false },
      'keep-inputs': { type: 'boolean', default: false }
    }
  })
  const seed = Number(values.seed)
  const fixedBytes = values['size-mib'] === undefined ? undefined : Math.round(Number(values['size-mib']) * MiB)
  const filter = values.filter === undefined ? undefined : new RegExp(values.filter)
  const programs = REACH.filter(p => filter === undefined || filter.test(p.file))
  await mkdir(join(WORK, 'inputs'), { recursive: true })
  const sizes = values.remeasure ? {} : await readSizes()

  process.stdout.write(`${programs.length} programs on ${NODES} nodes offering ${NODE_MEMORY_MIB} MiB; large inputs peak at ≥ ${mib(TARGET_PEAK)} MiB in python3\n`)
  process.stdout.write('per program: its large input, python3\'s peak on it, runsurge\'s wall time (python3\'s), the result at 200 elements, the outcome at the large size\n')
  const rows: Row[] = []
  for (const program of programs) {
    const small = inputFile(program, 'small')
    await writeFile(small, program.input(SMALL_ELEMENTS, seed))
    const smallOutcome = await runsurge(program, small, (await sequential(program, small)).expected)

    const large = inputFile(program, 'large')
    const cached = sizes[program.file]
    const start = fixedBytes !== undefined ? { bytes: fixedBytes } : cached?.seed === seed ? { elements: cached.elements } : { bytes: FIRST_GUESS }
    const sized = await sizeInput(program, large, start, seed, fixedBytes !== undefined)
    if (fixedBytes === undefined) {
      sizes[program.file] = { elements: sized.elements, bytes: sized.bytes, peakBytes: sized.peakBytes, seed }
      await writeFile(SIZES, JSON.stringify(sizes, null, 2) + '\n')
    }
    const largeOutcome = await runsurge(program, large, sized.expected)
    if (values['keep-inputs'] !== true) await rm(large)

    const row: Row = {
      file: program.file,
      shape: program.shape,
      multiPass: program.multiPass,
      heldOut: program.heldOut,
      inputBytes: sized.bytes,
      elements: sized.elements,
      pythonPeakBytes: sized.peakBytes,
      pythonMs: sized.pythonMs,
      expected: sized.expected,
      large: largeOutcome,
      small: smallOutcome
    }
    rows.push(row)
    process.stdout.write(`${program.file.padEnd(38)} ${mib(row.inputBytes).padStart(6)} MiB  peak ${mib(row.pythonPeakBytes).padStart(6)} MiB  ` +
      `${seconds(largeOutcome.wallMs).padStart(6)} (python3 ${seconds(row.pythonMs)})  small: ${smallOutcome.kind.startsWith('ok') ? 'ok' : smallOutcome.text}  ` +
      `${largeOutcome.text}\n`)
  }
  await writeFile(RESULTS, JSON.stringify(rows, null, 2) + '\n')

  const count = (of: Row[], pick: (r: Row) => string): string => {
    const counts = new Map<string, number>()
    for (const row of of) counts.set(pick(row), (counts.get(pick(row)) ?? 0) + 1)
    return [...counts].sort().map(([k, v]) => `${k} ${v}`).join(', ')
  }
  const held = rows.filter(r => r.heldOut)
  process.stdout.write(`\nlarge: ${count(rows, r => r.large.kind)}\n`)
  if (held.length > 0) process.stdout.write(`large, held out only: ${count(held, r => r.large.kind)}\n`)
  const multiPass = rows.filter(r => r.multiPass)
  if (multiPass.length > 0) process.stdout.write(`large, multi-pass only: ${count(multiPass, r => r.large.kind)}\n`)
  process.stdout.write(`small (${SMALL_ELEMENTS} elements): ${count(rows, r => r.small.kind.startsWith('ok') ? 'ok' : r.small.kind)}\n`)
  process.stdout.write(`details: ${RESULTS}\n`)
  const wrong = rows.some(r => r.large.kind === 'WRONG' || r.small.kind === 'WRONG')
  process.exitCode = wrong ? 1 : 0
}

await main()

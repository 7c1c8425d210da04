/**
 * The planner's cost model: bytes a task needs (from the analyzer's memory functions) and, when the report
 * is calibrated, seconds. Every figure includes the Python process itself (`PYTHON_OVERHEAD_BYTES`), which
 * the analyzer's measurements (tracemalloc) leave out.
 */
import { evaluate } from '../../analyzer/src/index.ts'
import type { AnalysisReport, MemoryFunction } from '../../analyzer/src/index.ts'
import type { Split } from './fusion.ts'

const MiB = 1024 * 1024

/** Interpreter, runner and imported modules of one task process (CPython 3.11 starts at ~10 MB RSS). */
export const PYTHON_OVERHEAD_BYTES = 16 * MiB
/** Chunks are cut on line boundaries by size, so element counts vary between chunks; size for the fuller ones. */
export const CHUNK_SKEW = 1.25
/**
 * Copies of the partial values in flight, on top of the values themselves: a chunk holds the encoded copy and
 * its JSON text; the aggregator the parsed encoding and the decoded values (each chunk's encoding is released
 * once decoded).
 */
export const ENCODING_FACTOR = 2
/**
 * Start-up of a task: assignment, sandbox, interpreter, fetching its chunk (seconds). Measured on a warm 2-node
 * mesh (BENCHMARKS.md): a whole trivial job, submission to result, takes about 0.2 s, of which the sandboxed
 * interpreter is 0.09 s.
 */
export const TASK_STARTUP_SECONDS = 0.2
/** Node-to-node transfer of partial results (bytes per second). */
export const TRANSFER_BYTES_PER_SECOND = 50 * MiB
/** Loading input holds a little more than the result while it is built (as the analyzer's static margin). */
const LOAD_MARGIN = 1.25
const LOAD_FIXED = 64 * 1024
/** Extra per element for chunk-side min/max: the recorded values or the items and their keys. */
const RECORDED_BYTES_PER_ELEMENT = 64

/** A statement and what it needs, for error messages. */
export interface StatementCost {
  statement: number
  line: number
  text: string
  bytes: number
}

function zero (): MemoryFunction {
  return { fixed: 0, perElement: 0 }
}

function peakOf (report: AnalysisReport, statement: number): MemoryFunction {
  return report.memory?.statements[statement]?.peak ?? zero()
}

/** The whole program on one node. */
export function sequentialBytes (report: AnalysisReport, n: number): number {
  return (report.memory === undefined ? 0 : evaluate(report.memory.peak, n)) + PYTHON_OVERHEAD_BYTES
}

/** The statement with the largest peak among `statements`, evaluated at n elements (plus the process). */
export function largestStatement (report: AnalysisReport, statements: number[], n: number, dropData = false, dropped: MemoryFunction[] = []): StatementCost | undefined {
  const data = report.memory?.data ?? zero()
  const gone = dropped.reduce((sum, f) => sum + f.perElement, dropData ? data.perElement : 0)
  let best: StatementCost | undefined
  for (const s of statements) {
    const node = report.ddg?.nodes[s]
    if (node === undefined) continue
    const peak = peakOf(report, s)
    // What the task never holds (the input, the collections kept on the chunks), but never below the statement's own work.
    const working = report.memory?.statements[s]?.working ?? zero()
    const f = gone > 0 ? { fixed: peak.fixed, perElement: Math.max(working.perElement, peak.perElement - gone) } : peak
    const bytes = evaluate(f, n) + PYTHON_OVERHEAD_BYTES
    if (best === undefined || bytes > best.bytes) best = { statement: s, line: node.line, text: node.text, bytes }
  }
  return best
}

/** Partials as large as the statement's output (the others are a few numbers or recorded candidates). */
const SIZED_PARTIALS = new Set(['concat', 'merge', 'group', 'count', 'union', 'kbest'])
/** Sized partials whose size depends on how many distinct keys the data has, not only on how many elements. */
const KEYED_PARTIALS = new Set(['merge', 'group', 'count', 'union', 'kbest'])

/**
 * At most this many bytes of decoded values in the aggregator per byte of the chunks' encoded partials (its JSON
 * text, the parsed encoding, the decoded partials and the combined value). Measured: 6 (sets of floats) to 18 (sets
 * of five-digit strings); Counters, groups of ints, sets of tuples 10-15.
 */
export const DECODED_BYTES_PER_PARTIAL_BYTE = 24

/**
 * The same when the aggregator's peak is a statement of the rest that reads the combined keyed values (and small ones)
 * and builds from them (`dict(sorted(counts.items()))`, `{k: max(v) for k, v in groups.items()}`): decoding, the
 * combined values, and what the statement builds from them, a few times their size.
 */
export const REST_BYTES_PER_PARTIAL_BYTE = 4 * DECODED_BYTES_PER_PARTIAL_BYTE

/**
 * The partials' text itself in the task that decodes them, per byte, when their tasks measured what decoding them
 * takes: the file read, the array the runner joins them into, the parser's copy.
 */
export const PARTIAL_TEXT_BYTES_PER_BYTE = 3

/** Bytes of the values the chunks send, for `n` elements in all: lists (as many as the elements) and keyed values. */
function sentBytes (report: AnalysisReport, split: Split, n: number): { lists: number, keyed: number } {
  let lists = 0
  let keyed = 0
  for (const o of split.outputs) {
    if (!SIZED_PARTIALS.has(o.partial.kind)) continue
    const bytes = evaluate(valueSize(report, o.statement, o.variable), n)
    if (KEYED_PARTIALS.has(o.partial.kind)) keyed += bytes
    else lists += bytes
  }
  // Helper calls the chunks make that count or group by key: as large as the statement that holds them builds.
  for (const { site } of split.hoist.sites) {
    if (site.op === 'counts' || site.op === 'groups') keyed += evaluate(report.memory?.statements[site.statement]?.output ?? zero(), n)
  }
  // Loops of the rest the chunks run: their keyed accumulators.
  for (const round of split.hoist.perRound) {
    for (const loop of round.loops) {
      const sized = loop.accumulators.filter(a => SIZED_PARTIALS.has(a.op))
      const measured = sized.map(a => report.memory?.statements[loop.statement]?.variables?.[a.variable])
      if (measured.every(f => f !== undefined)) for (const f of measured) keyed += evaluate(f, n)
      else if (sized.length > 0) keyed += evaluate(report.memory?.statements[loop.statement]?.output ?? zero(), n)
    }
  }
  return { lists, keyed }
}

/**
 * Memory of one value a statement builds: its own calibrated deep size when the harness measured it (a Counter next
 * to a list in one loop), else everything the statement's variables retain.
 */
function valueSize (report: AnalysisReport, statement: number, variable: string): MemoryFunction {
  const memory = report.memory?.statements[statement]
  return memory?.variables?.[variable] ?? memory?.output ?? zero()
}

/** The min/max partials' recording over `c` elements. */
function recordedBytes (split: Split, c: number): number {
  return split.outputs.filter(o => o.partial.kind === 'pick' || o.partial.kind === 'replay').length * RECORDED_BYTES_PER_ELEMENT * c
}

/** A chunk task over `c` elements: loading its chunk, the fused statements, encoding its partials. */
export function chunkBytes (report: AnalysisReport, split: Split, c: number): number {
  const data = report.memory?.data ?? zero()
  const load = Math.ceil(evaluate(data, c) * LOAD_MARGIN) + LOAD_FIXED
  let peak = load
  for (let s = 0; s < split.fused; s++) peak = Math.max(peak, evaluate(peakOf(report, s), c))
  for (const m of split.hoist.maps) peak = Math.max(peak, evaluate(peakOf(report, m.map.statement), c))
  for (const round of split.hoist.perRound) for (const loop of round.loops) peak = Math.max(peak, evaluate(peakOf(report, loop.statement), c))
  const recording = (op: string): boolean => op === 'min' || op === 'max'
  const recordingSites = split.hoist.sites.reduce((n, { site }) => n + (recording(site.op) ? 1 : 0) + (site.inline?.inner.filter(x => recording(x.op)).length ?? 0), 0)
  const recorded = recordedBytes(split, c) + recordingSites * RECORDED_BYTES_PER_ELEMENT * c
  const sent = sentBytes(report, split, c)
  return peak + ENCODING_FACTOR * (sent.lists + sent.keyed) + recorded + PYTHON_OVERHEAD_BYTES
}

/**
 * The aggregator: decoding every chunk's partials, then the rest of main (which never holds `data`). `keyed` is the
 * part of `bytes` that the keyed partials (sets, Counters, groups, dicts) make when every key is distinct, as the
 * calibration's samples usually show; set only when decoding is the aggregator's peak.
 */
export function finalBytes (report: AnalysisReport, split: Split, n: number): { bytes: number, statement?: StatementCost, keyed: number, perByte?: number } {
  const sent = sentBytes(report, split, n)
  const keyed = ENCODING_FACTOR * sent.keyed
  const decode = ENCODING_FACTOR * sent.lists + keyed + LOAD_FIXED + PYTHON_OVERHEAD_BYTES
  // Comprehensions and loops the chunks run: the aggregator holds at most their combined values (counted in decode).
  const onChunks = new Set([...split.hoist.maps.map(m => m.map.statement), ...split.hoist.perRound.flatMap(r => r.loops.map(l => l.statement))])
  const rest = report.ddg?.nodes.slice(split.fused).map(node => node.id).filter(s => !onChunks.has(s)) ?? []
  const nodes = report.ddg?.nodes ?? []
  const dropped = [...split.hoist.kept].flatMap(v => {
    const writer = nodes.slice(0, split.fused).findLast(node => node.writes.includes(v))
    return writer === undefined ? [] : [valueSize(report, writer.id, v)]
  })
  for (const s of onChunks) dropped.push(report.memory?.statements[s]?.output ?? zero())
  // A rest statement that reads the chunks' collections only through hoisted reductions, and otherwise only values
  // as small as its own, holds no per-element data in the aggregator (the analyzer sizes it by what the reductions read).
  const small = new Set(split.outputs.filter(o => !SIZED_PARTIALS.has(o.partial.kind)).map(o => o.variable))
  const scalar: number[] = []
  if (split.hoist.sites.length > 0) {
    for (const node of nodes.slice(split.fused)) {
      const outside = report.reductions?.outside[node.id] ?? []
      if (onChunks.has(node.id)) continue
      if (outside.every(v => small.has(v) || node.writes.includes(v)) && node.reads.every(v => small.has(v) || split.hoist.kept.has(v) || outside.includes(v))) {
        scalar.push(node.id)
        for (const w of node.writes) small.add(w)
        dropped.push(report.memory?.statements[node.id]?.output ?? zero())
      }
    }
  }
  const largest = largestStatement(report, rest.filter(s => !scalar.includes(s)), n, true, dropped)
  if (largest !== undefined && largest.bytes > decode) {
    // A statement that holds only what it makes of the keyed values (and of small values), directly or through
    // variables the rest made of them, is as large as they turn out.
    const made = new Set(split.outputs.filter(o => KEYED_PARTIALS.has(o.partial.kind)).map(o => o.variable))
    const madeOf = (reads: string[]): boolean => reads.some(v => made.has(v)) && reads.every(v => made.has(v) || small.has(v))
    for (const node of nodes.slice(split.fused)) {
      if (node.id === largest.statement) break
      if (onChunks.has(node.id)) continue
      if (madeOf(node.reads)) for (const w of node.writes) made.add(w)
    }
    const derived = keyed > 0 && madeOf(nodes[largest.statement]?.reads ?? [])
    return derived
      ? { bytes: largest.bytes, statement: largest, keyed: largest.bytes - (decode - keyed), perByte: REST_BYTES_PER_PARTIAL_BYTE }
      : { bytes: largest.bytes, statement: largest, keyed: 0 }
  }
  return { bytes: decode, keyed }
}

/**
 * Calibrated seconds of the fused part, of the rest's loops the chunks run (`hoisted`, in later rounds too) and of the
 * rest the aggregator runs, when every block has them.
 */
export function seconds (report: AnalysisReport, split: Split, n: number): { fused: number, hoisted: number, rest: number } | undefined {
  const blocks = report.blocks ?? []
  if (blocks.length === 0 || blocks.some(b => b.seconds === undefined)) return undefined
  const fusedIds = new Set(split.blocks.map(b => b.id))
  const loops = new Set(split.hoist.perRound.flatMap(r => r.loops.map(l => l.statement)))
  let fused = 0
  let hoisted = 0
  let rest = 0
  for (const b of blocks) {
    // Not evaluate(): it rounds up to whole bytes, here whole seconds.
    const t = (b.seconds?.fixed ?? 0) + (b.seconds?.perElement ?? 0) * n
    if (fusedIds.has(b.id)) fused += t
    else if (b.statements.some(s => loops.has(s))) hoisted += t
    else rest += t
  }
  return { fused, hoisted, rest }
}

/** Estimated completion time of a split run: waves of chunk tasks, transfers, then the aggregator. */
export function splitSeconds (report: AnalysisReport, split: Split, n: number, chunks: number, nodes: number, times: { fused: number, hoisted: number, rest: number }): number {
  const waves = Math.ceil(chunks / Math.max(1, nodes))
  const sent = sentBytes(report, split, n)
  const transfer = (ENCODING_FACTOR * (sent.lists + sent.keyed)) / TRANSFER_BYTES_PER_SECOND
  // Each later round: a stage task, then a wave of chunk tasks.
  const rounds = (split.hoist.rounds - 1) * (TASK_STARTUP_SECONDS + waves * TASK_STARTUP_SECONDS)
  return waves * (TASK_STARTUP_SECONDS + (times.fused + times.hoisted) / chunks) + rounds + transfer + TASK_STARTUP_SECONDS + times.rest
}

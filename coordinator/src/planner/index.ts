/**
 * Automatic-mode planner: decides how a plain `main(data)` job runs on the mesh, and generates the Python for
 * it. Pure: source, analysis report, input size and the nodes' free memory in; a plan out.
 *
 * - **Level 1** — the whole program on one node, when its estimated peak fits and splitting would not help
 *   (small input, one node, calibrated times saying it would not be faster), or when it cannot be split
 *   exactly (a `.json` input, a first statement the analyzer could not prove element-wise, a later statement
 *   that reads `data` itself, …).
 * - **Level 2** — main cut into parts (segments.ts) that run as separate tasks, receiving the values they read from
 *   the parts that computed them: for memory, when the whole does not fit and cannot be split by data; for time,
 *   when calibrated times say that independent parts running at the same time finish sooner than one run.
 * - **Level 3** — the leading chain of `map`/`reduce` blocks over `data` is fused into one chunk task, run on
 *   K line-based chunks of the input; each chunk sends partial values (lists, dicts, partial accumulators),
 *   encoded exactly; one aggregator task combines them in chunk order and runs the rest of `main`. K is the
 *   smallest count whose chunk fits the largest node, at least one chunk per node when splitting for speed.
 *
 * @example
 * ```ts
 * const report = analyze(source, { mode: 'auto', input: { format: 'jsonl', elements, sample } })
 * const plan = planAuto({ source, report, format: 'jsonl', inputBytes, elements, nodes: [{ memoryBytes: 64 << 20 }] })
 * if (plan.level === 3) runChunks(plan.chunkTask, plan.chunks).then(results => runFinal(plan.finalTask, results))
 * ```
 */
import type { AnalysisReport, ReductionSite, SiteOp } from '../../../analyzer/src/index.ts'
import { evaluate } from '../../../analyzer/src/index.ts'
import { chunkScript, finalScript, roundChunkScript, stageScript } from './codegen.ts'
import {
  CHUNK_SKEW, chunkBytes, DECODED_BYTES_PER_PARTIAL_BYTE, PARTIAL_TEXT_BYTES_PER_BYTE, finalBytes, formatBytes, largestStatement, PYTHON_OVERHEAD_BYTES, seconds, sequentialBytes, splitSeconds
} from './cost.ts'
import { findSplit } from './fusion.ts'
import type { PartialKind, Split } from './fusion.ts'
import { planSegments } from './segments.ts'
import type { Segment } from './segments.ts'
import type { Hoist, HoistedSite } from './hoist.ts'

export { PARTIALS_RUNTIME, scriptForChunk } from './codegen.ts'
export { SEGMENT_FUNCTION } from './segments.ts'
export type { Segment } from './segments.ts'
export { PYTHON_OVERHEAD_BYTES, CHUNK_SKEW, DECODED_BYTES_PER_PARTIAL_BYTE, PARTIAL_TEXT_BYTES_PER_BYTE, REST_BYTES_PER_PARTIAL_BYTE, ENCODING_FACTOR, TASK_STARTUP_SECONDS, TRANSFER_BYTES_PER_SECOND, formatBytes, sequentialBytes } from './cost.ts'

/** Below this input size splitting is not worth a second task (bytes). */
export const SMALL_INPUT_BYTES = 1024 * 1024
/** Below this many elements splitting is not worth a second task. */
export const SMALL_INPUT_ELEMENTS = 10_000
/** A chunk split for speed holds at least this many elements. */
export const MIN_CHUNK_ELEMENTS = 5_000
/** Upper bound on the number of chunks of one job. */
export const MAX_CHUNKS = 256
/** Element size assumed when the element count is unknown (bytes of input per element; small, so memory leans high). */
export const ASSUMED_INPUT_BYTES_PER_ELEMENT = 16

/** What the planner needs to know about a job. */
export interface PlanInput {
  /** The user's job, already accepted by the analyzer. */
  source: string
  /** `analyze(source, { mode: 'auto', input })`: accepted, with blocks and memory. */
  report: AnalysisReport
  format: 'json' | 'jsonl' | 'csv' | 'text'
  inputBytes: number
  /** Element count (`len(data)`) when known. */
  elements?: number
  /** Alive nodes and the memory each offers (free bytes). */
  nodes: Array<{ memoryBytes: number }>
}

/** A generated Python task. */
export interface PlannedTask {
  script: string
  memoryBytes: number
  /**
   * A task that receives chunks' keyed partials (sets, Counters, groups): `memoryBytes` counts them as if every key
   * were distinct. It is sized again when its inputs are known: `fixedBytes` plus `DECODED_BYTES_PER_PARTIAL_BYTE`
   * per byte of the partials it receives, at most `keyedBytes` more (`runtimeBytes`).
   */
  sizing?: TaskSizing
}

export interface TaskSizing {
  fixedBytes: number
  keyedBytes: number
  /**
   * Bytes per byte of partials received (`DECODED_BYTES_PER_PARTIAL_BYTE` when absent): more when a statement of the
   * rest also holds values derived from the keyed ones (`REST_BYTES_PER_PARTIAL_BYTE`).
   */
  perByte?: number
}

/**
 * What a task with `sizing` needs once it is known that its inputs hold `inputBytes` bytes of encoded partials, and,
 * when their tasks measured it, what decoding them takes (`inputMemory`, partials.py): then their text
 * (`PARTIAL_TEXT_BYTES_PER_BYTE` per byte) and that, as many times more as the rest makes of them (`perByte`).
 */
export function runtimeBytes (sizing: TaskSizing, inputBytes: number, inputMemory?: number): number {
  const perByte = sizing.perByte ?? DECODED_BYTES_PER_PARTIAL_BYTE
  const measured = inputMemory === undefined ? Infinity : PARTIAL_TEXT_BYTES_PER_BYTE * inputBytes + (perByte / DECODED_BYTES_PER_PARTIAL_BYTE) * inputMemory
  return sizing.fixedBytes + Math.min(sizing.keyedBytes, perByte * inputBytes, measured)
}

/** How an automatic job runs. */
export interface AutoPlan {
  level: 1 | 2 | 3
  /** Human-readable reasons for each decision. */
  reasons: string[]
  /** K data chunks (1 for level 1). */
  chunks: number
  /**
   * Level 3: run with entry `main(data)` on each chunk, `data` being that chunk loaded like the whole input
   * (csv chunks each start with the header row). Returns the chunk's encoded partial values.
   */
  chunkTask?: PlannedTask
  /**
   * Level 1: the user's script, entry `main`. Level 3: entry `aggregate(results)`, `results[i]` being chunk
   * i's chunkTask output, in chunk order; it returns what `main(data)` would return. Level 2: the segment that
   * returns the result (also in `segments`).
   */
  finalTask: PlannedTask & { entry: 'main' | 'aggregate' | 'segment' }
  /**
   * Level 2: main's statements as a graph of tasks, each calling `_runsurge_segment(data, results)` with the input
   * (when it reads it) and the values of the segments it depends on, in `dependsOn` order.
   */
  segments?: Segment[]
  /**
   * Level 3 with reductions that need values computed after the split part: rounds 2, 3, … each as a stage task
   * (entry `segment`, the earlier rounds' chunk results as its results; it returns the broadcast values) and K chunk
   * tasks (entry `segment`, chunk i as data and the stage's output as its one result), placed where round 1's chunk i
   * ran. The aggregator then receives every round's chunk results, round after round.
   */
  rounds?: Array<{ stage: PlannedTask, chunk: PlannedTask }>
  /** Level 3: the reductions of the rest of main computed on the chunks. */
  sites?: SiteView[]
  /** Blocks run per chunk, with their lines. */
  fused: Array<{ block: number, lines: [number, number] }>
  estimate: { peakBytes: number, perChunkBytes?: number }
}

/** A reduction computed on the chunks, as `runsurge analyze` shows it. */
export interface SiteView {
  line: number
  text: string
  op: string
  over: string
  round: number
  /** What each chunk task sends for it. */
  sends: string
  /** Values computed after the split part that it reads (broadcast to its round). */
  reads: string[]
}

/** A plan as it is stored with its job and printed by `runsurge analyze`. */
export interface PlanView {
  level: 1 | 2 | 3
  tasks: number
  chunks: number
  reasons: string[]
  fused: AutoPlan['fused']
  estimate: AutoPlan['estimate']
  /** Level 3: rounds of chunk tasks (1 unless a reduction needs a value computed from an earlier pass). */
  rounds?: number
  sites?: SiteView[]
  /** Level 2: each part's line runs and the parts it waits for (indices into this list; the last one returns the result). */
  parts?: Array<{ lines: Array<[number, number]>, dependsOn: number[], memoryBytes: number, seconds?: number }>
}

export function planView (plan: AutoPlan): PlanView {
  return {
    level: plan.level,
    tasks: plan.segments?.length ?? (plan.chunkTask === undefined ? 1 : plan.chunks + 1 + (plan.rounds?.length ?? 0) * (plan.chunks + 1)),
    chunks: plan.chunks,
    reasons: plan.reasons,
    fused: plan.fused,
    estimate: plan.estimate,
    ...(plan.level === 3 ? { rounds: 1 + (plan.rounds?.length ?? 0) } : {}),
    ...(plan.sites !== undefined && plan.sites.length > 0 ? { sites: plan.sites } : {}),
    ...(plan.segments !== undefined
      ? { parts: plan.segments.map(seg => ({ lines: seg.lines, dependsOn: seg.dependsOn, memoryBytes: seg.memoryBytes, ...(seg.seconds !== undefined ? { seconds: seg.seconds } : {}) })) }
      : {})
  }
}

/** The program cannot fit on any node, split or not. */
export class PlanError extends Error {
  override name = 'PlanError'
  /** Line of the statement that needs the most memory. */
  readonly line: number
  /** Bytes that statement's task needs. */
  readonly bytes: number
  /** Bytes the largest node offers. */
  readonly available: number

  constructor (message: string, details: { line: number, bytes: number, available: number }) {
    super(message)
    this.line = details.line
    this.bytes = details.bytes
    this.available = details.available
  }
}

/**
 * Plans an automatic-mode job.
 *
 * @throws PlanError when no node can run it: the whole program does not fit and it cannot be split, or a
 *   chunk of the split part, or the aggregator, does not fit even at `MAX_CHUNKS` chunks
 * @throws TypeError when the report is not an accepted automatic-mode analysis of `source`
 */
export function planAuto (input: PlanInput): AutoPlan {
  const { source, report } = input
  if (report.status !== 'accepted' || report.mode !== 'auto' || report.ddg === undefined) {
    throw new TypeError('planAuto needs an accepted automatic-mode analysis report')
  }
  if (Buffer.byteLength(source, 'utf8') !== report.source.bytes) throw new TypeError('the report was made for another source')
  const reasons: string[] = []
  const n = elementCount(input, reasons)
  const nodes = input.nodes.map(x => x.memoryBytes)
  const largest = nodes.length > 0 ? Math.max(...nodes) : Number.POSITIVE_INFINITY
  if (nodes.length === 0) reasons.push('no alive node reported its memory: planned without a memory limit')
  const whole = sequentialBytes(report, n)
  const fits = whole <= largest

  let split: Split | undefined
  let noSplit: string | undefined
  if (input.format === 'json') {
    noSplit = 'the input is one JSON array (.json), which cannot be cut on line boundaries (a .jsonl input can be split)'
  } else if (report.memory === undefined) {
    noSplit = 'the report has no memory estimate'
  } else {
    const found = findSplit(source, report)
    if ('reason' in found) noSplit = found.reason
    else split = found.split
  }

  const sequential = (why: string[]): AutoPlan => ({
    level: 1,
    reasons: [...reasons, ...why],
    chunks: 1,
    finalTask: { script: source, entry: 'main', memoryBytes: whole },
    fused: [],
    estimate: { peakBytes: whole }
  })
  const fitReason = `estimated peak ${formatBytes(whole)} at ${n.toLocaleString('en-US')} elements fits the largest node (${formatBytes(largest)})`
  /** Level 2 when main cuts into independent parts that finish sooner, else level 1 with `why`. */
  const parallelOrSequential = (why: string[]): AutoPlan => {
    if (nodes.length < 2) return sequential(why)
    const parts = planSegments(source, report, n, largest, 'time')
    if ('reason' in parts) return sequential([...why, `not cut into parts: ${parts.reason}`])
    return segmented(parts.segments, [...reasons, ...why, 'parts of main that do not need each other run at the same time', ...parts.reasons])
  }

  if (fits) {
    if (split === undefined) return parallelOrSequential([fitReason, `not split by data: ${noSplit ?? 'not splittable'}`])
    if (nodes.length < 2) return sequential([fitReason, 'only one node: splitting would not run anything in parallel'])
    // Calibrated times decide for themselves below; without them, a small input is not worth a split.
    const calibrated = seconds(report, split, n) !== undefined
    if (!calibrated && (input.inputBytes < SMALL_INPUT_BYTES || n < SMALL_INPUT_ELEMENTS)) {
      return sequential([fitReason, `the input is small (${formatBytes(input.inputBytes)}, ${n.toLocaleString('en-US')} elements): splitting would not be faster`])
    }
    const chunks = Math.min(nodes.length, calibrated ? n : Math.floor(n / MIN_CHUNK_ELEMENTS), MAX_CHUNKS)
    if (chunks < 2) return sequential([fitReason, 'too few elements per node for splitting to pay off'])
    const plan = splitPlan(input, split, n, largest, chunks, reasons, [
      fitReason, `${nodes.length} nodes are alive and ${calibrated ? 'the calibrated work is large enough' : 'the input is large'}: split for speed, at least one chunk per node`
    ], false)
    if (!(plan instanceof PlanError)) {
      const times = seconds(report, split, n)
      if (times !== undefined) {
        const alone = times.fused + times.hoisted + times.rest
        const together = splitSeconds(report, split, n, plan.chunks, nodes.length, times)
        if (together >= alone) {
          return parallelOrSequential([fitReason, `splitting by data would not be faster: ~${together.toFixed(2)} s split vs ~${alone.toFixed(2)} s sequential (calibrated)`])
        }
        plan.reasons.push(`calibrated estimate: ~${together.toFixed(2)} s split vs ~${alone.toFixed(2)} s sequential`)
      }
      return plan
    }
    return sequential([fitReason, `not split: ${plan.message}`])
  }

  const tooBig = `estimated peak ${formatBytes(whole)} at ${n.toLocaleString('en-US')} elements does not fit the largest node (${formatBytes(largest)})`
  if (split === undefined) {
    const parts = planSegments(source, report, n, largest, 'memory')
    if (!('reason' in parts)) {
      return segmented(parts.segments, [...reasons, tooBig, `not split by data: ${noSplit ?? 'not splittable'}`, 'main is cut into parts that each fit a node, run one after another where they depend on each other', ...parts.reasons])
    }
    const worst = largestStatement(report, report.ddg.nodes.map(x => x.id), n)
    const line = worst?.line ?? 1
    throw new PlanError(
      `line ${line}${worst !== undefined ? ` (\`${worst.text}\`)` : ''} needs about ${formatBytes(whole)} at ${n.toLocaleString('en-US')} elements, ` +
      `but the largest node offers ${formatBytes(largest)}, and the program cannot be split: ${noSplit ?? 'not splittable'}; nor cut into parts: ${parts.reason}`,
      { line, bytes: whole, available: largest }
    )
  }
  const plan = splitPlan(input, split, n, largest, Math.min(2, n), reasons, [tooBig], true)
  if (plan instanceof PlanError) throw plan
  return plan
}

/** A level-2 plan from its segments (the one returning the result comes last). */
function segmented (segments: Segment[], reasons: string[]): AutoPlan {
  const final = segments.at(-1) as Segment
  return {
    level: 2,
    reasons,
    chunks: 1,
    segments,
    finalTask: { script: final.script, entry: 'segment', memoryBytes: final.memoryBytes },
    fused: [],
    estimate: { peakBytes: Math.max(...segments.map(seg => seg.memoryBytes)) }
  }
}

function elementCount (input: PlanInput, reasons: string[]): number {
  const known = input.elements ?? input.report.memory?.elements
  if (known !== undefined) return Math.max(0, known)
  const assumed = Math.max(1, Math.ceil(input.inputBytes / ASSUMED_INPUT_BYTES_PER_ELEMENT))
  reasons.push(`element count unknown: assumed ${assumed.toLocaleString('en-US')} (${ASSUMED_INPUT_BYTES_PER_ELEMENT} bytes of input each)`)
  return assumed
}

/** A level-3 plan with at least `minChunks` chunks, or the PlanError saying which part cannot fit. */
function splitPlan (input: PlanInput, split: Split, n: number, largest: number, minChunks: number, reasons: string[], why: string[], forced: boolean): AutoPlan | PlanError {
  const { report } = input
  const chunkSize = (k: number): number => Math.min(n, Math.ceil((n / k) * CHUNK_SKEW))
  let memoryChunks: number | undefined
  for (let k = 1; k <= Math.min(MAX_CHUNKS, Math.max(1, n)); k++) {
    if (chunkBytes(report, split, chunkSize(k)) <= largest) {
      memoryChunks = k
      break
    }
  }
  if (memoryChunks === undefined) {
    const k = Math.min(MAX_CHUNKS, Math.max(1, n))
    const worst = largestStatement(report, split.nodes.slice(0, split.fused).map(x => x.id), chunkSize(k))
    const bytes = chunkBytes(report, split, chunkSize(k))
    const line = worst?.line ?? split.nodes[0]?.line ?? 1
    return new PlanError(
      `line ${line}${worst !== undefined ? ` (\`${worst.text}\`)` : ''} needs about ${formatBytes(bytes)} per chunk even at ${k} chunks ` +
      `of ${chunkSize(k).toLocaleString('en-US')} elements, but the largest node offers ${formatBytes(largest)}`,
      { line, bytes, available: largest }
    )
  }
  // The report's rule of thumb as a floor: each fused stage's memory over the whole input, per node.
  const usable = Math.max(1, largest - PYTHON_OVERHEAD_BYTES)
  const stageChunks = Math.max(1, ...split.blocks.map(b => Math.ceil(evaluate(b.memory.total, n) / usable)))
  const chunks = Math.max(1, Math.min(MAX_CHUNKS, Math.max(1, n), Math.max(memoryChunks, minChunks, Number.isFinite(largest) ? stageChunks : 1)))
  const final = finalBytes(report, split, n)
  // Keyed partials (sets, Counters, groups) are estimated as if every key were distinct, which samples cannot rule
  // out: when that is what does not fit, the aggregator is sized from the partials the chunks actually send.
  const sizing = final.keyed > 0 ? { fixedBytes: final.bytes - final.keyed, keyedBytes: final.keyed, ...(final.perByte !== undefined ? { perByte: final.perByte } : {}) } : undefined
  if (final.bytes > largest && (sizing === undefined || sizing.fixedBytes > largest)) {
    const line = final.statement?.line ?? split.nodes[split.fused]?.line ?? split.nodes.at(-1)?.line ?? 1
    const what = final.statement !== undefined ? `line ${line} (\`${final.statement.text}\`)` : `combining the chunks' results (line ${line})`
    return new PlanError(
      `${what} needs about ${formatBytes(final.bytes)} at ${n.toLocaleString('en-US')} elements in the aggregator, ` +
      `which holds the combined results of the split part, but the largest node offers ${formatBytes(largest)}`,
      { line, bytes: final.bytes, available: largest }
    )
  }
  const perChunk = chunkBytes(report, split, chunkSize(chunks))
  const first = split.nodes[0]?.line ?? 0
  const lastFused = split.nodes[split.fused - 1]?.endLine ?? first
  const rest = split.nodes[split.fused]
  const { hoist } = split
  const sites = hoist.sites.map(({ site, round, k }): SiteView => ({
    line: site.line,
    text: site.text.length > 80 ? `${site.text.slice(0, 77)}...` : site.text,
    op: site.op,
    over: site.over,
    round,
    sends: sends(site),
    reads: [...site.reads.filter(r => hoist.perRound[round - 1]?.broadcast.includes(r) === true), ...helperValuesBefore(hoist, { site, k, round })]
  }))
  // A helper's later pass needs the helper's values computed from the passes before it.
  const passNeeds = (r: number): string[] => hoist.sites.filter(x => x.round === r && (x.site.inline?.level ?? 1) > 1)
    .map(x => `${helperValuesBefore(hoist, x).join(', ')} (computed by \`${x.site.text.replace(/ \(pass \d+\)$/, '')}\`)`)
  return {
    level: 3,
    reasons: [
      ...reasons,
      ...why,
      split.fused > 0
        ? `lines ${first}-${lastFused} run on each chunk: ${split.blocks.map(b => `line ${b.startLine} ${b.class} over ${b.source ?? '?'}`).join('; ')}`
        : `${split.layout.param} is read only through reductions, computed on each chunk`,
      ...(hoist.kept.size > 0 ? [`${[...hoist.kept].join(', ')} stay${hoist.kept.size === 1 ? 's' : ''} on the chunks: ${sites.length} reduction${sites.length === 1 ? '' : 's'} of the rest of main run there (${sites.map(x => `line ${x.line} ${x.op}(${x.over}) in round ${x.round}`).join(', ')})`] : []),
      ...hoist.reasons,
      ...hoist.maps.map(m => `line ${m.map.line}: ${m.map.target} is built on each chunk from ${m.map.over}${m.round > 1 ? ` in round ${m.round}` : ''}, never sent`),
      ...hoist.perRound.slice(1).map((stage, i) => `round ${i + 2} needs ${[...stage.broadcast, ...stage.siteValues.map(k => {
        const site = hoist.sites.find(x => x.k === k)?.site
        return site?.op === 'lengths' ? `the number of elements of each chunk (line ${site.line} numbers them)` : `the value of \`${site?.text ?? '?'}\``
      }), ...passNeeds(i + 2)].join(', ')}: a stage task computes ${stage.statements.length > 0 ? `them (lines ${stage.statements.map(st => split.nodes[st]?.line ?? 0).join(', ')})` : 'them'} from the rounds before and broadcasts them; its chunk tasks run where round 1's ran`),
      ...(split.outputs.length > 0 ? [`the aggregator combines in chunk order: ${split.outputs.map(o => `${o.variable === '_runsurge_result' ? 'the return value' : o.variable} (${describe(o.partial)})`).join(', ')}`] : []),
      ...(rest !== undefined ? [`line ${rest.line} onwards runs once in the aggregator${split.stop !== undefined ? `: ${split.stop}` : ''}`] : []),
      forced
        ? `${chunks} chunks: a chunk of ~${chunkSize(chunks).toLocaleString('en-US')} elements needs ~${formatBytes(perChunk)}, within ${formatBytes(largest)}`
        : `${chunks} chunks of ~${chunkSize(chunks).toLocaleString('en-US')} elements (~${formatBytes(perChunk)} each)`,
      sizing === undefined || final.bytes <= largest
        ? `the aggregator needs ~${formatBytes(final.bytes)}${sizing !== undefined ? ' at most (sized again from the bytes the chunks send)' : ''}`
        : `the aggregator needs ~${formatBytes(sizing.fixedBytes)} and what the keyed partials hold: up to ~${formatBytes(final.bytes)} if every key is distinct, so it is sized from the bytes the chunks send (${sizing.perByte ?? DECODED_BYTES_PER_PARTIAL_BYTE} per byte${sizing.perByte !== undefined ? `, as line ${final.statement?.line ?? 0} holds values made from them` : ''}), once they have`
    ],
    chunks,
    chunkTask: { script: chunkScript(split, sizing !== undefined), memoryBytes: perChunk },
    finalTask: { script: finalScript(split), entry: 'aggregate', memoryBytes: final.bytes, ...(sizing !== undefined ? { sizing } : {}) },
    ...(hoist.rounds > 1
      ? { rounds: hoist.perRound.slice(1).map((_, i) => ({ stage: { script: stageScript(split, i + 2), memoryBytes: final.bytes, ...(sizing !== undefined ? { sizing } : {}) }, chunk: { script: roundChunkScript(split, i + 2, sizing !== undefined), memoryBytes: perChunk } })) }
      : {}),
    sites,
    fused: split.blocks.map(b => ({ block: b.id, lines: [b.startLine, b.endLine] })),
    estimate: { peakBytes: Math.max(perChunk, final.bytes), perChunkBytes: perChunk }
  }
}

/** What a chunk sends for a hoisted reduction. */
function sends (site: ReductionSite): string {
  const level = site.inline?.level
  if (level === undefined) return SITE_SENDS[site.op]
  return level === 1
    ? 'the partials of the helper\'s reductions that read none of its values (the aggregator runs the helper\'s code on all its reductions\' combined values)'
    : `the partials of the helper's reductions of pass ${level}, which read values the helper computes from the passes before (broadcast by the stage task)`
}

/** The values of a helper that a later pass of its reductions (hoisted site k) reads; none for other sites. */
function helperValuesBefore (hoist: Hoist, { site, k }: HoistedSite): string[] {
  const level = site.inline?.level ?? 1
  if (level === 1) return []
  const first = hoist.sites.find(x => x.k === k - (level - 1))
  return (first?.site.inline?.statements ?? []).filter(st => st.level < level).map(st => st.name)
}

/** What a chunk sends for a hoisted reduction, by its op. */
const SITE_SENDS: Record<SiteOp, string> = {
  sum: 'its sum (added in chunk order)',
  len: 'its length (added)',
  min: 'its first smallest element',
  max: 'its first largest element',
  any: 'its any (the first deciding chunk wins)',
  all: 'its all (the first deciding chunk wins)',
  first: 'its first element (the first non-empty chunk\'s wins)',
  last: 'its last element (the last non-empty chunk\'s wins)',
  truth: 'whether it is empty',
  nlargest: 'its k largest with their keys (merged, ties in chunk order)',
  nsmallest: 'its k smallest with their keys (merged, ties in chunk order)',
  inline: 'the partials of the reductions in the helper\'s return expression (the aggregator evaluates it on their combined values)',
  sortedtail: 'the last k of its own stable sort, with their keys, in input order (sorted again and cut to the last k)',
  head: 'its first k elements (concatenated, cut to k)',
  tail: 'its last k elements (concatenated, cut to the last k)',
  union: 'its distinct elements in arrival order (added in chunk order)',
  count: 'how many elements equal the value (added)',
  counts: 'the helper\'s counts per key over its elements (added by key, first-occurrence order)',
  groups: 'the helper\'s lists per key over its elements (merged by key, first-occurrence order)',
  best: 'the helper\'s best element (the aggregator calls the helper again on the chunks\' bests, in order)',
  loop: 'the loop\'s accumulator over its elements (combined as the loop would have built it)',
  lengths: 'its number of elements (a later round\'s chunk adds up those of the chunks before it: where its elements stand)',
  fsum: 'floats adding up exactly to its sum (math.fsum of all of them is the sequential one), or which infinities and nans it holds',
  fmean: 'floats adding up exactly to its sum and its count (fsum of all of them over the count)',
  mean: 'its count, its types and the exact sum of its values (statistics.mean finishes on their totals)',
  pvariance: 'its count, its types and the exact sums of x and x*x (statistics.pvariance finishes on their totals)',
  pstdev: 'its count, its types and the exact sums of x and x*x (statistics.pstdev finishes on their totals)',
  variance: 'its count, its types and the exact sums of x and x*x (statistics.variance finishes on their totals)',
  stdev: 'its count, its types and the exact sums of x and x*x (statistics.stdev finishes on their totals)'
}

function describe (partial: PartialKind): string {
  switch (partial.kind) {
    case 'concat': return 'concatenated'
    case 'merge': return 'dicts merged, later chunks winning'
    case 'add': return `${partial.init} + sum of partials`
    case 'pick': return `${partial.op} of the chunks' first best elements`
    case 'decide': return `${partial.op} over chunks, first decisive chunk wins`
    case 'fold': return `${partial.init} ${partial.op} partials`
    case 'replay': return `${partial.op} from ${partial.init} over the chunks' candidates`
    case 'group': return 'lists per key, merged by key in first-occurrence order'
    case 'count': return 'counts per key (or per position) added up, keys in first-occurrence order'
    case 'union': return 'distinct elements in arrival order, added up in chunk order'
    case 'last': return `the last chunk's last value, else ${partial.init}`
    case 'kbest': return `the running best per key by ${partial.step.state}, each key's chunk candidates replayed, keys in first-occurrence order`
    case 'best': if (partial.step.operator === 'first') return `the first element for which ${partial.step.element} holds, from the first chunk that met one`
      return `the running best by ${partial.step.state}, replayed from ${partial.starts.join(', ')} over the chunks' best candidates`
  }
}

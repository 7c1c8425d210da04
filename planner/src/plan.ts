/**
 * Chooses the level of an automatic job (see index.ts): the whole program, main cut into parts, or a data split.
 */
import { planSegments } from './segments.ts'
import { largestStatement, seconds, sequentialBytes, splitSeconds } from './cost.ts'
import { formatBytes } from '../../protocols/src/units.ts'
import { findSplit } from './fusion.ts'
import { MIN_CHUNK_ELEMENTS, MAX_CHUNKS, ASSUMED_INPUT_BYTES_PER_ELEMENT, PlanError, SMALL_INPUT_BYTES, SMALL_INPUT_ELEMENTS } from './plan-types.ts'
import { splitPlan } from './split-plan.ts'
import type { Split } from './fusion.ts'
import type { AutoPlan, PlanInput } from './plan-types.ts'
import type { Segment } from './segments.ts'

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
  const job: Job = { input, n, nodes, largest, whole, reasons, ...splitOf(input) }
  return whole <= largest ? planFitting(job) : planTooBig(job)
}

/** What planning a job has established: its size, the nodes, and the data split of main if there is one. */
interface Job {
  input: PlanInput
  /** Elements of the input. */
  n: number
  nodes: number[]
  largest: number
  /** The whole program's estimated peak. */
  whole: number
  reasons: string[]
  split?: Split
  /** Why main is not split by data. */
  noSplit?: string
}

function splitOf (input: PlanInput): { split?: Split, noSplit?: string } {
  if (input.format === 'json') return { noSplit: 'the input is one JSON array (.json), which cannot be cut on line boundaries (a .jsonl input can be split)' }
  if (input.report.memory === undefined) return { noSplit: 'the report has no memory estimate' }
  const found = findSplit(input.source, input.report)
  return 'reason' in found ? { noSplit: found.reason } : { split: found.split }
}

/** The whole program on one node, for `why`. */
function sequential (job: Job, why: string[]): AutoPlan {
  return {
    level: 1,
    reasons: [...job.reasons, ...why],
    chunks: 1,
    finalTask: { script: job.input.source, entry: 'main', memoryBytes: job.whole },
    fused: [],
    estimate: { peakBytes: job.whole }
  }
}

/** Level 2 when main cuts into independent parts that finish sooner, else level 1 with `why`. */
function parallelOrSequential (job: Job, why: string[]): AutoPlan {
  if (job.nodes.length < 2) return sequential(job, why)
  const parts = planSegments(job.input.source, job.input.report, job.n, job.largest, 'time')
  if ('reason' in parts) return sequential(job, [...why, `not cut into parts: ${parts.reason}`])
  return segmented(parts.segments, [...job.reasons, ...why, 'parts of main that do not need each other run at the same time', ...parts.reasons])
}

/** A job whose whole program fits the largest node: split for speed when that pays, else level 2 or 1. */
function planFitting (job: Job): AutoPlan {
  const { input, n, nodes, largest, split, reasons } = job
  const { report } = input
  const fitReason = `estimated peak ${formatBytes(job.whole)} at ${n.toLocaleString('en-US')} elements fits the largest node (${formatBytes(largest)})`
  if (split === undefined) return parallelOrSequential(job, [fitReason, `not split by data: ${job.noSplit ?? 'not splittable'}`])
  if (nodes.length < 2) return sequential(job, [fitReason, 'only one node: splitting would not run anything in parallel'])
  // Calibrated times decide for themselves below; without them, a small input is not worth a split.
  const calibrated = seconds(report, split, n) !== undefined
  if (!calibrated && (input.inputBytes < SMALL_INPUT_BYTES || n < SMALL_INPUT_ELEMENTS)) {
    return sequential(job, [fitReason, `the input is small (${formatBytes(input.inputBytes)}, ${n.toLocaleString('en-US')} elements): splitting would not be faster`])
  }
  const chunks = Math.min(nodes.length, calibrated ? n : Math.floor(n / MIN_CHUNK_ELEMENTS), MAX_CHUNKS)
  if (chunks < 2) return sequential(job, [fitReason, 'too few elements per node for splitting to pay off'])
  const plan = splitPlan(input, split, n, largest, chunks, reasons, [
    fitReason, `${nodes.length} nodes are alive and ${calibrated ? 'the calibrated work is large enough' : 'the input is large'}: split for speed, at least one chunk per node`
  ], false)
  if (plan instanceof PlanError) return sequential(job, [fitReason, `not split: ${plan.message}`])
  const times = seconds(report, split, n)
  if (times === undefined) return plan
  const alone = times.fused + times.hoisted + times.rest
  const together = splitSeconds(report, split, n, plan.chunks, nodes.length, times)
  if (together >= alone) {
    return parallelOrSequential(job, [fitReason, `splitting by data would not be faster: ~${together.toFixed(2)} s split vs ~${alone.toFixed(2)} s sequential (calibrated)`])
  }
  plan.reasons.push(`calibrated estimate: ~${together.toFixed(2)} s split vs ~${alone.toFixed(2)} s sequential`)
  return plan
}

/** A job whose whole program does not fit the largest node: split by data, else cut into parts, else PlanError. */
function planTooBig (job: Job): AutoPlan {
  const { input, n, largest, whole, split, reasons } = job
  const { source, report } = input
  const tooBig = `estimated peak ${formatBytes(whole)} at ${n.toLocaleString('en-US')} elements does not fit the largest node (${formatBytes(largest)})`
  if (split === undefined) {
    const parts = planSegments(source, report, n, largest, 'memory')
    if (!('reason' in parts)) {
      return segmented(parts.segments, [...reasons, tooBig, `not split by data: ${job.noSplit ?? 'not splittable'}`, 'main is cut into parts that each fit a node, run one after another where they depend on each other', ...parts.reasons])
    }
    const worst = largestStatement(report, report.ddg?.nodes.map(x => x.id) ?? [], n)
    const line = worst?.line ?? 1
    throw new PlanError(
      `line ${line}${worst !== undefined ? ` (\`${worst.text}\`)` : ''} needs about ${formatBytes(whole)} at ${n.toLocaleString('en-US')} elements, ` +
      `but the largest node offers ${formatBytes(largest)}, and the program cannot be split: ${job.noSplit ?? 'not splittable'}; nor cut into parts: ${parts.reason}`,
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

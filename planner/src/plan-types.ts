/**
 * What the planner takes and gives: its input, the plan of an automatic job and the view of it that is stored with the
 * job and printed by `runsurge analyze`, and the error for a job that fits no node.
 */
import { DECODED_BYTES_PER_PARTIAL_BYTE, PARTIAL_TEXT_BYTES_PER_BYTE } from './cost.ts'
import type { AnalysisReport } from '../../analyzer/src/index.ts'
import type { Segment } from './segments.ts'

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
 * when their tasks measured it, what decoding them takes (`inputMemory`, partials/encoding.py): then their text
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

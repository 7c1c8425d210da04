/**
 * The numbers that decide how jobs and tasks are treated: retries, memory, splitting, speculation, limits of a
 * submission. One home, so that intake, placement and the state machine agree.
 */
import { isTaskFailureCode, TASK_FAILURE_CODES } from '../../../protocols/src/index.ts'

/** A task is tried this many times after its first failure, each on another node where one exists. */
export const MAX_RETRIES = 3
/** A node that could not be reached for a task is not offered that task again for this long (ms). */
export const SHUN_MS = 30_000
/** Outcomes that are the task's own failures (not the node's or the mesh's): a retry prefers another node. */
export const OWN_FAILURE: { test: (outcome: string) => boolean } = { test: isTaskFailureCode }
/**
 * Outcomes of the submitter's own program: it raised, or reached a limit (memory, time, processes, output) by
 * itself. They repeat wherever it runs, so the job fails at once (a memory limit may first be raised, see
 * `failed`), and the attempt is billed like a completed one: the node did the work.
 */
export const PROGRAM_FAILURES: ReadonlySet<string> = new Set(TASK_FAILURE_CODES.filter(code => code !== 'sandbox_error'))
/** A chunk task out of memory is halved at most this many times (16 pieces); then it fails like any task. */
export const MAX_SPLIT_DEPTH = 4
/** Assignments a task may lose to unavailable inputs before that counts as its failure. */
export const MAX_INPUT_ATTEMPTS = 8
export const DEFAULT_TASK_MEMORY = 512 * 1024 * 1024
export const DEFAULT_TASK_TIMEOUT = 10 * 60_000
/** Inputs are stored as chunks of about this size, cut on line boundaries. */
export const INPUT_CHUNK_SIZE = 8 * 1024 * 1024
export const MAX_TASKS = 10_000
/** Automatic mode: a task gets its estimate × this margin (at least `MIN_AUTO_TASK_MEMORY`, at most its node). */
export const AUTO_MEMORY_MARGIN = 1.5
export const MIN_AUTO_TASK_MEMORY = 128 * 1024 * 1024

/** What an automatic task asks for: its estimate with the margin, at least the minimum, at most the largest node. */
export function autoTaskMemory (estimate: number, largestNode: number): number {
  return Math.min(largestNode, Math.max(MIN_AUTO_TASK_MEMORY, Math.ceil(estimate * AUTO_MEMORY_MARGIN)))
}
/**
 * Speculative execution: a running task is a straggler once it has run this many times the median wall time of its
 * job's completed tasks of the same kind (and at least `STRAGGLER_MIN_MS`); an idle node then runs a copy of it.
 */
export const STRAGGLER_FACTOR = 1.5
export const STRAGGLER_MIN_MS = 1_000

/** What one account may use at once: what keeps one submitter from taking a whole mesh, or the coordinator. */
export interface AccountLimits {
  /** Job submissions a minute. */
  submissionsPerMinute: number
  /** Jobs queued or running at once; a submission past it is refused (429) until one ends. */
  activeJobs: number
  /** Tasks assigned or running at once; the account's other tasks wait in the queue while others' run. */
  runningTasks: number
}

export const DEFAULT_ACCOUNT_LIMITS: AccountLimits = { submissionsPerMinute: 60, activeJobs: 100, runningTasks: 256 }

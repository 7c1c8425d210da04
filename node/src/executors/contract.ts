/**
 * The contract every executor implements and every caller relies on: task limits and their defaults,
 * the task spec, the outcome (exactly one {@link TaskStatus}) and the {@link Executor} interface.
 * It imports nothing from the executors, so they and `index.ts` can all import it without a cycle.
 */
// The leaf module, not protocols' index: the executors also run without a mesh (`runsurge sandbox`, the self-test),
// and the index would load the whole libp2p stack for one list (about 0.3 s at every start).
import { TASK_FAILURE_CODES } from '../../../protocols/src/task-failures.ts'
import { InvalidTaskError } from './errors.ts'
import type { TaskFailureCode } from '../../../protocols/src/task-failures.ts'

/**
 * Every way a task can end: `completed`, or one of the failure codes the node reports to the coordinator
 * (protocols' `TASK_FAILURE_CODES`, where each is described). Only `completed` carries a result. When several
 * limits are near at once, `outcome.ts` decides which one stopped the task (its precedence is documented there
 * and in docs/sandbox.md).
 */
export type TaskStatus = 'completed' | TaskFailureCode

/** All statuses, for validation and tables. */
export const TASK_STATUSES: readonly TaskStatus[] = ['completed', ...TASK_FAILURE_CODES]

/** Resource limits of one task. Every field has a default in {@link DEFAULT_LIMITS}. */
export interface TaskLimits {
  /** Memory: per-process address space (RLIMIT_AS) and the whole tree's memory (enforced by sampling). */
  memoryBytes: number
  /** Wall-clock time, enforced by the node, which kills the whole tree. Any safe integer works (no 24.8-day cap). */
  timeoutMs: number
  /** CPU seconds per process (RLIMIT_CPU). */
  cpuSeconds: number
  /** Processes and threads inside the sandbox, its two supervisor processes included (RLIMIT_NPROC). */
  maxProcesses: number
  /** Largest file the task may write (RLIMIT_FSIZE). */
  maxFileBytes: number
  /** stdout + stderr kept; more than this ends the task with `output_limit`. */
  maxOutputBytes: number
  /** Bytes the task may add to its directory (a size-limited tmpfs where the node may mount one). */
  taskDirBytes: number
  /**
   * Entries (files, directories, links) the task may create in its directory: a tmpfs inode limit where
   * the node may mount one, a sampled count otherwise, and counted again before anything is copied back.
   */
  taskDirFiles: number
  /** Bytes of new or changed files copied back to the node after the task; more ends it with `output_limit`. */
  copyBackBytes: number
}

/**
 * Defaults: 512 MiB, 60 s wall, 60 CPU-s, 64 processes, 256 MiB files, 4 MiB of output, 1 GiB written,
 * 10,000 entries created and 256 MiB copied back.
 *
 * Why those two last figures: a node needs one file back from a task (its result), and the largest
 * result a task can write is one `maxFileBytes` file, so 256 MiB of copy-back always fits it. Copying back
 * costs one open, copy and close per file (about 0.1 ms locally and a few ms per file over SFTP), and
 * each tmpfs inode is unswappable kernel memory: 10,000 entries is far more than any job's outputs, and
 * copying that many back stays in seconds even over SSH — where 100,000 files took a node 90 s and then
 * lost the result anyway.
 */
export const DEFAULT_LIMITS: Readonly<TaskLimits> = Object.freeze({
  memoryBytes: 512 * 1024 ** 2,
  timeoutMs: 60_000,
  cpuSeconds: 60,
  maxProcesses: 64,
  maxFileBytes: 256 * 1024 ** 2,
  maxOutputBytes: 4 * 1024 ** 2,
  taskDirBytes: 1024 ** 3,
  taskDirFiles: 10_000,
  copyBackBytes: 256 * 1024 ** 2
})

/** What each limit counts, for the messages of {@link resolveLimits}. */
const LIMIT_UNITS: Record<keyof TaskLimits, string> = {
  memoryBytes: 'bytes',
  timeoutMs: 'milliseconds',
  cpuSeconds: 'seconds',
  maxProcesses: 'processes',
  maxFileBytes: 'bytes',
  maxOutputBytes: 'bytes',
  taskDirBytes: 'bytes',
  taskDirFiles: 'entries',
  copyBackBytes: 'bytes'
}

/**
 * Fills unset limits from {@link DEFAULT_LIMITS} and checks the ones given. The CPU limit follows the
 * wall timeout unless set: a task cannot use more CPU seconds than wall seconds times the processes it
 * may run, and a single process cannot use more than the wall time.
 *
 * @throws InvalidTaskError when a limit is not a positive whole number (NaN, Infinity, 0, negative,
 * fractional, or beyond 2^53 where numbers stop being exact); the message names the limit and the value.
 */
export function resolveLimits (limits: Partial<TaskLimits> = {}): TaskLimits {
  for (const [name, value] of Object.entries(limits) as Array<[keyof TaskLimits, unknown]>) {
    if (value === undefined) continue
    if (!(name in LIMIT_UNITS)) throw new InvalidTaskError(`unknown task limit "${name}": the limits are ${Object.keys(LIMIT_UNITS).join(', ')}`)
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new InvalidTaskError(`task limit ${name} must be a positive whole number of ${LIMIT_UNITS[name]} (at most ${Number.MAX_SAFE_INTEGER}), not ${String(value)}`)
    }
  }
  const timeoutMs = limits.timeoutMs ?? DEFAULT_LIMITS.timeoutMs
  return {
    ...DEFAULT_LIMITS,
    cpuSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)),
    ...stripUndefined(limits),
    timeoutMs
  }
}

function stripUndefined<T extends object> (value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** One task for an executor. */
export interface TaskSpec {
  /** Short id used in logs and remote directory names; random when absent. */
  id?: string
  /**
   * Host directory holding the entry script and its input files. It is never exposed to the task
   * directly: the executor copies it into a private, size-limited work directory (or uploads it) and
   * copies back the files the task created or changed, so they are here when `run` resolves.
   */
  taskDir: string
  /** Python entry script, relative to `taskDir`. */
  entry: string
  /** Arguments for the entry script. */
  args?: string[]
  /** Limits; unset fields take {@link DEFAULT_LIMITS}. */
  limits?: Partial<TaskLimits>
}

/** Measurements of one run. Memory figures are for the whole process tree. */
export interface TaskMetrics {
  wallMs: number
  cpuMs: number
  peakMemoryBytes: number
  avgMemoryBytes: number
  peakProcesses: number
  /** Monitor samples taken. */
  samples: number
}

/** Why a task failed: `code` is the status (or a finer code for `sandbox_error`), `message` says what happened. */
export interface TaskError {
  code: string
  message: string
}

/** How a task ended. */
export interface TaskOutcome {
  status: TaskStatus
  /** Exit code of the entry script; null when it was killed or never started. */
  exitCode: number | null
  /** Signal that killed it (`SIGKILL`, `SIGXCPU`…), if any. */
  signal: string | null
  /** Present unless `status` is `completed`. For `runtime_error` the message ends with stderr's tail (the traceback). */
  error?: TaskError
  metrics: TaskMetrics
  /** Tails of stdout and stderr (capped at `maxOutputBytes`). Text on stderr alone is not a failure. */
  stdout: string
  stderr: string
  /**
   * Files (relative paths) the task created or changed, now present in `taskDir`. Empty when the task
   * directory was past `taskDirFiles` or `copyBackBytes`: then nothing is copied back.
   */
  outputFiles: string[]
  /** Limits the task ran under. */
  limits: TaskLimits
}

/** Progress of a running task, for status lines and heartbeats. */
export type TaskProgressEvent =
  | { type: 'started', executor: ExecutorKind, taskId: string }
  | { type: 'sample', taskId: string, rssBytes: number, cpuMs: number, processes: number, elapsedMs: number }

/** Options of {@link Executor.run}. */
export interface RunOptions {
  /** Aborting kills the task tree and rejects with `AbortError`. */
  signal?: AbortSignal
  onProgress?: (event: TaskProgressEvent) => void
}

/** The executor kinds. */
export type ExecutorKind = 'bwrap' | 'ssh' | 'none'

/** Runs tasks in one kind of sandbox. Safe to call `run` concurrently. */
export interface Executor {
  readonly kind: ExecutorKind
  /**
   * Runs a task to its end. Every task failure — including the sandbox's own (`sandbox_error`) —
   * resolves with a status (see {@link TaskOutcome.status}). It rejects only with `AbortError` when
   * `options.signal` aborts (the task tree is killed and cleaned up first) and with
   * `InvalidTaskError` for a malformed spec (entry outside the task directory, no such directory, a
   * limit that is not a positive whole number).
   */
  run: (task: TaskSpec, options?: RunOptions) => Promise<TaskOutcome>
  /** Human-readable description of the isolation in force, for logs and the self-test. */
  describe: () => string
  /** Releases connections; running tasks are killed. */
  close: () => Promise<void>
}

/**
 * Sandbox executors: run one task (a directory holding a Python entry script and its inputs) under
 * resource limits, measure it, and report an outcome that is always one of {@link TaskStatus}.
 *
 * - `bwrap` (default on Linux): bubblewrap on this machine — see `docs/sandbox.md`.
 * - `ssh`: a guest VM or separate box reached with ssh2; files over SFTP, monitored over the same connection.
 * - `none`: no isolation at all; refused unless `unsafe: true` (the CLI's `--unsafe-no-sandbox`).
 *
 * The Python job contract (DESIGN.md) sits on top of any executor: see {@link runPythonTask}.
 */
import { BwrapExecutor } from './bwrap.ts'
import { UnsafeSandboxError } from './errors.ts'
import { NoneExecutor } from './none.ts'
import { SshExecutor } from './ssh.ts'
import type { BwrapExecutorInit } from './bwrap.ts'
import type { NoneExecutorInit } from './none.ts'
import type { SshExecutorInit } from './ssh.ts'

export * from './errors.ts'
export { parseSize, formatSize } from './limits.ts'
export type { BwrapExecutorInit } from './bwrap.ts'
export type { NoneExecutorInit } from './none.ts'
export type { SshExecutorInit, SshTarget } from './ssh.ts'
export { parseSshTarget } from './ssh.ts'
export { runPythonTask, parseResultJson, stringifyResult } from '../task-runner.ts'
export type { PythonTaskInit, PythonTaskMode, PythonTaskOutcome } from '../task-runner.ts'

/** Every way a task can end. Only `completed` carries a result. */
export type TaskStatus =
  | 'completed'
  /** The job raised (the traceback is kept, capped) or exited non-zero. */
  | 'runtime_error'
  /** Address-space rlimit hit (MemoryError), or the tree's RSS went over the limit and was killed. */
  | 'memory_limit'
  /** Wall-clock timeout, or the CPU-seconds rlimit. */
  | 'time_limit'
  /** Process/thread limit hit (fork bomb). */
  | 'process_limit'
  /** A file, the task directory, or stdout/stderr grew past its limit. */
  | 'output_limit'
  /** The sandbox itself failed (not the job's fault): missing bwrap, SSH down, bad task spec. */
  | 'sandbox_error'

/** All statuses, for validation and tables. */
export const TASK_STATUSES: readonly TaskStatus[] = [
  'completed', 'runtime_error', 'memory_limit', 'time_limit', 'process_limit', 'output_limit', 'sandbox_error'
]

/** Resource limits of one task. Every field has a default in {@link DEFAULT_LIMITS}. */
export interface TaskLimits {
  /** Memory: per-process address space (RLIMIT_AS) and the whole tree's RSS (enforced by sampling). */
  memoryBytes: number
  /** Wall-clock time, enforced by the node, which kills the whole tree. */
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
}

/** Defaults: 512 MiB, 60 s wall, 60 CPU-s, 64 processes, 256 MiB files, 4 MiB of output, 1 GiB written. */
export const DEFAULT_LIMITS: Readonly<TaskLimits> = Object.freeze({
  memoryBytes: 512 * 1024 ** 2,
  timeoutMs: 60_000,
  cpuSeconds: 60,
  maxProcesses: 64,
  maxFileBytes: 256 * 1024 ** 2,
  maxOutputBytes: 4 * 1024 ** 2,
  taskDirBytes: 1024 ** 3
})

/**
 * Fills unset limits from {@link DEFAULT_LIMITS}. The CPU limit follows the wall timeout unless set: a
 * task cannot use more CPU seconds than wall seconds times the processes it may run, and a single
 * process cannot use more than the wall time.
 */
export function resolveLimits (limits: Partial<TaskLimits> = {}): TaskLimits {
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
  /** Files (relative paths) the task created or changed, now present in `taskDir`. */
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
   * `InvalidTaskError` for a malformed spec (entry outside the task directory, no such directory).
   */
  run: (task: TaskSpec, options?: RunOptions) => Promise<TaskOutcome>
  /** Human-readable description of the isolation in force, for logs and the self-test. */
  describe: () => string
  /** Releases connections; running tasks are killed. */
  close: () => Promise<void>
}

/** Configuration of {@link createExecutor}. */
export type ExecutorConfig =
  | ({ kind: 'bwrap' } & BwrapExecutorInit)
  | ({ kind: 'ssh' } & SshExecutorInit)
  | ({ kind: 'none' } & NoneExecutorInit)

/**
 * Creates an executor. `none` throws {@link UnsafeSandboxError} unless `unsafe: true`; `bwrap` throws
 * `SandboxUnavailableError` when bubblewrap or Python is missing; `ssh` connects on first use.
 */
export function createExecutor (config: ExecutorConfig): Executor {
  switch (config.kind) {
    case 'bwrap':
      return new BwrapExecutor(config)
    case 'ssh':
      return new SshExecutor(config)
    case 'none':
      if (config.unsafe !== true) throw new UnsafeSandboxError()
      return new NoneExecutor(config)
    default:
      throw new Error(`unknown executor kind: ${(config as { kind: string }).kind}`)
  }
}

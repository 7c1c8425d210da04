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
import type { Executor } from './contract.ts'
import type { NoneExecutorInit } from './none.ts'
import type { SshExecutorInit } from './ssh.ts'

export * from './errors.ts'
export { DEFAULT_LIMITS, resolveLimits, TASK_STATUSES } from './contract.ts'
export type { Executor, ExecutorKind, RunOptions, TaskError, TaskLimits, TaskMetrics, TaskOutcome, TaskProgressEvent, TaskSpec, TaskStatus } from './contract.ts'
export { formatBytes, InvalidSizeError, parseSize } from '../../../protocols/src/units.ts'
export type { BwrapExecutorInit } from './bwrap.ts'
export type { NoneExecutorInit } from './none.ts'
export type { SshExecutorInit, SshTarget } from './ssh.ts'
export { parseSshTarget } from './ssh.ts'
export { runPythonTask, parseResultJson, stringifyResult } from '../task-runner.ts'
export type { PythonTaskInit, PythonTaskMode, PythonTaskOutcome } from '../task-runner.ts'

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

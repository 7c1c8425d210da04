/**
 * What the executors share: the launcher contract, the task's entry and id, the user a task runs as when the
 * node is root, and stdout/stderr capture (the task directory is workspace.ts's, outcome classification outcome.ts's).
 */
import { randomBytes } from 'node:crypto'
import { isAbsolute, normalize } from 'node:path'
import { constants as osConstants } from 'node:os'
import { fileURLToPath } from 'node:url'
import { InvalidTaskError } from './errors.ts'
import type { TaskLimits, TaskSpec } from './contract.ts'

/** Directory of the Python runtime files shipped with the node (launcher.py, runner.py, sampler.py). */
export const RUNTIME_DIR = fileURLToPath(new URL('../runtime/', import.meta.url))

/** At most this much of stdout and of stderr is kept in a {@link TaskOutcome}, whatever the output limit. */
const KEPT_OUTPUT_BYTES = 64 * 1024

/** What the launcher reports when its child ends (runtime/launcher.py). */
export interface LauncherReport {
  exitCode: number | null
  signal: number | null
  cpuMs: number
  maxRssBytes: number
}

/** Parses the launcher's one-line JSON report; undefined when absent or garbled. */
export function parseLauncherReport (text: string): LauncherReport | undefined {
  const line = text.split('\n').find(l => l.trim() !== '')
  if (line === undefined) return undefined
  try {
    const value = JSON.parse(line) as Partial<LauncherReport>
    if (typeof value !== 'object' || value === null) return undefined
    return {
      exitCode: typeof value.exitCode === 'number' ? value.exitCode : null,
      signal: typeof value.signal === 'number' ? value.signal : null,
      cpuMs: typeof value.cpuMs === 'number' ? value.cpuMs : 0,
      maxRssBytes: typeof value.maxRssBytes === 'number' ? value.maxRssBytes : 0
    }
  } catch {
    return undefined
  }
}

/** The rlimits the launcher applies, as its LIMITS_JSON argument. */
export function launcherLimits (limits: TaskLimits): string {
  return JSON.stringify({
    as: limits.memoryBytes,
    cpu: limits.cpuSeconds,
    nproc: limits.maxProcesses,
    fsize: limits.maxFileBytes,
    // Enough for real programs, few enough that fd exhaustion cannot hurt the box.
    nofile: 1024
  })
}

/** The path of the task's entry, checked to stay inside the task directory. */
export function checkedEntry (task: TaskSpec): string {
  const entry = normalize(task.entry)
  if (isAbsolute(entry) || entry.startsWith('..')) {
    throw new InvalidTaskError(`task entry must be a relative path inside the task directory: ${task.entry}`)
  }
  return entry
}

/**
 * The user tasks run as where the node (or the SSH user) is root: the kernel exempts root from the process limit,
 * so root must not run tasks. Default 65534 (`nobody`); the group follows the user unless set.
 */
export function sandboxUser (init: { sandboxUid?: number, sandboxGid?: number }): { uid: number, gid: number } {
  return { uid: init.sandboxUid ?? 65534, gid: init.sandboxGid ?? init.sandboxUid ?? 65534 }
}

/** A task id safe for file names. */
export function taskIdOf (task: TaskSpec): string {
  const id = task.id ?? randomBytes(6).toString('hex')
  return id.replace(/[^a-zA-Z0-9_.-]/g, '_').slice(0, 64)
}

/** Signal number → name (`9` → `SIGKILL`). */
export function signalName (signal: number | null): string | null {
  if (signal === null) return null
  for (const [name, value] of Object.entries(osConstants.signals)) {
    if (value === signal) return name
  }
  return `SIG${signal}`
}

/**
 * Keeps the tail of a stream and counts everything; calls `onOverflow` once when the total goes past
 * `limit`.
 */
export class TailBuffer {
  private chunks: Buffer[] = []
  private kept = 0
  total = 0
  private overflowed = false

  constructor (private readonly limit: number, private readonly onOverflow: () => void) {}

  push (chunk: Buffer): void {
    this.total += chunk.length
    this.chunks.push(chunk)
    this.kept += chunk.length
    while (this.kept > KEPT_OUTPUT_BYTES && this.chunks.length > 1) {
      this.kept -= (this.chunks.shift() as Buffer).length
    }
    if (!this.overflowed && this.total > this.limit) {
      this.overflowed = true
      this.onOverflow()
    }
  }

  text (): string {
    const all = Buffer.concat(this.chunks)
    const tail = all.length > KEPT_OUTPUT_BYTES ? all.subarray(all.length - KEPT_OUTPUT_BYTES) : all
    return tail.toString('utf8')
  }
}

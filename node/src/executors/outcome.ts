/**
 * The one place that decides how a task ended, for every executor (bwrap, ssh, none): while it runs,
 * {@link breachedLimit} says which limit a sample of it broke (the executor then kills the tree); when
 * it has ended, the executor gathers what it saw into an {@link EndedTask} and {@link classifyOutcome}
 * turns that into exactly one status with a message for the submitter.
 *
 * When several limits are near at once, the first rule that applies wins:
 *
 * 1. the node could not run the task (bwrap or SSH unusable) → `sandbox_error`;
 * 2. the node stopped it: the wall clock → `time_limit`; stdout/stderr, the task directory's bytes or
 *    entries → `output_limit`; the tree's memory → `memory_limit`, **unless the process limit was
 *    reached** (see 6), then `process_limit`;
 * 3. the kernel stopped it: SIGXCPU (CPU seconds) → `time_limit`; SIGXFSZ (file size) → `output_limit`;
 *    SIGKILL/SIGSEGV/SIGBUS/SIGABRT that look like memory exhaustion → `memory_limit` (or `process_limit`, 6);
 * 4. the task said why it failed (runner.py's exit codes, or a plain script's last exception line):
 *    MemoryError → `memory_limit` (or `process_limit`, 6); fork/thread EAGAIN → `process_limit`;
 *    EFBIG/ENOSPC/EDQUOT → `output_limit`;
 * 5. it left more in its directory than is copied back (`taskDirFiles` entries, `copyBackBytes` bytes) →
 *    `output_limit`, and nothing was copied back;
 * 6. exit 0 → `completed`; another exit → `runtime_error`, or `process_limit` when the process limit was
 *    reached: the watch saw the tree use (nearly) all its processes and threads, or a fork/thread
 *    creation failed with EAGAIN. A tree at its process limit that also runs out of memory is a fork
 *    bomb: more memory would not let it finish, so it is not reported as `memory_limit` (the coordinator
 *    answers that one by retrying with more memory).
 *
 * Memory is the tree's PSS, where pages shared by forked processes count once: summed RSS counts them
 * once per process, and made a fork bomb from a process holding 16 MiB look like a 1.2 GiB memory bomb.
 */
import { formatBytes } from '../../../protocols/src/units.ts'
import { signalName } from './common.ts'
import type { LauncherReport } from './common.ts'
import type { CopyBack } from './workspace.ts'
import type { TaskLimits, TaskMetrics, TaskOutcome, TaskStatus } from './contract.ts'
import type { ResourceUsage } from '../monitor.ts'

/** Why the node itself ended a task. */
export type KillReason = 'timeout' | 'memory' | 'output' | 'taskdir-bytes' | 'taskdir-files' | 'abort'

/** One observation of a running task, from the local monitor or the remote sampler. */
export interface WatchSample {
  /** The tree's PSS, when it was read (it is only read once summed RSS passes the memory limit). */
  pssBytes?: number
  /** stdout + stderr so far. */
  outputBytes?: number
  /** Bytes the task added to its directory, when measured. */
  dirBytes?: number
  /** Entries the task added to its directory, when counted (the count stops one past `taskDirFiles`). */
  dirEntries?: number
}

/**
 * The limit `sample` shows broken, if any: what the node kills the task for. Memory counts only from a
 * PSS reading: summed RSS above the limit is what makes the monitor read PSS, never a reason on its own.
 */
export function breachedLimit (sample: WatchSample, limits: TaskLimits): KillReason | undefined {
  if (sample.pssBytes !== undefined && sample.pssBytes > limits.memoryBytes) return 'memory'
  if (sample.outputBytes !== undefined && sample.outputBytes > limits.maxOutputBytes) return 'output'
  if (sample.dirBytes !== undefined && sample.dirBytes > limits.taskDirBytes) return 'taskdir-bytes'
  if (sample.dirEntries !== undefined && sample.dirEntries > limits.taskDirFiles) return 'taskdir-files'
  return undefined
}

/** Everything known when a task has ended. */
export interface EndedTask {
  limits: TaskLimits
  usage: ResourceUsage
  /** Report of the launcher, when it got to write one. */
  report?: LauncherReport
  /** Exit code of the outermost process (bwrap, the remote wrapper or the launcher). */
  exitCode: number | null
  signal: number | null
  killedFor?: KillReason
  stdout: string
  stderr: string
  outputFiles: string[]
  /** A setup failure the executor detected itself. */
  sandboxError?: string
  /** Most processes and threads of the task the watch saw at once (supervisors not counted). */
  peakTasks?: number
  /** Supervisor processes that count against `maxProcesses` (bwrap: its init and the launcher). Default 2. */
  supervisors?: number
  copyBack?: CopyBack
}

/**
 * Share of its process limit a task must have been seen using to have "reached" it. Samples (every 50 ms,
 * 100 ms over SSH) miss short-lived processes and a fork bomb's count flickers as failed children exit:
 * fork bombs limited to 32 and 64 were seen at 25–28 and 50–60 processes and threads.
 */
const PROCESS_LIMIT_SEEN = 0.75

/** Exit codes of runner.py that name a limit (see runtime/runner.py). */
const RUNTIME_EXIT_STATUS: Record<number, TaskStatus> = { 3: 'memory_limit', 4: 'process_limit', 5: 'output_limit' }

/** fork()/clone() and thread creation failing for want of processes, as Python reports it. */
const EAGAIN_PATTERN = /\[Errno 11\] Resource temporarily unavailable|can't start new thread/

function count (n: number): string {
  return n.toLocaleString('en-US')
}

function seconds (ms: number): string {
  return `${count(Math.round(ms / 100) / 10)} s`
}

function mib (bytes: number): string {
  return `${count(Math.round(bytes / 1024 ** 2))} MiB`
}

/** Last `n` characters of stderr, for messages. */
function stderrTail (stderr: string, n = 8192): string {
  const text = stderr.trimEnd()
  return text.length > n ? '…' + text.slice(text.length - n) : text
}

function looksLikeMemoryFailure (ended: EndedTask): boolean {
  return /MemoryError|Cannot allocate memory|out of memory/i.test(ended.stderr) ||
    ended.usage.peakMemoryBytes >= 0.9 * ended.limits.memoryBytes
}

/** The watch saw the task use (nearly) all the processes and threads it may: see rule 6 above. */
function reachedProcessLimit (ended: EndedTask): boolean {
  const room = ended.limits.maxProcesses - (ended.supervisors ?? 2)
  const seen = Math.max(ended.peakTasks ?? 0, ended.usage.peakProcesses)
  return seen >= Math.max(1, Math.floor(room * PROCESS_LIMIT_SEEN))
}

/** The outcomes an ended task can be given, each with the message that says what happened and what to do. */
class Verdicts {
  constructor (private readonly ended: EndedTask) {}

  outcome (status: TaskStatus, message?: string): TaskOutcome {
    const { ended } = this
    const { report } = ended
    const metrics: TaskMetrics = { ...ended.usage }
    return {
      status,
      exitCode: report?.exitCode ?? (report === undefined ? ended.exitCode : null),
      signal: signalName(report?.signal ?? ended.signal),
      ...(status === 'completed' ? {} : { error: { code: status, message: message ?? status } }),
      metrics,
      stdout: ended.stdout,
      stderr: ended.stderr,
      outputFiles: ended.outputFiles,
      limits: ended.limits
    }
  }

  /** stderr's tail on a line of its own, to end a message with; '' when there is none. */
  tail (): string {
    const text = stderrTail(this.ended.stderr)
    return text === '' ? '' : `\n${text}`
  }

  processLimit (what: string): TaskOutcome {
    return this.outcome('process_limit',
      `the task ${what}: it tried to run more than its ${count(this.ended.limits.maxProcesses)} processes and threads at once (the sandbox's own supervisors count too). A fork bomb, or more workers or threads than the limit: run fewer${this.tail()}`)
  }

  memoryLimit (what: string): TaskOutcome {
    // A fork failing with EAGAIN is evidence too, but only beside a memory failure: on its own the same
    // errno is also what a non-blocking read says.
    return reachedProcessLimit(this.ended) || EAGAIN_PATTERN.test(this.ended.stderr)
      ? this.processLimit(`${what} while running as many processes as it may`)
      : this.outcome('memory_limit', `the task ${what}; give it more memory or split the input${this.tail()}`)
  }

  entriesLimit (): TaskOutcome {
    const { limits, copyBack } = this.ended
    return this.outcome('output_limit',
      `the task left more than ${count(limits.taskDirFiles)} files and directories in its task directory (at least ${count(copyBack?.entries ?? limits.taskDirFiles + 1)}); at most ${count(limits.taskDirFiles)} may be created and copied back (taskDirFiles), so nothing was copied back: write fewer, larger files, or return the data as the result`)
  }

  bytesLimit (): TaskOutcome {
    const { limits, copyBack } = this.ended
    return this.outcome('output_limit',
      `the task left ${formatBytes(copyBack?.bytes ?? 0)} of new or changed files in its task directory; at most ${formatBytes(limits.copyBackBytes)} are copied back (copyBackBytes), so nothing was copied back: delete scratch files before returning, or return the data as the result`)
  }

  fileLimit (): TaskOutcome {
    const { limits, copyBack } = this.ended
    if (copyBack?.refused === 'entries') return this.entriesLimit()
    return this.outcome('output_limit', `the task hit its file size (${mib(limits.maxFileBytes)}) or task directory (${mib(limits.taskDirBytes)}, ${count(limits.taskDirFiles)} entries) limit${this.tail()}`)
  }
}

/** Turns how a task ended into exactly one status with a message that says what happened and what to do. */
export function classifyOutcome (ended: EndedTask): TaskOutcome {
  const verdicts = new Verdicts(ended)
  if (ended.sandboxError !== undefined) return verdicts.outcome('sandbox_error', ended.sandboxError)
  const killed = killedOutcome(ended, verdicts)
  if (killed !== undefined) return killed
  const { report } = ended
  if (report === undefined) return unreportedOutcome(ended, verdicts)
  if (report.signal !== null) return signalledOutcome(ended, report.signal, verdicts)
  return exitedOutcome(ended, report.exitCode ?? -1, verdicts)
}

/** Rule 2: the node stopped the task. */
function killedOutcome (ended: EndedTask, verdicts: Verdicts): TaskOutcome | undefined {
  const { limits } = ended
  switch (ended.killedFor) {
    case 'timeout':
      return verdicts.outcome('time_limit', `the task ran longer than its ${seconds(limits.timeoutMs)} wall-clock limit and was killed`)
    case 'memory':
      return verdicts.memoryLimit(`used more than ${mib(limits.memoryBytes)} in all its processes together (pages they share counted once) and was killed`)
    case 'output':
      return verdicts.outcome('output_limit', `the task wrote more than ${mib(limits.maxOutputBytes)} to stdout/stderr and was killed; print less`)
    case 'taskdir-bytes':
      return verdicts.outcome('output_limit', `the task wrote more than ${mib(limits.taskDirBytes)} to its directory and was killed`)
    case 'taskdir-files':
      return verdicts.entriesLimit()
    case 'abort':
      return verdicts.outcome('sandbox_error', 'the task was aborted by the node')
    case undefined:
      return undefined
  }
}

/**
 * The launcher never reported: either the sandbox failed to start (bwrap prints why) or the task
 * killed its own supervisor (it may: same user); the exit code tells which.
 */
function unreportedOutcome (ended: EndedTask, verdicts: Verdicts): TaskOutcome {
  if (ended.exitCode !== null && ended.exitCode >= 128) {
    return verdicts.outcome('runtime_error', `the task killed its supervisor (exit ${ended.exitCode})${verdicts.tail()}`)
  }
  return verdicts.outcome('sandbox_error', `the sandbox failed to start the task (exit ${ended.exitCode ?? signalName(ended.signal) ?? 'unknown'}): ${stderrTail(ended.stderr, 2000) || 'no message'}`)
}

/** Rule 3: the kernel stopped the task with `signal`. */
function signalledOutcome (ended: EndedTask, signal: number, verdicts: Verdicts): TaskOutcome {
  const { limits, usage } = ended
  const name = signalName(signal) ?? String(signal)
  if (name === 'SIGXCPU' || (name === 'SIGKILL' && usage.cpuMs >= limits.cpuSeconds * 1000 * 0.95)) {
    return verdicts.outcome('time_limit', `the task used more than its ${count(limits.cpuSeconds)} CPU seconds and was killed`)
  }
  if (name === 'SIGXFSZ') {
    return verdicts.outcome('output_limit', `the task wrote a file larger than ${mib(limits.maxFileBytes)}`)
  }
  if ((name === 'SIGKILL' || name === 'SIGSEGV' || name === 'SIGABRT' || name === 'SIGBUS') && looksLikeMemoryFailure(ended)) {
    return verdicts.memoryLimit(`ran out of its ${mib(limits.memoryBytes)} memory (${name})`)
  }
  return verdicts.outcome('runtime_error', `the task was killed by ${name}${verdicts.tail()}`)
}

/** Rules 4 to 6: the task exited with `code`. */
function exitedOutcome (ended: EndedTask, code: number, verdicts: Verdicts): TaskOutcome {
  const { limits, copyBack } = ended
  switch (RUNTIME_EXIT_STATUS[code]) {
    case 'memory_limit':
      return verdicts.memoryLimit(`ran out of its ${mib(limits.memoryBytes)} memory (MemoryError)`)
    case 'process_limit':
      return verdicts.processLimit('could not start a process or thread')
    case 'output_limit':
      return verdicts.fileLimit()
  }
  if (code === 126 || code === 127) {
    return verdicts.outcome('sandbox_error', `the sandbox could not start Python (exit ${code}): ${stderrTail(ended.stderr, 2000)}`)
  }
  // A plain script (not runner.py) has no exit-code contract: its uncaught exception, the last line
  // of stderr, says which limit it hit.
  const lastLine = code === 0 ? '' : ended.stderr.trimEnd().split('\n').pop() ?? ''
  if (/^MemoryError\b/.test(lastLine)) return verdicts.memoryLimit(`ran out of its ${mib(limits.memoryBytes)} memory (MemoryError)`)
  if (/\[Errno (27|28|122)\]/.test(lastLine)) return verdicts.fileLimit()
  if (EAGAIN_PATTERN.test(lastLine)) return verdicts.processLimit('could not start a process or thread')

  if (copyBack?.refused === 'entries') return verdicts.entriesLimit()
  if (copyBack?.refused === 'bytes') return verdicts.bytesLimit()
  if (code === 0) return verdicts.outcome('completed')
  if (reachedProcessLimit(ended)) return verdicts.processLimit(`failed (exit ${code}) after running as many processes as it may`)
  return verdicts.outcome('runtime_error', `the task exited with code ${code}${verdicts.tail()}`)
}

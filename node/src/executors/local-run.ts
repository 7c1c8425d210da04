/**
 * Runs a sandbox command on this machine and watches it: the wall-clock timeout, the tree's memory,
 * stdout/stderr size and the task directory's size, killing the whole tree on any breach. Shared by
 * the bwrap and none executors (see local-executor.ts).
 */
import { AbortError } from '@libp2p/interface'
import { monitorProcessTree } from '../monitor.ts'
import { parseLauncherReport } from './common.ts'
import { armDeadline } from './deadline.ts'
import { breachedLimit, classifyOutcome } from './outcome.ts'
import { SandboxProcess } from './sandbox-process.ts'
import type { SandboxSpawn } from './sandbox-process.ts'
import type { ProcessTreeMonitor, ResourceUsage } from '../monitor.ts'
import type { ExecutorKind, RunOptions, TaskLimits, TaskOutcome } from './contract.ts'
import type { KillReason } from './outcome.ts'
import type { Workspace } from './workspace.ts'

/** Monitor period: fine enough to catch a tree's memory growing, cheap on a busy box. */
const SAMPLE_INTERVAL_MS = 50

/** How often (in samples) a task directory without a hard size limit is measured. */
const TASKDIR_CHECK_EVERY = 10

/** What {@link superviseLocal} watches, and how. */
export interface SupervisedTask {
  kind: ExecutorKind
  taskId: string
  limits: TaskLimits
  workspace: Workspace
  /** Supervisor levels above the task's Python (bwrap: bwrap, its init, the launcher = 3). */
  supervisorDepth: number
  /** Supervisors that count against the process limit (bwrap: its init and the launcher = 2). */
  supervisors: number
  /** The go line of a pre-started sandbox (runtime/standby.py), sent when the watch starts. */
  go?: string
}

/** What {@link runLocal} runs, and how to watch it. */
export type LocalRunInit = SandboxSpawn & SupervisedTask

/**
 * Runs `init.argv` and watches it until it ends, killing its tree on a breached limit, the timeout or an abort;
 * then copies back what the task left in its workspace and classifies the outcome. Rejects only with `AbortError`.
 */
export async function runLocal (init: LocalRunInit, options: RunOptions = {}): Promise<TaskOutcome> {
  options.signal?.throwIfAborted()
  return await superviseLocal(new SandboxProcess(init), init, options)
}

/**
 * Watches a spawned sandbox as {@link runLocal} does. For a pre-started one this is the task's start: its go is
 * sent now, and the wall clock, the samples, the deadline and the output limit all start here, not at its spawn.
 */
export async function superviseLocal (sandbox: SandboxProcess, init: SupervisedTask, options: RunOptions = {}): Promise<TaskOutcome> {
  const { limits, workspace } = init
  const kill = (reason: KillReason): void => { sandbox.kill(reason) }
  sandbox.capture(limits.maxOutputBytes, () => { kill('output') })
  if (init.go !== undefined) sandbox.go(init.go)

  const startedAt = Date.now()
  options.onProgress?.({ type: 'started', executor: init.kind, taskId: init.taskId })
  const watch = watchTree(sandbox.pid, init, startedAt, kill, options)

  const deadline = armDeadline(limits.timeoutMs, () => { kill('timeout') })
  const onAbort = (): void => { kill('abort') }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  if (options.signal?.aborted === true) onAbort()
  const { exitCode, signal, spawnError } = await sandbox.exited
  deadline.clear()
  options.signal?.removeEventListener('abort', onAbort)

  const report = parseLauncherReport(sandbox.report())
  const usage: ResourceUsage = watch.monitor?.stop(report === undefined ? {} : { cpuMs: report.cpuMs, maxRssBytes: report.maxRssBytes }) ??
    { wallMs: Date.now() - startedAt, cpuMs: 0, peakMemoryBytes: 0, avgMemoryBytes: 0, peakProcesses: 0, samples: 0 }
  usage.wallMs = Date.now() - startedAt

  const killedFor = sandbox.killedFor === 'discard' ? undefined : sandbox.killedFor
  if (killedFor === 'abort') throw new AbortError('task aborted')

  const collected = spawnError === undefined ? await workspace.collect() : undefined
  return classifyOutcome({
    limits,
    usage,
    ...(report === undefined ? {} : { report }),
    exitCode,
    signal,
    ...(killedFor === undefined ? {} : { killedFor }),
    stdout: sandbox.stdout(),
    stderr: sandbox.stderr(),
    outputFiles: collected?.copied ?? [],
    ...(collected === undefined ? {} : { copyBack: collected.copyBack }),
    peakTasks: watch.peakTasks(),
    supervisors: init.supervisors,
    ...(spawnError === undefined ? {} : { sandboxError: `cannot start ${sandbox.command}: ${spawnError.message}` })
  })
}

/**
 * Samples the tree (and, without a tmpfs, the task directory), calls `kill` with the limit a sample shows broken,
 * and reports each sample as progress.
 */
function watchTree (
  pid: number | undefined, init: SupervisedTask, startedAt: number, kill: (reason: KillReason) => void, options: RunOptions
): { monitor: ProcessTreeMonitor | undefined, peakTasks: () => number } {
  const { limits, workspace } = init
  let sampleCount = 0
  let checkingDir = false
  let peakTasks = 0
  const breached = (reason: KillReason | undefined): void => { if (reason !== undefined) kill(reason) }
  const monitor = pid === undefined
    ? undefined
    : monitorProcessTree(pid, {
      intervalMs: SAMPLE_INTERVAL_MS,
      skipDepth: init.supervisorDepth,
      pssAbove: limits.memoryBytes,
      onSample: (sample) => {
        peakTasks = Math.max(peakTasks, sample.threads)
        breached(breachedLimit(sample, limits))
        // A tmpfs enforces the directory's bytes and entries itself; anywhere else they are counted.
        if (!workspace.mounted && ++sampleCount % TASKDIR_CHECK_EVERY === 0 && !checkingDir) {
          checkingDir = true
          workspace.usage().then(usage => {
            breached(breachedLimit({ dirBytes: usage.bytes, dirEntries: usage.entries }, limits))
          }, () => {}).finally(() => { checkingDir = false })
        }
        options.onProgress?.({
          type: 'sample',
          taskId: init.taskId,
          rssBytes: sample.rssBytes,
          cpuMs: sample.cpuMs,
          processes: sample.processes,
          elapsedMs: sample.at - startedAt
        })
      }
    })
  return { monitor, peakTasks: () => peakTasks }
}

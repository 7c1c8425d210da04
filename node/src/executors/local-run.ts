/**
 * Runs a sandbox command on this machine and watches it: the wall-clock timeout, the tree's memory,
 * stdout/stderr size and the task directory's size, killing the whole tree on any breach. Shared by
 * the bwrap and none executors (see local-executor.ts).
 */
import { spawn } from 'node:child_process'
import { constants as osConstants } from 'node:os'
import { Writable } from 'node:stream'
import { AbortError } from '@libp2p/interface'
import { monitorProcessTree, processTree } from '../monitor.ts'
import { parseLauncherReport, TailBuffer } from './common.ts'
import { armDeadline } from './deadline.ts'
import { breachedLimit, classifyOutcome } from './outcome.ts'
import type { ChildProcess } from 'node:child_process'
import type { ProcessTreeMonitor, ResourceUsage } from '../monitor.ts'
import type { ExecutorKind, RunOptions, TaskLimits, TaskOutcome } from './contract.ts'
import type { KillReason } from './outcome.ts'
import type { Workspace } from './workspace.ts'

/** Monitor period: fine enough to catch a tree's memory growing, cheap on a busy box. */
const SAMPLE_INTERVAL_MS = 50

/** How often (in samples) a task directory without a hard size limit is measured. */
const TASKDIR_CHECK_EVERY = 10

/** What {@link runLocal} runs, and how to watch it. */
export interface LocalRunInit {
  kind: ExecutorKind
  taskId: string
  /** argv[0] must be an absolute path. */
  argv: string[]
  cwd: string
  env: Record<string, string>
  uid?: number
  gid?: number
  limits: TaskLimits
  workspace: Workspace
  /** Supervisor levels above the task's Python (bwrap: bwrap, its init, the launcher = 3). */
  supervisorDepth: number
  /** Supervisors that count against the process limit (bwrap: its init and the launcher = 2). */
  supervisors: number
  /** Bytes offered on the child's fd 4 (bwrap's seccomp program). */
  fd4?: Buffer
}

/**
 * Runs `init.argv` and watches it until it ends, killing its tree on a breached limit, the timeout or an abort;
 * then copies back what the task left in its workspace and classifies the outcome. Rejects only with `AbortError`.
 */
export async function runLocal (init: LocalRunInit, options: RunOptions = {}): Promise<TaskOutcome> {
  const { limits, workspace } = init
  options.signal?.throwIfAborted()

  const child = spawnSandbox(init)
  const killer = new TreeKiller(child)
  const output = captureOutput(child, init, () => { killer.kill('output') })

  const startedAt = Date.now()
  options.onProgress?.({ type: 'started', executor: init.kind, taskId: init.taskId })
  const watch = watchTree(child, init, startedAt, (reason) => { killer.kill(reason) }, options)

  const deadline = armDeadline(limits.timeoutMs, () => { killer.kill('timeout') })
  const onAbort = (): void => { killer.kill('abort') }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  const { exitCode, signal, spawnError } = await exitOf(child)
  deadline.clear()
  options.signal?.removeEventListener('abort', onAbort)

  const report = parseLauncherReport(output.reportText())
  const usage: ResourceUsage = watch.monitor?.stop(report === undefined ? {} : { cpuMs: report.cpuMs, maxRssBytes: report.maxRssBytes }) ??
    { wallMs: Date.now() - startedAt, cpuMs: 0, peakMemoryBytes: 0, avgMemoryBytes: 0, peakProcesses: 0, samples: 0 }
  usage.wallMs = Date.now() - startedAt

  if (killer.killedFor === 'abort') throw new AbortError('task aborted')

  const collected = spawnError === undefined ? await workspace.collect() : undefined
  return classifyOutcome({
    limits,
    usage,
    ...(report === undefined ? {} : { report }),
    exitCode,
    signal,
    ...(killer.killedFor === undefined ? {} : { killedFor: killer.killedFor }),
    stdout: output.stdout.text(),
    stderr: output.stderr.text(),
    outputFiles: collected?.copied ?? [],
    ...(collected === undefined ? {} : { copyBack: collected.copyBack }),
    peakTasks: watch.peakTasks(),
    supervisors: init.supervisors,
    ...(spawnError === undefined ? {} : { sandboxError: `cannot start ${init.argv[0] ?? 'sandbox'}: ${spawnError.message}` })
  })
}

function spawnSandbox (init: LocalRunInit): ChildProcess {
  return spawn(init.argv[0] as string, init.argv.slice(1), {
    cwd: init.cwd,
    env: init.env,
    // fd 3 carries the launcher's report; the task never sees it. fd 4: see `fd4`.
    stdio: init.fd4 === undefined ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    ...(init.uid === undefined ? {} : { uid: init.uid, gid: init.gid })
  })
}

/** Kills the sandbox's whole tree, once, and remembers why. */
class TreeKiller {
  killedFor: KillReason | undefined

  constructor (private readonly child: ChildProcess) {}

  kill (reason: KillReason): void {
    if (this.killedFor !== undefined) return
    this.killedFor = reason
    // SIGKILL on the outermost process: bwrap's --die-with-parent takes its pid namespace, and with it
    // every process of the task, down too. Without a pid namespace (the none executor) the tree is
    // killed process by process, leaves first.
    if (this.child.pid !== undefined) {
      for (const pid of processTree(this.child.pid).reverse()) {
        try { process.kill(pid, 'SIGKILL') } catch {}
      }
    }
    this.child.kill('SIGKILL')
  }
}

/** Keeps the tails of stdout and stderr (calling `onOverflow` past the output limit), reads the launcher's report and feeds fd 4. */
function captureOutput (child: ChildProcess, init: LocalRunInit, onOverflow: () => void): { stdout: TailBuffer, stderr: TailBuffer, reportText: () => string } {
  const stdout = new TailBuffer(init.limits.maxOutputBytes, onOverflow)
  const stderr = new TailBuffer(init.limits.maxOutputBytes, onOverflow)
  child.stdout?.on('data', (chunk: Buffer) => { stdout.push(chunk) })
  child.stderr?.on('data', (chunk: Buffer) => { stderr.push(chunk) })
  let reportText = ''
  const reportStream = child.stdio[3]
  reportStream?.on('data', (chunk: Buffer) => { reportText += chunk.toString('utf8') })
  reportStream?.on('error', () => {})
  const fd4 = child.stdio[4]
  if (init.fd4 !== undefined && fd4 instanceof Writable) {
    // An early exit of bwrap closes the pipe; the outcome then says why.
    fd4.on('error', () => {})
    fd4.end(init.fd4)
  }
  return { stdout, stderr, reportText: () => reportText }
}

/**
 * Samples the tree (and, without a tmpfs, the task directory), calls `kill` with the limit a sample shows broken,
 * and reports each sample as progress.
 */
function watchTree (
  child: ChildProcess, init: LocalRunInit, startedAt: number, kill: (reason: KillReason) => void, options: RunOptions
): { monitor: ProcessTreeMonitor | undefined, peakTasks: () => number } {
  const { limits, workspace } = init
  let sampleCount = 0
  let checkingDir = false
  let peakTasks = 0
  const breached = (reason: KillReason | undefined): void => { if (reason !== undefined) kill(reason) }
  const monitor = child.pid === undefined
    ? undefined
    : monitorProcessTree(child.pid, {
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

/** How the sandbox's outermost process ended, or why it never started. */
async function exitOf (child: ChildProcess): Promise<{ exitCode: number | null, signal: number | null, spawnError?: Error }> {
  return await new Promise((resolve) => {
    child.once('error', (err) => { resolve({ exitCode: null, signal: null, spawnError: err }) })
    child.once('close', (code, sig) => {
      resolve({ exitCode: code, signal: sig === null ? null : (signalNumber(sig) ?? null) })
    })
  })
}

function signalNumber (name: NodeJS.Signals): number | undefined {
  return (osConstants.signals as Record<string, number>)[name]
}

/**
 * Runs a sandbox command on this machine and watches it: the wall-clock timeout, the tree's memory,
 * stdout/stderr size and the task directory's size, killing the whole tree on any breach. Shared by
 * the bwrap and none executors.
 */
import { spawn } from 'node:child_process'
import { constants as osConstants } from 'node:os'
import { Writable } from 'node:stream'
import { AbortError } from '@libp2p/interface'
import { monitorProcessTree, processTree } from '../monitor.ts'
import { parseLauncherReport, TailBuffer } from './common.ts'
import { armDeadline } from './deadline.ts'
import { breachedLimit, classifyOutcome } from './outcome.ts'
import type { Workspace } from './common.ts'
import type { ExecutorKind, RunOptions, TaskLimits, TaskOutcome } from './contract.ts'
import type { KillReason } from './outcome.ts'

/** Monitor period: fine enough to catch a tree's memory growing, cheap on a busy box. */
const SAMPLE_INTERVAL_MS = 50

/** How often (in samples) a task directory without a hard size limit is measured. */
const TASKDIR_CHECK_EVERY = 10

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

export async function runLocal (init: LocalRunInit, options: RunOptions = {}): Promise<TaskOutcome> {
  const { limits, workspace } = init
  options.signal?.throwIfAborted()

  const child = spawn(init.argv[0] as string, init.argv.slice(1), {
    cwd: init.cwd,
    env: init.env,
    // fd 3 carries the launcher's report; the task never sees it. fd 4: see `fd4`.
    stdio: init.fd4 === undefined ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    ...(init.uid === undefined ? {} : { uid: init.uid, gid: init.gid })
  })

  let killedFor: KillReason | undefined
  const kill = (reason: KillReason): void => {
    if (killedFor !== undefined) return
    killedFor = reason
    // SIGKILL on the outermost process: bwrap's --die-with-parent takes its pid namespace, and with it
    // every process of the task, down too. Without a pid namespace (the none executor) the tree is
    // killed process by process, leaves first.
    if (child.pid !== undefined) {
      for (const pid of processTree(child.pid).reverse()) {
        try { process.kill(pid, 'SIGKILL') } catch {}
      }
    }
    child.kill('SIGKILL')
  }

  const stdout = new TailBuffer(limits.maxOutputBytes, () => { kill('output') })
  const stderr = new TailBuffer(limits.maxOutputBytes, () => { kill('output') })
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

  const startedAt = Date.now()
  options.onProgress?.({ type: 'started', executor: init.kind, taskId: init.taskId })

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

  const deadline = armDeadline(limits.timeoutMs, () => { kill('timeout') })
  const onAbort = (): void => { kill('abort') }
  options.signal?.addEventListener('abort', onAbort, { once: true })

  const { exitCode, signal, spawnError } = await new Promise<{ exitCode: number | null, signal: number | null, spawnError?: Error }>((resolve) => {
    child.once('error', (err) => { resolve({ exitCode: null, signal: null, spawnError: err }) })
    child.once('close', (code, sig) => {
      resolve({ exitCode: code, signal: sig === null ? null : (signalNumber(sig) ?? null) })
    })
  })
  deadline.clear()
  options.signal?.removeEventListener('abort', onAbort)

  const report = parseLauncherReport(reportText)
  const usage = monitor?.stop(report === undefined ? {} : { cpuMs: report.cpuMs, maxRssBytes: report.maxRssBytes }) ??
    { wallMs: Date.now() - startedAt, cpuMs: 0, peakMemoryBytes: 0, avgMemoryBytes: 0, peakProcesses: 0, samples: 0 }
  usage.wallMs = Date.now() - startedAt

  if (killedFor === 'abort') throw new AbortError('task aborted')

  const collected = spawnError === undefined ? await workspace.collect() : undefined
  return classifyOutcome({
    limits,
    usage,
    ...(report === undefined ? {} : { report }),
    exitCode,
    signal,
    ...(killedFor === undefined ? {} : { killedFor }),
    stdout: stdout.text(),
    stderr: stderr.text(),
    outputFiles: collected?.copied ?? [],
    ...(collected === undefined ? {} : { copyBack: collected.copyBack }),
    peakTasks,
    supervisors: init.supervisors,
    ...(spawnError === undefined ? {} : { sandboxError: `cannot start ${init.argv[0] ?? 'sandbox'}: ${spawnError.message}` })
  })
}

function signalNumber (name: NodeJS.Signals): number | undefined {
  return (osConstants.signals as Record<string, number>)[name]
}

/**
 * One task's run on the SSH box, once its directory is set up: a single channel starts it in the background (its
 * own session, its pid captured) and then streams samples of its process tree from the remote sampler
 * (runtime/sampler.py) until it is gone. The node enforces the limits on those samples and the deadline itself,
 * kills the remote tree on a breach or an abort, and at the end reads the task's exit, report and output tails
 * and fetches the files it created.
 */
import { AbortError } from '@libp2p/interface'
import { UsageAccumulator } from '../monitor.ts'
import { parseLauncherReport } from './common.ts'
import { armDeadline } from './deadline.ts'
import { SshExecutorError } from './errors.ts'
import { breachedLimit, classifyOutcome } from './outcome.ts'
import { execRemote, shellQuote, streamRemote } from './ssh-connection.ts'
import { fetchOutputs, readTail } from './ssh-files.ts'
import type { RunOptions, TaskLimits, TaskOutcome, TaskSpec } from './contract.ts'
import type { Deadline } from './deadline.ts'
import type { KillReason } from './outcome.ts'
import type { RemoteListing } from './ssh-files.ts'
import type { RemoteSandbox } from './ssh-sandbox.ts'
import type { Client, SFTPWrapper } from 'ssh2'

/**
 * The remote monitor kills a task this long after its wall-clock limit by itself: a backstop for when
 * the node's own kill cannot arrive (connection lost, node killed).
 */
const REMOTE_DEADLINE_GRACE_MS = 5_000

/** The connected box, as the executor lends it to one run. */
export interface RemoteBox {
  client: Client
  sandbox: RemoteSandbox
  /** The connection's shared SFTP session. */
  sftp: () => Promise<SFTPWrapper>
  /** Timeout of each command besides the task itself (the kill). */
  timeoutMs: number
  /** Period of the remote sampler (ms). */
  sampleIntervalMs: number
  log: (message: string) => void
  /** Remote pids of running tasks → their directory, so the executor's `close()` can kill them and clean up. */
  running: Map<number, string>
  /**
   * Rejects once the connection has closed. An SFTP request made on a closed connection is never answered (ssh2
   * queues it and nothing ever replies), so whatever runs after the task's channel ended races this.
   */
  lost: Promise<never>
}

/** A task's remote directory once set up. */
export interface RemoteTaskDir {
  root: string
  /** The connection's shared, read-only runtime directory. */
  runtimeDir: string
  /** The dropped sandbox user owning the task directory, when the SSH user is root. */
  owner: { uid: number, gid: number } | undefined
  /** The task directory is a size-limited tmpfs. */
  mounted: boolean
  /** The uploaded inputs as the box lists them, to tell outputs from inputs. */
  uploaded: RemoteListing
}

/** One task to run in its set-up directory. */
export interface RemoteRun {
  dir: RemoteTaskDir
  task: TaskSpec
  /** The task's entry, checked to stay inside its directory. */
  entry: string
  taskId: string
  limits: TaskLimits
  /** The task's remote pid, set once it has started (so whoever cleans up after a lost connection can kill it). */
  pid?: number
}

/** One line of the remote sampler (runtime/sampler.py). */
interface RemoteSample {
  pid?: number
  gone?: boolean
  rss: number
  hwm: number
  vm: number
  processes: number
  threads?: number
  cpuMs: number
  output: number
  pss?: number
  dir?: number
  entries?: number
}

/**
 * Runs the task to its end and classifies how it ended. Rejects with `AbortError` when `options.signal` aborts
 * (the remote tree is killed first), and with `SshExecutorError` when the task could not be started.
 */
export async function runRemoteTask (box: RemoteBox, run: RemoteRun, options: RunOptions): Promise<TaskOutcome> {
  const watch = new RemoteTaskWatch(box, run, options)
  await watch.follow()
  return await Promise.race([collectOutcome(box, run, watch), box.lost])
}

/** Reads how the followed task ended (exit, report, output tails) and fetches the files it created. */
async function collectOutcome (box: RemoteBox, run: RemoteRun, watch: RemoteTaskWatch): Promise<TaskOutcome> {
  const { dir, task, limits } = run
  const ctl = `${dir.root}/ctl`
  const sftp = await box.sftp()
  const [exitText, reportText, stdout, stderr] = await Promise.all([
    readTail(sftp, `${ctl}/exit`, 64),
    readTail(sftp, `${ctl}/report`, 4096),
    readTail(sftp, `${ctl}/stdout`, 65536),
    readTail(sftp, `${ctl}/stderr`, 65536)
  ])
  const report = parseLauncherReport(reportText)
  const exitCode = exitText.trim() === '' ? null : Number(exitText.trim())
  const { fetched, copyBack } = await fetchOutputs(sftp, `${dir.root}/task`, dir.uploaded, task, limits)
  return classifyOutcome({
    limits,
    usage: watch.usage.usage(watch.endedAt, report === undefined ? {} : { cpuMs: report.cpuMs, maxRssBytes: report.maxRssBytes }),
    ...(report === undefined ? {} : { report }),
    exitCode,
    signal: null,
    ...(watch.killedFor === undefined ? {} : { killedFor: watch.killedFor }),
    stdout,
    stderr,
    outputFiles: fetched,
    copyBack,
    peakTasks: watch.peakTasks,
    // bwrap's init and the launcher, or the launcher alone.
    supervisors: box.sandbox.bwrap ? 2 : 1
  })
}

/** Follows one remote task from its start to its end: its samples, the limits, the deadline and aborts. */
class RemoteTaskWatch {
  readonly usage: UsageAccumulator
  peakTasks = 0
  killedFor: KillReason | undefined
  endedAt = 0
  private pid: number | undefined
  private startedAt = Date.now()
  private killing: Promise<unknown> | undefined
  private deadline: Deadline | undefined
  /** The remote sampler, as a shell command prefix. */
  private readonly sampler: string

  constructor (private readonly box: RemoteBox, private readonly run: RemoteRun, private readonly options: RunOptions) {
    this.sampler = `${shellQuote(box.sandbox.remote.python)} -I -S ${shellQuote(run.dir.runtimeDir + '/sampler.py')}`
    this.usage = new UsageAccumulator(this.startedAt)
  }

  /** Starts the task and follows it until it is gone. */
  async follow (): Promise<void> {
    const { signal } = this.options
    const onAbort = (): void => { this.kill('abort') }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      await streamRemote(this.box.client, this.command(), (line) => { this.onLine(line) }, this.box.log)
    } finally {
      this.deadline?.clear()
      signal?.removeEventListener('abort', onAbort)
      if (this.pid !== undefined) this.box.running.delete(this.pid)
    }
    await this.killing
    this.endedAt = Date.now()
    if (this.killedFor === 'abort') throw new AbortError('task aborted')
    if (this.pid === undefined) throw new SshExecutorError('the remote task did not start')
  }

  /** One channel: the task starts in the background (own session, pid captured), then samples of its tree until it is gone. */
  private command (): string {
    const { dir, entry, task, limits } = this.run
    const { root } = dir
    const { argv, cwd, supervisorDepth } = this.box.sandbox.taskCommand(dir, entry, task, limits)
    const samplerArgs = [cwd, `${root}/ctl`, String(this.box.sampleIntervalMs), String(supervisorDepth), dir.mounted ? '-' : `${root}/task`,
      String(limits.timeoutMs + REMOTE_DEADLINE_GRACE_MS), String(limits.memoryBytes), String(dir.uploaded.entries + limits.taskDirFiles)]
    return [
      dir.owner === undefined ? '' : `chown -R ${dir.owner.uid}:${dir.owner.gid} ${shellQuote(root + '/task')} &&`,
      `exec ${this.sampler} start ${samplerArgs.map(shellQuote).join(' ')} --`,
      argv.map(shellQuote).join(' ')
    ].join(' ')
  }

  private kill (reason: KillReason): void {
    if (this.killedFor !== undefined || this.pid === undefined) return
    this.killedFor = reason
    this.killing = execRemote(this.box.client, `${this.sampler} kill ${this.pid}`, this.box.timeoutMs)
      .catch((err: Error) => { this.box.log(`cannot kill remote task ${this.run.taskId}: ${err.message}`) })
  }

  private onLine (line: string): void {
    const s = JSON.parse(line) as RemoteSample
    if (s.pid !== undefined) this.onStarted(s.pid)
    else if (s.gone !== true) this.onSample(s)
  }

  private onStarted (pid: number): void {
    const { limits, taskId, dir } = this.run
    this.pid = pid
    this.run.pid = pid
    this.box.running.set(pid, dir.root)
    this.startedAt = Date.now()
    this.usage.restart(this.startedAt)
    this.deadline = armDeadline(limits.timeoutMs, () => { this.kill('timeout') })
    this.options.onProgress?.({ type: 'started', executor: 'ssh', taskId })
    if (this.options.signal?.aborted === true) this.kill('abort')
  }

  private onSample (s: RemoteSample): void {
    const { limits, taskId, dir } = this.run
    const sample = { at: Date.now(), rssBytes: s.rss, hwmBytes: s.hwm, vmBytes: s.vm, processes: s.processes, threads: s.threads ?? s.processes, cpuMs: s.cpuMs }
    this.usage.add(sample)
    this.peakTasks = Math.max(this.peakTasks, sample.threads)
    const reason = breachedLimit({
      ...(s.pss === undefined ? {} : { pssBytes: s.pss }),
      outputBytes: s.output,
      ...(s.dir === undefined ? {} : { dirBytes: Math.max(0, s.dir - dir.uploaded.bytes) }),
      ...(s.entries === undefined ? {} : { dirEntries: Math.max(0, s.entries - dir.uploaded.entries) })
    }, limits)
    if (reason !== undefined) this.kill(reason)
    this.options.onProgress?.({ type: 'sample', taskId, rssBytes: sample.rssBytes, cpuMs: sample.cpuMs, processes: sample.processes, elapsedMs: sample.at - this.startedAt })
  }
}

/**
 * The SSH executor: the report's VM model. Tasks run on a guest VM or separate box the contributor
 * points the node at. Per task: a private directory is created remotely (a size-limited tmpfs when
 * the remote user is root), files go up over SFTP, the task starts in the background in its own
 * session with its pid captured, a monitor streams `/proc/PID/status` samples of its tree back over
 * the same connection, and at the end the node fetches the files the task created, then deletes
 * everything. When the remote box has bubblewrap the task also runs in the same bwrap sandbox as
 * locally (see bwrap.ts); otherwise the remote box itself is the only boundary.
 *
 * This file holds the executor and the connection's life; the link itself is ssh-connection.ts, the remote
 * sandbox ssh-sandbox.ts, file transfer ssh-files.ts and one task's run ssh-run.ts.
 */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { AbortError } from '@libp2p/interface'
import { SANDBOX_GROUP, SANDBOX_PASSWD } from './bwrap.ts'
import { checkedEntry, RUNTIME_DIR, taskIdOf } from './common.ts'
import { resolveLimits } from './contract.ts'
import { InvalidTaskError, SshExecutorError } from './errors.ts'
import { classifyOutcome } from './outcome.ts'
import { connectSsh, execRemote, shellQuote } from './ssh-connection.ts'
import { put, remoteWalk, uploadFiles, writeRemote } from './ssh-files.ts'
import { runRemoteTask } from './ssh-run.ts'
import { probeRemote, RemoteSandbox } from './ssh-sandbox.ts'
import { listDirectory } from './workspace.ts'
import type { Executor, RunOptions, TaskLimits, TaskOutcome, TaskSpec } from './contract.ts'
import type { ExecResult, SshConnectInit } from './ssh-connection.ts'
import type { RemoteBox, RemoteRun, RemoteTaskDir } from './ssh-run.ts'
import type { SshSandboxInit } from './ssh-sandbox.ts'
import type { Client, SFTPWrapper } from 'ssh2'

export { parseSshTarget, shellQuote } from './ssh-connection.ts'
export type { SshTarget } from './ssh-connection.ts'

/** Options of the SSH executor: where and how to connect, the remote sandbox, and these. */
export interface SshExecutorInit extends SshConnectInit, SshSandboxInit {
  /** Remote parent of the task directories; default /tmp. */
  remoteTmp?: string
  /** Remote monitor period; default 100 ms. */
  sampleIntervalMs?: number
  /** Connect/handshake timeout and the timeout of each setup command; default 20 s. */
  timeoutMs?: number
  log?: (message: string) => void
}

/** @see SshExecutorInit */
export class SshExecutor implements Executor {
  readonly kind = 'ssh' as const
  private client: Client | undefined
  private connecting: Promise<Client> | undefined
  private sandbox: RemoteSandbox | undefined
  private readonly sftpSessions = new Map<Client, Promise<SFTPWrapper>>()
  private readonly runtimeDirs = new Map<Client, Promise<string>>()
  /** Per connection: rejects once it has closed (see RemoteBox.lost). */
  private readonly lost = new Map<Client, Promise<never>>()
  /** `close()` was called: a lost connection is not reconnected to clean up after its tasks. */
  private closing = false
  /** Remote pids of running tasks → their directory, so `close()` can kill them and clean up. */
  private readonly running = new Map<number, string>()
  private readonly log: (message: string) => void
  private readonly timeoutMs: number

  constructor (private readonly init: SshExecutorInit) {
    this.log = init.log ?? ((message) => { console.warn(`runsurge ssh: ${message}`) })
    this.timeoutMs = init.timeoutMs ?? 20_000
  }

  describe (): string {
    const where = `${this.init.username}@${this.init.host}:${this.init.port}`
    if (this.sandbox === undefined) return `ssh to ${where} (not connected yet)`
    return `ssh to ${where}: ${this.sandbox.describe()}; python ${this.sandbox.remote.python}`
  }

  async run (task: TaskSpec, options: RunOptions = {}): Promise<TaskOutcome> {
    options.signal?.throwIfAborted()
    const limits = resolveLimits(task.limits)
    const entry = checkedEntry(task)
    const taskId = taskIdOf(task)
    if ((await stat(task.taskDir).catch(() => undefined))?.isDirectory() !== true) {
      throw new InvalidTaskError(`task directory does not exist: ${task.taskDir}`)
    }
    const startedAt = Date.now()
    const failure = (message: string): TaskOutcome => classifyOutcome({
      limits,
      usage: { wallMs: Date.now() - startedAt, cpuMs: 0, peakMemoryBytes: 0, avgMemoryBytes: 0, peakProcesses: 0, samples: 0 },
      exitCode: null,
      signal: null,
      stdout: '',
      stderr: '',
      outputFiles: [],
      sandboxError: message
    })

    let client: Client
    try {
      client = await this.connection(options.signal)
    } catch (err: any) {
      if (err instanceof AbortError) throw err
      return failure(err.message)
    }
    let run: RemoteRun | undefined
    try {
      const dir = await this.setUp(client, task, limits, options.signal)
      run = { dir, task, entry, taskId, limits }
      return await runRemoteTask(this.box(client), run, options)
    } catch (err: any) {
      if (err instanceof AbortError || options.signal?.aborted === true) throw err instanceof AbortError ? err : new AbortError('task aborted')
      return failure(`ssh executor: ${err.message as string}`)
    } finally {
      if (run !== undefined) await this.cleanUp(client, run)
    }
  }

  /**
   * Removes a task's remote directory. When the connection was lost under the task, the task may still run there
   * (its monitor would kill it only at its deadline): a new connection kills it and removes the directory, unless
   * the executor is closing (`close()` does both).
   */
  private async cleanUp (client: Client, run: RemoteRun): Promise<void> {
    const { root } = run.dir
    const clean = `umount -l ${shellQuote(root + '/task')} 2>/dev/null; rm -rf ${shellQuote(root)}`
    try {
      await this.exec(client, clean)
      return
    } catch (err: any) {
      if (this.lost.has(client) || this.closing) {
        this.log(`cannot clean ${root} up: ${err.message as string}`)
        return
      }
    }
    try {
      const fresh = await this.connection()
      const kill = run.pid === undefined ? '' : `${shellQuote((this.sandbox as RemoteSandbox).remote.python)} -I -S ${shellQuote(await this.runtimeDir(fresh) + '/sampler.py')} kill ${run.pid}; `
      await this.exec(fresh, kill + clean)
    } catch (err: any) {
      this.log(`the connection to ${this.init.host} was lost under task ${run.taskId}; cannot kill it and clean ${root} up: ${err.message as string}`)
    }
  }

  async close (): Promise<void> {
    const client = this.client
    this.client = undefined
    this.closing = true
    if (client === undefined) return
    const runtimeDir = await this.runtimeDirs.get(client)?.catch(() => undefined)
    if (runtimeDir !== undefined && this.sandbox !== undefined) {
      const pids = [...this.running.keys()]
      const roots = [...this.running.values()]
      const kill = pids.length === 0 ? '' : `${shellQuote(this.sandbox.remote.python)} -I -S ${shellQuote(runtimeDir + '/sampler.py')} kill ${pids.join(' ')}; `
      const unmount = roots.map(root => `umount -l ${shellQuote(root + '/task')} 2>/dev/null; `).join('')
      await this.exec(client, `${kill}${unmount}rm -rf ${[runtimeDir, ...roots].map(shellQuote).join(' ')}`).catch(() => {})
      this.running.clear()
    }
    await new Promise<void>((resolve) => {
      client.once('close', () => { resolve() })
      client.end()
    })
  }

  private async connection (signal?: AbortSignal): Promise<Client> {
    if (this.client !== undefined) return this.client
    this.connecting ??= this.connect(signal).finally(() => { this.connecting = undefined })
    return await this.connecting
  }

  private async connect (signal?: AbortSignal): Promise<Client> {
    const client = await connectSsh(this.init, { timeoutMs: this.timeoutMs, log: this.log, signal })
    let onLost = (): void => {}
    const lost = new Promise<never>((_resolve, reject) => { onLost = () => { reject(new SshExecutorError('the SSH connection closed')) } })
    lost.catch(() => {})
    this.lost.set(client, lost)
    client.once('close', () => {
      this.sftpSessions.delete(client)
      this.runtimeDirs.delete(client)
      this.lost.delete(client)
      if (this.client === client) this.client = undefined
      onLost()
    })
    try {
      this.sandbox ??= new RemoteSandbox(await probeRemote(client, this.init, { host: this.init.host, timeoutMs: this.timeoutMs, log: this.log, signal }), this.init)
    } catch (err) {
      client.end()
      throw err
    }
    // Published only once usable: a failed probe must not leave a half-set-up connection behind.
    this.client = client
    return client
  }

  /** Runs one command, collecting its output, with the setup commands' timeout. */
  private async exec (client: Client, command: string, signal?: AbortSignal): Promise<ExecResult> {
    return await execRemote(client, command, this.timeoutMs, signal)
  }

  /** What a run on `client` needs of the executor. */
  private box (client: Client): RemoteBox {
    return {
      client,
      sandbox: this.sandbox as RemoteSandbox,
      sftp: async () => await this.sftp(client),
      timeoutMs: this.timeoutMs,
      sampleIntervalMs: this.init.sampleIntervalMs ?? 100,
      log: this.log,
      running: this.running,
      lost: this.lost.get(client) ?? Promise.reject(new SshExecutorError('the SSH connection closed'))
    }
  }

  /**
   * The runtime files (launcher, sampler, passwd, group), uploaded once per connection into a
   * directory the sandbox user can read but not write.
   */
  private async runtimeDir (client: Client, signal?: AbortSignal): Promise<string> {
    let dir = this.runtimeDirs.get(client)
    if (dir === undefined) {
      dir = this.uploadRuntime(client, signal)
      dir.catch(() => { this.runtimeDirs.delete(client) })
      this.runtimeDirs.set(client, dir)
    }
    return await dir
  }

  private async uploadRuntime (client: Client, signal?: AbortSignal): Promise<string> {
    const base = this.init.remoteTmp ?? '/tmp'
    const made = await this.exec(client, `R=$(mktemp -d ${shellQuote(base + '/runsurge-runtime-XXXXXXXX')}) && chmod 755 "$R" && echo "$R"`, signal)
    const path = made.stdout.trim()
    if (made.code !== 0 || !path.startsWith('/')) throw new SshExecutorError(`cannot create the remote runtime directory: ${made.stderr.trim()}`)
    const sftp = await this.sftp(client)
    const seccomp = this.sandbox?.remote.seccomp
    await Promise.all([
      put(sftp, join(RUNTIME_DIR, 'launcher.py'), `${path}/launcher.py`),
      put(sftp, join(RUNTIME_DIR, 'sampler.py'), `${path}/sampler.py`),
      writeRemote(sftp, `${path}/passwd`, SANDBOX_PASSWD),
      writeRemote(sftp, `${path}/group`, SANDBOX_GROUP),
      ...(seccomp === undefined ? [] : [writeRemote(sftp, `${path}/seccomp.bpf`, seccomp)])
    ])
    await Promise.all(['launcher.py', 'sampler.py'].map(async name => {
      await new Promise<void>((resolve) => { sftp.chmod(`${path}/${name}`, 0o644, () => { resolve() }) })
    }))
    return path
  }

  /** One SFTP session per connection, shared by concurrent tasks (each session costs a round trip or more). */
  private async sftp (client: Client): Promise<SFTPWrapper> {
    let session = this.sftpSessions.get(client)
    if (session === undefined) {
      session = new Promise<SFTPWrapper>((resolve, reject) => {
        client.sftp((err, sftp) => {
          if (err !== undefined) { reject(new SshExecutorError(`SFTP failed: ${err.message}`)); return }
          sftp.once('close', () => { this.sftpSessions.delete(client) })
          resolve(sftp)
        })
      })
      session.catch(() => { this.sftpSessions.delete(client) })
      this.sftpSessions.set(client, session)
    }
    return await session
  }

  /** Creates the remote directories (one command) and uploads runtime and task files (SFTP). */
  private async setUp (client: Client, task: TaskSpec, limits: TaskLimits, signal?: AbortSignal): Promise<RemoteTaskDir> {
    const sandbox = this.sandbox as RemoteSandbox
    const runtimeDir = await this.runtimeDir(client, signal)
    const inputs = await listDirectory(task.taskDir)
    const made = await this.exec(client, sandbox.taskDirScript(this.init.remoteTmp ?? '/tmp', inputs, limits), signal)
    const [root = '', mounted] = made.stdout.trim().split('\n')
    if (made.code !== 0 || !root.startsWith('/')) throw new SshExecutorError(`cannot create a remote task directory: ${made.stderr.trim()}`)
    if (sandbox.remote.uid === 0 && mounted !== 'mounted') this.log(`cannot mount a size-limited tmpfs on ${this.init.host}: ${made.stderr.trim()}`)
    const sftp = await this.sftp(client)
    await uploadFiles(sftp, task.taskDir, [...inputs.files.keys()], `${root}/task`)
    return { root, runtimeDir, owner: sandbox.owner, mounted: mounted === 'mounted', uploaded: await remoteWalk(sftp, `${root}/task`) }
  }
}

/**
 * The SSH executor: the report's VM model. Tasks run on a guest VM or separate box the contributor
 * points the node at. Per task: a private directory is created remotely (a size-limited tmpfs when
 * the remote user is root), files go up over SFTP, the task starts in the background in its own
 * session with its pid captured, a monitor streams `/proc/PID/status` samples of its tree back over
 * the same connection, and at the end the node fetches the files the task created, then deletes
 * everything. When the remote box has bubblewrap the task also runs in the same bwrap sandbox as
 * locally (see bwrap.ts); otherwise the remote box itself is the only boundary.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, stat } from 'node:fs/promises'
import { dirname, join, posix, relative, sep } from 'node:path'
import { AbortError } from '@libp2p/interface'
import { Client } from 'ssh2'
import { UsageAccumulator } from '../monitor.ts'
import { bwrapArgs, SANDBOX_GROUP, SANDBOX_PASSWD } from './bwrap.ts'
import { seccompProgram } from './seccomp.ts'
import { checkedEntry, launcherLimits, listDirectory, parseLauncherReport, RUNTIME_DIR, taskIdOf, tmpfsSize } from './common.ts'
import { resolveLimits } from './contract.ts'
import { armDeadline } from './deadline.ts'
import { InvalidTaskError, SshExecutorError } from './errors.ts'
import { breachedLimit, classifyOutcome } from './outcome.ts'
import type { Executor, RunOptions, TaskLimits, TaskOutcome, TaskSpec } from './contract.ts'
import type { Deadline } from './deadline.ts'
import type { CopyBack, KillReason } from './outcome.ts'
import type { ClientChannel, SFTPWrapper, Stats } from 'ssh2'

/**
 * The remote monitor kills a task this long after its wall-clock limit by itself: a backstop for when
 * the node's own kill cannot arrive (connection lost, node killed).
 */
const REMOTE_DEADLINE_GRACE_MS = 5_000

/** Where to connect. */
export interface SshTarget {
  username: string
  host: string
  port: number
}

/** Options of the SSH executor. */
export interface SshExecutorInit extends SshTarget {
  /** Private key (OpenSSH format), or `privateKeyPath`. */
  privateKey?: string | Buffer
  privateKeyPath?: string
  passphrase?: string
  /**
   * The box's host key fingerprint as `ssh-keygen -lf` prints it (`SHA256:…`). Without it any key is
   * accepted and its fingerprint logged — pin it on anything but a private network.
   */
  hostFingerprint?: string
  /** Remote Python; default the remote `/usr/bin/python3`, else what `python3` resolves to. */
  python?: string
  /** `auto` (default): bwrap on the remote box when it has one; `bwrap`: require it; `none`: never. */
  isolation?: 'auto' | 'bwrap' | 'none'
  /** Remote user tasks run as when the SSH user is root (the process limit does not bind root). Default 65534. */
  sandboxUid?: number
  sandboxGid?: number
  /** Install the seccomp filter of seccomp.ts in the remote bwrap sandbox (x86_64 boxes); default true. */
  seccomp?: boolean
  /** Remote parent of the task directories; default /tmp. */
  remoteTmp?: string
  /** Remote monitor period; default 100 ms. */
  sampleIntervalMs?: number
  /** Connect/handshake timeout and the timeout of each setup command; default 20 s. */
  timeoutMs?: number
  log?: (message: string) => void
}

/** Parses `user@host:port` (port optional, default 22; `[::1]:2222` for IPv6). */
export function parseSshTarget (text: string): SshTarget {
  const match = /^([^@\s]+)@(\[[^\]]+\]|[^:\s]+)(?::(\d+))?$/.exec(text.trim())
  if (match === null) throw new SshExecutorError(`not an SSH target: "${text}" (expected user@host or user@host:port)`)
  return {
    username: match[1] as string,
    host: (match[2] as string).replace(/^\[|\]$/g, ''),
    port: match[3] === undefined ? 22 : Number(match[3])
  }
}

/** Quotes one word for a POSIX shell. */
export function shellQuote (word: string): string {
  return `'${word.replace(/'/g, "'\\''")}'`
}

interface ExecResult { code: number | null, stdout: string, stderr: string }

/** A task's remote directory once set up. */
interface RemoteTask {
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

/** What the node learned about the remote box on connecting. */
interface RemoteInfo {
  uid: number
  python: string
  pythonPrefixes: string[]
  bwrap: string | undefined
  setpriv: string | undefined
  /** The seccomp program for the box's architecture, if any. */
  seccomp: Buffer | undefined
}

const PROBE = [
  'id -u',
  'py=""; for p in /usr/bin/python3 /usr/local/bin/python3; do if [ -x "$p" ]; then py=$(readlink -f "$p"); break; fi; done',
  'if [ -z "$py" ]; then py=$(python3 -c "import sys; print(sys.executable)" 2>/dev/null); fi',
  'echo "$py"',
  'command -v bwrap || echo',
  'command -v setpriv || echo',
  'uname -m'
].join('; ')

/** @see SshExecutorInit */
export class SshExecutor implements Executor {
  readonly kind = 'ssh' as const
  private client: Client | undefined
  private connecting: Promise<Client> | undefined
  private remote: RemoteInfo | undefined
  private readonly sftpSessions = new Map<Client, Promise<SFTPWrapper>>()
  private readonly runtimeDirs = new Map<Client, Promise<string>>()
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
    if (this.remote === undefined) return `ssh to ${where} (not connected yet)`
    const isolation = this.useBwrap()
      ? `bubblewrap on the remote box${this.dropUid() ? ` as uid ${this.init.sandboxUid ?? 65534}` : ''}${this.remote.seccomp === undefined ? ', no seccomp filter' : ', seccomp filter'}`
      : 'no sandbox on the remote box: the box itself is the boundary'
    return `ssh to ${where}: ${isolation}; python ${this.remote.python}`
  }

  private useBwrap (): boolean {
    if (this.init.isolation === 'none') return false
    return this.remote?.bwrap !== undefined
  }

  private dropUid (): boolean {
    return this.remote?.uid === 0 && this.remote.setpriv !== undefined
  }

  private async connection (signal?: AbortSignal): Promise<Client> {
    if (this.client !== undefined) return this.client
    this.connecting ??= this.connect(signal).finally(() => { this.connecting = undefined })
    return await this.connecting
  }

  private async connect (signal?: AbortSignal): Promise<Client> {
    const privateKey = this.init.privateKey ?? (this.init.privateKeyPath === undefined ? undefined : await readFile(this.init.privateKeyPath))
    if (privateKey === undefined) throw new SshExecutorError('the SSH executor needs a private key (--ssh-key FILE)')
    const client = new Client()
    let ready = false
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { client.end(); reject(new AbortError('ssh connect aborted')) }
      signal?.addEventListener('abort', onAbort, { once: true })
      client.once('ready', () => { ready = true; signal?.removeEventListener('abort', onAbort); resolve() })
      // One listener for the connection's whole life: ssh2 may emit more than one error.
      client.on('error', (err) => {
        if (ready) { this.log(`connection error: ${err.message}`); return }
        signal?.removeEventListener('abort', onAbort)
        reject(new SshExecutorError(`cannot connect to ${this.init.username}@${this.init.host}:${this.init.port}: ${err.message}`))
      })
      client.connect({
        host: this.init.host,
        port: this.init.port,
        username: this.init.username,
        privateKey,
        ...(this.init.passphrase === undefined ? {} : { passphrase: this.init.passphrase }),
        readyTimeout: this.timeoutMs,
        keepaliveInterval: 5_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          const fingerprint = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`
          if (this.init.hostFingerprint === undefined) {
            this.log(`accepting host key ${fingerprint} of ${this.init.host} unverified; pin it with hostFingerprint`)
            return true
          }
          return fingerprint === this.init.hostFingerprint
        }
      })
    })
    // Without TCP_NODELAY every small SFTP request waits for the previous reply's delayed ACK (40 ms on
    // Linux): fetching small files back took ~180 ms each on loopback; with it, ~3 ms.
    client.setNoDelay(true)
    client.once('close', () => {
      this.sftpSessions.delete(client)
      this.runtimeDirs.delete(client)
      if (this.client === client) this.client = undefined
    })
    try {
      this.remote ??= await this.probe(client, signal)
    } catch (err) {
      client.end()
      throw err
    }
    // Published only once usable: a failed probe must not leave a half-set-up connection behind.
    this.client = client
    return client
  }

  /** Learns the remote user, Python, bwrap and setpriv. */
  private async probe (client: Client, signal?: AbortSignal): Promise<RemoteInfo> {
    const probe = await this.exec(client, PROBE, signal)
    const [uid, python, bwrap, setpriv, machine] = probe.stdout.split('\n').map(s => s.trim())
    if (python === undefined || python === '') throw new SshExecutorError('the remote box has no python3')
    const pythonPath = this.init.python ?? python
    const prefixes = pythonPath.startsWith('/usr/')
      ? []
      : (await this.exec(client, `${shellQuote(pythonPath)} -I -S -c 'import sys; print(sys.base_prefix); print(sys.prefix)'`, signal))
          .stdout.split('\n').map(s => s.trim()).filter(p => p !== '' && p !== '/' && !p.startsWith('/usr'))
    const remote: RemoteInfo = {
      uid: Number(uid),
      python: pythonPath,
      pythonPrefixes: [...new Set(prefixes)],
      bwrap: bwrap === '' ? undefined : bwrap,
      setpriv: setpriv === '' ? undefined : setpriv,
      seccomp: this.init.seccomp === false ? undefined : seccompProgram(machine ?? '')
    }
    if (this.init.isolation === 'bwrap' && remote.bwrap === undefined) {
      throw new SshExecutorError('isolation "bwrap" requested but the remote box has no bwrap: install bubblewrap there')
    }
    if (this.init.isolation === 'none' || remote.bwrap === undefined) {
      this.log(`no bubblewrap used on ${this.init.host}: tasks run directly on the remote box, which must be a disposable VM`)
    }
    if (remote.uid === 0 && remote.setpriv === undefined) this.log('remote user is root and setpriv is missing: the process limit cannot bind')
    return remote
  }

  /** Runs one command, collecting its output; every call has a timeout. */
  private async exec (client: Client, command: string, signal?: AbortSignal, timeoutMs = this.timeoutMs): Promise<ExecResult> {
    return await new Promise<ExecResult>((resolve, reject) => {
      client.exec(command, (err, channel) => {
        if (err !== undefined) { reject(new SshExecutorError(`remote command failed to start: ${err.message}`)); return }
        let stdout = ''
        let stderr = ''
        const timer = armDeadline(timeoutMs, () => { channel.close(); reject(new SshExecutorError(`remote command timed out after ${timeoutMs} ms`)) })
        const onAbort = (): void => { channel.close(); reject(new AbortError('aborted')) }
        signal?.addEventListener('abort', onAbort, { once: true })
        channel.on('data', (d: Buffer) => { stdout += d.toString('utf8') })
        channel.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8') })
        channel.once('close', (code: number | null) => {
          timer.clear()
          signal?.removeEventListener('abort', onAbort)
          resolve({ code: code ?? null, stdout, stderr })
        })
      })
    })
  }

  /**
   * The runtime files (launcher, sampler, passwd, group), uploaded once per connection into a
   * directory the sandbox user can read but not write.
   */
  private async runtimeDir (client: Client, signal?: AbortSignal): Promise<string> {
    let dir = this.runtimeDirs.get(client)
    if (dir === undefined) {
      dir = (async () => {
        const base = this.init.remoteTmp ?? '/tmp'
        const made = await this.exec(client, `R=$(mktemp -d ${shellQuote(base + '/runsurge-runtime-XXXXXXXX')}) && chmod 755 "$R" && echo "$R"`, signal)
        const path = made.stdout.trim()
        if (made.code !== 0 || !path.startsWith('/')) throw new SshExecutorError(`cannot create the remote runtime directory: ${made.stderr.trim()}`)
        const sftp = await this.sftp(client)
        await Promise.all([
          put(sftp, join(RUNTIME_DIR, 'launcher.py'), `${path}/launcher.py`),
          put(sftp, join(RUNTIME_DIR, 'sampler.py'), `${path}/sampler.py`),
          writeRemote(sftp, `${path}/passwd`, SANDBOX_PASSWD),
          writeRemote(sftp, `${path}/group`, SANDBOX_GROUP),
          ...(this.remote?.seccomp === undefined ? [] : [writeRemote(sftp, `${path}/seccomp.bpf`, this.remote.seccomp)])
        ])
        await Promise.all(['launcher.py', 'sampler.py'].map(async name => {
          await new Promise<void>((resolve) => { sftp.chmod(`${path}/${name}`, 0o644, () => { resolve() }) })
        }))
        return path
      })()
      dir.catch(() => { this.runtimeDirs.delete(client) })
      this.runtimeDirs.set(client, dir)
    }
    return await dir
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
    let root: string | undefined
    try {
      const setUp = await this.setUp(client, task, limits, options.signal)
      root = setUp.root
      return await this.execute(client, setUp, task, entry, taskId, limits, options)
    } catch (err: any) {
      if (err instanceof AbortError || options.signal?.aborted === true) throw err instanceof AbortError ? err : new AbortError('task aborted')
      return failure(`ssh executor: ${err.message as string}`)
    } finally {
      if (root !== undefined) {
        await this.exec(client, `umount -l ${shellQuote(root + '/task')} 2>/dev/null; rm -rf ${shellQuote(root)}`).catch((err: Error) => {
          this.log(`cannot clean ${root ?? ''} up: ${err.message}`)
        })
      }
    }
  }

  /** Creates the remote directories (one command) and uploads runtime and task files (SFTP). */
  private async setUp (client: Client, task: TaskSpec, limits: TaskLimits, signal?: AbortSignal): Promise<RemoteTask> {
    const remote = this.remote as RemoteInfo
    const runtimeDir = await this.runtimeDir(client, signal)
    const base = this.init.remoteTmp ?? '/tmp'
    const inputs = await listDirectory(task.taskDir)
    const files = [...inputs.files.keys()]
    const owner = this.dropUid() ? { uid: this.init.sandboxUid ?? 65534, gid: this.init.sandboxGid ?? this.init.sandboxUid ?? 65534 } : undefined
    const o = owner ?? { uid: 0, gid: 0 }
    const { size, inodes } = tmpfsSize(inputs, limits)
    const script = [
      `R=$(mktemp -d ${shellQuote(base + '/runsurge-XXXXXXXX')}) || exit 1`,
      // Traversable, not listable: a dropped sandbox user reaches its own directory only.
      'chmod 711 "$R" && mkdir -m 700 "$R/task" "$R/ctl" || exit 1',
      'echo "$R"',
      remote.uid === 0
        ? `if mount -t tmpfs -o size=${size},nr_inodes=${inodes},mode=0700,uid=${o.uid},gid=${o.gid},nosuid,nodev runsurge-task "$R/task"; then echo mounted; fi`
        : 'true'
    ].join('\n')
    const made = await this.exec(client, script, signal)
    const [root = '', mounted] = made.stdout.trim().split('\n')
    if (made.code !== 0 || !root.startsWith('/')) throw new SshExecutorError(`cannot create a remote task directory: ${made.stderr.trim()}`)
    if (remote.uid === 0 && mounted !== 'mounted') this.log(`cannot mount a size-limited tmpfs on ${this.init.host}: ${made.stderr.trim()}`)
    const sftp = await this.sftp(client)
    const dirs = new Set<string>([`${root}/task`])
    for (const rel of files) {
      await mkdirs(sftp, posix.dirname(`${root}/task/${rel.split(sep).join('/')}`), dirs)
    }
    // Uploads in parallel: SFTP pipelines requests, and each one is a round trip.
    await Promise.all(files.map(async rel => { await put(sftp, join(task.taskDir, rel), `${root}/task/${rel.split(sep).join('/')}`) }))
    return { root, runtimeDir, owner, mounted: mounted === 'mounted', uploaded: await remoteWalk(sftp, `${root}/task`) }
  }

  private taskCommand (setUp: RemoteTask, entry: string, task: TaskSpec, limits: TaskLimits): { argv: string[], cwd: string, supervisorDepth: number } {
    const remote = this.remote as RemoteInfo
    const { root, runtimeDir } = setUp
    const drop = this.dropUid()
      ? [remote.setpriv as string, `--reuid=${this.init.sandboxUid ?? 65534}`, `--regid=${this.init.sandboxGid ?? this.init.sandboxUid ?? 65534}`, '--clear-groups']
      : []
    if (this.useBwrap()) {
      const args = bwrapArgs({
        python: remote.python,
        pythonPrefixes: remote.pythonPrefixes,
        runtimeDir,
        taskDir: `${root}/task`,
        entry,
        args: task.args ?? [],
        limits,
        reportTarget: 'fd:3',
        ...(remote.seccomp === undefined ? {} : { seccompFd: 4 })
      })
      // bwrap reads its seccomp program from fd 4; a shell that execs opens it (no extra process).
      const seccomp = remote.seccomp === undefined ? [] : ['/bin/sh', '-c', 'exec "$@" 4<"$0"', `${runtimeDir}/seccomp.bpf`]
      // wrapper sh → (sh, setpriv exec) bwrap → bwrap's init → launcher → task
      return { argv: [...seccomp, ...drop, remote.bwrap as string, ...args], cwd: root, supervisorDepth: 4 }
    }
    return {
      argv: [...drop, '/usr/bin/env', '-i', 'PATH=/usr/local/bin:/usr/bin:/bin', `HOME=${root}/task`, `TMPDIR=${root}/task`, 'LANG=C.UTF-8',
        remote.python, '-I', '-S', `${runtimeDir}/launcher.py`, launcherLimits(limits), 'fd:3', '--',
        remote.python, '-I', '-B', `${root}/task/${entry}`, ...(task.args ?? [])],
      cwd: `${root}/task`,
      // wrapper sh → (env execs) launcher → task
      supervisorDepth: 2
    }
  }

  private async execute (client: Client, setUp: RemoteTask, task: TaskSpec, entry: string, taskId: string, limits: TaskLimits, options: RunOptions): Promise<TaskOutcome> {
    const remote = this.remote as RemoteInfo
    const { root } = setUp
    const { argv, cwd, supervisorDepth } = this.taskCommand(setUp, entry, task, limits)
    const ctl = `${root}/ctl`
    const sampler = `${shellQuote(remote.python)} -I -S ${shellQuote(setUp.runtimeDir + '/sampler.py')}`
    const interval = this.init.sampleIntervalMs ?? 100
    // One channel starts the task in the background (own session, pid captured) and then streams
    // samples of its process tree until it is gone.
    const command = [
      setUp.owner === undefined ? '' : `chown -R ${setUp.owner.uid}:${setUp.owner.gid} ${shellQuote(root + '/task')} &&`,
      `exec ${sampler} start ${[cwd, ctl, String(interval), String(supervisorDepth), setUp.mounted ? '-' : `${root}/task`, String(limits.timeoutMs + REMOTE_DEADLINE_GRACE_MS),
        String(limits.memoryBytes), String(setUp.uploaded.entries + limits.taskDirFiles)].map(shellQuote).join(' ')} --`,
      argv.map(shellQuote).join(' ')
    ].join(' ')

    let pid: number | undefined
    let startedAt = Date.now()
    let killedFor: KillReason | undefined
    let killing: Promise<unknown> | undefined
    const kill = (reason: KillReason): void => {
      if (killedFor !== undefined || pid === undefined) return
      killedFor = reason
      killing = this.exec(client, `${sampler} kill ${pid}`)
        .catch((err: Error) => { this.log(`cannot kill remote task ${taskId}: ${err.message}`) })
    }

    const usage = new UsageAccumulator(startedAt)
    let peakTasks = 0
    let deadline: Deadline | undefined
    const onAbort = (): void => { kill('abort') }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      await this.stream(client, command, (line) => {
        const s = JSON.parse(line) as RemoteSample
        if (s.pid !== undefined) {
          pid = s.pid
          this.running.set(s.pid, root)
          startedAt = Date.now()
          usage.restart(startedAt)
          deadline = armDeadline(limits.timeoutMs, () => { kill('timeout') })
          options.onProgress?.({ type: 'started', executor: 'ssh', taskId })
          if (options.signal?.aborted === true) kill('abort')
          return
        }
        if (s.gone === true) return
        const sample = { at: Date.now(), rssBytes: s.rss, hwmBytes: s.hwm, vmBytes: s.vm, processes: s.processes, threads: s.threads ?? s.processes, cpuMs: s.cpuMs }
        usage.add(sample)
        peakTasks = Math.max(peakTasks, sample.threads)
        const reason = breachedLimit({
          ...(s.pss === undefined ? {} : { pssBytes: s.pss }),
          outputBytes: s.output,
          ...(s.dir === undefined ? {} : { dirBytes: Math.max(0, s.dir - setUp.uploaded.bytes) }),
          ...(s.entries === undefined ? {} : { dirEntries: Math.max(0, s.entries - setUp.uploaded.entries) })
        }, limits)
        if (reason !== undefined) kill(reason)
        options.onProgress?.({ type: 'sample', taskId, rssBytes: sample.rssBytes, cpuMs: sample.cpuMs, processes: sample.processes, elapsedMs: sample.at - startedAt })
      })
    } finally {
      deadline?.clear()
      options.signal?.removeEventListener('abort', onAbort)
      if (pid !== undefined) this.running.delete(pid)
    }
    await killing
    const endedAt = Date.now()
    if (killedFor === 'abort') throw new AbortError('task aborted')
    if (pid === undefined) throw new SshExecutorError('the remote task did not start')

    const sftp = await this.sftp(client)
    const [exitText, reportText, stdout, stderr] = await Promise.all([
      readTail(sftp, `${ctl}/exit`, 64),
      readTail(sftp, `${ctl}/report`, 4096),
      readTail(sftp, `${ctl}/stdout`, 65536),
      readTail(sftp, `${ctl}/stderr`, 65536)
    ])
    const report = parseLauncherReport(reportText)
    const exitCode = exitText.trim() === '' ? null : Number(exitText.trim())
    const { fetched, copyBack } = await this.fetchOutputs(sftp, root, setUp.uploaded, task, limits)
    return classifyOutcome({
      limits,
      usage: usage.usage(endedAt, report === undefined ? {} : { cpuMs: report.cpuMs, maxRssBytes: report.maxRssBytes }),
      ...(report === undefined ? {} : { report }),
      exitCode,
      signal: null,
      ...(killedFor === undefined ? {} : { killedFor }),
      stdout,
      stderr,
      outputFiles: fetched,
      copyBack,
      peakTasks,
      // bwrap's init and the launcher, or the launcher alone.
      supervisors: this.useBwrap() ? 2 : 1
    })
  }

  /** Runs a command and hands each line of its stdout to `onLine` until it ends. */
  private async stream (client: Client, command: string, onLine: (line: string) => void): Promise<void> {
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      client.exec(command, (err, ch) => { if (err !== undefined) reject(new SshExecutorError(`remote monitor failed to start: ${err.message}`)); else resolve(ch) })
    })
    let buffer = ''
    let stderr = ''
    await new Promise<void>((resolve) => {
      channel.on('data', (d: Buffer) => {
        buffer += d.toString('utf8')
        let newline = buffer.indexOf('\n')
        while (newline >= 0) {
          const line = buffer.slice(0, newline)
          buffer = buffer.slice(newline + 1)
          if (line.trim() !== '') {
            try { onLine(line) } catch {}
          }
          newline = buffer.indexOf('\n')
        }
      })
      channel.stderr.on('data', (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString('utf8') })
      channel.once('close', () => { resolve() })
    })
    if (stderr.trim() !== '') this.log(`remote monitor: ${stderr.trim()}`)
  }

  /**
   * Downloads the files the task created or changed (regular files only; symlinks are never followed)
   * — all of them, or none when there are more than `taskDirFiles` new entries or `copyBackBytes` of
   * new or changed files.
   */
  private async fetchOutputs (sftp: SFTPWrapper, root: string, before: RemoteListing, task: TaskSpec, limits: TaskLimits): Promise<{ fetched: string[], copyBack: CopyBack }> {
    const now = await remoteWalk(sftp, `${root}/task`, before.entries + limits.taskDirFiles)
    const entries = Math.max(0, now.entries - before.entries)
    if (now.truncated) return { fetched: [], copyBack: { entries, bytes: 0, refused: 'entries' } }
    const changed = [...now.files].filter(([rel, stats]) => {
      const old = before.files.get(rel)
      return old === undefined || old.size !== stats.size || old.mtime !== stats.mtime
    })
    const bytes = changed.reduce((sum, [, stats]) => sum + stats.size, 0)
    if (bytes > limits.copyBackBytes) return { fetched: [], copyBack: { entries, bytes, refused: 'bytes' } }
    const fetched: string[] = []
    for (const [rel] of changed) {
      const target = join(task.taskDir, ...rel.split('/'))
      if (relative(task.taskDir, target).split(sep)[0] === '..') continue
      await mkdir(dirname(target), { recursive: true })
      // Replace, never write through: the target may be a hard link to the caller's own input.
      await rm(target, { force: true })
      await new Promise<void>((resolve, reject) => {
        sftp.fastGet(`${root}/task/${rel}`, target, (err) => { if (err !== undefined && err !== null) reject(err); else resolve() })
      })
      fetched.push(rel)
    }
    return { fetched: fetched.sort(), copyBack: { entries, bytes } }
  }

  async close (): Promise<void> {
    const client = this.client
    this.client = undefined
    if (client === undefined) return
    const runtimeDir = await this.runtimeDirs.get(client)?.catch(() => undefined)
    if (runtimeDir !== undefined && this.remote !== undefined) {
      const pids = [...this.running.keys()]
      const roots = [...this.running.values()]
      const kill = pids.length === 0 ? '' : `${shellQuote(this.remote.python)} -I -S ${shellQuote(runtimeDir + '/sampler.py')} kill ${pids.join(' ')}; `
      const unmount = roots.map(root => `umount -l ${shellQuote(root + '/task')} 2>/dev/null; `).join('')
      await this.exec(client, `${kill}${unmount}rm -rf ${[runtimeDir, ...roots].map(shellQuote).join(' ')}`).catch(() => {})
      this.running.clear()
    }
    await new Promise<void>((resolve) => {
      client.once('close', () => { resolve() })
      client.end()
    })
  }
}

async function put (sftp: SFTPWrapper, local: string, remote: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    sftp.fastPut(local, remote, (err) => { if (err !== undefined && err !== null) reject(err); else resolve() })
  })
}

async function writeRemote (sftp: SFTPWrapper, remote: string, text: string | Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    sftp.writeFile(remote, text, { mode: 0o644 }, (err) => { if (err !== undefined && err !== null) reject(err); else resolve() })
  })
}

async function mkdirs (sftp: SFTPWrapper, dir: string, made: Set<string>): Promise<void> {
  if (made.has(dir)) return
  await mkdirs(sftp, posix.dirname(dir), made)
  await new Promise<void>((resolve) => { sftp.mkdir(dir, () => { resolve() }) })
  made.add(dir)
}

/** The last `max` bytes of a remote file as text; '' when it does not exist. */
async function readTail (sftp: SFTPWrapper, path: string, max: number): Promise<string> {
  return await new Promise<string>((resolve) => {
    sftp.open(path, 'r', (err, handle) => {
      if (err !== undefined) { resolve(''); return }
      sftp.fstat(handle, (err, stats) => {
        const size = err === undefined ? stats.size : 0
        const length = Math.min(size, max)
        const done = (text: string): void => { sftp.close(handle, () => { resolve(text) }) }
        if (length === 0) { done(''); return }
        const buffer = Buffer.alloc(length)
        let got = 0
        const next = (): void => {
          sftp.read(handle, buffer, got, length - got, size - length + got, (err, bytes) => {
            if (err !== undefined || bytes === 0) { done(buffer.subarray(0, got).toString('utf8')); return }
            got += bytes
            if (got >= length) done(buffer.toString('utf8'))
            else next()
          })
        }
        next()
      })
    })
  })
}

/** A remote directory tree as {@link remoteWalk} found it. */
interface RemoteListing {
  files: Map<string, Stats>
  /** Entries seen (files, directories, links…), the root not counted. */
  entries: number
  /** Bytes of the regular files. */
  bytes: number
  /** The walk stopped at its limit: there are more entries than listed. */
  truncated: boolean
}

/**
 * Lists a remote tree over SFTP, one READDIR batch at a time, and stops as soon as it has seen more
 * than `maxEntries` entries: a task that made 100,000 files costs `maxEntries + 1` of them, not all.
 */
async function remoteWalk (sftp: SFTPWrapper, dir: string, maxEntries = Number.POSITIVE_INFINITY): Promise<RemoteListing> {
  const listing: RemoteListing = { files: new Map(), entries: 0, bytes: 0, truncated: false }
  const queue = ['']
  while (queue.length > 0 && !listing.truncated) {
    const rel = queue.pop() as string
    const handle = await new Promise<Buffer | undefined>((resolve) => {
      sftp.opendir(rel === '' ? dir : `${dir}/${rel}`, (err, h) => { resolve(err === undefined ? h : undefined) })
    })
    if (handle === undefined) continue
    try {
      while (!listing.truncated) {
        const batch = await new Promise<Array<{ filename: string, attrs: Stats }> | undefined>((resolve) => {
          // An error here is EOF (the end of the directory) or a directory gone meanwhile: both end it.
          sftp.readdir(handle, (err, entries) => { resolve(err === undefined ? entries : undefined) })
        })
        if (batch === undefined) break
        for (const entry of batch) {
          if (++listing.entries > maxEntries) {
            listing.truncated = true
            break
          }
          const child = rel === '' ? entry.filename : `${rel}/${entry.filename}`
          // readdir's attrs are lstat's: a symlink is reported as one and skipped.
          if (entry.attrs.isDirectory()) queue.push(child)
          else if (entry.attrs.isFile()) {
            listing.files.set(child, entry.attrs)
            listing.bytes += entry.attrs.size
          }
        }
      }
    } finally {
      await new Promise<void>((resolve) => { sftp.close(handle, () => { resolve() }) })
    }
  }
  return listing
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

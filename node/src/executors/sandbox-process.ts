/**
 * One sandbox's outermost process on this machine, from its spawn to its exit: its stdout/stderr (kept as tails
 * once the task's output limit is known), the launcher's report on fd 3, bwrap's seccomp program on fd 4, the
 * "go" line of a pre-started sandbox on stdin (runtime/standby.py), and the kill of its whole tree.
 */
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { constants as osConstants } from 'node:os'
import { Writable } from 'node:stream'
import { processTree } from '../monitor.ts'
import { TailBuffer } from './common.ts'
import type { ChildProcess } from 'node:child_process'
import type { KillReason } from './outcome.ts'

/** What standby.py writes first on stdout once its interpreter is up: never task output. */
const STANDBY_READY = Buffer.from('\0runsurge-standby-ready\n')

/**
 * How long the pipes may stay open after the outermost process exited. Only a process outside its tree can hold
 * them then: bwrap's child stranded when bwrap died during its setup (it waits forever for bwrap's go). It is
 * killed, and the exit reported, instead of waiting for pipes that never close.
 */
const STRAY_GRACE_MS = 2000

/** How to start a sandbox's outermost process. */
export interface SandboxSpawn {
  /** argv[0] must be an absolute path. */
  argv: string[]
  cwd: string
  env: Record<string, string>
  uid?: number
  gid?: number
  /** Bytes offered on the child's fd 4 (bwrap's seccomp program). */
  fd4?: Buffer
  /** A pre-started sandbox: stdin is the pipe its go line arrives on, and stdout starts with {@link STANDBY_READY}. */
  standby?: boolean
}

/** How the outermost process ended, or why it never started. */
export interface SandboxExit {
  exitCode: number | null
  signal: number | null
  spawnError?: Error
}

/** A spawned sandbox; see the module comment. */
export class SandboxProcess {
  /** Why the node killed the tree, if it did. */
  killedFor: KillReason | 'discard' | undefined
  /** Resolves once the outermost process has exited (and its pipes closed). */
  readonly exited: Promise<SandboxExit>
  private readonly child: ChildProcess
  private ended = false
  private pending: Array<['stdout' | 'stderr', Buffer]> = []
  private tails: { stdout: TailBuffer, stderr: TailBuffer } | undefined
  private reportText = ''
  private readyBytes = 0
  private markerFailed = false
  private readyWaiters: Array<() => void> = []

  constructor (private readonly init: SandboxSpawn) {
    this.child = spawn(init.argv[0] as string, init.argv.slice(1), {
      cwd: init.cwd,
      env: init.env,
      // fd 3 carries the launcher's report; the task never sees it. fd 4: see `fd4`.
      stdio: [init.standby === true ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', ...(init.fd4 === undefined ? [] : ['pipe' as const])],
      ...(init.uid === undefined ? {} : { uid: init.uid, gid: init.gid })
    })
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => { this.end(); resolve({ exitCode: null, signal: null, spawnError: err }) })
      this.child.once('close', (code, sig) => {
        this.end()
        resolve({ exitCode: code, signal: sig === null ? null : (signalNumber(sig) ?? null) })
      })
    })
    this.child.once('exit', () => {
      setTimeout(() => { if (!this.ended) this.killStrays() }, STRAY_GRACE_MS).unref()
    })
    this.child.stdin?.on('error', () => {})
    this.child.stdout?.on('data', (chunk: Buffer) => { this.output('stdout', chunk) })
    this.child.stderr?.on('data', (chunk: Buffer) => { this.output('stderr', chunk) })
    const report = this.child.stdio[3]
    report?.on('data', (chunk: Buffer) => { this.reportText += chunk.toString('utf8') })
    report?.on('error', () => {})
    const fd4 = this.child.stdio[4]
    if (init.fd4 !== undefined && fd4 instanceof Writable) {
      // An early exit of bwrap closes the pipe; the outcome then says why.
      fd4.on('error', () => {})
      fd4.end(init.fd4)
    }
  }

  /** The program started (bwrap, or Python for the none executor). */
  get command (): string {
    return this.init.argv[0] ?? 'sandbox'
  }

  get pid (): number | undefined {
    return this.child.pid
  }

  /** The process has exited (or never started). */
  get done (): boolean {
    return this.ended
  }

  /** A pre-started sandbox's interpreter is up and waiting for its go. */
  get ready (): boolean {
    return this.readyBytes === STANDBY_READY.length
  }

  /** Resolves when {@link ready}, when the process is gone, or when it printed something else first. */
  async whenReady (): Promise<void> {
    if (this.ready || this.ended || this.markerFailed) return
    await new Promise<void>((resolve) => { this.readyWaiters.push(resolve) })
  }

  /** From now on stdout and stderr count against `maxOutputBytes` (what came before is counted too). */
  capture (maxOutputBytes: number, onOverflow: () => void): void {
    this.tails = { stdout: new TailBuffer(maxOutputBytes, onOverflow), stderr: new TailBuffer(maxOutputBytes, onOverflow) }
    for (const [stream, chunk] of this.pending) this.tails[stream].push(chunk)
    this.pending = []
  }

  /** Sends a pre-started sandbox its go line and closes stdin. */
  go (line: string): void {
    this.child.stdin?.end(line.endsWith('\n') ? line : `${line}\n`)
  }

  stdout (): string {
    return this.tails?.stdout.text() ?? ''
  }

  stderr (): string {
    return this.tails?.stderr.text() ?? ''
  }

  report (): string {
    return this.reportText
  }

  /** Kills the whole tree, once, and remembers why; nothing once the process has exited (its pid may be reused). */
  kill (reason: KillReason | 'discard'): void {
    if (this.killedFor !== undefined || this.ended) return
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

  /** Kills what still runs this sandbox's exact command line, and closes the pipes it holds. */
  private killStrays (): void {
    const cmdline = this.init.argv.join('\0') + '\0'
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      try {
        if (readFileSync(`/proc/${entry}/cmdline`, 'latin1') === cmdline) process.kill(Number(entry), 'SIGKILL')
      } catch {}
    }
    for (const stream of this.child.stdio) stream?.destroy()
  }

  private output (stream: 'stdout' | 'stderr', chunk: Buffer): void {
    if (stream === 'stdout' && this.init.standby === true && !this.ready && !this.markerFailed) {
      chunk = this.stripReady(chunk)
      if (chunk.length === 0) return
    }
    if (this.tails === undefined) this.pending.push([stream, chunk])
    else this.tails[stream].push(chunk)
  }

  /** Consumes the ready marker from the front of stdout (it may arrive split); anything else is output. */
  private stripReady (chunk: Buffer): Buffer {
    let i = 0
    while (i < chunk.length && this.readyBytes < STANDBY_READY.length && chunk[i] === STANDBY_READY[this.readyBytes]) {
      i++
      this.readyBytes++
    }
    if (this.readyBytes < STANDBY_READY.length && i < chunk.length) {
      // Not the marker: standby.py did not start as it should. Its output is kept for the outcome, and a pool
      // never hands it out (it is never ready).
      this.markerFailed = true
      this.wake()
      return Buffer.concat([STANDBY_READY.subarray(0, this.readyBytes), chunk.subarray(i)])
    }
    if (this.ready) this.wake()
    return chunk.subarray(i)
  }

  private end (): void {
    this.ended = true
    this.wake()
  }

  private wake (): void {
    for (const resolve of this.readyWaiters.splice(0)) resolve()
  }
}

function signalNumber (name: NodeJS.Signals): number | undefined {
  return (osConstants.signals as Record<string, number>)[name]
}

/**
 * Sandboxes started ahead of need: each holds an empty workspace bind-mounted at /task and a task interpreter
 * waiting for its go (runtime/standby.py), so a task's start-up (namespaces, mounts, two interpreter starts) is
 * off its critical path. Every sandbox serves exactly one task and is then discarded with its workspace: nothing
 * of one task reaches the next, as on the cold path.
 */
import type { SandboxProcess } from './sandbox-process.ts'
import type { Workspace } from './workspace.ts'

/** A sandbox started before its task, and the workspace it sees at /task. */
export interface PrestartedSandbox {
  process: SandboxProcess
  workspace: Workspace
}

/** Options of {@link SandboxPool}. */
export interface SandboxPoolInit {
  /** Sandboxes kept idle or starting. */
  size: number
  /** Starts one sandbox (its interpreter may still be starting when this resolves). */
  start: () => Promise<PrestartedSandbox>
  log: (message: string) => void
}

/**
 * Sandboxes that died before any task used them, in a row, after which the pool stops pre-starting: something is
 * wrong with the sandbox itself, and every task then starts cold (and reports what that is) instead of each one
 * also paying for a sandbox that dies.
 */
const MAX_DEAD_IN_A_ROW = 3

/** Kills a sandbox's tree and removes its workspace; never throws. */
export async function discardSandbox (sandbox: PrestartedSandbox): Promise<void> {
  // Not while bwrap is still setting up: killed then, it can strand its child (not yet bound to die with it).
  await sandbox.process.whenReady()
  sandbox.process.kill('discard')
  await sandbox.process.exited
  await sandbox.workspace.dispose()
}

/** @see SandboxPoolInit */
export class SandboxPool {
  private readonly idle: PrestartedSandbox[] = []
  /** Starts and discards under way, which {@link close} waits for. */
  private readonly background = new Set<Promise<void>>()
  private starting = 0
  private deadInARow = 0
  private closed = false

  constructor (private readonly init: SandboxPoolInit) {}

  /**
   * A live sandbox for one task (one whose interpreter is waiting first); undefined when none is idle (the task
   * then starts cold). Its replacement is the caller's to start, with {@link fill}.
   */
  take (): PrestartedSandbox | undefined {
    for (const dead of this.idle.filter(sandbox => sandbox.process.done)) this.drop(dead)
    const index = Math.max(0, this.idle.findIndex(sandbox => sandbox.process.ready))
    const [sandbox] = this.idle.splice(index, 1)
    if (sandbox !== undefined) this.deadInARow = 0
    return sandbox
  }

  /**
   * Starts sandboxes until `size` are idle or starting. Executors call it when a task has ended rather than when
   * it takes its sandbox: a start then never competes with a task's own start for the CPU.
   */
  fill (): void {
    while (!this.closed && this.idle.length + this.starting < this.init.size) {
      this.starting++
      this.track(this.startOne().finally(() => { this.starting-- }))
    }
  }

  /** Fills the pool and resolves once every sandbox in it is waiting for a task (or is gone). */
  async ready (): Promise<void> {
    this.fill()
    while (this.starting > 0) await Promise.all([...this.background])
    await Promise.all(this.idle.map(async sandbox => { await sandbox.process.whenReady() }))
  }

  /** Stops pre-starting, kills every idle sandbox and removes its workspace. */
  async close (): Promise<void> {
    this.closed = true
    while (this.background.size > 0) await Promise.all([...this.background])
    await Promise.all(this.idle.splice(0).map(discardSandbox))
  }

  private async startOne (): Promise<void> {
    let sandbox: PrestartedSandbox
    try {
      sandbox = await this.init.start()
    } catch (err: any) {
      this.init.log(`cannot pre-start a sandbox (${String(err?.message ?? err)}); tasks start cold`)
      this.closed = true
      return
    }
    if (this.closed) await discardSandbox(sandbox)
    else this.idle.push(sandbox)
  }

  private drop (sandbox: PrestartedSandbox): void {
    this.idle.splice(this.idle.indexOf(sandbox), 1)
    this.track(discardSandbox(sandbox))
    if (++this.deadInARow >= MAX_DEAD_IN_A_ROW && !this.closed) {
      this.init.log(`${MAX_DEAD_IN_A_ROW} pre-started sandboxes in a row died before any task used them; tasks start cold from now on`)
      this.closed = true
    }
  }

  private track (work: Promise<void>): void {
    this.background.add(work)
    work.finally(() => { this.background.delete(work) }).catch(() => {})
  }
}

/**
 * What the executors that sandbox on this machine (bwrap, none) share: the user a task runs as when the node is
 * root, the sweep of work directories left by killed nodes, the pool of sandboxes started ahead of need (bwrap),
 * and the life of one task's workspace around {@link runLocal}.
 */
import { join } from 'node:path'
import { checkedEntry, RUNTIME_DIR, sandboxUser, taskIdOf } from './common.ts'
import { resolveLimits } from './contract.ts'
import { InvalidTaskError } from './errors.ts'
import { runLocal, superviseLocal } from './local-run.ts'
import { discardSandbox } from './sandbox-pool.ts'
import { sweepStaleWorkspaces, Workspace } from './workspace.ts'
import type { Executor, ExecutorKind, RunOptions, TaskLimits, TaskOutcome, TaskSpec } from './contract.ts'
import type { LocalRunInit, SupervisedTask } from './local-run.ts'
import type { PrestartedSandbox, SandboxPool } from './sandbox-pool.ts'
import type { WorkspaceOptions } from './workspace.ts'

/** Options both local executors take. */
export interface LocalExecutorInit {
  sandboxUid?: number
  sandboxGid?: number
}

/** A task of a local executor once its workspace exists. */
export interface LocalTask {
  task: TaskSpec
  limits: TaskLimits
  entry: string
  taskId: string
  workspace: Workspace
}

/**
 * The run of the executors that sandbox on this machine (bwrap, none): work directories left by killed nodes are
 * swept before the first task; each task's limits, entry and id are checked; the task takes a pre-started sandbox
 * when the executor keeps a pool and one is idle, else a private {@link Workspace} is made and the executor's
 * command runs in it through {@link runLocal}; the workspace (and sandbox) is removed whatever happened.
 */
export abstract class LocalExecutor implements Executor {
  abstract readonly kind: ExecutorKind
  /** The user tasks run as when the node is root: the kernel exempts root from the process limit. */
  protected readonly owner: { uid: number, gid: number } | undefined
  /** Whether a task directory may be a size-limited tmpfs (only ever when the node is root). */
  protected abstract readonly mountTmpfs: boolean
  /** Sandboxes started ahead of need; none when the executor does not pre-start. */
  protected pool: SandboxPool | undefined
  private swept: Promise<void> | undefined

  constructor (init: LocalExecutorInit, protected readonly log: (message: string) => void) {
    this.owner = process.getuid?.() === 0 ? sandboxUser(init) : undefined
  }

  abstract describe (): string

  /** What to run for `task`, whose workspace is ready (the executor may still add to its runtime directory). */
  protected abstract command (task: LocalTask): Promise<LocalRunInit>

  /** How to watch `task` in a pre-started sandbox, its go line included; only executors with a pool implement it. */
  protected prestartedTask (_task: LocalTask): SupervisedTask {
    throw new Error(`the ${this.kind} executor does not pre-start sandboxes`)
  }

  /** Called with each task's id before its workspace is made. */
  protected announce (_taskId: string): void {}

  /** How workspaces are made; `runtimeFiles` are placed beside the task directory. */
  protected workspaceOptions (runtimeFiles: string[]): WorkspaceOptions {
    return {
      ...(this.owner === undefined ? {} : { owner: this.owner }),
      mountTmpfs: this.mountTmpfs,
      runtimeFiles: Object.fromEntries(runtimeFiles.map(name => [name, join(RUNTIME_DIR, name)])),
      log: this.log
    }
  }

  /**
   * Fills the pool of pre-started sandboxes (tasks start cold until it is) and resolves once each is waiting for a
   * task. Optional: the first task fills it too. Nothing for an executor without a pool.
   */
  async prestart (): Promise<void> {
    await this.sweep()
    await this.pool?.ready()
  }

  async run (task: TaskSpec, options: RunOptions = {}): Promise<TaskOutcome> {
    await this.sweep()
    const limits = resolveLimits(task.limits)
    const entry = checkedEntry(task)
    const taskId = taskIdOf(task)
    this.announce(taskId)
    options.signal?.throwIfAborted()
    try {
      const sandbox = this.pool?.take()
      if (sandbox !== undefined) {
        const outcome = await this.runPrestarted(sandbox, { task, limits, entry, taskId }, options)
        if (outcome !== undefined) return outcome
      }
      const workspace = await Workspace.create(task, limits, this.workspaceOptions(['launcher.py']))
      try {
        return await runLocal(await this.command({ task, limits, entry, taskId, workspace }), options)
      } finally {
        await workspace.dispose()
      }
    } finally {
      // After the task, not before: a sandbox starting would compete with the task's own start for the CPU.
      this.pool?.fill()
    }
  }

  /** Kills the idle pre-started sandboxes and removes their workspaces; tasks already running run on. */
  async close (): Promise<void> {
    await this.pool?.close()
  }

  /** The task in a pre-started sandbox; undefined when its workspace could not be filled (it then starts cold). */
  private async runPrestarted (sandbox: PrestartedSandbox, task: Omit<LocalTask, 'workspace'>, options: RunOptions): Promise<TaskOutcome | undefined> {
    const { workspace } = sandbox
    try {
      try {
        await workspace.fill(task.task, task.limits)
      } catch (err: any) {
        if (err instanceof InvalidTaskError) throw err
        this.log(`cannot use a pre-started sandbox (${String(err?.stderr ?? err?.message ?? err).trim()}); the task starts cold`)
        return undefined
      }
      return await superviseLocal(sandbox.process, this.prestartedTask({ ...task, workspace }), options)
    } finally {
      await discardSandbox(sandbox)
    }
  }

  private async sweep (): Promise<void> {
    this.swept ??= sweepStaleWorkspaces().then(swept => {
      if (swept.length > 0) this.log(`removed ${swept.length} work directories left by killed nodes`)
    })
    await this.swept
  }
}

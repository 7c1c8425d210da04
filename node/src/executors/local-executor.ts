/**
 * What the executors that sandbox on this machine (bwrap, none) share: the user a task runs as when the node is
 * root, the sweep of work directories left by killed nodes, and the life of one task's workspace around
 * {@link runLocal}.
 */
import { join } from 'node:path'
import { checkedEntry, RUNTIME_DIR, sandboxUser, taskIdOf } from './common.ts'
import { resolveLimits } from './contract.ts'
import { runLocal } from './local-run.ts'
import { sweepStaleWorkspaces, Workspace } from './workspace.ts'
import type { Executor, ExecutorKind, RunOptions, TaskLimits, TaskOutcome, TaskSpec } from './contract.ts'
import type { LocalRunInit } from './local-run.ts'

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
 * swept before the first task; each task's limits, entry and id are checked, a private {@link Workspace} is made,
 * the executor's command runs in it through {@link runLocal}, and the workspace is removed whatever happened.
 */
export abstract class LocalExecutor implements Executor {
  abstract readonly kind: ExecutorKind
  /** The user tasks run as when the node is root: the kernel exempts root from the process limit. */
  protected readonly owner: { uid: number, gid: number } | undefined
  /** Whether a task directory may be a size-limited tmpfs (only ever when the node is root). */
  protected abstract readonly mountTmpfs: boolean
  private swept: Promise<void> | undefined

  constructor (init: LocalExecutorInit, protected readonly log: (message: string) => void) {
    this.owner = process.getuid?.() === 0 ? sandboxUser(init) : undefined
  }

  abstract describe (): string

  /** What to run for `task`, whose workspace is ready (the executor may still add to its runtime directory). */
  protected abstract command (task: LocalTask): Promise<LocalRunInit>

  /** Called with each task's id before its workspace is made. */
  protected announce (_taskId: string): void {}

  async run (task: TaskSpec, options: RunOptions = {}): Promise<TaskOutcome> {
    this.swept ??= sweepStaleWorkspaces().then(swept => {
      if (swept.length > 0) this.log(`removed ${swept.length} work directories left by killed nodes`)
    })
    await this.swept
    const limits = resolveLimits(task.limits)
    const entry = checkedEntry(task)
    const taskId = taskIdOf(task)
    this.announce(taskId)
    const workspace = await Workspace.create(task, limits, {
      ...(this.owner === undefined ? {} : { owner: this.owner }),
      mountTmpfs: this.mountTmpfs,
      runtimeFiles: { 'launcher.py': join(RUNTIME_DIR, 'launcher.py') },
      log: this.log
    })
    try {
      return await runLocal(await this.command({ task, limits, entry, taskId, workspace }), options)
    } finally {
      await workspace.dispose()
    }
  }

  async close (): Promise<void> {}
}

/**
 * The no-sandbox executor, for trusted lab meshes only: the task runs as the node's user with the
 * node's view of the machine. Limits still apply (rlimits, wall clock, tree memory, output sizes) and
 * the environment is still clean, but nothing stops the task from reading or writing anything the
 * node's user can, or from using the network.
 */
import { join } from 'node:path'
import { resolvePython } from '../python.ts'
import { checkedEntry, launcherLimits, RUNTIME_DIR, sweepStaleWorkspaces, taskIdOf, Workspace } from './common.ts'
import { runLocal } from './local-run.ts'
import { resolveLimits } from './contract.ts'
import type { Executor, RunOptions, TaskOutcome, TaskSpec } from './contract.ts'

/** Options of the none executor. */
export interface NoneExecutorInit {
  /** Must be `true`: the explicit opt-in (`--unsafe-no-sandbox`). */
  unsafe: true
  python?: string
  /** Where the warnings go; default `console.warn`. They are printed at creation and for every task. */
  log?: (message: string) => void
  /**
   * When the node runs as root, the user tasks run as (default 65534): even on a trusted mesh a task
   * must not run as root, and the kernel does not apply the process limit to root.
   */
  sandboxUid?: number
  sandboxGid?: number
}

/** @see NoneExecutorInit */
export class NoneExecutor implements Executor {
  readonly kind = 'none' as const
  private readonly python: string
  private readonly log: (message: string) => void
  private swept: Promise<void> | undefined

  private readonly owner: { uid: number, gid: number } | undefined

  constructor (init: NoneExecutorInit) {
    this.python = init.python ?? resolvePython()
    this.owner = process.getuid?.() === 0
      ? { uid: init.sandboxUid ?? 65534, gid: init.sandboxGid ?? init.sandboxUid ?? 65534 }
      : undefined
    this.log = init.log ?? ((message) => { console.warn(message) })
    this.log('!!! runsurge: UNSAFE — tasks run WITHOUT A SANDBOX (--unsafe-no-sandbox). Any task can read your files, use your network and attack this machine. Use only on a trusted lab mesh. !!!')
  }

  describe (): string {
    return `NO SANDBOX (unsafe): tasks run as uid ${this.owner?.uid ?? process.getuid?.() ?? '?'} with that user's full access to this machine and its network; python ${this.python}`
  }

  async run (task: TaskSpec, options: RunOptions = {}): Promise<TaskOutcome> {
    this.swept ??= sweepStaleWorkspaces().then(swept => {
      if (swept.length > 0) this.log(`removed ${swept.length} work directories left by killed nodes`)
    })
    await this.swept
    const limits = resolveLimits(task.limits)
    const entry = checkedEntry(task)
    const taskId = taskIdOf(task)
    this.log(`!!! runsurge: running task ${taskId} WITHOUT A SANDBOX (--unsafe-no-sandbox) !!!`)
    const workspace = await Workspace.create(task, limits, {
      ...(this.owner === undefined ? {} : { owner: this.owner }),
      mountTmpfs: false,
      runtimeFiles: { 'launcher.py': join(RUNTIME_DIR, 'launcher.py') }
    })
    try {
      return await runLocal({
        kind: 'none',
        taskId,
        argv: [
          this.python, '-I', '-S', join(workspace.runtimeDir, 'launcher.py'), launcherLimits(limits), 'fd:3', '--',
          this.python, '-I', '-B', join(workspace.taskDir, entry), ...(task.args ?? [])
        ],
        cwd: workspace.taskDir,
        // Still no variables of the node: tokens and keys in its environment are not the task's business.
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: workspace.taskDir, TMPDIR: workspace.taskDir, LANG: 'C.UTF-8' },
        ...(this.owner ?? {}),
        limits,
        workspace,
        supervisorDepth: 1,
        supervisors: 1
      }, options)
    } finally {
      await workspace.dispose()
    }
  }

  async close (): Promise<void> {}
}

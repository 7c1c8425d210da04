/**
 * The no-sandbox executor, for trusted lab meshes only: the task runs as the node's user with the
 * node's view of the machine. Limits still apply (rlimits, wall clock, tree memory, output sizes) and
 * the environment is still clean, but nothing stops the task from reading or writing anything the
 * node's user can, or from using the network.
 */
import { join } from 'node:path'
import { resolvePython } from '../python.ts'
import { launcherLimits } from './common.ts'
import { LocalExecutor } from './local-executor.ts'
import type { LocalTask } from './local-executor.ts'
import type { LocalRunInit } from './local-run.ts'

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
export class NoneExecutor extends LocalExecutor {
  readonly kind = 'none' as const
  /** Never a tmpfs: the task sees the node's whole filesystem anyway. */
  protected readonly mountTmpfs = false
  private readonly python: string

  constructor (init: NoneExecutorInit) {
    const python = init.python ?? resolvePython()
    super(init, init.log ?? ((message) => { console.warn(message) }))
    this.python = python
    this.log('!!! runsurge: UNSAFE — tasks run WITHOUT A SANDBOX (--unsafe-no-sandbox). Any task can read your files, use your network and attack this machine. Use only on a trusted lab mesh. !!!')
  }

  describe (): string {
    return `NO SANDBOX (unsafe): tasks run as uid ${this.owner?.uid ?? process.getuid?.() ?? '?'} with that user's full access to this machine and its network; python ${this.python}`
  }

  protected override announce (taskId: string): void {
    this.log(`!!! runsurge: running task ${taskId} WITHOUT A SANDBOX (--unsafe-no-sandbox) !!!`)
  }

  protected async command ({ task, limits, entry, taskId, workspace }: LocalTask): Promise<LocalRunInit> {
    return {
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
    }
  }
}

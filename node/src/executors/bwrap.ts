/**
 * The bubblewrap executor: the task runs on this machine in fresh user, pid, network, ipc, uts and
 * cgroup namespaces, sees a read-only minimal system (`/usr` and the loader's files, a private `/proc`
 * and `/dev`, synthetic `/etc/passwd`), and can write only to its own size-limited `/task`.
 */
import { execFileSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { resolvePython } from '../python.ts'
import { launcherLimits } from './common.ts'
import { DEFAULT_LIMITS } from './contract.ts'
import { SandboxUnavailableError } from './errors.ts'
import { LocalExecutor } from './local-executor.ts'
import { SandboxPool } from './sandbox-pool.ts'
import { SandboxProcess } from './sandbox-process.ts'
import { seccompProgram } from './seccomp.ts'
import { tmpfsSize, Workspace } from './workspace.ts'
import type { TaskLimits } from './contract.ts'
import type { LocalTask } from './local-executor.ts'
import type { LocalRunInit, SupervisedTask } from './local-run.ts'
import type { PrestartedSandbox } from './sandbox-pool.ts'
import type { SandboxSpawn } from './sandbox-process.ts'

/** Options of the bwrap executor. */
export interface BwrapExecutorInit {
  /** Path of `bwrap`; default: found in /usr/bin, /usr/local/bin or PATH. */
  bwrapPath?: string
  /** Python interpreter for tasks; default {@link resolvePython}. */
  python?: string
  /**
   * When the node runs as root, the user bwrap (and so the task) runs as — the kernel exempts root
   * from the process limit, so root must not run tasks. Default 65534 (`nobody`).
   */
  sandboxUid?: number
  sandboxGid?: number
  /** Mount a size-limited tmpfs as the task directory when root; default true. */
  mountTmpfs?: boolean
  /** Install the seccomp filter of seccomp.ts (x86_64 only); default true. */
  seccomp?: boolean
  /**
   * Sandboxes kept started ahead of need, each used by one task and then discarded (see sandbox-pool.ts), so a
   * task's start-up is off its critical path; one per CPU (`availableParallelism()`, the tasks a node offers to
   * run at once) is the size that covers a node's concurrency. Default 0 (off: every task starts its sandbox when
   * it arrives) until the throughput loss measured at full concurrency (issue 16) is understood.
   */
  prestart?: number
  /** Where warnings go; default `console.warn`. */
  log?: (message: string) => void
}

/** uid/gid the task sees inside its user namespace. */
export const SANDBOX_UID = 1000

/** Read-only system paths the sandbox gets when they exist (the Python runtime and what it loads). */
const SYSTEM_PATHS = ['/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32']
const ETC_PATHS = ['/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/alternatives', '/etc/localtime']

/** What {@link bwrapSandboxArgs} needs: the sandbox, whatever runs in it. */
export interface BwrapSandbox {
  /** Interpreter prefixes outside /usr to expose read-only. */
  pythonPrefixes: string[]
  /** Host directory holding launcher.py, passwd and group (mounted read-only at /runsurge). */
  runtimeDir: string
  /** Host directory mounted read-write at /task. */
  taskDir: string
  /** File descriptor bwrap reads the seccomp program from (see seccomp.ts); none when absent. */
  seccompFd?: number
}

/** What {@link bwrapArgs} needs. */
export interface BwrapLayout extends BwrapSandbox {
  python: string
  entry: string
  args: string[]
  limits: TaskLimits
  /** Launcher report target inside the sandbox (`fd:3`). */
  reportTarget: string
}

/**
 * The bwrap command line for one task (without the bwrap binary itself). Shared with the SSH
 * executor, which runs the same sandbox on the remote box.
 */
export function bwrapArgs (layout: BwrapLayout): string[] {
  return [
    ...bwrapSandboxArgs(layout),
    layout.python, '-I', '-S', '/runsurge/launcher.py', launcherLimits(layout.limits), layout.reportTarget, '--',
    layout.python, '-I', '-B', `/task/${layout.entry}`, ...layout.args
  ]
}

/**
 * The command line of a pre-started sandbox (see sandbox-pool.ts): the launcher in standby mode, its child
 * the task's interpreter waiting in runtime/standby.py for the task and its limits.
 */
export function bwrapStandbyArgs (layout: BwrapSandbox & { python: string }): string[] {
  return [
    ...bwrapSandboxArgs(layout),
    layout.python, '-I', '-S', '/runsurge/launcher.py', 'standby', 'fd:3', '--',
    layout.python, '-I', '-B', '/runsurge/standby.py'
  ]
}

/** bwrap's options, up to and including the `--` before the command it runs in the sandbox. */
export function bwrapSandboxArgs (layout: BwrapSandbox): string[] {
  const args = [
    '--unshare-all',
    // Explicit (not just "try"), so --disable-userns can forbid nested user namespaces: they are the
    // kernel surface most sandbox escapes went through.
    '--unshare-user',
    '--disable-userns',
    '--uid', String(SANDBOX_UID),
    '--gid', String(SANDBOX_UID),
    '--hostname', 'runsurge',
    '--die-with-parent',
    '--new-session',
    '--cap-drop', 'ALL',
    '--clearenv',
    '--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin',
    '--setenv', 'HOME', '/task',
    '--setenv', 'TMPDIR', '/task',
    '--setenv', 'USER', 'runsurge',
    '--setenv', 'LANG', 'C.UTF-8',
    '--ro-bind', '/usr', '/usr'
  ]
  for (const path of SYSTEM_PATHS) args.push('--ro-bind-try', path, path)
  for (const path of ETC_PATHS) args.push('--ro-bind-try', path, path)
  for (const prefix of layout.pythonPrefixes) args.push('--ro-bind', prefix, prefix)
  args.push(
    '--ro-bind', join(layout.runtimeDir, 'passwd'), '/etc/passwd',
    '--ro-bind', join(layout.runtimeDir, 'group'), '/etc/group',
    '--proc', '/proc',
    '--dev', '/dev',
    '--ro-bind', layout.runtimeDir, '/runsurge',
    '--bind', layout.taskDir, '/task'
  )
  if (layout.seccompFd !== undefined) args.push('--seccomp', String(layout.seccompFd))
  args.push(
    '--chdir', '/task',
    // Last: the sandbox's root and /dev tmpfs become read-only (device nodes stay usable), so /task
    // is the only writable place — and the only one that can consume the node's memory as tmpfs.
    '--remount-ro', '/dev',
    '--remount-ro', '/',
    '--'
  )
  return args
}

/** The synthetic account files the task sees: only its own user. */
export const SANDBOX_PASSWD = `root:x:0:0:root:/nonexistent:/usr/sbin/nologin\nrunsurge:x:${SANDBOX_UID}:${SANDBOX_UID}:RunSurge task:/task:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`
export const SANDBOX_GROUP = `root:x:0:\nrunsurge:x:${SANDBOX_UID}:\nnogroup:x:65534:\n`

function findExecutable (name: string, candidates: string[]): string | undefined {
  const path = (process.env.PATH ?? '').split(':').filter(Boolean).map(dir => join(dir, name))
  for (const candidate of [...candidates, ...path]) {
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

/** Python code printing an interpreter's prefixes, one a line: see {@link parsePythonPrefixes}. */
export const PYTHON_PREFIXES_SCRIPT = 'import sys; print(sys.base_prefix); print(sys.prefix)'

/** The prefixes outside /usr among what {@link PYTHON_PREFIXES_SCRIPT} printed. */
export function parsePythonPrefixes (printed: string): string[] {
  return [...new Set(printed.split('\n').map(s => s.trim()).filter(p => p !== '' && p !== '/' && !p.startsWith('/usr')))]
}

/** Prefixes of an interpreter living outside /usr (e.g. /opt/python3.12), which the sandbox must see. */
export function pythonPrefixes (python: string): string[] {
  if (python.startsWith('/usr/')) return []
  return parsePythonPrefixes(execFileSync(python, ['-I', '-S', '-c', PYTHON_PREFIXES_SCRIPT], { encoding: 'utf8', timeout: 30_000 }))
}

/** @see BwrapExecutorInit */
export class BwrapExecutor extends LocalExecutor {
  readonly kind = 'bwrap' as const
  protected readonly mountTmpfs: boolean
  private readonly bwrap: string
  private readonly python: string
  private readonly prefixes: string[]
  private readonly seccomp: Buffer | undefined

  constructor (init: BwrapExecutorInit = {}) {
    const bwrap = init.bwrapPath ?? findExecutable('bwrap', ['/usr/bin/bwrap', '/usr/local/bin/bwrap'])
    if (bwrap === undefined) {
      throw new SandboxUnavailableError('bubblewrap (bwrap) is not installed: run `npm run setup` or `apt-get install bubblewrap`')
    }
    const python = init.python ?? resolvePython()
    const prefixes = pythonPrefixes(python)
    super(init, init.log ?? ((message) => { console.warn(`runsurge bwrap: ${message}`) }))
    this.bwrap = bwrap
    this.python = python
    this.prefixes = prefixes
    this.seccomp = init.seccomp === false ? undefined : seccompProgram()
    this.mountTmpfs = init.mountTmpfs ?? true
    const size = init.prestart ?? 0
    if (size > 0) this.pool = new SandboxPool({ size, start: async () => await this.startStandby(), log: this.log })
  }

  describe (): string {
    const who = this.owner === undefined ? `uid ${process.getuid?.() ?? '?'}` : `uid ${this.owner.uid} (dropped from root)`
    return `bubblewrap ${this.bwrap} as ${who}: all namespaces unshared (no network), read-only /usr, private /proc and /dev, writable size-limited /task only, no capabilities, clean environment, ${this.seccomp === undefined ? 'no seccomp filter' : 'seccomp filter'}; python ${this.python}`
  }

  protected async command (task: LocalTask): Promise<LocalRunInit> {
    const { workspace } = task
    const args = bwrapArgs({
      ...await this.sandbox(workspace),
      python: this.python,
      entry: task.entry,
      args: task.task.args ?? [],
      limits: task.limits,
      reportTarget: 'fd:3'
    })
    return { ...this.spawnOf(workspace, args), ...this.supervision(task) }
  }

  protected override prestartedTask (task: LocalTask): SupervisedTask {
    return {
      ...this.supervision(task),
      go: JSON.stringify({ limits: JSON.parse(launcherLimits(task.limits)), argv: [`/task/${task.entry}`, ...(task.task.args ?? [])] })
    }
  }

  /** An empty workspace and, bound to it, a sandbox whose interpreter waits for a task (see sandbox-pool.ts). */
  private async startStandby (): Promise<PrestartedSandbox> {
    // Sized for the default limits until a task resizes it (Workspace.fill): tmpfs takes memory only as it is used.
    const workspace = await Workspace.prepare(this.workspaceOptions(['launcher.py', 'standby.py']), tmpfsSize({ bytes: 0, entries: 0 }, DEFAULT_LIMITS))
    try {
      const args = bwrapStandbyArgs({ ...await this.sandbox(workspace), python: this.python })
      return { process: new SandboxProcess({ ...this.spawnOf(workspace, args), standby: true }), workspace }
    } catch (err) {
      await workspace.dispose()
      throw err
    }
  }

  private async sandbox (workspace: Workspace): Promise<BwrapSandbox> {
    await writeFile(join(workspace.runtimeDir, 'passwd'), SANDBOX_PASSWD, { mode: 0o644 })
    await writeFile(join(workspace.runtimeDir, 'group'), SANDBOX_GROUP, { mode: 0o644 })
    return {
      pythonPrefixes: this.prefixes,
      runtimeDir: workspace.runtimeDir,
      taskDir: workspace.taskDir,
      ...(this.seccomp === undefined ? {} : { seccompFd: 4 })
    }
  }

  private spawnOf (workspace: Workspace, args: string[]): SandboxSpawn {
    return {
      argv: [this.bwrap, ...args],
      cwd: workspace.root,
      env: {},
      ...(this.owner ?? {}),
      ...(this.seccomp === undefined ? {} : { fd4: this.seccomp })
    }
  }

  private supervision ({ limits, taskId, workspace }: LocalTask): SupervisedTask {
    return { kind: 'bwrap', taskId, limits, workspace, supervisorDepth: 3, supervisors: 2 }
  }
}

/**
 * What confines a task on the SSH box: the same bubblewrap sandbox as locally (bwrap.ts) when the box has bwrap, a
 * dropped user when the SSH user is root, a size-limited tmpfs as the task directory when it may mount one — and
 * otherwise the box itself is the only boundary. Learned once per connection by probing the box.
 */
import { bwrapArgs, parsePythonPrefixes, PYTHON_PREFIXES_SCRIPT } from './bwrap.ts'
import { launcherLimits, sandboxUser } from './common.ts'
import { SshExecutorError } from './errors.ts'
import { seccompProgram } from './seccomp.ts'
import { execRemote, shellQuote } from './ssh-connection.ts'
import { tmpfsSize } from './workspace.ts'
import type { TaskLimits, TaskSpec } from './contract.ts'
import type { Client } from 'ssh2'

/** Options of the remote sandbox (part of `SshExecutorInit`). */
export interface SshSandboxInit {
  /** Remote Python; default the remote `/usr/bin/python3`, else what `python3` resolves to. */
  python?: string
  /** `auto` (default): bwrap on the remote box when it has one; `bwrap`: require it; `none`: never. */
  isolation?: 'auto' | 'bwrap' | 'none'
  /** Remote user tasks run as when the SSH user is root (the process limit does not bind root). Default 65534. */
  sandboxUid?: number
  sandboxGid?: number
  /** Install the seccomp filter of seccomp.ts in the remote bwrap sandbox (x86_64 boxes); default true. */
  seccomp?: boolean
}

/** What the node learned about the remote box on connecting. */
export interface RemoteInfo {
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

/** Options of {@link probeRemote}. */
export interface ProbeOptions {
  /** The box's name, for the warnings. */
  host: string
  timeoutMs: number
  log: (message: string) => void
  signal?: AbortSignal
}

/** Learns the remote user, Python, bwrap and setpriv, and warns about what the box cannot confine. */
export async function probeRemote (client: Client, init: SshSandboxInit, options: ProbeOptions): Promise<RemoteInfo> {
  const { timeoutMs, signal, log } = options
  const probe = await execRemote(client, PROBE, timeoutMs, signal)
  const [uid, python, bwrap, setpriv, machine] = probe.stdout.split('\n').map(s => s.trim())
  if (python === undefined || python === '') throw new SshExecutorError('the remote box has no python3')
  const pythonPath = init.python ?? python
  const prefixes = pythonPath.startsWith('/usr/')
    ? []
    : parsePythonPrefixes((await execRemote(client, `${shellQuote(pythonPath)} -I -S -c ${shellQuote(PYTHON_PREFIXES_SCRIPT)}`, timeoutMs, signal)).stdout)
  const remote: RemoteInfo = {
    uid: Number(uid),
    python: pythonPath,
    pythonPrefixes: prefixes,
    bwrap: bwrap === '' ? undefined : bwrap,
    setpriv: setpriv === '' ? undefined : setpriv,
    seccomp: init.seccomp === false ? undefined : seccompProgram(machine ?? '')
  }
  if (init.isolation === 'bwrap' && remote.bwrap === undefined) {
    throw new SshExecutorError('isolation "bwrap" requested but the remote box has no bwrap: install bubblewrap there')
  }
  if (init.isolation === 'none' || remote.bwrap === undefined) {
    log(`no bubblewrap used on ${options.host}: tasks run directly on the remote box, which must be a disposable VM`)
  }
  if (remote.uid === 0 && remote.setpriv === undefined) log('remote user is root and setpriv is missing: the process limit cannot bind')
  return remote
}

/** The command that runs a task on the box, in the directory it was set up in. */
export interface RemoteCommand {
  argv: string[]
  cwd: string
  /** Supervisor levels above the task's Python, which the remote sampler does not count. */
  supervisorDepth: number
}

/** The sandbox a connected box gives its tasks. */
export class RemoteSandbox {
  constructor (readonly remote: RemoteInfo, private readonly init: SshSandboxInit) {}

  /** Tasks run in bubblewrap on the box. */
  get bwrap (): boolean {
    return this.init.isolation !== 'none' && this.remote.bwrap !== undefined
  }

  /** The user tasks run as, when the SSH user is root and can drop to it; undefined: the SSH user. */
  get owner (): { uid: number, gid: number } | undefined {
    return this.remote.uid === 0 && this.remote.setpriv !== undefined ? sandboxUser(this.init) : undefined
  }

  /** The isolation in force, for `Executor.describe`. */
  describe (): string {
    if (!this.bwrap) return 'no sandbox on the remote box: the box itself is the boundary'
    return `bubblewrap on the remote box${this.owner !== undefined ? ` as uid ${this.owner.uid}` : ''}${this.remote.seccomp === undefined ? ', no seccomp filter' : ', seccomp filter'}`
  }

  /**
   * The shell script that makes a task's directory under `base` (`ROOT/task` for the task, `ROOT/ctl` for the
   * sampler) and prints ROOT, then `mounted` when the task directory is a size-limited tmpfs (only root may mount).
   */
  taskDirScript (base: string, inputs: { bytes: number, entries: number }, limits: TaskLimits): string {
    const o = this.owner ?? { uid: 0, gid: 0 }
    const { size, inodes } = tmpfsSize(inputs, limits)
    return [
      `R=$(mktemp -d ${shellQuote(base + '/runsurge-XXXXXXXX')}) || exit 1`,
      // Traversable, not listable: a dropped sandbox user reaches its own directory only.
      'chmod 711 "$R" && mkdir -m 700 "$R/task" "$R/ctl" || exit 1',
      'echo "$R"',
      this.remote.uid === 0
        ? `if mount -t tmpfs -o size=${size},nr_inodes=${inodes},mode=0700,uid=${o.uid},gid=${o.gid},nosuid,nodev runsurge-task "$R/task"; then echo mounted; fi`
        : 'true'
    ].join('\n')
  }

  /** The command that runs `task` (its entry checked) in the task directory `root/task`, with the runtime files of `runtimeDir`. */
  taskCommand (dirs: { root: string, runtimeDir: string }, entry: string, task: TaskSpec, limits: TaskLimits): RemoteCommand {
    const { remote } = this
    const { root, runtimeDir } = dirs
    const owner = this.owner
    const drop = owner === undefined ? [] : [remote.setpriv as string, `--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups']
    if (this.bwrap) {
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
}

/**
 * What the executors share: the launcher contract, stdout/stderr capture, outcome classification and
 * the private work directory a local task runs in.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { constants as fsConstants, createWriteStream } from 'node:fs'
import { chmod, chown, copyFile, cp, lstat, mkdir, mkdtemp, open, readdir, readFile, rm, stat } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { tmpdir } from 'node:os'
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path'
import { constants as osConstants } from 'node:os'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { InvalidTaskError } from './errors.ts'
import type { TaskLimits, TaskMetrics, TaskOutcome, TaskSpec, TaskStatus } from './index.ts'
import type { ResourceUsage } from '../monitor.ts'

const execFileAsync = promisify(execFile)

/** Directory of the Python runtime files shipped with the node (launcher.py, runner.py, sampler.py). */
export const RUNTIME_DIR = fileURLToPath(new URL('../runtime/', import.meta.url))

/** Exit codes of runner.py that name a limit (see runtime/runner.py). */
const RUNTIME_EXIT_STATUS: Record<number, TaskStatus> = { 3: 'memory_limit', 4: 'process_limit', 5: 'output_limit' }

/** At most this much of stdout and of stderr is kept in a {@link TaskOutcome}, whatever the output limit. */
const KEPT_OUTPUT_BYTES = 64 * 1024

/** What the launcher reports when its child ends (runtime/launcher.py). */
export interface LauncherReport {
  exitCode: number | null
  signal: number | null
  cpuMs: number
  maxRssBytes: number
}

/** Parses the launcher's one-line JSON report; undefined when absent or garbled. */
export function parseLauncherReport (text: string): LauncherReport | undefined {
  const line = text.split('\n').find(l => l.trim() !== '')
  if (line === undefined) return undefined
  try {
    const value = JSON.parse(line) as Partial<LauncherReport>
    if (typeof value !== 'object' || value === null) return undefined
    return {
      exitCode: typeof value.exitCode === 'number' ? value.exitCode : null,
      signal: typeof value.signal === 'number' ? value.signal : null,
      cpuMs: typeof value.cpuMs === 'number' ? value.cpuMs : 0,
      maxRssBytes: typeof value.maxRssBytes === 'number' ? value.maxRssBytes : 0
    }
  } catch {
    return undefined
  }
}

/** The rlimits the launcher applies, as its LIMITS_JSON argument. */
export function launcherLimits (limits: TaskLimits): string {
  return JSON.stringify({
    as: limits.memoryBytes,
    cpu: limits.cpuSeconds,
    nproc: limits.maxProcesses,
    fsize: limits.maxFileBytes,
    // Enough for real programs, few enough that fd exhaustion cannot hurt the box.
    nofile: 1024
  })
}

/** The path of the task's entry, checked to stay inside the task directory. */
export function checkedEntry (task: TaskSpec): string {
  const entry = normalize(task.entry)
  if (isAbsolute(entry) || entry.startsWith('..')) {
    throw new InvalidTaskError(`task entry must be a relative path inside the task directory: ${task.entry}`)
  }
  return entry
}

/** A task id safe for file names. */
export function taskIdOf (task: TaskSpec): string {
  const id = task.id ?? randomBytes(6).toString('hex')
  return id.replace(/[^a-zA-Z0-9_.-]/g, '_').slice(0, 64)
}

/** Signal number → name (`9` → `SIGKILL`). */
export function signalName (signal: number | null): string | null {
  if (signal === null) return null
  for (const [name, value] of Object.entries(osConstants.signals)) {
    if (value === signal) return name
  }
  return `SIG${signal}`
}

/**
 * Keeps the tail of a stream and counts everything; calls `onOverflow` once when the total goes past
 * `limit`.
 */
export class TailBuffer {
  private chunks: Buffer[] = []
  private kept = 0
  total = 0
  private overflowed = false

  constructor (private readonly limit: number, private readonly onOverflow: () => void) {}

  push (chunk: Buffer): void {
    this.total += chunk.length
    this.chunks.push(chunk)
    this.kept += chunk.length
    while (this.kept > KEPT_OUTPUT_BYTES && this.chunks.length > 1) {
      this.kept -= (this.chunks.shift() as Buffer).length
    }
    if (!this.overflowed && this.total > this.limit) {
      this.overflowed = true
      this.onOverflow()
    }
  }

  text (): string {
    const all = Buffer.concat(this.chunks)
    const tail = all.length > KEPT_OUTPUT_BYTES ? all.subarray(all.length - KEPT_OUTPUT_BYTES) : all
    return tail.toString('utf8')
  }
}

/** Why the node itself ended a task. */
export type KillReason = 'timeout' | 'memory' | 'output' | 'taskdir' | 'abort'

/** Everything known when a task has ended. */
export interface EndedTask {
  limits: TaskLimits
  usage: ResourceUsage
  /** Report of the launcher, when it got to write one. */
  report?: LauncherReport
  /** Exit code of the outermost process (bwrap, the remote wrapper or the launcher). */
  exitCode: number | null
  signal: number | null
  killedFor?: KillReason
  stdout: string
  stderr: string
  outputFiles: string[]
  /** A setup failure the executor detected itself. */
  sandboxError?: string
}

function seconds (ms: number): string {
  return `${Math.round(ms / 100) / 10} s`
}

function mib (bytes: number): string {
  return `${Math.round(bytes / 1024 ** 2)} MiB`
}

/** Last `n` characters of stderr, for messages. */
function stderrTail (stderr: string, n = 8192): string {
  const text = stderr.trimEnd()
  return text.length > n ? '…' + text.slice(text.length - n) : text
}

function looksLikeMemoryFailure (ended: EndedTask): boolean {
  return /MemoryError|Cannot allocate memory|out of memory/i.test(ended.stderr) ||
    ended.usage.peakMemoryBytes >= 0.9 * ended.limits.memoryBytes
}

/** Turns how a task ended into exactly one status with a message that says what to do. */
export function classifyOutcome (ended: EndedTask): TaskOutcome {
  const { limits, usage, report } = ended
  const outcome = (status: TaskStatus, message?: string): TaskOutcome => {
    const metrics: TaskMetrics = { ...usage }
    return {
      status,
      exitCode: report?.exitCode ?? (report === undefined ? ended.exitCode : null),
      signal: signalName(report?.signal ?? ended.signal),
      ...(status === 'completed' ? {} : { error: { code: status, message: message ?? status } }),
      metrics,
      stdout: ended.stdout,
      stderr: ended.stderr,
      outputFiles: ended.outputFiles,
      limits
    }
  }

  if (ended.sandboxError !== undefined) return outcome('sandbox_error', ended.sandboxError)
  switch (ended.killedFor) {
    case 'timeout':
      return outcome('time_limit', `the task ran longer than its ${seconds(limits.timeoutMs)} wall-clock limit and was killed`)
    case 'memory':
      return outcome('memory_limit', `the task's processes used more than ${mib(limits.memoryBytes)} together and were killed; give the task more memory or split the input`)
    case 'output':
      return outcome('output_limit', `the task wrote more than ${mib(limits.maxOutputBytes)} to stdout/stderr and was killed; print less`)
    case 'taskdir':
      return outcome('output_limit', `the task wrote more than ${mib(limits.taskDirBytes)} to its directory and was killed`)
    case 'abort':
      return outcome('sandbox_error', 'the task was aborted by the node')
    case undefined:
      break
  }

  if (report === undefined) {
    // The launcher never reported: either the sandbox failed to start (bwrap prints why) or the task
    // killed its own supervisor (it may: same user); the exit code tells which.
    if (ended.exitCode !== null && ended.exitCode >= 128) {
      return outcome('runtime_error', `the task killed its supervisor (exit ${ended.exitCode})\n${stderrTail(ended.stderr)}`)
    }
    return outcome('sandbox_error', `the sandbox failed to start the task (exit ${ended.exitCode ?? signalName(ended.signal)}): ${stderrTail(ended.stderr, 2000) || 'no message'}`)
  }

  if (report.signal !== null) {
    const name = signalName(report.signal) ?? String(report.signal)
    if (name === 'SIGXCPU' || (name === 'SIGKILL' && usage.cpuMs >= limits.cpuSeconds * 1000 * 0.95)) {
      return outcome('time_limit', `the task used more than its ${limits.cpuSeconds} CPU seconds and was killed`)
    }
    if (name === 'SIGXFSZ') {
      return outcome('output_limit', `the task wrote a file larger than ${mib(limits.maxFileBytes)}`)
    }
    if ((name === 'SIGKILL' || name === 'SIGSEGV' || name === 'SIGABRT' || name === 'SIGBUS') && looksLikeMemoryFailure(ended)) {
      return outcome('memory_limit', `the task ran out of its ${mib(limits.memoryBytes)} memory (${name})\n${stderrTail(ended.stderr)}`)
    }
    return outcome('runtime_error', `the task was killed by ${name}\n${stderrTail(ended.stderr)}`)
  }

  const code = report.exitCode ?? -1
  if (code === 0) return outcome('completed')
  const limitStatus = RUNTIME_EXIT_STATUS[code]
  if (limitStatus === 'memory_limit') {
    return outcome(limitStatus, `the task ran out of its ${mib(limits.memoryBytes)} memory (MemoryError); give it more memory or split the input\n${stderrTail(ended.stderr)}`)
  }
  if (limitStatus === 'process_limit') {
    return outcome(limitStatus, `the task tried to run more than ${limits.maxProcesses} processes/threads\n${stderrTail(ended.stderr)}`)
  }
  if (limitStatus === 'output_limit') {
    return outcome(limitStatus, `the task hit its file size (${mib(limits.maxFileBytes)}) or task directory (${mib(limits.taskDirBytes)}) limit\n${stderrTail(ended.stderr)}`)
  }
  if (code === 126 || code === 127) {
    return outcome('sandbox_error', `the sandbox could not start Python (exit ${code}): ${stderrTail(ended.stderr, 2000)}`)
  }
  // A plain script (not runner.py) has no exit-code contract: its uncaught exception, the last line
  // of stderr, says which limit it hit.
  const lastLine = ended.stderr.trimEnd().split('\n').pop() ?? ''
  if (/^MemoryError\b/.test(lastLine)) {
    return outcome('memory_limit', `the task ran out of its ${mib(limits.memoryBytes)} memory (MemoryError)\n${stderrTail(ended.stderr)}`)
  }
  if (/\[Errno (27|28|122)\]/.test(lastLine)) {
    return outcome('output_limit', `the task hit its file size (${mib(limits.maxFileBytes)}) or task directory (${mib(limits.taskDirBytes)}) limit\n${stderrTail(ended.stderr)}`)
  }
  if (/\[Errno 11\] Resource temporarily unavailable|can't start new thread/.test(lastLine)) {
    return outcome('process_limit', `the task tried to run more than ${limits.maxProcesses} processes/threads\n${stderrTail(ended.stderr)}`)
  }
  // The two supervisors inside the sandbox count against the limit but not in peakProcesses.
  if (usage.peakProcesses >= limits.maxProcesses - 2) {
    return outcome('process_limit', `the task reached its ${limits.maxProcesses} process limit and failed (exit ${code})\n${stderrTail(ended.stderr)}`)
  }
  return outcome('runtime_error', `the task exited with code ${code}\n${stderrTail(ended.stderr)}`)
}

interface FileStamp { size: number, mtimeMs: number }

async function walkFiles (root: string, onFile: (rel: string, size: number, mtimeMs: number) => void, limit = 100_000): Promise<void> {
  const queue = ['']
  let seen = 0
  while (queue.length > 0) {
    const rel = queue.pop() as string
    let entries
    try {
      entries = await readdir(join(root, rel), { withFileTypes: true })
    } catch {
      continue
    }
    for (const entry of entries) {
      if (++seen > limit) return
      const child = rel === '' ? entry.name : join(rel, entry.name)
      // lstat, never stat: a task may leave symlinks pointing anywhere; they are neither followed nor copied.
      if (entry.isDirectory()) queue.push(child)
      else if (entry.isFile()) {
        const info = await lstat(join(root, child))
        onFile(child, info.size, info.mtimeMs)
      }
    }
  }
}

/** Total size of the regular files under `dir`. */
export async function directorySize (dir: string): Promise<number> {
  let total = 0
  await walkFiles(dir, (_rel, size) => { total += size })
  return total
}

/** Lists regular files under `dir` with their size and mtime. */
export async function fileStamps (dir: string): Promise<Map<string, FileStamp>> {
  const stamps = new Map<string, FileStamp>()
  await walkFiles(dir, (rel, size, mtimeMs) => { stamps.set(rel, { size, mtimeMs }) })
  return stamps
}

/** Files in `after` that are new or changed compared to `before`. */
export function changedFiles (before: Map<string, FileStamp>, after: Map<string, FileStamp>): string[] {
  const changed: string[] = []
  for (const [rel, stamp] of after) {
    const old = before.get(rel)
    if (old === undefined || old.size !== stamp.size || old.mtimeMs !== stamp.mtimeMs) changed.push(rel)
  }
  return changed.sort()
}

/** Options of {@link createWorkspace}. */
export interface WorkspaceOptions {
  /** Owner of the writable task directory (the sandbox user when the node runs as root). */
  owner?: { uid: number, gid: number }
  /** Mount a size-limited tmpfs when running as root; default true. */
  mountTmpfs?: boolean
  /** Extra read-only files to place beside the task directory (name → source path). */
  runtimeFiles?: Record<string, string>
  log?: (message: string) => void
}

/**
 * A private copy of a task directory the sandbox writes into:
 * `root/` (0711) holds `task/` (the writable directory, a size-limited tmpfs when the node is root)
 * and `runtime/` (the launcher, read-only to the task).
 */
export class Workspace {
  /** `true` when the task directory is a tmpfs with a hard size limit. */
  mounted = false

  private constructor (
    readonly root: string,
    readonly taskDir: string,
    readonly runtimeDir: string,
    readonly hostTaskDir: string,
    private readonly limits: TaskLimits,
    private initial: Map<string, FileStamp>
  ) {}

  static async create (task: TaskSpec, limits: TaskLimits, options: WorkspaceOptions = {}): Promise<Workspace> {
    const hostTaskDir = task.taskDir
    const info = await stat(hostTaskDir).catch(() => undefined)
    if (info?.isDirectory() !== true) throw new InvalidTaskError(`task directory does not exist: ${hostTaskDir}`)
    // The pid in the name lets a later node sweep what a killed one left behind.
    const root = await mkdtemp(join(tmpdir(), `${WORKSPACE_PREFIX}${process.pid}-`))
    // Traversable but not listable, so an unprivileged sandbox user can reach its own directory only.
    await chmod(root, 0o711)
    const workDir = join(root, 'task')
    const runtimeDir = join(root, 'runtime')
    await mkdir(workDir, { mode: 0o700 })
    await mkdir(runtimeDir, { mode: 0o755 })
    const workspace = new Workspace(root, workDir, runtimeDir, hostTaskDir, limits, new Map())
    try {
      for (const [name, source] of Object.entries(options.runtimeFiles ?? {})) {
        await copyFile(source, join(runtimeDir, name))
        await chmod(join(runtimeDir, name), 0o644)
      }
      const initialBytes = await directorySize(hostTaskDir)
      if ((options.mountTmpfs ?? true) && process.getuid?.() === 0) {
        const owner = options.owner ?? { uid: 0, gid: 0 }
        // Page-granular tmpfs accounting: leave one page per file of slack over the inputs.
        const size = initialBytes + limits.taskDirBytes + 1024 * 1024
        try {
          await execFileAsync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700,uid=${owner.uid},gid=${owner.gid},nosuid,nodev`, 'runsurge-task', workDir])
          workspace.mounted = true
        } catch (err: any) {
          options.log?.(`cannot mount a size-limited tmpfs for the task directory (${String(err.stderr ?? err.message).trim()}); falling back to sampling its size`)
        }
      }
      await cp(hostTaskDir, workDir, { recursive: true, errorOnExist: false, force: true, verbatimSymlinks: true })
      if (options.owner !== undefined) await chownTree(workDir, options.owner.uid, options.owner.gid)
      workspace.initial = await fileStamps(workDir)
    } catch (err) {
      await workspace.dispose()
      throw err
    }
    return workspace
  }

  /** Copies the files the task created or changed back to the host task directory; returns their paths. */
  async collect (): Promise<string[]> {
    const changed = changedFiles(this.initial, await fileStamps(this.taskDir))
    const copied: string[] = []
    let budget = this.limits.taskDirBytes + this.limits.maxFileBytes
    for (const rel of changed) {
      const source = join(this.taskDir, rel)
      const info = await lstat(source).catch(() => undefined)
      if (info?.isFile() !== true || info.size > budget) continue
      budget -= info.size
      const target = join(this.hostTaskDir, rel)
      if (relative(this.hostTaskDir, target).split(sep)[0] === '..') continue
      await mkdir(dirname(target), { recursive: true })
      await rm(target, { force: true })
      if (await copyRegularFile(source, target)) copied.push(rel)
    }
    return copied
  }

  /** Bytes currently in the task directory. */
  async size (): Promise<number> {
    return await directorySize(this.taskDir)
  }

  /** Unmounts and deletes everything; never throws (a leftover is swept by the next node). */
  async dispose (): Promise<void> {
    await removeWorkspace(this.root, this.mounted)
    this.mounted = false
  }
}

const WORKSPACE_PREFIX = 'runsurge-task-'

async function removeWorkspace (root: string, mounted: boolean): Promise<void> {
  if (mounted) {
    // Lazy unmount: the sandbox is dead, but a straggling reader must not make cleanup fail.
    await execFileAsync('umount', ['-l', join(root, 'task')]).catch(() => {})
  }
  await rm(root, { recursive: true, force: true, maxRetries: 3 }).catch(() => {})
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err?.code === 'EPERM'
  }
}

/**
 * Removes work directories (and their tmpfs mounts) left by nodes that were killed mid-task: those
 * whose owner pid is gone. Executors call it once before their first task.
 */
export async function sweepStaleWorkspaces (): Promise<string[]> {
  const swept: string[] = []
  const entries = await readdir(tmpdir()).catch(() => [] as string[])
  let mounts = ''
  try {
    mounts = await readFile('/proc/self/mounts', 'utf8')
  } catch {}
  for (const name of entries) {
    const match = /^runsurge-task-(\d+)-/.exec(name)
    if (match === null || isAlive(Number(match[1]))) continue
    const root = join(tmpdir(), name)
    await removeWorkspace(root, mounts.includes(` ${join(root, 'task')} `))
    swept.push(root)
  }
  return swept
}

/**
 * Copies `source` only if it is still a regular file when opened: with O_NOFOLLOW a symlink swapped in
 * after the directory walk is refused instead of followed (the node may be root).
 */
async function copyRegularFile (source: string, target: string): Promise<boolean> {
  let handle
  try {
    handle = await open(source, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW)
  } catch {
    return false
  }
  try {
    if (!(await handle.stat()).isFile()) return false
    await pipeline(handle.createReadStream({ autoClose: false }), createWriteStream(target, { mode: 0o644 }))
    return true
  } finally {
    await handle.close()
  }
}

async function chownTree (dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid)
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) await chownTree(path, uid, gid)
    else if (entry.isFile()) await chown(path, uid, gid)
  }
}

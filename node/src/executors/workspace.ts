/**
 * The task directory: the private, size-limited copy of it a local task runs in ({@link Workspace}), the bounded
 * listing every executor uses to count what a task left there, and what may be copied back.
 */
import { execFile } from 'node:child_process'
import { constants as fsConstants, createWriteStream } from 'node:fs'
import { chmod, chown, copyFile, cp, lstat, mkdir, mkdtemp, open, opendir, readdir, readFile, rm, stat } from 'node:fs/promises'
import { finished, pipeline } from 'node:stream/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, sep } from 'node:path'
import { promisify } from 'node:util'
import { InvalidTaskError } from './errors.ts'
import { DEFAULT_LIMITS } from './contract.ts'
import type { TaskLimits, TaskSpec } from './contract.ts'

const execFileAsync = promisify(execFile)

/** What the bounded look at the task directory found after the task, before anything was copied back. */
export interface CopyBack {
  /** Entries (files, directories, links) beyond the inputs, counted up to one past `taskDirFiles`. */
  entries: number
  /** Bytes of the new or changed regular files (not known when the count stopped early: 0). */
  bytes: number
  /** Why nothing was copied back, if so. */
  refused?: 'entries' | 'bytes'
}

interface FileStamp { size: number, mtimeMs: number }

/** Directory entries read, and files lstat'ed in parallel, at a time while listing a task directory. */
const LIST_BATCH = 256

/** A directory tree as {@link listDirectory} found it. */
export interface DirectoryListing {
  /** Regular files (relative paths) with size and mtime. */
  files: Map<string, FileStamp>
  /** Entries seen: files, directories, links and anything else, the root not counted. */
  entries: number
  /** Bytes of the regular files. */
  bytes: number
  /** The walk stopped at `maxEntries`: there are more entries than listed. */
  truncated: boolean
}

/**
 * Lists the tree under `root` without following symlinks, stopping as soon as it has seen more than
 * `maxEntries` entries: a task that made 100,000 files is found out after `maxEntries + 1` of them,
 * not after walking (or copying) them all.
 */
export async function listDirectory (root: string, maxEntries = Number.POSITIVE_INFINITY): Promise<DirectoryListing> {
  const listing: DirectoryListing = { files: new Map(), entries: 0, bytes: 0, truncated: false }
  const queue = ['']
  while (queue.length > 0 && !listing.truncated) {
    const rel = queue.pop() as string
    let dir
    try {
      // opendir streams the directory in batches: one holding 100,000 entries is not read whole.
      dir = await opendir(join(root, rel), { bufferSize: LIST_BATCH })
    } catch {
      continue
    }
    let files: string[] = []
    const stampFiles = async (): Promise<void> => {
      // lstat, never stat: a task may leave symlinks pointing anywhere; they are neither followed nor copied.
      const infos = await Promise.all(files.map(async child => await lstat(join(root, child)).catch(() => undefined)))
      infos.forEach((info, i) => {
        if (info?.isFile() !== true) return
        listing.files.set(files[i] as string, { size: info.size, mtimeMs: info.mtimeMs })
        listing.bytes += info.size
      })
      files = []
    }
    try {
      for await (const entry of dir) {
        if (++listing.entries > maxEntries) {
          listing.truncated = true
          break
        }
        const child = rel === '' ? entry.name : join(rel, entry.name)
        if (entry.isDirectory()) queue.push(child)
        else if (entry.isFile()) files.push(child)
        if (files.length >= LIST_BATCH) await stampFiles()
      }
    } catch {
      // The directory went away while being read: what was seen stands.
    }
    await stampFiles()
  }
  return listing
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

/**
 * The tmpfs a task directory gets when the node may mount one. Size: page-granular accounting, so one
 * MiB of slack over the inputs and `taskDirBytes`. Inodes: the root, the inputs, `taskDirFiles` more and
 * one spare, so a task that tries to create more gets ENOSPC while the count after it still shows it went
 * past the limit (the spare entry is what tells "at the limit" from "over it").
 */
export function tmpfsSize (inputs: { bytes: number, entries: number }, limits: TaskLimits): { size: number, inodes: number } {
  return { size: inputs.bytes + limits.taskDirBytes + 1024 * 1024, inodes: inputs.entries + limits.taskDirFiles + 2 }
}

/** Options of {@link Workspace.create}. */
export interface WorkspaceOptions {
  /** Owner of the writable task directory (the sandbox user when the node runs as root). */
  owner?: { uid: number, gid: number }
  /** Mount a size-limited tmpfs when running as root; default true. */
  mountTmpfs?: boolean
  /** Extra read-only files to place beside the task directory (name → source path). */
  runtimeFiles?: Record<string, string>
  log?: (message: string) => void
}

/** What the task did to its directory so far, from a count that stops one entry past `taskDirFiles`. */
export interface TaskDirUsage {
  /** Bytes added to the inputs (regular files). */
  bytes: number
  /** Entries added to the inputs, counted up to one past `taskDirFiles`. */
  entries: number
}

/**
 * A private copy of a task directory the sandbox writes into:
 * `root/` (0711) holds `task/` (the writable directory, a size-limited tmpfs when the node is root)
 * and `runtime/` (the launcher, read-only to the task).
 */
export class Workspace {
  /** `true` when the task directory is a tmpfs with hard size and entry limits. */
  mounted = false
  private hostDir = ''
  private limits: TaskLimits = DEFAULT_LIMITS
  private initial: DirectoryListing = { files: new Map(), entries: 0, bytes: 0, truncated: false }
  /** The tmpfs's size and inodes as mounted (or last remounted). */
  private tmpfs = ''

  private constructor (
    readonly root: string,
    readonly taskDir: string,
    readonly runtimeDir: string,
    private readonly options: WorkspaceOptions
  ) {}

  /** Host directory the task's files come from and go back to (set by {@link fill}). */
  get hostTaskDir (): string {
    return this.hostDir
  }

  /** A workspace holding `task`'s files, its directory sized for `limits`. */
  static async create (task: TaskSpec, limits: TaskLimits, options: WorkspaceOptions = {}): Promise<Workspace> {
    const inputs = await listTaskDir(task)
    const workspace = await Workspace.prepare(options, tmpfsSize(inputs, limits))
    try {
      await workspace.fill(task, limits, inputs)
    } catch (err) {
      await workspace.dispose()
      throw err
    }
    return workspace
  }

  /**
   * An empty workspace, ready to be bind-mounted before its task is known (a pre-started sandbox): its tmpfs, if
   * any, is sized `size` until {@link fill} resizes it for the task.
   */
  static async prepare (options: WorkspaceOptions, size: { size: number, inodes: number }): Promise<Workspace> {
    // The pid in the name lets a later node sweep what a killed one left behind.
    const root = await mkdtemp(join(tmpdir(), `${WORKSPACE_PREFIX}${process.pid}-`))
    const workspace = new Workspace(root, join(root, 'task'), join(root, 'runtime'), options)
    try {
      // Traversable but not listable, so an unprivileged sandbox user can reach its own directory only.
      await chmod(root, 0o711)
      await mkdir(workspace.taskDir, { mode: 0o700 })
      await mkdir(workspace.runtimeDir, { mode: 0o755 })
      for (const [name, source] of Object.entries(options.runtimeFiles ?? {})) {
        await copyFile(source, join(workspace.runtimeDir, name))
        await chmod(join(workspace.runtimeDir, name), 0o644)
      }
      if ((options.mountTmpfs ?? true) && process.getuid?.() === 0) await workspace.mount(size)
      if (!workspace.mounted && options.owner !== undefined) await chown(workspace.taskDir, options.owner.uid, options.owner.gid)
    } catch (err) {
      await workspace.dispose()
      throw err
    }
    return workspace
  }

  /**
   * Copies `task`'s files in, first resizing the tmpfs for them and `limits` (the same superblock is what a
   * sandbox already running sees at /task). Throws `InvalidTaskError` when the task directory does not exist.
   */
  async fill (task: TaskSpec, limits: TaskLimits, inputs?: DirectoryListing): Promise<void> {
    inputs ??= await listTaskDir(task)
    this.hostDir = task.taskDir
    this.limits = limits
    if (this.mounted) {
      const { size, inodes } = tmpfsSize(inputs, limits)
      const options = `size=${size},nr_inodes=${inodes}`
      if (options !== this.tmpfs) {
        await execFileAsync('mount', ['-o', `remount,${options}`, this.taskDir])
        this.tmpfs = options
      }
    }
    await cp(this.hostDir, this.taskDir, { recursive: true, errorOnExist: false, force: true, verbatimSymlinks: true })
    if (this.options.owner !== undefined) await chownTree(this.taskDir, this.options.owner.uid, this.options.owner.gid)
    this.initial = await listDirectory(this.taskDir)
  }

  private async mount ({ size, inodes }: { size: number, inodes: number }): Promise<void> {
    const owner = this.options.owner ?? { uid: 0, gid: 0 }
    try {
      await execFileAsync('mount', ['-t', 'tmpfs', '-o', `size=${size},nr_inodes=${inodes},mode=0700,uid=${owner.uid},gid=${owner.gid},nosuid,nodev`, 'runsurge-task', this.taskDir])
      this.mounted = true
      this.tmpfs = `size=${size},nr_inodes=${inodes}`
    } catch (err: any) {
      this.options.log?.(`cannot mount a size-limited tmpfs for the task directory (${String(err.stderr ?? err.message).trim()}); falling back to sampling its size`)
    }
  }

  /** What the task added to its directory so far; the count stops one entry past the limit. */
  async usage (): Promise<TaskDirUsage> {
    const now = await listDirectory(this.taskDir, this.maxEntries())
    return {
      bytes: Math.max(0, now.bytes - this.initial.bytes),
      entries: Math.max(0, now.entries - this.initial.entries)
    }
  }

  /**
   * Copies the files the task created or changed back to the host task directory — all of them or,
   * when the directory holds more than `taskDirFiles` new entries or `copyBackBytes` of new or
   * changed files, none — and says which.
   */
  async collect (): Promise<{ copied: string[], copyBack: CopyBack }> {
    const now = await listDirectory(this.taskDir, this.maxEntries())
    const entries = Math.max(0, now.entries - this.initial.entries)
    if (now.truncated) return { copied: [], copyBack: { entries, bytes: 0, refused: 'entries' } }
    const changed = changedFiles(this.initial.files, now.files)
    const bytes = changed.reduce((sum, rel) => sum + (now.files.get(rel)?.size ?? 0), 0)
    if (bytes > this.limits.copyBackBytes) return { copied: [], copyBack: { entries, bytes, refused: 'bytes' } }
    const copied: string[] = []
    for (const rel of changed) {
      const source = join(this.taskDir, rel)
      const target = join(this.hostDir, rel)
      if (relative(this.hostDir, target).split(sep)[0] === '..') continue
      await mkdir(dirname(target), { recursive: true })
      await rm(target, { force: true })
      if (await copyRegularFile(source, target, now.files.get(rel)?.size ?? 0)) copied.push(rel)
    }
    return { copied, copyBack: { entries, bytes } }
  }

  /** Entries the directory may hold: the inputs and `taskDirFiles` more. */
  private maxEntries (): number {
    return this.initial.entries + this.limits.taskDirFiles
  }

  /** Unmounts and deletes everything; never throws (a leftover is swept by the next node). */
  async dispose (): Promise<void> {
    await removeWorkspace(this.root, this.mounted)
    this.mounted = false
  }
}

const WORKSPACE_PREFIX = 'runsurge-task-'

/** The task's input directory, listed; `InvalidTaskError` when there is none. */
async function listTaskDir (task: TaskSpec): Promise<DirectoryListing> {
  const info = await stat(task.taskDir).catch(() => undefined)
  if (info?.isDirectory() !== true) throw new InvalidTaskError(`task directory does not exist: ${task.taskDir}`)
  return await listDirectory(task.taskDir)
}

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
 * after the directory walk is refused instead of followed (the node may be root). At most `bytes` are
 * copied — the size the walk saw and counted against `copyBackBytes` — so a file a surviving process
 * (none executor) keeps growing cannot push the copy past the limit.
 */
async function copyRegularFile (source: string, target: string, bytes: number): Promise<boolean> {
  let handle
  try {
    handle = await open(source, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW)
  } catch {
    return false
  }
  try {
    if (!(await handle.stat()).isFile()) return false
    const output = createWriteStream(target, { mode: 0o644 })
    if (bytes === 0) {
      output.end()
      await finished(output)
    } else {
      await pipeline(handle.createReadStream({ autoClose: false, start: 0, end: bytes - 1 }), output)
    }
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

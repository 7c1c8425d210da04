/**
 * Files between the node and the task box, over SFTP: the task's inputs up, the bounded listing of what it left,
 * the tails of its output files and the files it created back down.
 */
import { mkdir, rm } from 'node:fs/promises'
import { dirname, join, posix, relative, sep } from 'node:path'
import type { TaskLimits, TaskSpec } from './contract.ts'
import type { CopyBack } from './workspace.ts'
import type { SFTPWrapper, Stats } from 'ssh2'

/** A remote directory tree as {@link remoteWalk} found it. */
export interface RemoteListing {
  files: Map<string, Stats>
  /** Entries seen (files, directories, links…), the root not counted. */
  entries: number
  /** Bytes of the regular files. */
  bytes: number
  /** The walk stopped at its limit: there are more entries than listed. */
  truncated: boolean
}

export async function put (sftp: SFTPWrapper, local: string, remote: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    sftp.fastPut(local, remote, (err) => { if (err !== undefined && err !== null) reject(err); else resolve() })
  })
}

export async function writeRemote (sftp: SFTPWrapper, remote: string, text: string | Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    sftp.writeFile(remote, text, { mode: 0o644 }, (err) => { if (err !== undefined && err !== null) reject(err); else resolve() })
  })
}

async function mkdirs (sftp: SFTPWrapper, dir: string, made: Set<string>): Promise<void> {
  if (made.has(dir)) return
  await mkdirs(sftp, posix.dirname(dir), made)
  await new Promise<void>((resolve) => { sftp.mkdir(dir, () => { resolve() }) })
  made.add(dir)
}

/** Uploads `files` (paths relative to `taskDir`) into the remote directory `dir`, which exists. */
export async function uploadFiles (sftp: SFTPWrapper, taskDir: string, files: string[], dir: string): Promise<void> {
  const dirs = new Set<string>([dir])
  for (const rel of files) {
    await mkdirs(sftp, posix.dirname(`${dir}/${rel.split(sep).join('/')}`), dirs)
  }
  // Uploads in parallel: SFTP pipelines requests, and each one is a round trip.
  await Promise.all(files.map(async rel => { await put(sftp, join(taskDir, rel), `${dir}/${rel.split(sep).join('/')}`) }))
}

/** The last `max` bytes of a remote file as text; '' when it does not exist. */
export async function readTail (sftp: SFTPWrapper, path: string, max: number): Promise<string> {
  return await new Promise<string>((resolve) => {
    sftp.open(path, 'r', (err, handle) => {
      if (err !== undefined) { resolve(''); return }
      sftp.fstat(handle, (err, stats) => {
        const size = err === undefined ? stats.size : 0
        const length = Math.min(size, max)
        const done = (text: string): void => { sftp.close(handle, () => { resolve(text) }) }
        if (length === 0) { done(''); return }
        const buffer = Buffer.alloc(length)
        let got = 0
        const next = (): void => {
          sftp.read(handle, buffer, got, length - got, size - length + got, (err, bytes) => {
            if (err !== undefined || bytes === 0) { done(buffer.subarray(0, got).toString('utf8')); return }
            got += bytes
            if (got >= length) done(buffer.toString('utf8'))
            else next()
          })
        }
        next()
      })
    })
  })
}

/**
 * Lists a remote tree over SFTP, one READDIR batch at a time, and stops as soon as it has seen more
 * than `maxEntries` entries: a task that made 100,000 files costs `maxEntries + 1` of them, not all.
 */
export async function remoteWalk (sftp: SFTPWrapper, dir: string, maxEntries = Number.POSITIVE_INFINITY): Promise<RemoteListing> {
  const listing: RemoteListing = { files: new Map(), entries: 0, bytes: 0, truncated: false }
  const queue = ['']
  while (queue.length > 0 && !listing.truncated) {
    const rel = queue.pop() as string
    const handle = await new Promise<Buffer | undefined>((resolve) => {
      sftp.opendir(rel === '' ? dir : `${dir}/${rel}`, (err, h) => { resolve(err === undefined ? h : undefined) })
    })
    if (handle === undefined) continue
    try {
      await readDirectory(sftp, handle, rel, listing, maxEntries, queue)
    } finally {
      await new Promise<void>((resolve) => { sftp.close(handle, () => { resolve() }) })
    }
  }
  return listing
}

/** Adds the entries of one open directory to `listing`, its subdirectories to `queue`. */
async function readDirectory (sftp: SFTPWrapper, handle: Buffer, rel: string, listing: RemoteListing, maxEntries: number, queue: string[]): Promise<void> {
  while (!listing.truncated) {
    const batch = await new Promise<Array<{ filename: string, attrs: Stats }> | undefined>((resolve) => {
      // An error here is EOF (the end of the directory) or a directory gone meanwhile: both end it.
      sftp.readdir(handle, (err, entries) => { resolve(err === undefined ? entries : undefined) })
    })
    if (batch === undefined) break
    for (const entry of batch) {
      if (++listing.entries > maxEntries) {
        listing.truncated = true
        break
      }
      const child = rel === '' ? entry.filename : `${rel}/${entry.filename}`
      // readdir's attrs are lstat's: a symlink is reported as one and skipped.
      if (entry.attrs.isDirectory()) queue.push(child)
      else if (entry.attrs.isFile()) {
        listing.files.set(child, entry.attrs)
        listing.bytes += entry.attrs.size
      }
    }
  }
}

/**
 * Downloads the files the task created or changed in the remote `dir` into `task.taskDir` (regular files only;
 * symlinks are never followed) — all of them, or none when there are more than `taskDirFiles` new entries or
 * `copyBackBytes` of new or changed files.
 */
export async function fetchOutputs (sftp: SFTPWrapper, dir: string, before: RemoteListing, task: TaskSpec, limits: TaskLimits): Promise<{ fetched: string[], copyBack: CopyBack }> {
  const now = await remoteWalk(sftp, dir, before.entries + limits.taskDirFiles)
  const entries = Math.max(0, now.entries - before.entries)
  if (now.truncated) return { fetched: [], copyBack: { entries, bytes: 0, refused: 'entries' } }
  const changed = [...now.files].filter(([rel, stats]) => {
    const old = before.files.get(rel)
    return old === undefined || old.size !== stats.size || old.mtime !== stats.mtime
  })
  const bytes = changed.reduce((sum, [, stats]) => sum + stats.size, 0)
  if (bytes > limits.copyBackBytes) return { fetched: [], copyBack: { entries, bytes, refused: 'bytes' } }
  const fetched: string[] = []
  for (const [rel] of changed) {
    const target = join(task.taskDir, ...rel.split('/'))
    if (relative(task.taskDir, target).split(sep)[0] === '..') continue
    await mkdir(dirname(target), { recursive: true })
    // Replace, never write through: the target may be a hard link to the caller's own input.
    await rm(target, { force: true })
    await new Promise<void>((resolve, reject) => {
      sftp.fastGet(`${dir}/${rel}`, target, (err) => { if (err !== undefined && err !== null) reject(err); else resolve() })
    })
    fetched.push(rel)
  }
  return { fetched: fetched.sort(), copyBack: { entries, bytes } }
}

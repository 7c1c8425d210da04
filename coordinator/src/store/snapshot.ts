/**
 * Snapshots of the coordinator's database: automatic ones in `DATA/snapshots` (the N last), backups anywhere, and
 * restoring either into a data directory.
 *
 * The file is JSON lines, so an operator can look into it with `head`:
 * - a header line, padded to HEADER_BYTES (it is written last, in place, once the counts are known):
 *   `{"format":"runsurge-coordinator-snapshot","version":1,"createdAt":…,"commit":…,"records":…}`;
 * - one line per record, `{"k":key,"v":value}`, the value as stored: sealed with the CRC-32C of its key and text;
 * - a trailer line `{"end":true,"records":…,"commit":…,"sha256":…}`, the digest of every record line, so a file cut
 *   short or changed anywhere is refused.
 * Written to a temporary file, fsynced, then renamed: a reader never sees half a snapshot. Records come from one
 * LevelDB iterator, which reads from an implicit snapshot: a consistent view even while the coordinator writes.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { Database, bucketOf } from './controller.ts'
import { SnapshotError, StoreLockedError } from './errors.ts'
import { COMMIT_KEY, lockHolder } from './integrity.ts'
import { openRecord } from './record.ts'
import type { Store } from './index.ts'

export const SNAPSHOT_FORMAT = 'runsurge-coordinator-snapshot'
export const SNAPSHOT_VERSION = 1
/** Room for the header line; it holds a few short fields. */
const HEADER_BYTES = 512
/** Where automatic snapshots go, inside the data directory. */
export const SNAPSHOT_DIR = 'snapshots'
const SNAPSHOT_NAME = /^coordinator-(.+)-commit-(\d+)\.snapshot$/

export interface SnapshotInfo {
  path: string
  /** ISO 8601. */
  createdAt: string
  /** The database's commit counter in the copied view. */
  commit: number
  records: number
  /** Records per bucket (accounts, tokens, jobs, tasks…). */
  buckets: Record<string, number>
}

/**
 * Writes a snapshot of `store` atomically to `to`: a path, or a function of the snapshot's commit counter that gives
 * it (known only once the records are read).
 */
export async function writeSnapshot (store: Store, to: string | ((commit: number) => string)): Promise<SnapshotInfo> {
  const target = typeof to === 'string' ? to : to(store.commit)
  // Snapshots hold password and token hashes, and the admin token: private like the data directory.
  await mkdir(dirname(target), { recursive: true, mode: 0o700 })
  const temporary = `${target}.${process.pid}.${Date.now()}.tmp`
  const file = await open(temporary, 'w', 0o600)
  const createdAt = new Date().toISOString()
  const digest = createHash('sha256')
  const buckets: Record<string, number> = {}
  let records = 0
  let commit = 0
  try {
    let position = HEADER_BYTES
    let pending: string[] = []
    let pendingBytes = 0
    const flush = async (): Promise<void> => {
      const bytes = Buffer.from(pending.join(''), 'utf8')
      digest.update(bytes)
      await file.write(bytes, 0, bytes.length, position)
      position += bytes.length
      pending = []
      pendingBytes = 0
    }
    for await (const [key, value] of store.sealedEntries()) {
      if (key === COMMIT_KEY) commit = Number(openRecord(key, value))
      const line = JSON.stringify({ k: key, v: value }) + '\n'
      pending.push(line)
      pendingBytes += line.length
      records++
      buckets[bucketOf(key)] = (buckets[bucketOf(key)] ?? 0) + 1
      if (pendingBytes >= 1 << 20) await flush()
    }
    await flush()
    const trailer = Buffer.from(JSON.stringify({ end: true, records, commit, sha256: digest.digest('hex') }) + '\n', 'utf8')
    await file.write(trailer, 0, trailer.length, position)
    const header = JSON.stringify({ format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, createdAt, commit, records })
    await file.write(Buffer.from(header.padEnd(HEADER_BYTES - 1, ' ') + '\n', 'utf8'), 0, HEADER_BYTES, 0)
    await file.sync()
    await file.close()
    const path = typeof to === 'string' ? to : to(commit)
    await rename(temporary, path)
    await syncDirectory(dirname(path))
    return { path, createdAt, commit, records, buckets }
  } catch (err) {
    await file.close().catch(() => {})
    await rm(temporary, { force: true })
    throw err
  }
}

/** A rename is durable once its directory is. */
async function syncDirectory (path: string): Promise<void> {
  const directory = await open(path, 'r')
  try {
    await directory.sync()
  } finally {
    await directory.close()
  }
}

/**
 * The records of a snapshot file, as stored (sealed), each checked as it is read; throws `SnapshotError` saying
 * where the file is wrong. The whole file is only known to be good once the generator has finished: read it through
 * once (`verifySnapshot`) before acting on it.
 */
export async function * snapshotRecords (path: string, onHeader?: (header: { createdAt: string, commit: number, records: number }) => void): AsyncGenerator<[string, string]> {
  const refuse = (why: string): SnapshotError =>
    new SnapshotError(`${path} cannot be restored: ${why}. Nothing was changed; use another snapshot or backup (see docs/operations.md)`)
  const file = await stat(path).catch((err: any) => {
    throw new SnapshotError(`${path} cannot be read: ${String(err?.code ?? err?.message)}. Give the path of a snapshot or backup file`)
  })
  if (!file.isFile()) throw new SnapshotError(`${path} is not a file. Give the path of a snapshot or backup file`)
  const digest = createHash('sha256')
  let header: { createdAt: string, commit: number, records: number } | undefined
  let records = 0
  let lineNumber = 0
  // A line that does not parse is damage if more lines follow, the place where the file was cut short if none does.
  let unreadable: number | undefined
  for await (const bytes of linesOf(path)) {
    const line = bytes.toString('utf8')
    lineNumber++
    if (unreadable !== undefined) throw refuse(`line ${unreadable} is damaged (not a record)`)
    if (header === undefined) {
      let parsed: any
      try {
        parsed = JSON.parse(line)
      } catch {}
      if (parsed?.format !== SNAPSHOT_FORMAT) throw refuse('it is not a coordinator snapshot (its first line is not a snapshot header)')
      if (parsed.version !== SNAPSHOT_VERSION) throw refuse(`snapshot format version ${String(parsed.version)}; this coordinator reads version ${SNAPSHOT_VERSION}`)
      if (!Number.isSafeInteger(parsed.commit) || !Number.isSafeInteger(parsed.records) || typeof parsed.createdAt !== 'string') throw refuse('its header is damaged')
      header = { createdAt: parsed.createdAt, commit: parsed.commit, records: parsed.records }
      onHeader?.(header)
      continue
    }
    let parsed: any
    try {
      parsed = JSON.parse(line)
    } catch {
      unreadable = lineNumber
      continue
    }
    if (parsed?.end === true) {
      if (parsed.records !== records || parsed.records !== header.records) throw refuse(`it holds ${records} records, its header says ${header.records}`)
      if (parsed.commit !== header.commit) throw refuse('its header and trailer disagree')
      if (parsed.sha256 !== digest.digest('hex')) throw refuse('its digest does not match its records (the file was changed)')
      return
    }
    if (typeof parsed?.k !== 'string' || typeof parsed.v !== 'string' || openRecord(parsed.k, parsed.v) === undefined) {
      throw refuse(`record ${records + 1} (line ${lineNumber}) fails its checksum`)
    }
    digest.update(bytes)
    digest.update(NEWLINE)
    records++
    yield [parsed.k, parsed.v]
  }
  if (header === undefined) throw refuse('it is empty')
  if (unreadable !== undefined) throw refuse(`it is truncated: it ends inside record ${records + 1} of its ${header.records}, without its trailer`)
  throw refuse(`it is truncated: it ends after ${records} of its ${header.records} records, without its trailer`)
}

const NEWLINE = Buffer.from('\n')

/**
 * The lines of a file as bytes, split on '\n' only (readline also splits on U+2028, which JSON leaves as it is), so
 * the digest covers exactly the bytes written.
 */
async function * linesOf (path: string): AsyncGenerator<Buffer> {
  let rest = Buffer.alloc(0)
  for await (const chunk of createReadStream(path)) {
    let data = Buffer.concat([rest, chunk as Buffer])
    let end: number
    while ((end = data.indexOf(0x0a)) >= 0) {
      yield data.subarray(0, end)
      data = data.subarray(end + 1)
    }
    rest = data
  }
  if (rest.length > 0) yield rest
}

/** Reads a snapshot file through and checks every record and its digest. */
export async function verifySnapshot (path: string): Promise<SnapshotInfo> {
  let header: { createdAt: string, commit: number, records: number } | undefined
  const buckets: Record<string, number> = {}
  let records = 0
  for await (const [key] of snapshotRecords(path, read => { header = read })) {
    records++
    buckets[bucketOf(key)] = (buckets[bucketOf(key)] ?? 0) + 1
  }
  return { path, createdAt: header!.createdAt, commit: header!.commit, records, buckets }
}

/** The automatic snapshots of a data directory, oldest first. */
export async function listSnapshots (dataDir: string): Promise<Array<{ path: string, commit: number }>> {
  return await snapshotsIn(join(dataDir, SNAPSHOT_DIR))
}

async function snapshotsIn (dir: string): Promise<Array<{ path: string, commit: number }>> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  return names
    .map(name => ({ name, match: SNAPSHOT_NAME.exec(name) }))
    .filter(entry => entry.match !== null)
    .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    .map(entry => ({ path: join(dir, entry.name), commit: Number(entry.match![2]) }))
}

/** What to tell an operator whose database cannot be used: the newest snapshot to restore, or where to look. */
export async function wayBack (dataDir: string): Promise<string> {
  const newest = (await listSnapshots(dataDir)).at(-1)
  if (newest !== undefined) {
    return `Restore the last snapshot: runsurge coordinator restore --data ${dataDir} --from ${newest.path} (see docs/operations.md)`
  }
  return `There is no snapshot in ${join(dataDir, SNAPSHOT_DIR)}: restore a backup with runsurge coordinator restore --data ${dataDir} --from FILE (see docs/operations.md)`
}

export interface SnapshotScheduleOptions {
  /** Where the snapshots go. Default `DATA/snapshots`. */
  dir: string
  /** How often to take one when the commit counter moved (ms); 0 for none but those asked for. Default 10 minutes. */
  interval: number
  /** How many to keep (the newest). Default 5. */
  keep: number
  log: { info(obj: object, msg: string): void, error(obj: object, msg: string): void }
}

export const DEFAULT_SNAPSHOT_INTERVAL = 10 * 60_000
export const DEFAULT_SNAPSHOT_KEEP = 5

/**
 * The automatic snapshots: at start and every interval when the commit counter moved since the last one, at clean
 * shutdown, and on request (the admin API, for `runsurge coordinator backup` while the coordinator runs). One at a
 * time; the oldest beyond `keep` are removed after a new one is in place.
 */
export class SnapshotSchedule {
  private readonly store: Store
  private readonly options: SnapshotScheduleOptions
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> = Promise.resolve()
  private lastCommit: number | undefined

  constructor (store: Store, options: SnapshotScheduleOptions) {
    if (!Number.isSafeInteger(options.keep) || options.keep < 1) throw new RangeError(`snapshots to keep must be a whole number of at least 1, not ${options.keep}`)
    if (!(options.interval >= 0)) throw new RangeError(`the snapshot interval must be 0 or more milliseconds, not ${options.interval}`)
    this.store = store
    this.options = options
  }

  /** Takes a first snapshot if the database moved since the newest one, then one every interval. */
  async start (): Promise<void> {
    this.lastCommit = (await snapshotsIn(this.options.dir)).at(-1)?.commit
    await this.snapshot()
    if (this.options.interval > 0) {
      this.timer = setInterval(() => {
        this.snapshot().catch(err => { this.options.log.error({ err }, 'automatic snapshot failed') })
      }, this.options.interval)
      this.timer.unref()
    }
  }

  /** Takes a snapshot now; without `force`, only if the commit counter moved since the last one. */
  async snapshot (options: { force?: boolean } = {}): Promise<SnapshotInfo | undefined> {
    const next = this.running.then(async () => {
      if (options.force !== true && this.store.commit === this.lastCommit) return undefined
      const stamp = new Date().toISOString().replace(/:/g, '-')
      const info = await writeSnapshot(this.store, commit => join(this.options.dir, `coordinator-${stamp}-commit-${commit}.snapshot`))
      this.lastCommit = info.commit
      await this.prune()
      this.options.log.info({ path: info.path, commit: info.commit, records: info.records }, 'snapshot written')
      return info
    })
    this.running = next.catch(() => {})
    return await next
  }

  private async prune (): Promise<void> {
    const names = (await readdir(this.options.dir)).filter(name => SNAPSHOT_NAME.test(name)).sort()
    for (const name of names.slice(0, Math.max(0, names.length - this.options.keep))) await rm(join(this.options.dir, name), { force: true })
  }

  /** Stops the timer and waits for a snapshot in progress, without taking another. */
  async cancel (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.running
  }

  /** Stops the timer and takes a last snapshot if the database moved. */
  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.snapshot().catch(err => { this.options.log.error({ err }, 'the snapshot at shutdown failed') })
  }
}

export interface RestoreReport {
  from: string
  createdAt: string
  commit: number
  /** Records per bucket now in the database. */
  buckets: Record<string, number>
  /** Where the database that was there went (never deleted). */
  movedAside?: string
}

/**
 * Replaces the database of `dataDir` with the contents of a snapshot: checks the whole file first, refuses while a
 * coordinator runs on the directory, builds the new database beside the old one, moves the old one aside to
 * `db.damaged-<time>` and puts the new one in its place. The chunk store (`DATA/chunks`) is left as it is.
 */
export async function restoreSnapshot (options: { dataDir: string, from: string, signal?: AbortSignal }): Promise<RestoreReport> {
  const { dataDir, from } = options
  const snapshot = await verifySnapshot(from)
  const location = join(dataDir, 'db')
  const pid = await lockHolder(location) ?? await runningCoordinator(dataDir, options.signal)
  if (pid !== undefined) {
    throw new StoreLockedError(`a coordinator is running on ${dataDir}${pid > 0 ? ` (pid ${pid})` : ''}: stop it before restoring; nothing was changed`, pid > 0 ? pid : undefined)
  }
  const stamp = new Date().toISOString().replace(/:/g, '-')
  const staging = join(dataDir, `db.restoring-${stamp}`)
  const database = await Database.open(staging, { startCommit: snapshot.commit })
  try {
    let ops: Array<{ type: 'put', key: string, value: string }> = []
    for await (const [key, sealed] of snapshotRecords(from)) {
      if (key === COMMIT_KEY) continue
      ops.push({ type: 'put', key, value: openRecord(key, sealed)! })
      if (ops.length >= 1000) {
        await database.batch(ops)
        ops = []
      }
    }
    if (ops.length > 0) await database.batch(ops)
  } catch (err) {
    await database.close()
    await rm(staging, { recursive: true, force: true })
    throw err
  }
  await database.close()
  let movedAside: string | undefined
  try {
    await stat(location)
    movedAside = join(dataDir, `db.damaged-${stamp}`)
    await rename(location, movedAside)
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw err
  }
  await rename(staging, location)
  await syncDirectory(dataDir)
  const buckets = { ...snapshot.buckets }
  return { from, createdAt: snapshot.createdAt, commit: snapshot.commit, buckets, ...(movedAside !== undefined ? { movedAside } : {}) }
}

/**
 * A coordinator answering on the address its `coordinator.json` names: a second check for when /proc/locks cannot
 * say (another mount namespace). Returns 0 (pid unknown) when one answers.
 */
async function runningCoordinator (dataDir: string, signal?: AbortSignal): Promise<number | undefined> {
  let http: string
  try {
    http = JSON.parse(await readFile(join(dataDir, 'coordinator.json'), 'utf8')).http
    if (typeof http !== 'string') return undefined
  } catch {
    return undefined
  }
  try {
    const timeout = AbortSignal.timeout(2_000)
    const response = await fetch(new URL('/api/health', http), { signal: signal !== undefined ? AbortSignal.any([signal, timeout]) : timeout })
    return response.ok ? 0 : undefined
  } catch {
    return undefined
  }
}

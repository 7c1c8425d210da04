/**
 * The byte level of the coordinator's store (Lodestar's "controller"): one LevelDB database, keys and values as text,
 * every value sealed with its own checksum, every write synchronous and counted.
 *
 * Writes go through one queue: whatever callers hand in while a write is on disk goes out together in the next
 * LevelDB batch (a group commit: one fsync for all of them, each caller's operations still atomic), and every batch
 * carries the next value of the commit counter. One writer at a time also keeps the counter in order, which
 * LevelDB's threads would not.
 */
import { mkdir } from 'node:fs/promises'
import { basename } from 'node:path'
import { Level } from 'level'
import { StoreIOError, StoreLockedError } from './errors.ts'
import { COMMIT_KEY, CommitSidecar, DatabaseDamage, SIDECAR, inspectDatabase, lockHolder, readSidecar } from './integrity.ts'
import { openRecord, sealRecord } from './record.ts'

/** One write of a batch: a full key (bucket prefix included) and the value's text, before sealing. */
export type StoreOp = { type: 'put', key: string, value: string } | { type: 'del', key: string }

export interface DatabaseOptions {
  /** The counter a new database starts from (a restore continues the snapshot's). Default 0. */
  startCommit?: number
}

/** How a store opened: what the start-up checks found. */
export interface OpenReport {
  /** Records per bucket, all verified against their checksums. */
  records: Record<string, number>
  commit: number
  /** A database from before checksums and the counter, sealed and counted now. */
  migrated: boolean
  created: boolean
}

interface Pending {
  ops: StoreOp[]
  resolve: () => void
  reject: (err: Error) => void
}

export class Database {
  readonly location: string
  readonly opened: OpenReport
  private readonly level: Level<string, string>
  private readonly sidecar: CommitSidecar
  private commitCount: number
  private queue: Pending[] = []
  private draining: Promise<void> | undefined
  private closed = false

  private constructor (location: string, level: Level<string, string>, opened: OpenReport) {
    this.location = location
    this.level = level
    this.opened = opened
    this.commitCount = opened.commit
    this.sidecar = new CommitSidecar(location)
    this.sidecar.record(opened.commit)
  }

  /**
   * Checks the files (see integrity.ts), opens LevelDB, and reads every record back against its checksum. Throws
   * `DatabaseDamage` naming the file or record, `StoreLockedError` when another process has it open, or
   * `StoreIOError`.
   */
  static async open (location: string, options: DatabaseOptions = {}): Promise<Database> {
    await refuseIfLocked(location)
    const files = await inspectDatabase(location)
    const sidecar = await readSidecar(location)
    if (sidecar === null) {
      throw new DatabaseDamage(SIDECAR, 'unreadable. If the machine lost power, the database itself may be whole: delete this file to start with the database as it is; otherwise restore')
    }
    if (sidecar !== undefined && (files.commit ?? 0) < sidecar) {
      // Bad bytes at the end of the newest log are where the writes were; without them, the log lost its end.
      const cause = files.newestLogEnd !== undefined ? `the log ends in ${files.newestLogEnd}` : 'a log was cut short or removed'
      throw new DatabaseDamage(
        files.newestLog ?? '.',
        `acknowledged writes are missing: the files end at commit ${files.commit ?? 0}, but ${SIDECAR} records ${sidecar}; ${cause}`
      )
    }
    if (!files.exists) await mkdir(location, { recursive: true, mode: 0o700 })
    const level = new Level<string, string>(location, { createIfMissing: !files.exists, keyEncoding: 'utf8', valueEncoding: 'utf8' })
    try {
      await level.open()
    } catch (err) {
      throw await openError(err, location)
    }
    try {
      const opened = await verify(level, files.commit, files.exists ? 0 : options.startCommit ?? 0)
      opened.created = !files.exists
      return new Database(location, level, opened)
    } catch (err) {
      await level.close()
      throw err
    }
  }

  /** The last commit on disk. */
  get commit (): number {
    return this.commitCount
  }

  /** The value under a full key. */
  async get (key: string): Promise<string | undefined> {
    const stored = await this.level.get(key)
    return stored === undefined ? undefined : unseal(key, stored)
  }

  /** Keys and values in key order within a range, from one consistent view of the database. */
  async * entries (range: { gte?: string, lt?: string } = {}): AsyncGenerator<[string, string]> {
    for await (const [key, stored] of this.level.iterator(range)) yield [key, unseal(key, stored)]
  }

  /** Every record as stored (sealed), from one consistent view: what a snapshot copies. */
  async * sealedEntries (): AsyncGenerator<[string, string]> {
    for await (const entry of this.level.iterator()) yield entry
  }

  /** Writes `ops` atomically and durably (fsync) with the next commit number. */
  async batch (ops: StoreOp[]): Promise<void> {
    if (this.closed) throw new StoreIOError('the store is closed: the coordinator is shutting down')
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ ops, resolve, reject })
      this.draining ??= this.drain()
    })
  }

  private async drain (): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0)
      const commit = this.commitCount + 1
      const ops = group.flatMap(pending => pending.ops).map(op => op.type === 'put' ? { ...op, value: sealRecord(op.key, op.value) } : op)
      ops.push({ type: 'put', key: COMMIT_KEY, value: sealRecord(COMMIT_KEY, String(commit)) })
      try {
        await this.level.batch(ops, { sync: true })
      } catch (err) {
        const failure = new StoreIOError(`writing to ${this.location} failed: ${(err as Error).message}`, { cause: err })
        for (const pending of group) pending.reject(failure)
        continue
      }
      this.commitCount = commit
      // After the sync, never before: the sidecar may lag the database, never lead it.
      this.sidecar.record(commit)
      for (const pending of group) pending.resolve()
    }
    this.draining = undefined
  }

  /** Waits for the writes in flight, then closes. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.draining
    this.sidecar.close()
    await this.level.close()
  }
}

/** Unseals a value read at run time; the start-up pass has read every record once already. */
function unseal (key: string, stored: string): string {
  const value = openRecord(key, stored)
  if (value === undefined) throw new DatabaseDamage(`record ${describeKey(key)}`, 'checksum mismatch: its bytes changed on disk', false)
  return value
}

/** `!jobs!job-1` → `jobs/job-1`. */
export function describeKey (key: string): string {
  const match = /^!([^!]*)!(.*)$/s.exec(key)
  return match === null ? key : `${match[1]}/${match[2]}`
}

/** The bucket of a full key (`!jobs!…` → `jobs`). */
export function bucketOf (key: string): string {
  return /^!([^!]*)!/.exec(key)?.[1] ?? ''
}

/**
 * Reads every record back against its checksum, and compares the counter LevelDB sees with the one found in its
 * files. A database from before checksums (no counter anywhere) is sealed and counted here, in one batch.
 */
async function verify (level: Level<string, string>, filesCommit: number | undefined, startCommit: number): Promise<OpenReport> {
  const stored = await level.get(COMMIT_KEY)
  const records: Record<string, number> = {}
  try {
    if (stored === undefined) {
      const ops: Array<{ type: 'put', key: string, value: string }> = []
      for await (const [key, value] of level.iterator()) {
        ops.push({ type: 'put', key, value: sealRecord(key, value) })
        records[bucketOf(key)] = (records[bucketOf(key)] ?? 0) + 1
      }
      const commit = startCommit + 1
      ops.push({ type: 'put', key: COMMIT_KEY, value: sealRecord(COMMIT_KEY, String(commit)) })
      await level.batch(ops, { sync: true })
      records.meta = (records.meta ?? 0) + 1
      return { records, commit, migrated: ops.length > 1, created: false }
    }
    const commit = Number(openRecord(COMMIT_KEY, stored))
    if (!Number.isSafeInteger(commit)) throw new DatabaseDamage(`record ${describeKey(COMMIT_KEY)}`, 'checksum mismatch: its bytes changed on disk', false)
    if (filesCommit !== undefined && commit < filesCommit) {
      throw new DatabaseDamage('.', `LevelDB's recovery lost writes: the files held commit ${filesCommit}, the database opened at ${commit}`, false)
    }
    for await (const [key, value] of level.iterator()) {
      if (openRecord(key, value) === undefined) throw new DatabaseDamage(`record ${describeKey(key)}`, 'checksum mismatch: its bytes changed on disk', false)
      records[bucketOf(key)] = (records[bucketOf(key)] ?? 0) + 1
    }
    return { records, commit, migrated: false, created: false }
  } catch (err: any) {
    if (err instanceof DatabaseDamage) throw err
    const cause = err?.cause ?? err
    if (cause?.code === 'LEVEL_CORRUPTION') throw new DatabaseDamage('.', `LevelDB reports ${String(cause.message)}`, false)
    throw err
  }
}

async function refuseIfLocked (location: string): Promise<void> {
  const pid = await lockHolder(location)
  if (pid !== undefined) throw lockedError(location, pid)
}

function lockedError (location: string, pid: number | undefined): StoreLockedError {
  const who = pid === undefined
    ? 'another process'
    : pid === process.pid ? 'this process (it already has the store open)' : `another coordinator (pid ${pid})`
  return new StoreLockedError(`${who} holds ${location}: stop it, or use another --data directory`, pid)
}

/** LevelDB's open errors as typed errors that name the file. */
async function openError (err: unknown, location: string): Promise<Error> {
  const cause = (err as any)?.cause ?? err
  const message = String(cause?.message ?? cause)
  if (cause?.code === 'LEVEL_LOCKED' || /\block\b.*(already held|temporarily unavailable)/i.test(message)) {
    return lockedError(location, await lockHolder(location))
  }
  // "…: /data/db/000005.ldb" or "IO error: /data/db/MANIFEST-000002: No such file or directory"
  const file = /([^\s/:]+\.(?:ldb|sst|log)|MANIFEST-\d+|CURRENT)\b/.exec(message)?.[1]
  if (cause?.code === 'LEVEL_CORRUPTION' || /No such file or directory/.test(message)) {
    return new DatabaseDamage(file !== undefined ? basename(file) : '.', `LevelDB cannot open it: ${message}`)
  }
  return new StoreIOError(`LevelDB cannot open ${location}: ${message}`, { cause: err })
}

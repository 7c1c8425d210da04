/**
 * The checks made before LevelDB opens the coordinator's database, because LevelDB silently drops what it cannot
 * read (a log with a bad record loses everything after it; a missing CURRENT starts an empty database and deletes
 * the tables) and opening it rewrites the evidence. Read only: when something is wrong, nothing has been changed.
 *
 * - CURRENT names a MANIFEST that exists and reads back whole; every table the MANIFEST lists exists, and every
 *   byte of it passes its block checksums; every live write-ahead log passes its record checksums. A record cut
 *   short at the very end of the newest log is what a crash in the middle of a write leaves: that write was never
 *   acknowledged (writes are synchronous), so it is not damage.
 * - The commit counter: every batch also writes `meta:commit = n`, and after the synced batch returns, n goes to the
 *   sidecar file `RUNSURGE-COMMIT` in the database directory. Fewer commits in the files than in the sidecar means
 *   acknowledged writes are gone (a log cut at a record boundary, or removed whole), which no checksum can show.
 *   The sidecar is written after the sync, so after a power loss it can only be behind, never ahead.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { openRecord } from './record.ts'
import { parseVersionEdit, parseWriteBatch, readLog, readTable, compareBytes } from './leveldb-format.ts'

/** Where the commit counter lives in the database (the `meta` bucket's `commit`). */
export const COMMIT_KEY = '!meta!commit'
/** The sidecar file, inside the database directory so that it moves with it. */
export const SIDECAR = 'RUNSURGE-COMMIT'

/** Damage found in one file of the database. */
export class DatabaseDamage extends Error {
  override name = 'DatabaseDamage'
  readonly file: string
  readonly problem: string
  /** False once LevelDB has opened the files (it may have rewritten its log into a table). */
  readonly untouched: boolean
  constructor (file: string, problem: string, untouched = true) {
    super(`${file}: ${problem}`)
    this.file = file
    this.problem = problem
    this.untouched = untouched
  }
}

export interface DatabaseFiles {
  /** False for a directory that holds no LevelDB files (yet). */
  exists: boolean
  /** The newest commit counter the files hold; absent in a database written before the counter. */
  commit?: number
  /** The newest write-ahead log, where lost writes would have been. */
  newestLog?: string
  /** What is wrong at its end, if anything: a torn write, or the place where lost writes were. */
  newestLogEnd?: string
}

const LEVELDB_FILE = /^(CURRENT|MANIFEST-\d+|\d+\.(log|ldb|sst))$/
const COMMIT_KEY_BYTES = new TextEncoder().encode(COMMIT_KEY)
const decoder = new TextDecoder('utf-8', { fatal: false })

/** Checks the LevelDB files in `location` without changing them; throws `DatabaseDamage` naming the file. */
export async function inspectDatabase (location: string): Promise<DatabaseFiles> {
  let names: string[]
  try {
    names = await readdir(location)
  } catch (err: any) {
    if (err?.code === 'ENOENT') return { exists: false }
    throw err
  }
  if (!names.some(name => LEVELDB_FILE.test(name))) return { exists: false }

  const live = await readManifest(location, names)
  const versions = await tableVersions(location, names, live.tables)
  const logs = await logVersions(location, names, live)
  versions.push(...logs.versions)

  const newest = versions.reduce<CommitVersion | undefined>((best, version) => best === undefined || version.sequence > best.sequence ? version : best, undefined)
  const where = { ...(logs.newestLog !== undefined ? { newestLog: logs.newestLog } : {}), ...(logs.newestLogEnd !== undefined ? { newestLogEnd: logs.newestLogEnd } : {}) }
  if (newest?.value === undefined) return { exists: true, ...where }
  const text = openRecord(COMMIT_KEY, decoder.decode(newest.value))
  const commit = text === undefined ? NaN : Number(text)
  if (!Number.isSafeInteger(commit)) throw new DatabaseDamage(newest.file, 'the commit counter record fails its checksum')
  return { exists: true, commit, ...where }
}

/** One version of the commit counter record, and the file it was found in. */
interface CommitVersion { sequence: number, value?: Uint8Array, file: string }

/** What the MANIFEST says is live: the table files (number → level) and the logs LevelDB would replay. */
interface LiveFiles { manifest: string, tables: Map<number, number>, logNumber: number, prevLogNumber: number }

/** Follows CURRENT to the MANIFEST and replays its edits. */
async function readManifest (location: string, names: string[]): Promise<LiveFiles> {
  if (!names.includes('CURRENT')) {
    throw new DatabaseDamage('CURRENT', 'missing (LevelDB would start an empty database over the existing files and delete its tables)')
  }
  const current = await readFile(join(location, 'CURRENT'), 'latin1')
  const manifest = /^(MANIFEST-\d+)\n$/.exec(current)?.[1]
  if (manifest === undefined) throw new DatabaseDamage('CURRENT', `does not name a MANIFEST (it holds ${JSON.stringify(current.slice(0, 40))})`)
  if (!names.includes(manifest)) throw new DatabaseDamage(manifest, 'missing (CURRENT names it: it lists the table files of the database)')

  const manifestLog = readLog(await readFile(join(location, manifest)))
  // LevelDB syncs every MANIFEST record: a record cut short is an edit never finished, a wrong one is damage.
  const manifestProblem = manifestLog.damage ?? (manifestLog.tail !== undefined && manifestLog.tail.cut !== true ? manifestLog.tail : undefined)
  if (manifestProblem !== undefined) throw new DatabaseDamage(manifest, at(manifestProblem))
  const live: LiveFiles = { manifest, tables: new Map(), logNumber: 0, prevLogNumber: 0 }
  manifestLog.records.forEach((record, i) => {
    let edit
    try {
      edit = parseVersionEdit(record)
    } catch (err) {
      throw new DatabaseDamage(manifest, `record ${i + 1} does not decode (${(err as Error).message})`)
    }
    if (edit.logNumber !== undefined) live.logNumber = edit.logNumber
    if (edit.prevLogNumber !== undefined) live.prevLogNumber = edit.prevLogNumber
    for (const file of edit.deletedFiles) live.tables.delete(file.number)
    for (const file of edit.newFiles) live.tables.set(file.number, file.level)
  })
  return live
}

/** Checks every live table whole; returns the versions of the commit counter they hold. */
async function tableVersions (location: string, names: string[], tables: Map<number, number>): Promise<CommitVersion[]> {
  const versions: CommitVersion[] = []
  for (const number of [...tables.keys()].sort((a, b) => a - b)) {
    const name = [`${pad(number)}.ldb`, `${pad(number)}.sst`].find(candidate => names.includes(candidate))
    if (name === undefined) throw new DatabaseDamage(`${pad(number)}.ldb`, 'missing (the MANIFEST lists this table file)')
    const table = readTable(await readFile(join(location, name)), COMMIT_KEY_BYTES)
    if (table.problem !== undefined) throw new DatabaseDamage(name, at(table.problem))
    for (const version of table.found) versions.push({ ...version, file: name })
  }
  return versions
}

/**
 * Checks the logs LevelDB would replay: the current one and the one before it (a crash during a memtable flush).
 * Returns the versions of the commit counter they hold, the newest log and what is wrong at its end.
 */
async function logVersions (location: string, names: string[], live: LiveFiles): Promise<{ versions: CommitVersion[], newestLog?: string, newestLogEnd?: string }> {
  const logs = names
    .map(name => /^(\d+)\.log$/.exec(name))
    .filter(match => match !== null)
    .map(match => ({ name: match[0], number: Number(match[1]) }))
    .filter(log => log.number >= live.logNumber || log.number === live.prevLogNumber)
    .sort((a, b) => a.number - b.number)
  const versions: CommitVersion[] = []
  let newestLogEnd: string | undefined
  for (const [i, log] of logs.entries()) {
    const contents = readLog(await readFile(join(location, log.name)))
    if (contents.tail !== undefined) newestLogEnd = at(contents.tail)
    if (contents.damage !== undefined) throw new DatabaseDamage(log.name, at(contents.damage))
    // Only the newest log is being written when a crash comes: an older one was complete when LevelDB left it.
    if (contents.tail !== undefined && i < logs.length - 1) throw new DatabaseDamage(log.name, at(contents.tail))
    contents.records.forEach((record, r) => {
      let entries
      try {
        entries = parseWriteBatch(record)
      } catch (err) {
        throw new DatabaseDamage(log.name, `record ${r + 1} does not decode (${(err as Error).message})`)
      }
      for (const entry of entries) {
        if (compareBytes(entry.key, COMMIT_KEY_BYTES) === 0) versions.push({ sequence: entry.sequence, ...(entry.value !== undefined ? { value: entry.value } : {}), file: log.name })
      }
    })
  }
  const newestLog = logs.at(-1)?.name
  return { versions, ...(newestLog !== undefined ? { newestLog } : {}), ...(newestLogEnd !== undefined ? { newestLogEnd } : {}) }
}

function at (problem: { offset: number, problem: string }): string {
  return `${problem.problem} at byte ${problem.offset}`
}

function pad (number: number): string {
  return String(number).padStart(6, '0')
}

/** Fixed width, so that overwriting in place never leaves the end of a longer number behind. */
const SIDECAR_WIDTH = 20

/** The sidecar's counter: `undefined` when there is none, `null` when it is there but unreadable. */
export async function readSidecar (location: string): Promise<number | undefined | null> {
  let text: string
  try {
    text = await readFile(join(location, SIDECAR), 'latin1')
  } catch (err: any) {
    if (err?.code === 'ENOENT') return undefined
    throw err
  }
  const match = new RegExp(`^(\\d{${SIDECAR_WIDTH}})\\n$`).exec(text)
  return match === null ? null : Number(match[1])
}

/**
 * Records the last acknowledged commit in the sidecar. Written in place with one `pwrite` and no fsync: a killed
 * process leaves it in the page cache, and a power loss can only leave it behind the database, never ahead.
 */
export class CommitSidecar {
  private fd: number | undefined
  constructor (location: string) {
    this.fd = openSync(join(location, SIDECAR), 'a+')
    // 'a+' creates without truncating; writes go through a second descriptor opened for positional writes.
    closeSync(this.fd)
    this.fd = openSync(join(location, SIDECAR), 'r+')
  }

  record (commit: number): void {
    if (this.fd === undefined) return
    writeSync(this.fd, Buffer.from(`${String(commit).padStart(SIDECAR_WIDTH, '0')}\n`, 'latin1'), 0, SIDECAR_WIDTH + 1, 0)
  }

  close (): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }
}

/**
 * The process holding LevelDB's LOCK in `location`, from /proc/locks (LevelDB takes a POSIX lock on it): so that
 * "another coordinator runs on this data directory" can name it. Undefined when nobody holds it or it cannot be told.
 */
export async function lockHolder (location: string): Promise<number | undefined> {
  try {
    const [lock, locks] = await Promise.all([stat(join(location, 'LOCK')), readFile('/proc/locks', 'latin1')])
    for (const line of locks.split('\n')) {
      // "1: POSIX  ADVISORY  WRITE 20686 fe:00:2148714 0 EOF" (lines with "->" are processes waiting for it)
      const fields = line.trim().split(/\s+/)
      if (fields[1] === '->') continue
      const index = fields.findIndex(field => /^[0-9a-f]+:[0-9a-f]+:\d+$/.test(field))
      if (index < 1) continue
      const [major, minor, inode] = fields[index]!.split(':')
      if (Number(inode) !== lock.ino || parseInt(major!, 16) !== devMajor(lock.dev) || parseInt(minor!, 16) !== devMinor(lock.dev)) continue
      const pid = Number(fields[index - 1])
      if (Number.isSafeInteger(pid) && pid > 0) return pid
    }
  } catch {}
  return undefined
}

// glibc's encoding of dev_t (sys/sysmacros.h).
function devMajor (dev: number): number {
  return (Math.floor(dev / 2 ** 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff)
}

function devMinor (dev: number): number {
  return (dev & 0xff) | (Math.floor(dev / 2 ** 12) & ~0xff)
}

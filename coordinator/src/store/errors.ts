/**
 * What can stop the coordinator's store, each with a message an operator can act on: what is wrong, which file,
 * whether anything was changed, and the way back.
 */

/**
 * The database's files are damaged or incomplete (a LevelDB log or table that fails its checksums, a missing
 * MANIFEST, a bad CURRENT, committed writes that are no longer there, a record whose checksum fails). The
 * coordinator refuses to start instead of letting LevelDB drop what it cannot read.
 */
export class StoreDamagedError extends Error {
  override name = 'StoreDamagedError'
  /** The damaged file (or the database directory when no single file is to blame). */
  readonly file: string
  /** What is wrong with it, in a few words. */
  readonly problem: string
  constructor (message: string, details: { file: string, problem: string }) {
    super(message)
    this.file = details.file
    this.problem = details.problem
  }
}

/** Another process (or another store in this one) has the database open: LevelDB's LOCK is held. */
export class StoreLockedError extends Error {
  override name = 'StoreLockedError'
  /** The holder's process id, when the system tells it (Linux: /proc/locks). */
  readonly pid?: number
  constructor (message: string, pid?: number) {
    super(message)
    if (pid !== undefined) this.pid = pid
  }
}

/** The database could not be opened or written for a reason that is not damage (permissions, a full disk…). */
export class StoreIOError extends Error {
  override name = 'StoreIOError'
}

/** A snapshot or backup file that cannot be restored: truncated, damaged, or not a snapshot at all. */
export class SnapshotError extends Error {
  override name = 'SnapshotError'
}

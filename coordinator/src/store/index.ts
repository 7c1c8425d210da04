/**
 * The coordinator's state in LevelDB: one database in `DATA/db`, one bucket (key prefix) per entity, values as JSON
 * sealed with their own checksum. Transitions that touch several entities go through `batch`, which LevelDB applies
 * atomically; every write is synchronous and counted (controller.ts), the files are checked before LevelDB opens them
 * (integrity.ts), and snapshots give the way back (snapshot.ts). See docs/operations.md.
 */
import { createHash } from 'node:crypto'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Database } from './controller.ts'
import { StoreDamagedError } from './errors.ts'
import { DatabaseDamage } from './integrity.ts'
import { JSON_CODEC, TEXT_CODEC } from './record.ts'
import { Repository } from './repository.ts'
import { SNAPSHOT_DIR, wayBack } from './snapshot.ts'
import type { DatabaseOptions, OpenReport, StoreOp } from './controller.ts'
import type { Codec } from './record.ts'

export { Repository } from './repository.ts'
export { SnapshotError, StoreDamagedError, StoreIOError, StoreLockedError } from './errors.ts'
export {
  DEFAULT_SNAPSHOT_INTERVAL, DEFAULT_SNAPSHOT_KEEP, SnapshotSchedule, listSnapshots, restoreSnapshot, verifySnapshot, writeSnapshot
} from './snapshot.ts'
export type { RestoreReport, SnapshotInfo, SnapshotScheduleOptions } from './snapshot.ts'
export type { OpenReport, StoreOp } from './controller.ts'
export type { Codec } from './record.ts'

export interface Account {
  id: string
  name: string
  role: 'admin' | 'user'
  createdAt: number
  /** argon2id PHC string; absent for accounts that only use API tokens (the bootstrap admin). Never sent out. */
  passwordHash?: string
}

/** A browser login, stored under the SHA-256 of the cookie's token (like API tokens). */
export interface SessionRecord {
  account: string
  createdAt: number
  expiresAt: number
}

/** An API token (for people and scripts) or an enrollment token (for nodes). Stored by hash only. */
export interface TokenRecord {
  kind: 'api' | 'enroll'
  account: string
  createdAt: number
  label: string
}

export interface NodeRecord {
  id: string
  peerId: string
  account: string
  cpus: number
  memoryBytes: number
  benchmark: number
  version: string
  registeredAt: number
  lastSeen: number
  /**
   * `removed`: its owner removed it, or revoked the token it enrolled with; its peer id is refused at every door until
   * the owner readmits it (which makes it `dead` until it registers again).
   */
  status: 'alive' | 'dead' | 'removed'
  /**
   * The key (`tokenKey`) of the enrollment token the node last registered with; the API shows only the token's id.
   * Absent on records from before nodes remembered their token.
   */
  token?: string
  /** When and why it was removed, while `removed`. */
  removal?: NodeRemoval
}

/** Why a node is refused: `removed` by its owner (DELETE /api/nodes/ID), or `token_revoked` (DELETE /api/tokens/ID). */
export interface NodeRemoval {
  reason: 'removed' | 'token_revoked'
  at: number
}

/** Tokens are looked up by the SHA-256 of their text, so a copy of the database does not leak them. */
export function tokenKey (token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** The coordinator's store: typed repositories over one checked, synchronously written LevelDB database. */
export class Store {
  /** The data directory (the database is its `db`). */
  readonly dataDir: string
  readonly accounts: Repository<Account>
  readonly tokens: Repository<TokenRecord>
  readonly sessions: Repository<SessionRecord>
  /** Unique-name index: lower-cased account name → account id. */
  readonly accountNames: Repository<string>
  readonly nodes: Repository<NodeRecord>
  /** Small settings: the admin account id, tokens, listen addresses, and the commit counter (`commit`). */
  readonly meta: Repository<string>
  private readonly database: Database

  private constructor (dataDir: string, database: Database) {
    this.dataDir = dataDir
    this.database = database
    this.accounts = this.repository<Account>('accounts')
    this.tokens = this.repository<TokenRecord>('tokens')
    this.sessions = this.repository<SessionRecord>('sessions')
    this.accountNames = this.repository('account-names', TEXT_CODEC)
    this.nodes = this.repository<NodeRecord>('nodes')
    this.meta = this.repository('meta', TEXT_CODEC)
  }

  /**
   * Opens (creating if needed) the store of a data directory, after checking its files and before reading every
   * record back against its checksum. Throws `StoreDamagedError` (naming the file and the way back),
   * `StoreLockedError` (another coordinator has it open) or `StoreIOError`.
   */
  static async open (dataDir: string, options: DatabaseOptions = {}): Promise<Store> {
    const location = join(dataDir, 'db')
    try {
      if (!await exists(location) && await usedBefore(dataDir)) {
        throw new DatabaseDamage('.', `missing, though ${dataDir} was used before (it holds coordinator.json or snapshots)`)
      }
      return new Store(dataDir, await Database.open(location, options))
    } catch (err) {
      if (!(err instanceof DatabaseDamage)) throw err
      const where = err.file === '.' ? '' : err.file.startsWith('record ') ? `${err.file}: ` : `LevelDB file ${err.file}: `
      const changed = err.untouched ? 'nothing was changed' : 'the coordinator did not start'
      throw new StoreDamagedError(
        `the coordinator's database in ${location} is damaged (${where}${err.problem}); ${changed}. ${await wayBack(dataDir)}`,
        { file: err.file === '.' || err.file.startsWith('record ') ? location : join(location, err.file), problem: err.problem }
      )
    }
  }

  /** A typed bucket; values are JSON unless another codec is given. */
  repository<T> (bucket: string, codec: Codec<T> = JSON_CODEC): Repository<T> {
    return new Repository(this.database, bucket, codec)
  }

  /** Applies operations of several repositories atomically and durably. */
  async batch (ops: StoreOp[]): Promise<void> {
    await this.database.batch(ops)
  }

  /** The commit counter: how many batches the database has taken. */
  get commit (): number {
    return this.database.commit
  }

  /** What the checks at open found (records per bucket, the counter, whether it was migrated). */
  get opened (): OpenReport {
    return this.database.opened
  }

  /** Every record as stored, from one consistent view (for snapshots). */
  sealedEntries (): AsyncGenerator<[string, string]> {
    return this.database.sealedEntries()
  }

  async close (): Promise<void> {
    await this.database.close()
  }
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

/** A data directory whose coordinator ran (or that had snapshots) must not quietly get an empty database. */
async function usedBefore (dataDir: string): Promise<boolean> {
  if (await exists(join(dataDir, 'coordinator.json'))) return true
  return (await readdir(join(dataDir, SNAPSHOT_DIR)).catch(() => [])).some(name => name.endsWith('.snapshot'))
}

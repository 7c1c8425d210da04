/**
 * The coordinator's state in LevelDB: one database in the data directory, one sublevel (bucket) per entity, values
 * as JSON. Transitions that touch several entities go through `batch`, which LevelDB applies atomically.
 */
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { Level } from 'level'
import type { AbstractSublevel } from 'abstract-level'

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

type Bucket<T> = AbstractSublevel<Level<string, string>, string | Buffer | Uint8Array, string, T>

/** A typed bucket of the store. */
export class Repository<T> {
  readonly bucket: Bucket<T>
  constructor (bucket: Bucket<T>) {
    this.bucket = bucket
  }

  async get (key: string): Promise<T | undefined> {
    return await this.bucket.get(key)
  }

  async put (key: string, value: T): Promise<void> {
    await this.bucket.put(key, value)
  }

  async del (key: string): Promise<void> {
    await this.bucket.del(key)
  }

  async * values (): AsyncGenerator<T> {
    for await (const value of this.bucket.values()) yield value
  }

  /** Key and value pairs in key order, optionally within a key range. */
  async * entries (range: { gte?: string, lt?: string } = {}): AsyncGenerator<[string, T]> {
    for await (const entry of this.bucket.iterator(range)) yield entry
  }

  /** A put operation for `Store.batch`. */
  putOp (key: string, value: T): { type: 'put', sublevel: Bucket<T>, key: string, value: T } {
    return { type: 'put', sublevel: this.bucket, key, value }
  }

  /** A delete operation for `Store.batch`. */
  delOp (key: string): { type: 'del', sublevel: Bucket<T>, key: string } {
    return { type: 'del', sublevel: this.bucket, key }
  }
}

/** Tokens are looked up by the SHA-256 of their text, so a copy of the database does not leak them. */
export function tokenKey (token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export class Store {
  readonly db: Level<string, string>
  readonly accounts: Repository<Account>
  readonly tokens: Repository<TokenRecord>
  readonly sessions: Repository<SessionRecord>
  /** Unique-name index: lower-cased account name → account id. */
  readonly accountNames: Repository<string>
  readonly nodes: Repository<NodeRecord>
  /** Small settings: the admin account id, schema version. */
  readonly meta: Repository<string>

  private constructor (db: Level<string, string>) {
    this.db = db
    this.accounts = new Repository(db.sublevel<string, Account>('accounts', { valueEncoding: 'json' }))
    this.tokens = new Repository(db.sublevel<string, TokenRecord>('tokens', { valueEncoding: 'json' }))
    this.sessions = new Repository(db.sublevel<string, SessionRecord>('sessions', { valueEncoding: 'json' }))
    this.accountNames = new Repository(db.sublevel<string, string>('account-names', { valueEncoding: 'utf8' }))
    this.nodes = new Repository(db.sublevel<string, NodeRecord>('nodes', { valueEncoding: 'json' }))
    this.meta = new Repository(db.sublevel<string, string>('meta', { valueEncoding: 'utf8' }))
  }

  static async open (dataDir: string): Promise<Store> {
    const db = new Level<string, string>(join(dataDir, 'db'))
    await db.open()
    return new Store(db)
  }

  /** Applies operations of several repositories atomically. */
  async batch (ops: Array<{ type: 'put', sublevel: Bucket<any>, key: string, value: unknown } | { type: 'del', sublevel: Bucket<any>, key: string }>): Promise<void> {
    await this.db.batch(ops as any)
  }

  async close (): Promise<void> {
    await this.db.close()
  }
}

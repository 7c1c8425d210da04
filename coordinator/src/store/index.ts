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
  status: 'alive' | 'dead'
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

  async * values (): AsyncGenerator<T> {
    for await (const value of this.bucket.values()) yield value
  }

  /** A put operation for `Store.batch`. */
  putOp (key: string, value: T): { type: 'put', sublevel: Bucket<T>, key: string, value: T } {
    return { type: 'put', sublevel: this.bucket, key, value }
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
  readonly nodes: Repository<NodeRecord>
  /** Small settings: the admin account id, schema version. */
  readonly meta: Repository<string>

  private constructor (db: Level<string, string>) {
    this.db = db
    this.accounts = new Repository(db.sublevel<string, Account>('accounts', { valueEncoding: 'json' }))
    this.tokens = new Repository(db.sublevel<string, TokenRecord>('tokens', { valueEncoding: 'json' }))
    this.nodes = new Repository(db.sublevel<string, NodeRecord>('nodes', { valueEncoding: 'json' }))
    this.meta = new Repository(db.sublevel<string, string>('meta', { valueEncoding: 'utf8' }))
  }

  static async open (dataDir: string): Promise<Store> {
    const db = new Level<string, string>(join(dataDir, 'db'))
    await db.open()
    return new Store(db)
  }

  /** Applies operations of several repositories atomically. */
  async batch (ops: Array<{ type: 'put', sublevel: Bucket<any>, key: string, value: unknown }>): Promise<void> {
    await this.db.batch(ops as any)
  }

  async close (): Promise<void> {
    await this.db.close()
  }
}

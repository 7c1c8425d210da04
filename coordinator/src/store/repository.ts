/**
 * A typed bucket of the coordinator's store: keys under `!<bucket>!` (the layout abstract-level's sublevels used, so
 * databases written before keep working), values through a codec. Every write goes through the store's single
 * synchronous, counted batch path.
 */
import type { Codec } from './record.ts'
import type { Database, StoreOp } from './controller.ts'

export class Repository<T> {
  readonly bucket: string
  private readonly database: Database
  private readonly codec: Codec<T>
  private readonly prefix: string
  /** The first key after the bucket ('"' follows '!'). */
  private readonly end: string

  constructor (database: Database, bucket: string, codec: Codec<T>) {
    if (bucket.includes('!')) throw new TypeError(`a bucket name cannot contain "!": ${bucket}`)
    this.database = database
    this.bucket = bucket
    this.codec = codec
    this.prefix = `!${bucket}!`
    this.end = `!${bucket}"`
  }

  async get (key: string): Promise<T | undefined> {
    const text = await this.database.get(this.prefix + key)
    return text === undefined ? undefined : this.codec.decode(text)
  }

  /** One write: its own synchronous batch (use `Store.batch` with `putOp`s for a transition that touches several). */
  async put (key: string, value: T): Promise<void> {
    await this.database.batch([this.putOp(key, value)])
  }

  async del (key: string): Promise<void> {
    await this.database.batch([this.delOp(key)])
  }

  async * values (): AsyncGenerator<T> {
    for await (const [, value] of this.entries()) yield value
  }

  /** Key and value pairs in key order, optionally within a key range. */
  async * entries (range: { gte?: string, lt?: string } = {}): AsyncGenerator<[string, T]> {
    const bounds = { gte: this.prefix + (range.gte ?? ''), lt: range.lt !== undefined ? this.prefix + range.lt : this.end }
    for await (const [key, text] of this.database.entries(bounds)) yield [key.slice(this.prefix.length), this.codec.decode(text)]
  }

  /** A put operation for `Store.batch`. */
  putOp (key: string, value: T): StoreOp {
    return { type: 'put', key: this.prefix + key, value: this.codec.encode(value) }
  }

  /** A delete operation for `Store.batch`. */
  delOp (key: string): StoreOp {
    return { type: 'del', key: this.prefix + key }
  }
}

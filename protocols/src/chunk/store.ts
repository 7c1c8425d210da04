/**
 * A content-addressed chunk store: chunk bytes as files on disk (`blocks/<cid>`), an index in LevelDB. CIDs are
 * CIDv1, raw codec, sha2-256 — the hash is computed while the bytes stream in, so nothing is buffered whole.
 */
import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Level } from 'level'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { MAX_CHUNK_SIZE } from './constants.ts'
import { ChunkIntegrityError, ChunkNotFoundError } from './errors.ts'
import type { AbortOptions } from '@libp2p/interface'

/**
 * How many bytes `put` queues for the disk before it stops pulling from its source. Received pieces arrive as several
 * buffers; with the default 16 KiB every buffer waited for its own write, with room for a few pieces they are written
 * together (one `writev`) while the next ones arrive.
 */
const WRITE_BUFFER = 4 * 1024 * 1024

/** What the index keeps of a chunk. */
export interface ChunkInfo {
  cid: string
  size: number
  storedAt: number
}

export interface PutOptions extends AbortOptions {
  /** When given, the bytes must hash to this CID or nothing is stored and `ChunkIntegrityError` is raised. */
  expected?: CID
  /** Refuse more than this many bytes (default `MAX_CHUNK_SIZE`). */
  maxSize?: number
}

/** Computes the CID of some bytes (CIDv1, raw, sha2-256). */
export function cidOf (bytes: Uint8Array): CID {
  return CID.createV1(raw.code, Digest.create(sha256.code, createHash('sha256').update(bytes).digest()))
}

/** Parses a CID string, raising a clear error for junk. */
export function parseCid (text: string): CID {
  try {
    return CID.parse(text)
  } catch {
    throw new ChunkNotFoundError(`not a valid CID: ${JSON.stringify(text.slice(0, 100))}`)
  }
}

export class ChunkStore {
  private readonly dir: string
  private readonly index: Level<string, ChunkInfo>

  private constructor (dir: string) {
    this.dir = dir
    this.index = new Level<string, ChunkInfo>(join(dir, 'index'), { valueEncoding: 'json' })
  }

  /** Opens (creating if needed) the store in `dir`. */
  static async open (dir: string): Promise<ChunkStore> {
    await mkdir(join(dir, 'blocks'), { recursive: true })
    await mkdir(join(dir, 'incoming'), { recursive: true })
    const store = new ChunkStore(dir)
    await store.index.open()
    return store
  }

  async close (): Promise<void> {
    await this.index.close()
  }

  /** Stores bytes (a buffer or a stream of pieces) and returns their CID. */
  async put (source: Uint8Array | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<CID> {
    const maxSize = options.maxSize ?? MAX_CHUNK_SIZE
    const incoming = join(this.dir, 'incoming', randomUUID())
    const hash = createHash('sha256')
    let size = 0
    try {
      const pieces = source instanceof Uint8Array ? [source] : source
      await pipeline(async function * () {
        for await (const piece of pieces) {
          size += piece.byteLength
          if (size > maxSize) throw new ChunkIntegrityError(`chunk larger than the limit of ${maxSize} bytes`)
          hash.update(piece)
          yield piece
        }
      }, createWriteStream(incoming, { highWaterMark: WRITE_BUFFER }), { signal: options.signal })
      const cid = CID.createV1(raw.code, Digest.create(sha256.code, hash.digest()))
      if (options.expected != null && !cid.equals(options.expected)) {
        throw new ChunkIntegrityError(`received bytes hash to ${cid.toString()}, not ${options.expected.toString()}`)
      }
      await rename(incoming, this.blockPath(cid))
      await this.index.put(cid.toString(), { cid: cid.toString(), size, storedAt: Date.now() })
      return cid
    } finally {
      await rm(incoming, { force: true })
    }
  }

  async has (cid: CID): Promise<boolean> {
    return (await this.index.get(cid.toString())) !== undefined
  }

  /** The index entry of a chunk; raises `ChunkNotFoundError` when absent. */
  async info (cid: CID): Promise<ChunkInfo> {
    const info = await this.index.get(cid.toString())
    if (info === undefined) throw new ChunkNotFoundError(`chunk ${cid.toString()} is not in this store`)
    return info
  }

  /** Streams a chunk's bytes in pieces of at most `pieceSize`. */
  async * get (cid: CID, options: AbortOptions & { pieceSize?: number } = {}): AsyncGenerator<Uint8Array> {
    await this.info(cid)
    const stream = createReadStream(this.blockPath(cid), { highWaterMark: options.pieceSize ?? 64 * 1024, signal: options.signal })
    for await (const piece of stream) yield piece as Uint8Array
  }

  /** Reads a whole chunk into memory: only for small chunks and tests. */
  async read (cid: CID, options: AbortOptions = {}): Promise<Uint8Array> {
    const pieces: Uint8Array[] = []
    for await (const piece of this.get(cid, options)) pieces.push(piece)
    return Buffer.concat(pieces)
  }

  /** Copies a chunk into a file (a task's input). */
  async export (cid: CID, path: string, options: AbortOptions = {}): Promise<void> {
    await pipeline(this.get(cid, options), createWriteStream(path), { signal: options.signal })
  }

  /** The path of the chunk's file; callers must not modify it. */
  blockPath (cid: CID): string {
    return join(this.dir, 'blocks', cid.toString())
  }

  async delete (cid: CID): Promise<void> {
    await this.index.del(cid.toString())
    await rm(this.blockPath(cid), { force: true })
  }

  /** Every chunk in the store. */
  async * list (): AsyncGenerator<ChunkInfo> {
    for await (const info of this.index.values()) yield info
  }

  /** Checks a stored chunk against its CID (detects on-disk corruption). */
  async verify (cid: CID): Promise<boolean> {
    const hash = createHash('sha256')
    await pipeline(this.get(cid), new Writable({ write (piece, _enc, done) { hash.update(piece); done() } }))
    return Buffer.from(cid.multihash.digest).equals(hash.digest())
  }

  async size (cid: CID): Promise<number> {
    return (await stat(this.blockPath(cid))).size
  }
}

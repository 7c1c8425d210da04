/**
 * A content-addressed chunk store: chunk bytes as files on disk (`blocks/<cid>`), an index in LevelDB. CIDs are
 * CIDv1, raw codec, sha2-256 — the hash is computed while the bytes stream in, so nothing is buffered whole.
 *
 * Nothing on disk is trusted: every read hashes the bytes as it goes and compares them with the CID at the end. A
 * block that does not match (a damaged disk, a hand edit) is deleted with its index entry, counted, reported through
 * `onCorrupt`, and the read fails with `ChunkIntegrityError`, so the caller fetches the chunk again from the mesh.
 */
import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, open, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Level } from 'level'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { MAX_CHUNK_SIZE, PIECE_SIZE } from './constants.ts'
import { ChunkIntegrityError, ChunkNotFoundError } from './errors.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { FileHandle } from 'node:fs/promises'

/**
 * How many bytes `put` gathers before writing them (one `writev`); the next batch gathers while one is written. Received
 * pieces arrive as many buffers (one per noise message): written one by one, each waited for its own write.
 */
const WRITE_BATCH = 4 * 1024 * 1024

/** `get`'s default piece size: small enough for a consumer that only looks at the start of a chunk. */
const DEFAULT_GET_PIECE = 64 * 1024

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

/** A stored block found not to match its CID, and deleted. */
export interface CorruptChunk {
  cid: CID
  /** The block's file. */
  path: string
  /** What was wrong: the bytes hash to another CID, the file has the wrong size, or it is gone. */
  reason: string
}

export interface ChunkStoreOptions {
  /** Called for each corrupt block found (after it was deleted), e.g. to log it. Default: nothing. */
  onCorrupt?(event: CorruptChunk): void
}

/** Computes the CID of some bytes (CIDv1, raw, sha2-256). */
export function cidOf (bytes: Uint8Array): CID {
  return cidOfDigest(createHash('sha256').update(bytes).digest())
}

function cidOfDigest (digest: Uint8Array): CID {
  return CID.createV1(raw.code, Digest.create(sha256.code, digest))
}

/** Parses a CID string, raising a clear error for junk. */
export function parseCid (text: string): CID {
  try {
    return CID.parse(text)
  } catch {
    throw new ChunkNotFoundError(`not a valid CID: ${JSON.stringify(text.slice(0, 100))}`)
  }
}

/** A block opened for reading: the file, what the index says of it, and the inode read (to delete only that file). */
interface OpenBlock {
  handle: FileHandle
  info: ChunkInfo
  inode: number
}

export class ChunkStore {
  private readonly dir: string
  private readonly index: Level<string, ChunkInfo>
  private readonly onCorrupt: ((event: CorruptChunk) => void) | undefined
  /** Per CID, the last of the changes to its block and index entry, which run one after the other. */
  private readonly changes = new Map<string, Promise<void>>()
  private corrupt = 0

  private constructor (dir: string, options: ChunkStoreOptions) {
    this.dir = dir
    this.index = new Level<string, ChunkInfo>(join(dir, 'index'), { valueEncoding: 'json' })
    this.onCorrupt = options.onCorrupt
  }

  /** Opens (creating if needed) the store in `dir`. */
  static async open (dir: string, options: ChunkStoreOptions = {}): Promise<ChunkStore> {
    await mkdir(join(dir, 'blocks'), { recursive: true })
    await mkdir(join(dir, 'incoming'), { recursive: true })
    const store = new ChunkStore(dir, options)
    await store.index.open()
    return store
  }

  async close (): Promise<void> {
    await this.index.close()
  }

  /** How many corrupt blocks this store found (and deleted) since it was opened. */
  get corruptBlocks (): number {
    return this.corrupt
  }

  /**
   * Stores bytes (a buffer or a stream of pieces, each one buffer or several, e.g. a received `Uint8ArrayList`) and
   * returns their CID.
   */
  async put (source: Uint8Array | AsyncIterable<Uint8Array | Iterable<Uint8Array>>, options: PutOptions = {}): Promise<CID> {
    const maxSize = options.maxSize ?? MAX_CHUNK_SIZE
    const incoming = join(this.dir, 'incoming', randomUUID())
    const hash = createHash('sha256')
    let size = 0
    try {
      const file = await open(incoming, 'w')
      try {
        const batches = new BatchWriter(file)
        for await (const piece of source instanceof Uint8Array ? [source] : source) {
          options.signal?.throwIfAborted()
          for (const buf of piece instanceof Uint8Array ? [piece] : piece) {
            size += buf.byteLength
            if (size > maxSize) throw new ChunkIntegrityError(`chunk larger than the limit of ${maxSize} bytes`)
            hash.update(buf)
            await batches.add(buf)
          }
        }
        await batches.end()
      } finally {
        await file.close()
      }
      const cid = cidOfDigest(hash.digest())
      const expected = options.expected
      if (expected != null && !cid.equals(expected)) {
        throw new ChunkIntegrityError(`received bytes hash to ${cid.toString()}, not ${String(expected)}`)
      }
      await this.change(cid, async () => {
        await rename(incoming, this.blockPath(cid))
        await this.index.put(cid.toString(), { cid: cid.toString(), size, storedAt: Date.now() })
      })
      return cid
    } finally {
      await rm(incoming, { force: true })
    }
  }

  /**
   * Whether the chunk is here. A block whose file is gone or has another size than the index says is not: it is
   * deleted and counted as corrupt, so that a fetch replaces it. (One `stat`; the content is checked when read.)
   */
  async has (cid: CID): Promise<boolean> {
    const info = await this.index.get(cid.toString())
    if (info === undefined) return false
    const file = await statIfPresent(this.blockPath(cid))
    if (file?.size === info.size) return true
    const reason = file === undefined ? 'its file is gone' : `its file holds ${file.size} bytes, not ${info.size}`
    await this.discard(cid, file?.ino, reason)
    return false
  }

  /** The index entry of a chunk; raises `ChunkNotFoundError` when absent. */
  async info (cid: CID): Promise<ChunkInfo> {
    const info = await this.index.get(cid.toString())
    if (info === undefined) throw new ChunkNotFoundError(`chunk ${cid.toString()} is not in this store`)
    return info
  }

  /**
   * Streams a chunk's bytes in pieces of at most `pieceSize`, hashing them on the way. The last piece is held back
   * until the whole chunk matched its CID: a corrupt block ends the stream with `ChunkIntegrityError` (and is
   * deleted) before the consumer has all of it. What a consumer got before such an error must not be used.
   */
  async * get (cid: CID, options: AbortOptions & { pieceSize?: number } = {}): AsyncGenerator<Uint8Array> {
    const pieceSize = options.pieceSize ?? DEFAULT_GET_PIECE
    if (!Number.isSafeInteger(pieceSize) || pieceSize < 1) throw new RangeError(`pieceSize must be a positive integer, not ${pieceSize}`)
    const block = await this.openBlock(cid)
    try {
      let held: Uint8Array | undefined
      const pieces = this.verified(cid, block, { ...options, pieceSize })
      for await (const piece of pieces) {
        if (held !== undefined) yield held
        held = piece
      }
      if (held !== undefined) yield held
    } finally {
      await block.handle.close()
    }
  }

  /** Reads a whole chunk into memory (one buffer of its size), verified against its CID. */
  async read (cid: CID, options: AbortOptions = {}): Promise<Uint8Array> {
    const block = await this.openBlock(cid)
    try {
      const bytes = Buffer.allocUnsafe(block.info.size)
      const into = (offset: number, length: number): Uint8Array => bytes.subarray(offset, offset + length)
      await drain(this.verified(cid, block, { ...options, pieceSize: PIECE_SIZE, into }))
      return bytes
    } finally {
      await block.handle.close()
    }
  }

  /** Copies a chunk into a file (a task's input), verified against its CID; on any failure the file is removed. */
  async export (cid: CID, path: string, options: AbortOptions = {}): Promise<void> {
    try {
      await pipeline(this.get(cid, { ...options, pieceSize: PIECE_SIZE }), createWriteStream(path), { signal: options.signal })
    } catch (err) {
      await rm(path, { force: true })
      throw err
    }
  }

  /** The path of the chunk's file; callers must not modify it. */
  blockPath (cid: CID): string {
    return join(this.dir, 'blocks', cid.toString())
  }

  async delete (cid: CID): Promise<void> {
    await this.change(cid, async () => {
      await this.index.del(cid.toString())
      await rm(this.blockPath(cid), { force: true })
    })
  }

  /** Every chunk in the store. */
  async * list (): AsyncGenerator<ChunkInfo> {
    for await (const info of this.index.values()) yield info
  }

  /**
   * Checks a stored chunk against its CID (detects on-disk corruption). A corrupt block is deleted and counted, as
   * on any read.
   */
  async verify (cid: CID, options: AbortOptions = {}): Promise<boolean> {
    try {
      await drain(this.get(cid, { ...options, pieceSize: PIECE_SIZE }))
      return true
    } catch (err: any) {
      if (err?.name === 'ChunkIntegrityError') return false
      throw err
    }
  }

  async size (cid: CID): Promise<number> {
    return (await stat(this.blockPath(cid))).size
  }

  /** Opens a block for reading; a missing file or one of the wrong size is corrupt (deleted, raises). */
  private async openBlock (cid: CID): Promise<OpenBlock> {
    const info = await this.info(cid)
    let handle: FileHandle
    try {
      handle = await open(this.blockPath(cid), 'r')
    } catch (err: any) {
      if (err?.code === 'ENOENT') return await this.corrupted(cid, undefined, 'its file is gone')
      throw err
    }
    try {
      const file = await handle.stat()
      if (file.size !== info.size) return await this.corrupted(cid, file.ino, `its file holds ${file.size} bytes, not ${info.size}`)
      return { handle, info, inode: file.ino }
    } catch (err) {
      await handle.close()
      throw err
    }
  }

  /**
   * The block's pieces, each hashed before it is yielded, the next one already being read meanwhile (the disk and
   * the hash overlap: a 64 MiB `read` takes no longer in wall time than without hashing); ends with the comparison
   * against the CID, which raises for a corrupt block. `into` gives the buffer a piece is read into (default a new one).
   */
  private async * verified (cid: CID, block: OpenBlock, options: AbortOptions & { pieceSize: number, into?(offset: number, length: number): Uint8Array }): AsyncGenerator<Uint8Array> {
    const { size } = block.info
    const hash = createHash('sha256')
    const into = options.into ?? ((_offset: number, length: number) => Buffer.allocUnsafe(length))
    const readPiece = async (offset: number): Promise<Uint8Array> => {
      const piece = into(offset, Math.min(options.pieceSize, size - offset))
      await this.readAt(cid, block, piece, offset)
      return piece
    }
    const ahead = (offset: number): Promise<Uint8Array> | undefined => {
      if (offset >= size) return undefined
      const reading = readPiece(offset)
      // Handled when awaited; until then a failure must not count as an unhandled rejection.
      reading.catch(() => {})
      return reading
    }
    let next = ahead(0)
    try {
      for (let offset = 0; next !== undefined; offset += options.pieceSize) {
        const piece = await next
        options.signal?.throwIfAborted()
        next = ahead(offset + options.pieceSize)
        hash.update(piece)
        yield piece
      }
    } finally {
      // A consumer that stops early leaves one read under way: it ends before the file is closed, and its failure
      // (a short file, already handled as corrupt) must not go unhandled.
      await next?.catch(() => {})
    }
    const digest = hash.digest()
    if (!Buffer.from(cid.multihash.digest).equals(digest)) {
      await this.corrupted(cid, block.inode, `its bytes hash to ${cidOfDigest(digest).toString()}`)
    }
  }

  /** Fills `target` from the block at `position`; a file that ends early is corrupt. */
  private async readAt (cid: CID, block: OpenBlock, target: Uint8Array, position: number): Promise<void> {
    let filled = 0
    while (filled < target.byteLength) {
      const { bytesRead } = await block.handle.read(target, filled, target.byteLength - filled, position + filled)
      if (bytesRead === 0) await this.corrupted(cid, block.inode, `its file ended after ${position + filled} of ${block.info.size} bytes`)
      filled += bytesRead
    }
  }

  private async corrupted (cid: CID, inode: number | undefined, reason: string): Promise<never> {
    if (!(await this.discard(cid, inode, reason))) throw new ChunkNotFoundError(`chunk ${cid.toString()} is not in this store`)
    throw new ChunkIntegrityError(`chunk ${cid.toString()} in this store (${this.blockPath(cid)}) is corrupt: ${reason}; the block was deleted, fetch the chunk again`)
  }

  /**
   * Deletes a corrupt block and its index entry, counts it and reports it. Only the file that was read (`inode`, or
   * none when it was gone) is deleted: a good copy stored in the meantime by a fetch stays. Returns false when there
   * was nothing corrupt after all: a file found gone whose index entry `delete` has removed meanwhile.
   */
  private async discard (cid: CID, inode: number | undefined, reason: string): Promise<boolean> {
    const path = this.blockPath(cid)
    let deletedOnPurpose = false
    await this.change(cid, async () => {
      const now = await statIfPresent(path)
      if (now !== undefined && now.ino !== inode) return
      if (inode === undefined && now === undefined && (await this.index.get(cid.toString())) === undefined) {
        deletedOnPurpose = true
        return
      }
      await this.index.del(cid.toString())
      await rm(path, { force: true })
    })
    if (deletedOnPurpose) return false
    this.corrupt++
    this.onCorrupt?.({ cid, path, reason })
    return true
  }

  /** Runs `change` after every earlier change of this CID's block and index entry has ended. */
  private async change (cid: CID, change: () => Promise<void>): Promise<void> {
    const key = cid.toString()
    const run = (this.changes.get(key) ?? Promise.resolve()).then(change)
    const settled = run.catch(() => {})
    this.changes.set(key, settled)
    try {
      await run
    } finally {
      if (this.changes.get(key) === settled) this.changes.delete(key)
    }
  }
}

/**
 * Appends buffers to a file in batches of `WRITE_BATCH` bytes: `add` returns at once unless a full batch has to wait
 * for the previous write, so receiving and writing overlap, with at most two batches in memory.
 */
class BatchWriter {
  private readonly file: FileHandle
  private batch: Uint8Array[] = []
  private batched = 0
  private writing: Promise<void> = Promise.resolve()

  constructor (file: FileHandle) {
    this.file = file
  }

  async add (buf: Uint8Array): Promise<void> {
    this.batch.push(buf)
    this.batched += buf.byteLength
    if (this.batched >= WRITE_BATCH) await this.flush()
  }

  /** Writes what is left and waits for every write. */
  async end (): Promise<void> {
    await this.flush()
    await this.writing
  }

  private async flush (): Promise<void> {
    await this.writing
    const batch = this.batch
    const length = this.batched
    this.batch = []
    this.batched = 0
    if (length === 0) return
    this.writing = this.file.writev(batch).then(({ bytesWritten }) => {
      if (bytesWritten !== length) throw new Error(`wrote ${bytesWritten} of ${length} bytes`)
    })
    // Awaited by the next flush or by end; a failure meanwhile must not count as unhandled.
    this.writing.catch(() => {})
  }
}

async function drain (source: AsyncIterable<unknown>): Promise<void> {
  const iterator = source[Symbol.asyncIterator]()
  while (!(await iterator.next()).done);
}

async function statIfPresent (path: string): Promise<{ size: number, ino: number } | undefined> {
  try {
    return await stat(path)
  } catch (err: any) {
    if (err?.code === 'ENOENT') return undefined
    throw err
  }
}

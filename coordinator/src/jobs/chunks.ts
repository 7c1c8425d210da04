/**
 * The coordinator's job data in its chunk store: inputs cut into chunks and announced in the DHT (a few
 * announcements at a time), results read back, and everything unfinished announced again after a restart.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import PQueue from 'p-queue'
import { cutParts, parseCid } from '../../../protocols/src/index.ts'
import { INPUT_CHUNK_SIZE } from './policy.ts'
import type { ChunkIO } from './reports.ts'
import type { Mesh } from '../plugins/mesh.ts'
import type { FastifyBaseLogger } from 'fastify'

/** DHT announcements of input chunks running at once. */
const ANNOUNCE_CONCURRENCY = 16

export class JobChunks implements ChunkIO {
  private readonly mesh: Mesh
  private readonly log: FastifyBaseLogger
  /** DHT announcements of input chunks, a few at a time. */
  private readonly announcements = new PQueue({ concurrency: ANNOUNCE_CONCURRENCY })

  constructor (mesh: Mesh, log: FastifyBaseLogger) {
    this.mesh = mesh
    this.log = log
  }

  close (): void {
    this.announcements.clear()
  }

  async read (cid: string): Promise<Uint8Array> {
    // Verified against its CID; a corrupt local copy is deleted and fetched again from the mesh.
    return await this.mesh.chunks.read(parseCid(cid))
  }

  async put (bytes: Uint8Array): Promise<string> {
    return (await this.mesh.chunks.store.put(bytes)).toString()
  }

  /**
   * Stores one input chunk and announces it in the DHT in the background, a few announcements at a time: each walks
   * the DHT, and a job of 10,000 chunks announcing all of them at once took the coordinator 42 s to submit. Until a
   * chunk is announced, nodes that find no provider fetch it from the coordinator itself.
   */
  async store (bytes: Uint8Array): Promise<string> {
    const cid = await this.mesh.chunks.store.put(bytes)
    this.announcements.add(async () => { await this.mesh.chunks.provide(cid) })
      .catch(err => { this.log.warn({ err: err?.message, cid: cid.toString() }, 'could not provide an input chunk') })
    return cid.toString()
  }

  /**
   * Announces again, in the background, chunks that unfinished tasks need: DHT provider records live in memory, so
   * after a restart the mesh no longer knows the coordinator holds them.
   */
  reprovide (cids: Iterable<string>): void {
    for (const cid of cids) {
      const parsed = parseCid(cid)
      this.announcements.add(async () => {
        if (await this.mesh.chunks.store.has(parsed)) await this.mesh.chunks.provide(parsed)
      }).catch(err => { this.log.debug({ cid, err: err?.message }, 'could not announce a chunk again') })
    }
  }

  /**
   * Splits a file into `parts` parts of about equal size, each ending on a line boundary (fewer when lines are
   * longer than a part), and stores each part as chunks of at most 8 MiB. Streams: never a whole part in memory.
   */
  async storeSplit (path: string, parts: number): Promise<string[][]> {
    const size = (await stat(path)).size
    const stored: string[][] = []
    let pending: Buffer[] = []
    let pendingBytes = 0
    let current = -1
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return
      stored[current]?.push(await this.store(Buffer.concat(pending)))
      pending = []
      pendingBytes = 0
    }
    for await (const { part, bytes } of cutParts(createReadStream(path), size, parts)) {
      if (part !== current) {
        await flush()
        current = part
        stored[current] = []
      }
      let rest = bytes
      while (rest.byteLength > 0) {
        const take = Math.min(rest.byteLength, INPUT_CHUNK_SIZE - pendingBytes)
        pending.push(Buffer.from(rest.subarray(0, take)))
        pendingBytes += take
        rest = rest.subarray(take)
        if (pendingBytes === INPUT_CHUNK_SIZE) await flush()
      }
    }
    await flush()
    return stored.filter(cids => cids.length > 0)
  }

  /** The header row of a csv file, stored as its own chunk. */
  async storeHeader (path: string): Promise<string> {
    let header = Buffer.alloc(0)
    for await (const piece of createReadStream(path, { highWaterMark: 64 * 1024 })) {
      header = Buffer.concat([header, piece as Buffer])
      const end = header.indexOf(0x0a)
      if (end >= 0) {
        header = header.subarray(0, end + 1)
        break
      }
    }
    return await this.store(header)
  }
}

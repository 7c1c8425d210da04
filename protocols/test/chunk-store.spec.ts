import { readFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  ChunkIntegrityError, ChunkNotFoundError, ChunkStore, NoProviderError, chunkExchange, cidOf, parseCid, splitRecords
} from '../src/index.ts'
import { corruptInPlace, tempDir } from '../../test/helpers/index.ts'
import type { ChunkExchange, CorruptChunk, FetchProgress } from '../src/index.ts'
import type { Connection, PeerId, PeerInfo, StreamHandler } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

async function * pieces (...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part)
}

async function collect (source: AsyncIterable<Uint8Array>): Promise<string[]> {
  const chunks: string[] = []
  for await (const chunk of source) chunks.push(Buffer.from(chunk).toString('utf8'))
  return chunks
}

/** `count` lines of digits: text in which a changed digit is the kind of damage nothing but the hash notices. */
function digits (count: number): Uint8Array {
  return new TextEncoder().encode(Array.from({ length: count }, (_, i) => `${(i * 7919) % 100_003}\n`).join(''))
}

describe('ChunkStore', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let store: ChunkStore

  beforeEach(async () => {
    dir = await tempDir()
    store = await ChunkStore.open(dir.path)
  })
  afterEach(async () => {
    await store.close()
    await dir.remove()
  })

  it('stores streamed bytes under the CID of their content (CIDv1, raw, sha2-256)', async () => {
    const cid = await store.put(pieces('hello ', 'mesh'))
    expect(cid.equals(cidOf(new TextEncoder().encode('hello mesh')))).toBe(true)
    expect(cid.version).toBe(1)
    expect(cid.code).toBe(0x55)
    expect(cid.multihash.code).toBe(0x12)
    expect(Buffer.from(await store.read(cid)).toString()).toBe('hello mesh')
    expect(await readFile(store.blockPath(cid), 'utf8')).toBe('hello mesh')
    expect((await store.info(cid)).size).toBe(10)
  })

  it('refuses bytes that do not match the expected CID and keeps nothing', async () => {
    const expected = cidOf(new TextEncoder().encode('the real thing'))
    await expect(store.put(pieces('a forgery'), { expected })).rejects.toBeInstanceOf(ChunkIntegrityError)
    expect(await store.has(expected)).toBe(false)
    const listed = []
    for await (const info of store.list()) listed.push(info)
    expect(listed).toEqual([])
  })

  it('stores pieces given as lists of buffers, over several write batches, byte for byte', async () => {
    const bytes = digits(1_500_000) // ~10 MiB: more than two 4 MiB batches
    async function * lists (): AsyncGenerator<Uint8Array[]> {
      // Pieces of uneven buffers, as received messages cut them.
      for (let offset = 0; offset < bytes.byteLength; offset += 1_000_003) {
        const piece = bytes.subarray(offset, offset + 1_000_003)
        yield [piece.subarray(0, 7), piece.subarray(7, 65_543), piece.subarray(65_543)]
      }
    }
    const cid = await store.put(lists(), { expected: cidOf(bytes) })
    expect(Buffer.from(await readFile(store.blockPath(cid))).equals(bytes)).toBe(true)
    expect((await store.info(cid)).size).toBe(bytes.byteLength)
  })

  it('reads an empty chunk as empty, and refuses a piece size that is not a positive integer', async () => {
    const cid = await store.put(new Uint8Array(0))
    expect((await store.read(cid)).byteLength).toBe(0)
    expect(await collect(store.get(cid))).toEqual([])
    expect(await store.verify(cid)).toBe(true)
    await expect(collect(store.get(cid, { pieceSize: 0 }))).rejects.toThrow('pieceSize must be a positive integer, not 0')
  })

  it('refuses chunks over the size limit', async () => {
    await expect(store.put(pieces('x'.repeat(100)), { maxSize: 10 })).rejects.toThrow(/larger than the limit/)
  })

  it('persists its index across reopen, and detects on-disk corruption', async () => {
    const cid = await store.put(new TextEncoder().encode('durable'))
    await store.close()
    store = await ChunkStore.open(dir.path)
    expect(await store.has(cid)).toBe(true)
    expect(await store.verify(cid)).toBe(true)
    await writeFile(store.blockPath(cid), 'tampered')
    expect(await store.verify(cid)).toBe(false)
    expect(await store.has(cid)).toBe(false)
  })

  it('raises ChunkNotFoundError for absent chunks and junk CIDs', async () => {
    await expect(store.info(cidOf(new Uint8Array([1])))).rejects.toBeInstanceOf(ChunkNotFoundError)
    expect(() => parseCid('not a cid')).toThrow(ChunkNotFoundError)
  })
})

describe('ChunkStore with a damaged disk', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let store: ChunkStore
  let found: CorruptChunk[]
  /** Several 64 KiB pieces (get's default), and a last one that is partial. */
  const bytes = digits(60_000)
  let cid: CID

  beforeEach(async () => {
    dir = await tempDir()
    found = []
    store = await ChunkStore.open(dir.path, { onCorrupt: event => { found.push(event) } })
    cid = await store.put(bytes)
    expect(bytes.byteLength).toBeGreaterThan(4 * 64 * 1024)
  })
  afterEach(async () => {
    await store.close()
    await dir.remove()
  })

  /** The block and its index entry are gone, and the store counted and reported it once. */
  async function expectDiscarded (reason: RegExp): Promise<void> {
    await expect(stat(store.blockPath(cid))).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(store.info(cid)).rejects.toBeInstanceOf(ChunkNotFoundError)
    expect(await store.has(cid)).toBe(false)
    expect(store.corruptBlocks).toBe(1)
    expect(found).toHaveLength(1)
    expect(found[0]?.cid.equals(cid)).toBe(true)
    expect(found[0]?.path).toBe(store.blockPath(cid))
    expect(found[0]?.reason).toMatch(reason)
  }

  it('read() of a block changed in place raises ChunkIntegrityError naming the CID and the file, and deletes it', async () => {
    await corruptInPlace(store.blockPath(cid))
    // Same length: only the content tells.
    expect(await store.has(cid)).toBe(true)
    const read = store.read(cid)
    await expect(read).rejects.toBeInstanceOf(ChunkIntegrityError)
    await expect(read).rejects.toThrow(`chunk ${cid.toString()} in this store (${store.blockPath(cid)}) is corrupt: its bytes hash to b`)
    await expectDiscarded(/^its bytes hash to b\w+$/)
    // The same bytes stored again are whole again.
    expect((await store.put(bytes)).equals(cid)).toBe(true)
    expect(Buffer.from(await store.read(cid)).equals(Buffer.from(bytes))).toBe(true)
    expect(store.corruptBlocks).toBe(1)
  })

  it('get() ends with ChunkIntegrityError before a consumer has all the bytes, wherever the damage is', async () => {
    for (const from of [0, bytes.byteLength - 200]) {
      await corruptInPlace(store.blockPath(cid), { from })
      let received = 0
      const reading = (async () => { for await (const piece of store.get(cid)) received += piece.byteLength })()
      await expect(reading).rejects.toBeInstanceOf(ChunkIntegrityError)
      // The last piece is held back until the hash matched.
      expect(received).toBeLessThan(bytes.byteLength)
      expect(received).toBe(bytes.byteLength - (bytes.byteLength % (64 * 1024)))
      expect(await store.has(cid)).toBe(false)
      await store.put(bytes)
    }
    expect(store.corruptBlocks).toBe(2)
    // An intact block streams whole, in order.
    expect((await collect(store.get(cid, { pieceSize: 1000 }))).join('')).toBe(Buffer.from(bytes).toString())
  })

  it('export() of a corrupt block raises, leaves no file behind, and deletes the block', async () => {
    await corruptInPlace(store.blockPath(cid))
    const target = join(dir.path, 'input.txt')
    await expect(store.export(cid, target)).rejects.toBeInstanceOf(ChunkIntegrityError)
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' })
    await expectDiscarded(/hash to/)
  })

  it('counts a block whose file is truncated or gone as absent (has() is false), so that a fetch replaces it', async () => {
    await truncate(store.blockPath(cid), 100)
    expect(await store.has(cid)).toBe(false)
    await expectDiscarded(new RegExp(`its file holds 100 bytes, not ${bytes.byteLength}`))

    await store.put(bytes)
    await rm(store.blockPath(cid))
    await expect(store.read(cid)).rejects.toThrow(/is corrupt: its file is gone/)
    expect(await store.has(cid)).toBe(false)
    expect(store.corruptBlocks).toBe(2)
  })

  it('does not delete a good copy stored while a reader was finding the old one corrupt', async () => {
    await corruptInPlace(store.blockPath(cid), { from: 10 })
    const reader = store.get(cid, { pieceSize: 1024 })
    expect((await reader.next()).done).toBe(false)
    // A fetch puts a fresh copy (a new file) while the reader still holds the damaged one open.
    expect((await store.put(bytes)).equals(cid)).toBe(true)
    await expect((async () => { for (let r = await reader.next(); r.done !== true; r = await reader.next()); })()).rejects.toBeInstanceOf(ChunkIntegrityError)
    expect(store.corruptBlocks).toBe(1)
    expect(await store.has(cid)).toBe(true)
    expect(Buffer.from(await store.read(cid)).equals(Buffer.from(bytes))).toBe(true)
  })
})

interface Peer { exchange: ChunkExchange, store: ChunkStore, id: PeerId, found: CorruptChunk[], provided: string[] }

/**
 * Chunk exchanges of several peers wired together through in-memory stream pairs: `openStream(peer)` runs that
 * peer's registered handler. The DHT is `providers`, which a test sets.
 */
async function peers (names: string[], root: string): Promise<{ peer(name: string): Peer, all: Peer[], providers: PeerInfo[] }> {
  const handlers = new Map<string, StreamHandler>()
  const providers: PeerInfo[] = []
  const byName = new Map<string, Peer>()
  for (const name of names) {
    const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const found: CorruptChunk[] = []
    const provided: string[] = []
    const store = await ChunkStore.open(join(root, name), { onCorrupt: event => { found.push(event) } })
    const exchange = chunkExchange({ store })({
      peerId: id,
      registrar: { handle: async (_protocol: string, handler: StreamHandler) => { handlers.set(id.toString(), handler) }, unhandle: async () => {} } as any,
      connectionManager: {
        openStream: async (peer: PeerId) => {
          const handler = handlers.get(peer.toString())
          if (handler === undefined) throw new Error(`no peer ${peer.toString()}`)
          const [outbound, inbound] = await streamPair()
          // eslint-disable-next-line @typescript-eslint/no-floating-promises -- the handler reports its own failures
          handler(inbound, { remotePeer: id } as unknown as Connection)
          return outbound
        }
      } as any,
      contentRouting: {
        provide: async (cid: CID) => { provided.push(cid.toString()) },
        findProviders: async function * () { yield * providers }
      } as any,
      peerStore: { merge: async () => {} } as any,
      logger: defaultLogger()
    })
    await exchange.start()
    byName.set(name, { exchange, store, id, found, provided })
  }
  return { peer: name => byName.get(name)!, all: [...byName.values()], providers }
}

describe('chunk exchange with a corrupt provider', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let mesh: Awaited<ReturnType<typeof peers>>
  const bytes = digits(400_000)
  const peer = (name: string): Peer => mesh.peer(name)
  const providers = (...names: string[]): void => {
    mesh.providers.splice(0, mesh.providers.length, ...names.map(name => ({ id: peer(name).id, multiaddrs: [] })))
  }

  beforeEach(async () => {
    dir = await tempDir()
    mesh = await peers(['bad', 'good', 'reader'], dir.path)
  })
  afterEach(async () => {
    for (const { exchange, store } of mesh.all) {
      await exchange.stop()
      await store.close()
    }
    await dir.remove()
  })

  it('aborts serving a block found corrupt, deletes it, and the fetcher takes the chunk from the next provider', async () => {
    expect(bytes.byteLength).toBeGreaterThan(2 * 1024 * 1024) // several 1 MiB pieces on the wire
    const cid = await peer('bad').store.put(bytes)
    await peer('good').store.put(bytes)
    await corruptInPlace(peer('bad').store.blockPath(cid))

    // Straight from the corrupt peer: the server resets the stream before the last piece (the fetcher never gets to
    // hash the whole and refuse it itself), nothing is stored.
    await expect(peer('reader').exchange.fetchFrom(peer('bad').id, cid)).rejects.toMatchObject({ name: 'StreamResetError' })
    expect(await peer('reader').store.has(cid)).toBe(false)
    // The corrupt peer deleted its block and will not serve it again.
    expect(await peer('bad').store.has(cid)).toBe(false)
    expect(peer('bad').store.corruptBlocks).toBe(1)
    expect(peer('bad').found.map(event => event.cid.toString())).toEqual([cid.toString()])

    // Through the DHT, the corrupt peer listed first: it answers "not here" now, the good one delivers.
    await peer('bad').store.put(bytes)
    await corruptInPlace(peer('bad').store.blockPath(cid))
    providers('bad', 'good')
    const progress: FetchProgress[] = []
    await peer('reader').exchange.fetch(cid, { onProgress: event => { progress.push(event) } })
    expect(progress.map(event => event.type)).toEqual(['provider', 'rejected', 'provider', 'fetched'])
    expect(progress[1]).toMatchObject({ peer: peer('bad').id })
    expect(progress[3]).toMatchObject({ peer: peer('good').id, bytes: bytes.byteLength })
    expect(cidOf(await readFile(peer('reader').store.blockPath(cid))).equals(cid)).toBe(true)
    expect(peer('bad').store.corruptBlocks).toBe(2)
    expect(peer('reader').provided).toEqual([cid.toString()])
  })

  it('read() repairs a local copy found corrupt: deleted, counted, fetched again from another provider', async () => {
    const cid = await peer('good').store.put(bytes)
    await peer('reader').store.put(bytes)
    await corruptInPlace(peer('reader').store.blockPath(cid))
    // The reader itself is listed as a provider too (it announced the chunk before its disk changed it).
    providers('reader', 'good')
    const progress: FetchProgress[] = []
    const read = await peer('reader').exchange.read(cid, { onProgress: event => { progress.push(event) } })
    expect(Buffer.from(read).equals(Buffer.from(bytes))).toBe(true)
    expect(progress.map(event => event.type)).toEqual(['corrupt', 'provider', 'fetched'])
    expect(progress[0]).toMatchObject({ reason: expect.stringContaining(cid.toString()) })
    expect(progress[2]).toMatchObject({ peer: peer('good').id })
    expect(peer('reader').store.corruptBlocks).toBe(1)
    expect(cidOf(await readFile(peer('reader').store.blockPath(cid))).equals(cid)).toBe(true)

    // export() repairs the same way, and writes only verified bytes.
    await corruptInPlace(peer('reader').store.blockPath(cid))
    const target = join(dir.path, 'input.txt')
    await peer('reader').exchange.export(cid, target)
    expect(cidOf(await readFile(target)).equals(cid)).toBe(true)
    expect(peer('reader').store.corruptBlocks).toBe(2)
  })

  it('asks the fallback peers when no provider in the DHT delivers, and says so when none does', async () => {
    const cid = await peer('good').store.put(bytes)
    await peer('bad').store.put(bytes)
    await corruptInPlace(peer('bad').store.blockPath(cid))
    providers('bad')
    const read = await peer('reader').exchange.read(cid, { fallback: [peer('good').id] })
    expect(Buffer.from(read).equals(Buffer.from(bytes))).toBe(true)

    const missing = cidOf(new TextEncoder().encode('nobody has this'))
    providers()
    const failed = peer('reader').exchange.read(missing, { fallback: [peer('good').id] })
    await expect(failed).rejects.toBeInstanceOf(NoProviderError)
    await expect(failed).rejects.toThrow(`chunk ${missing.toString()} is not here`)
  })
})

describe('splitRecords', () => {
  it('cuts on line boundaries near the target size, keeping every byte once', async () => {
    const lines = Array.from({ length: 100 }, (_, i) => `record ${i}\n`)
    const chunks = await collect(splitRecords(pieces(...lines), 64))
    expect(chunks.join('')).toBe(lines.join(''))
    expect(chunks.every(chunk => chunk.endsWith('\n'))).toBe(true)
    expect(chunks.every(chunk => chunk.length <= 64)).toBe(true)
    expect(chunks.length).toBeGreaterThan(10)
  })

  it('keeps a record longer than the target whole, and a last line without newline', async () => {
    const chunks = await collect(splitRecords(pieces('short\n', 'x'.repeat(50), 'y'.repeat(50), '\nend'), 16))
    expect(chunks).toEqual(['short\n', 'x'.repeat(50) + 'y'.repeat(50) + '\n', 'end'])
  })
})

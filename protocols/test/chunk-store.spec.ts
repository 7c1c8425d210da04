import { readFile, writeFile } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ChunkIntegrityError, ChunkNotFoundError, ChunkStore, cidOf, parseCid, splitRecords } from '../src/index.ts'
import { tempDir } from '../../test/helpers/index.ts'

async function * pieces (...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part)
}

async function collect (source: AsyncIterable<Uint8Array>): Promise<string[]> {
  const chunks: string[] = []
  for await (const chunk of source) chunks.push(Buffer.from(chunk).toString('utf8'))
  return chunks
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
  })

  it('raises ChunkNotFoundError for absent chunks and junk CIDs', async () => {
    await expect(store.info(cidOf(new Uint8Array([1])))).rejects.toBeInstanceOf(ChunkNotFoundError)
    expect(() => parseCid('not a cid')).toThrow(ChunkNotFoundError)
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

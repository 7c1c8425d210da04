/**
 * The readers of LevelDB's own files, on files written by the real LevelDB (classic-level): what a healthy database
 * looks like, and that damage anywhere is found while a write cut short at the end of the log is not taken for it.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseWriteBatch, readLog, readTable, snappyUncompress } from '../../src/store/leveldb-format.ts'
import { COMMIT_KEY, inspectDatabase } from '../../src/store/integrity.ts'
import { sealRecord } from '../../src/store/record.ts'
import { tempDir } from '../../../test/helpers/index.ts'

const BATCHES = 40
/** Values of this size make some records span blocks (First/Middle/Last fragments). */
const bigValue = (i: number): string => `{"n":${i},"text":"${'lorem ipsum '.repeat(400 * (i % 5))}"}`

describe('LevelDB files', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let location: string
  beforeEach(async () => {
    dir = await tempDir()
    location = join(dir.path, 'db')
    const db = new Level<string, string>(location)
    await db.open()
    for (let i = 0; i < BATCHES; i++) {
      await db.batch([
        { type: 'put', key: `!jobs!job-${String(i).padStart(3, '0')}`, value: bigValue(i) },
        { type: 'put', key: COMMIT_KEY, value: sealRecord(COMMIT_KEY, String(i + 1)) }
      ], { sync: true })
    }
    await db.close()
  })
  afterEach(async () => { await dir.remove() })

  const logPath = async (): Promise<string> => join(location, (await readdir(location)).find(name => name.endsWith('.log'))!)

  it('reads back every batch of a healthy log, fragments joined, keys and sequence numbers in order', async () => {
    const bytes = await readFile(await logPath())
    expect(bytes.length).toBeGreaterThan(3 * 32 * 1024)
    const log = readLog(bytes)
    expect(log.damage).toBeUndefined()
    expect(log.tail).toBeUndefined()
    expect(log.records).toHaveLength(BATCHES)
    const entries = log.records.flatMap(record => parseWriteBatch(record))
    expect(entries.filter((_, i) => i % 2 === 0).map(entry => new TextDecoder().decode(entry.key)))
      .toEqual(Array.from({ length: BATCHES }, (_, i) => `!jobs!job-${String(i).padStart(3, '0')}`))
    expect(new TextDecoder().decode(entries[2 * 7]!.value)).toBe(bigValue(7))
    expect(entries.map(entry => entry.sequence)).toEqual(entries.map((_, i) => entries[0]!.sequence + i))
  })

  it('takes a log cut anywhere for a torn write at its end, never for damage', async () => {
    const bytes = await readFile(await logPath())
    for (let cut = 1; cut < bytes.length; cut += 997) {
      const log = readLog(bytes.subarray(0, cut))
      expect(log.damage, `cut at ${cut}`).toBeUndefined()
      // Whatever was cut is the last write only: every record before it reads back.
      expect(log.records.length).toBeLessThanOrEqual(BATCHES)
      if (log.tail !== undefined) expect(log.tail.cut, `cut at ${cut}: ${log.tail.problem}`).toBe(true)
    }
  })

  it('finds garbage anywhere before the last record, in the same block or an earlier one', async () => {
    const bytes = await readFile(await logPath())
    const last = readLog(bytes).records.at(-1)!.length
    for (let at = 0; at < bytes.length - last - 200; at += 1499) {
      const damaged = Buffer.from(bytes)
      Buffer.from('GARBAGE!').copy(damaged, at)
      const log = readLog(damaged)
      expect(log.damage, `garbage at ${at}`).toBeDefined()
      expect(log.damage!.offset).toBeLessThanOrEqual(at)
      expect(log.damage!.offset).toBeGreaterThan(at - 32 * 1024)
    }
  })

  it('checks every byte of a table file and finds the versions of a key in it', async () => {
    // Opening again turns the log into a table.
    const db = new Level<string, string>(location)
    await db.open()
    await db.close()
    const tables = (await readdir(location)).filter(name => name.endsWith('.ldb'))
    expect(tables).toHaveLength(1)
    const bytes = await readFile(join(location, tables[0]!))
    const table = readTable(bytes, new TextEncoder().encode(COMMIT_KEY))
    expect(table.problem).toBeUndefined()
    // The memtable kept every version of the counter: all 40, the newest with the highest sequence number.
    expect(table.found).toHaveLength(BATCHES)
    const newest = table.found.reduce((a, b) => a.sequence > b.sequence ? a : b)
    expect(new TextDecoder().decode(newest.value)).toBe(sealRecord(COMMIT_KEY, String(BATCHES)))

    const positions = [...Array.from({ length: Math.ceil(bytes.length / 53) }, (_, i) => i * 53), ...Array.from({ length: 60 }, (_, i) => bytes.length - 1 - i)]
    for (const at of positions) {
      const damaged = Buffer.from(bytes)
      damaged[at]! ^= 0x04
      expect(readTable(damaged).problem, `byte ${at} of ${bytes.length}`).toBeDefined()
    }
    expect(readTable(bytes.subarray(0, bytes.length - 1)).problem?.problem).toMatch(/bad magic number/)
  })

  it('finds the newest commit counter in the logs and tables, as LevelDB would see it', async () => {
    expect(await inspectDatabase(location)).toMatchObject({ exists: true, commit: BATCHES, newestLog: expect.stringMatching(/\.log$/) })
    const db = new Level<string, string>(location)
    await db.open()
    await db.put(COMMIT_KEY, sealRecord(COMMIT_KEY, String(BATCHES + 1)))
    await db.close()
    // One version in the new log, older ones in the table: the newest wins.
    expect((await inspectDatabase(location)).commit).toBe(BATCHES + 1)
    const manifest = (await readdir(location)).find(name => name.startsWith('MANIFEST-'))!
    const original = await readFile(join(location, manifest))
    // A whole record at the end of the MANIFEST with a wrong checksum is damage (LevelDB itself would refuse it)…
    await writeFile(join(location, manifest), Buffer.concat([original, Buffer.from([1, 2, 3, 4, 5, 0, 1]), Buffer.from('edit!')]))
    await expect(inspectDatabase(location)).rejects.toMatchObject({ name: 'DatabaseDamage', file: manifest, problem: expect.stringMatching(/checksum mismatch/) })
    // …a record cut short is an edit that was never finished.
    await writeFile(join(location, manifest), Buffer.concat([original, Buffer.from([1, 2, 3, 4, 50, 0, 1]), Buffer.from('edit!')]))
    expect((await inspectDatabase(location)).commit).toBe(BATCHES + 1)
  })
})

describe('snappy', () => {
  it('decompresses literals and overlapping copies, and refuses what is inconsistent', () => {
    // "abc" then a copy of 9 bytes from 3 back: abcabcabcabc.
    const compressed = Uint8Array.from([12, 0x08, 0x61, 0x62, 0x63, 0x15, 0x03])
    expect(new TextDecoder().decode(snappyUncompress(compressed))).toBe('abcabcabcabc')
    expect(() => snappyUncompress(Uint8Array.from([12, 0x08, 0x61, 0x62, 0x63, 0x15, 0x04]))).toThrow(/before the start/)
    expect(() => snappyUncompress(Uint8Array.from([13, 0x08, 0x61, 0x62, 0x63, 0x15, 0x03]))).toThrow(/instead of the stated/)
    expect(() => snappyUncompress(Uint8Array.from([12, 0x08, 0x61]))).toThrow(/inside an element/)
  })
})

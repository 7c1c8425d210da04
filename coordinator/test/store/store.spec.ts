/**
 * The store on a real LevelDB in a temporary directory: synchronous counted writes, group commits, the sidecar, the
 * checks at open, records damaged on disk, databases from before checksums, and a store that is already open.
 */
import { readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { describe, expect, it, vi } from 'vitest'
import { Store, tokenKey } from '../../src/store/index.ts'
import { SIDECAR } from '../../src/store/integrity.ts'
import type { Account } from '../../src/store/index.ts'
import { account, storePerTest } from '../helpers/store.ts'

describe('Store', () => {
  const temp = storePerTest()
  const sidecar = async (): Promise<number> => Number(await readFile(join(temp.path, 'db', SIDECAR), 'latin1'))

  it('writes every batch synchronously with the next commit number, and records it in the sidecar after', async () => {
    const batch = vi.spyOn(Level.prototype, 'batch')
    try {
      temp.store = await Store.open(temp.path)
      const start = temp.store.commit
      await temp.store.accounts.put('a', account('a'))
      await temp.store.batch([temp.store.accounts.putOp('b', account('b')), temp.store.accountNames.putOp('b', 'b')])
      await temp.store.accounts.del('a')
      expect(temp.store.commit).toBe(start + 3)
      expect(await sidecar()).toBe(start + 3)
      expect(batch.mock.calls.length).toBeGreaterThanOrEqual(3)
      for (const call of batch.mock.calls as unknown[][]) expect(call[1]).toMatchObject({ sync: true })
    } finally {
      batch.mockRestore()
    }
  })

  it('groups the batches handed in while one is on disk, each still whole, and keeps them after a reopen', async () => {
    temp.store = await Store.open(temp.path)
    const start = temp.store.commit
    await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      await temp.store!.batch([temp.store!.accounts.putOp(`acct-${i}`, account(`acct-${i}`)), temp.store!.accountNames.putOp(`acct-${i}`, `acct-${i}`)])
    }))
    // Fewer commits than batches: they went to disk together.
    expect(temp.store.commit - start).toBeLessThan(200)
    expect(temp.store.commit - start).toBeGreaterThanOrEqual(1)
    expect(await sidecar()).toBe(temp.store.commit)
    const commit = temp.store.commit
    await temp.store.close()
    temp.store = await Store.open(temp.path)
    expect(temp.store.commit).toBe(commit)
    expect(temp.store.opened.records).toMatchObject({ accounts: 200, 'account-names': 200 })
    const names: string[] = []
    for await (const [key] of temp.store.accountNames.entries({ gte: 'acct-10', lt: 'acct-11' })) names.push(key)
    expect(names).toEqual(['acct-10', ...Array.from({ length: 10 }, (_, i) => `acct-10${i}`)])
  })

  it('refuses a record whose bytes changed on disk, naming it', async () => {
    temp.store = await Store.open(temp.path)
    await temp.store.tokens.put(tokenKey('t'), { kind: 'api', account: 'a', createdAt: 1, label: 'scripts' })
    await temp.store.close()
    temp.store = undefined
    // What a bit flip leaves once a compaction has rewritten the table with fresh LevelDB checksums.
    const db = new Level<string, string>(join(temp.path, 'db'))
    const key = `!tokens!${tokenKey('t')}`
    const stored = (await db.get(key))!
    await db.put(key, stored.replace('scripts', 'scripos'), { sync: true })
    await db.close()
    const refusal = await Store.open(temp.path).then(() => undefined, (err: Error) => err)
    expect(refusal).toMatchObject({ name: 'StoreDamagedError', problem: expect.stringMatching(/checksum mismatch/) })
    expect(refusal?.message).toContain(`(record tokens/${tokenKey('t')}: checksum mismatch: its bytes changed on disk); the coordinator did not start.`)
    expect(refusal?.message).toMatch(/There is no snapshot in .*snapshots: restore a backup with runsurge coordinator restore/)
  })

  it('seals and counts a database written before checksums, and reads it as before', async () => {
    // The previous store: abstract-level sublevels, JSON and text values without checksums.
    const db = new Level<string, string>(join(temp.path, 'db'))
    await db.sublevel<string, Account>('accounts', { valueEncoding: 'json' }).put('acct-1', account('acct-1'))
    await db.sublevel<string, string>('meta', { valueEncoding: 'utf8' }).put('adminAccount', 'acct-1')
    await db.close()
    temp.store = await Store.open(temp.path)
    expect(temp.store.opened).toMatchObject({ migrated: true, commit: 1, records: { accounts: 1, meta: 2 } })
    expect(await temp.store.accounts.get('acct-1')).toEqual(account('acct-1'))
    expect(await temp.store.meta.get('adminAccount')).toBe('acct-1')
    expect(await sidecar()).toBe(1)
    await temp.store.close()
    temp.store = await Store.open(temp.path)
    expect(temp.store.opened).toMatchObject({ migrated: false, commit: 1 })
  })

  it('refuses when writes the sidecar saw are gone (the log removed), and when the sidecar is unreadable', async () => {
    temp.store = await Store.open(temp.path)
    await temp.store.accounts.put('a', account('a'))
    await temp.store.close()
    temp.store = undefined
    const dbDir = join(temp.path, 'db')
    const sidecarText = await readFile(join(dbDir, SIDECAR), 'latin1')
    await writeFile(join(dbDir, SIDECAR), 'not a number\n')
    await expect(Store.open(temp.path)).rejects.toThrow(/RUNSURGE-COMMIT: unreadable\. If the machine lost power.*delete this file/)
    await writeFile(join(dbDir, SIDECAR), sidecarText)
    for (const log of (await readdir(dbDir)).filter(name => name.endsWith('.log'))) await rm(join(dbDir, log))
    await expect(Store.open(temp.path)).rejects.toThrow(/acknowledged writes are missing: the files end at commit 0, but RUNSURGE-COMMIT records \d+; a log was cut short or removed\); nothing was changed/)
  })

  it('refuses a database directory without CURRENT instead of starting it empty', async () => {
    temp.store = await Store.open(temp.path)
    await temp.store.close()
    temp.store = undefined
    await rm(join(temp.path, 'db', 'CURRENT'))
    await expect(Store.open(temp.path)).rejects.toThrow(/LevelDB file CURRENT: missing \(LevelDB would start an empty database/)
  })

  it('says who holds a store that is already open', async () => {
    temp.store = await Store.open(temp.path)
    const refusal = await Store.open(temp.path).then(() => undefined, (err: Error) => err)
    expect(refusal).toMatchObject({ name: 'StoreLockedError', pid: process.pid })
    expect(refusal?.message).toBe(`this process (it already has the store open) holds ${join(temp.path, 'db')}: stop it, or use another --data directory`)
  })
})

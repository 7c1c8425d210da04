/**
 * Snapshot files, the automatic schedule and restore, on real stores in temporary directories; and the admin route
 * a backup of a running coordinator goes through.
 */
import { copyFile, readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SnapshotSchedule, Store, restoreSnapshot, verifySnapshot, writeSnapshot } from '../../src/store/index.ts'
import { startTestApi } from '../helpers/api.ts'
import { testLogger } from '../../../test/helpers/index.ts'
import { account, storePerTest } from '../helpers/store.ts'

describe('snapshots', () => {
  const temp = storePerTest()

  const filled = async (dataDir: string, accounts: number): Promise<Store> => {
    const opened = await Store.open(dataDir)
    await opened.batch(Array.from({ length: accounts }, (_, i) => opened.accounts.putOp(`acct-${i}`, account(`acct-${i}`))))
    return opened
  }

  it('copies every record with the commit counter, and a restore puts them all back', async () => {
    temp.store = await filled(join(temp.path, 'a'), 50)
    await temp.store.meta.put('note', 'line one\nline "two"\u2028')
    const file = join(temp.path, 'backup.snapshot')
    const written = await writeSnapshot(temp.store, file)
    expect(written).toMatchObject({ path: file, commit: temp.store.commit, buckets: { accounts: 50, meta: 2 } })
    expect(await verifySnapshot(file)).toMatchObject({ commit: temp.store.commit, records: written.records, buckets: written.buckets })
    // Only the finished file is ever there.
    expect((await readdir(temp.path)).filter(name => name.includes('.tmp'))).toEqual([])

    const target = join(temp.path, 'b')
    const report = await restoreSnapshot({ dataDir: target, from: file })
    expect(report).toMatchObject({ commit: written.commit, buckets: { accounts: 50 } })
    expect(report.movedAside).toBeUndefined()
    const restored = await Store.open(target)
    try {
      expect(restored.commit).toBeGreaterThan(written.commit)
      expect(await restored.accounts.get('acct-49')).toEqual(account('acct-49'))
      expect(await restored.meta.get('note')).toBe('line one\nline "two"\u2028')
    } finally {
      await restored.close()
    }
  })

  it('refuses a file cut short anywhere, or changed anywhere, saying so', async () => {
    temp.store = await filled(join(temp.path, 'a'), 20)
    const file = join(temp.path, 'backup.snapshot')
    await writeSnapshot(temp.store, file)
    const bytes = await readFile(file)
    const broken = join(temp.path, 'broken.snapshot')
    for (let length = 0; length < bytes.length; length += 173) {
      await copyFile(file, broken)
      await truncate(broken, length)
      await expect(verifySnapshot(broken), `cut to ${length}`).rejects.toMatchObject({ name: 'SnapshotError', message: expect.stringMatching(/cannot be restored: (it is empty|it is truncated|it is not a coordinator snapshot).*Nothing was changed/) })
    }
    for (let at = 0; at < bytes.length; at += 211) {
      const changed = Buffer.from(bytes)
      // A space in the header's padding changes nothing that is read; anything else must be caught.
      changed[at] = changed[at] === 0x41 ? 0x42 : 0x41
      await writeFile(broken, changed)
      if (at > 200 && at < 512) continue
      await expect(verifySnapshot(broken), `byte ${at}`).rejects.toMatchObject({ name: 'SnapshotError' })
    }
    await expect(verifySnapshot(join(temp.path, 'none'))).rejects.toThrow(/cannot be read: ENOENT/)
  })

  it('refuses to restore while the store is open, and moves a database that is there aside', async () => {
    const dataDir = join(temp.path, 'a')
    temp.store = await filled(dataDir, 3)
    const file = join(temp.path, 'backup.snapshot')
    await writeSnapshot(temp.store, file)
    await expect(restoreSnapshot({ dataDir, from: file })).rejects.toMatchObject({ name: 'StoreLockedError', message: expect.stringMatching(/a coordinator is running on .* \(pid \d+\): stop it before restoring; nothing was changed/) })
    await temp.store.accounts.put('later', account('later'))
    await temp.store.close()
    temp.store = undefined
    const report = await restoreSnapshot({ dataDir, from: file })
    expect(report.movedAside).toMatch(/db\.damaged-/)
    expect((await stat(report.movedAside!)).isDirectory()).toBe(true)
    temp.store = await Store.open(dataDir)
    expect(await temp.store.accounts.get('acct-2')).toEqual(account('acct-2'))
    expect(await temp.store.accounts.get('later')).toBeUndefined()
  })

  it('takes automatic snapshots only when the database moved, and keeps the newest N', async () => {
    temp.store = await filled(join(temp.path, 'a'), 1)
    const snapshots = join(temp.path, 'a', 'snapshots')
    const schedule = new SnapshotSchedule(temp.store, { dir: snapshots, interval: 0, keep: 2, log: testLogger() })
    await schedule.start()
    expect(await readdir(snapshots)).toHaveLength(1)
    expect(await schedule.snapshot()).toBeUndefined()
    const commits: number[] = []
    for (let i = 0; i < 3; i++) {
      await temp.store.accounts.put(`more-${i}`, account(`more-${i}`))
      commits.push((await schedule.snapshot())!.commit)
    }
    const names = (await readdir(snapshots)).sort()
    expect(names).toHaveLength(2)
    expect(names.map(name => Number(/-commit-(\d+)\.snapshot$/.exec(name)?.[1]))).toEqual(commits.slice(1))
    // A schedule started again on the same directory knows the newest one is current.
    const again = new SnapshotSchedule(temp.store, { dir: snapshots, interval: 0, keep: 2, log: testLogger() })
    await again.start()
    expect(await readdir(snapshots)).toHaveLength(2)
    expect(() => new SnapshotSchedule(temp.store!, { dir: snapshots, interval: 0, keep: 0, log: testLogger() })).toThrow(/at least 1/)
  })
})

describe('a coordinator\'s automatic snapshots', () => {
  it('come every interval while the database changes, and once at shutdown', async () => {
    const api = await startTestApi({ snapshots: { interval: 50, keep: 3 } })
    const dir = join(api.coordinator.store.dataDir, 'snapshots')
    const commits = async (): Promise<number[]> => (await readdir(dir)).filter(name => name.endsWith('.snapshot'))
      .map(name => Number(/-commit-(\d+)\.snapshot$/.exec(name)?.[1])).sort((a, b) => a - b)
    try {
      for (const name of ['erin', 'frank']) {
        await api.signUp(name)
        const target = api.coordinator.store.commit
        // The timer takes it within an interval or so: poll for it (a hang ends at the test's timeout).
        while (!(await commits()).includes(target)) await new Promise(resolve => setTimeout(resolve, 10))
      }
      await api.coordinator.store.meta.put('last', 'write')
      const last = api.coordinator.store.commit
      await api.coordinator.close()
      expect((await commits()).at(-1)).toBe(last)
      expect(await commits()).toHaveLength(3)
    } finally {
      await api.close().catch(() => {})
    }
  })
})

describe('POST /api/admin/snapshots', () => {
  it('writes a snapshot for the admin account only', async () => {
    const api = await startTestApi()
    try {
      const { cookie } = await api.signUp('dave')
      expect((await api.request({ method: 'POST', url: '/api/admin/snapshots', headers: { cookie } })).statusCode).toBe(403)
      expect((await api.request({ method: 'POST', url: '/api/admin/snapshots' })).statusCode).toBe(401)
      const response = await api.request({ method: 'POST', url: '/api/admin/snapshots', headers: { authorization: `Bearer ${api.coordinator.info.adminToken}` } })
      expect(response.statusCode).toBe(201)
      const info = response.json() as { path: string, commit: number, buckets: Record<string, number> }
      expect(info.commit).toBe(api.coordinator.store.commit)
      expect(info.buckets.accounts).toBe(2)
      expect(await verifySnapshot(info.path)).toMatchObject({ commit: info.commit })
    } finally {
      await api.close()
    }
  })
})

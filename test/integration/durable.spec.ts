/**
 * The coordinator's database damaged the ways the adversarial pass damaged it (garbage in a log, a log cut short, a
 * MANIFEST removed, a bad CURRENT, a flipped byte in a table): each time a real coordinator refuses to start with a
 * message that names the file and the way back, and following that way back (restore the last snapshot) brings back
 * every account, token and job. Real LevelDB files, real coordinators (in-process with `startCoordinator`, and as
 * `runsurge coordinator` processes killed with SIGKILL), real HTTP.
 */
import { copyFile, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { restoreSnapshot, startCoordinator } from '../../coordinator/src/index.ts'
import { kill, tempDir, testLogger } from '../helpers/index.ts'
import { processScope } from '../helpers/scope.ts'
import type { Coordinator, CoordinatorOptions } from '../../coordinator/src/index.ts'
import type { RunsurgeProcess } from '../helpers/index.ts'

const PASSWORD = 'correct horse battery'
const JOBS = 5
const SCRIPT = 'def process(input_data: str) -> dict:\n    return {"lines": len(input_data.splitlines())}\n'

interface State {
  name: string
  apiToken: string
  jobIds: string[]
}

/** An account with a password, an API token of its own, and jobs submitted with that token (queued: no nodes). */
async function populate (http: string, name: string): Promise<State> {
  const registered = await fetch(`${http}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: PASSWORD }) })
  expect(registered.status, await registered.clone().text()).toBe(201)
  const cookie = await login(http, name)
  const created = await fetch(`${http}/api/tokens`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ label: 'scripts' }) })
  expect(created.status).toBe(201)
  const apiToken = (await created.json() as { token: string }).token
  const jobIds: string[] = []
  for (let i = 0; i < JOBS; i++) {
    const body = new FormData()
    body.append('mode', 'manual')
    body.append('tasks', '1')
    body.append('name', `job-${i}`)
    body.append('script', new Blob([SCRIPT]), 'job.py')
    body.append('input', new Blob([`${i}\n`.repeat(i + 1)]), `input-${i}.txt`)
    const submitted = await fetch(`${http}/api/jobs`, { method: 'POST', headers: { authorization: `Bearer ${apiToken}` }, body })
    expect(submitted.status, await submitted.clone().text()).toBe(201)
    jobIds.push((await submitted.json() as { id: string }).id)
  }
  return { name, apiToken, jobIds }
}

async function login (http: string, name: string, password = PASSWORD): Promise<string> {
  const response = await fetch(`${http}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) })
  expect(response.status, `login ${name}`).toBe(200)
  const cookie = response.headers.getSetCookie().find(header => header.startsWith('runsurge_session='))
  expect(cookie).toBeDefined()
  return cookie!.split(';')[0]!
}

/** The account logs in with its password, its API token works, and it sees every one of its jobs. */
async function expectAllBack (http: string, state: State): Promise<void> {
  const cookie = await login(http, state.name)
  const me = await fetch(`${http}/api/auth/me`, { headers: { cookie } })
  expect(me.status).toBe(200)
  expect((await me.json() as { account: { name: string } }).account.name).toBe(state.name)
  const tokens = await fetch(`${http}/api/tokens`, { headers: { authorization: `Bearer ${state.apiToken}` } })
  expect(tokens.status).toBe(200)
  expect((await tokens.json() as { tokens: Array<{ label: string }> }).tokens.map(token => token.label)).toContain('scripts')
  const listed = await fetch(`${http}/api/jobs`, { headers: { authorization: `Bearer ${state.apiToken}` } })
  expect(listed.status).toBe(200)
  const jobs = (await listed.json() as { jobs: Array<{ id: string, name: string, status: string }> }).jobs
  expect(jobs.map(job => job.id).sort()).toEqual([...state.jobIds].sort())
  expect(new Set(jobs.map(job => job.status))).toEqual(new Set(['queued']))
  for (const id of state.jobIds) expect((await fetch(`${http}/api/jobs/${id}`, { headers: { authorization: `Bearer ${state.apiToken}` } })).status).toBe(200)
}

/** The database's files, by kind. */
async function files (dbDir: string, pattern: RegExp): Promise<string[]> {
  return (await readdir(dbDir)).filter(name => pattern.test(name)).sort()
}

async function newestLog (dbDir: string): Promise<string> {
  const logs = await files(dbDir, /^\d+\.log$/)
  expect(logs.length).toBeGreaterThan(0)
  return join(dbDir, logs.at(-1)!)
}

/** Overwrites bytes in the middle of a file (the adversarial pass's "garbage in the log"). */
async function garbageInTheMiddle (path: string): Promise<void> {
  const bytes = await readFile(path)
  expect(bytes.length).toBeGreaterThan(200)
  Buffer.from('this is not a LevelDB record, it is garbage!').copy(bytes, Math.floor(bytes.length / 2))
  await writeFile(path, bytes)
}

/** The `--from` of the restore command a refusal tells the operator to run. */
function restoreFrom (message: string, dataDir: string): string {
  const match = new RegExp(`runsurge coordinator restore --data ${escape(dataDir)} --from (\\S+\\.snapshot)`).exec(message)
  expect(match, message).not.toBeNull()
  return match![1]!
}

function escape (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

interface Damage {
  what: string
  /** Whether the data must sit in a table file (a restart compacts the log into one) before the damage. */
  inTable?: boolean
  damage(dbDir: string): Promise<void>
  /** The file the refusal must name and what it says of it. */
  message: RegExp
}

const DAMAGES: Damage[] = [
  {
    what: 'garbage written into the middle of the log',
    damage: async dbDir => { await garbageInTheMiddle(await newestLog(dbDir)) },
    message: /LevelDB file \d{6}\.log: .*checksum mismatch at byte \d+/
  },
  {
    what: 'the log truncated',
    damage: async dbDir => {
      const log = await newestLog(dbDir)
      await truncate(log, Math.floor((await stat(log)).size / 3))
    },
    message: /LevelDB file \d{6}\.log: acknowledged writes are missing: the files end at commit \d+, but RUNSURGE-COMMIT records \d+/
  },
  {
    what: 'the MANIFEST removed',
    damage: async dbDir => {
      for (const manifest of await files(dbDir, /^MANIFEST-\d+$/)) await rm(join(dbDir, manifest))
    },
    message: /LevelDB file MANIFEST-\d{6}: missing \(CURRENT names it/
  },
  {
    what: 'CURRENT overwritten',
    damage: async dbDir => { await writeFile(join(dbDir, 'CURRENT'), 'garbage') },
    message: /LevelDB file CURRENT: does not name a MANIFEST/
  },
  {
    what: 'a byte flipped in a table file',
    inTable: true,
    damage: async dbDir => {
      const tables = await files(dbDir, /^\d+\.ldb$/)
      expect(tables.length).toBeGreaterThan(0)
      const path = join(dbDir, tables[0]!)
      const bytes = await readFile(path)
      bytes[Math.floor(bytes.length / 3)]! ^= 0x10
      await writeFile(path, bytes)
    },
    message: /LevelDB file \d{6}\.ldb: block checksum mismatch at byte \d+/
  }
]

describe('a damaged coordinator database', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  const started: Coordinator[] = []
  beforeAll(async () => { dir = await tempDir() })
  afterAll(async () => {
    for (const coordinator of started) await coordinator.close().catch(() => {})
    await dir.remove()
  })

  const start = async (dataDir: string): Promise<Coordinator> => {
    const options: CoordinatorOptions = { dataDir, logger: testLogger(), authRateLimit: { max: 1_000 } }
    const coordinator = await startCoordinator(options)
    started.push(coordinator)
    return coordinator
  }

  for (const [i, damage] of DAMAGES.entries()) {
    it(`${damage.what}: the coordinator refuses to start, names the file and the snapshot, and the restore brings everything back`, async () => {
      const dataDir = join(dir.path, `case-${i}`)
      const dbDir = join(dataDir, 'db')
      const first = await start(dataDir)
      const state = await populate(first.info.http, 'alice')
      await first.close()
      if (damage.inTable === true) {
        // Opening compacts the log into a table: the records now live in a .ldb file.
        await (await start(dataDir)).close()
        expect(await files(dbDir, /^\d+\.ldb$/)).not.toEqual([])
      }
      await damage.damage(dbDir)
      const before = await Promise.all((await readdir(dbDir)).map(async name => [name, await readFile(join(dbDir, name))] as const))

      const refusal = await start(dataDir).then(() => undefined, (err: Error) => err)
      expect(refusal?.name).toBe('StoreDamagedError')
      expect(refusal?.message).toMatch(new RegExp(`^the coordinator's database in ${escape(dbDir)} is damaged \\(`))
      expect(refusal?.message).toMatch(damage.message)
      expect(refusal?.message).toMatch(/nothing was changed\. Restore the last snapshot: runsurge coordinator restore --data /)
      // Nothing was changed: not one byte of the damaged files, and no file added or removed.
      const after = await Promise.all((await readdir(dbDir)).map(async name => [name, await readFile(join(dbDir, name))] as const))
      expect(after).toEqual(before)

      const report = await restoreSnapshot({ dataDir, from: restoreFrom(refusal!.message, dataDir) })
      expect(report.buckets).toMatchObject({ accounts: 2, jobs: JOBS, tasks: JOBS })
      // The damaged database is kept for inspection, never deleted.
      expect(report.movedAside).toMatch(/db\.damaged-/)
      expect(await readdir(report.movedAside!)).toEqual(after.map(([name]) => name))

      const restored = await start(dataDir)
      await expectAllBack(restored.info.http, state)
      await restored.close()
    })
  }

  it('a data directory whose database is gone is refused, not started empty', async () => {
    const dataDir = join(dir.path, 'gone')
    await (await start(dataDir)).close()
    await rm(join(dataDir, 'db'), { recursive: true })
    const refusal = await start(dataDir).then(() => undefined, (err: Error) => err)
    expect(refusal?.name).toBe('StoreDamagedError')
    expect(refusal?.message).toMatch(/is damaged \(missing, though .* was used before/)
    expect(refusal?.message).toMatch(/Restore the last snapshot/)
  })
})

describe('runsurge coordinator killed with SIGKILL, its log damaged', () => {
  const scope = processScope()
  const { run } = scope
  const exited = async (child: RunsurgeProcess): Promise<number | null> =>
    child.exitCode ?? await new Promise(resolve => child.once('exit', code => { resolve(code) }))
  const noStackTrace = (output: string): void => { expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m) }

  it('a second coordinator, a backup while it runs, a refusal after the crash, a damaged backup refused, and the restore', async () => {
    const dataDir = join(scope.dir, 'coordinator')
    const dbDir = join(dataDir, 'db')
    const serve = ['coordinator', '--data', dataDir, '--http', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0']
    const coordinator = run(serve)
    await coordinator.waitForLine(/"multiaddrs"/)
    const info = JSON.parse(await readFile(join(dataDir, 'coordinator.json'), 'utf8')) as { http: string }
    const state = await populate(info.http, 'bob')

    // A second coordinator on the same data directory: a clear message naming the first one's process.
    const second = run(serve)
    expect(await exited(second)).toBe(1)
    expect(second.output()).toContain(`runsurge coordinator: another coordinator (pid ${coordinator.pid}) holds ${dbDir}: stop it, or use another --data directory`)
    noStackTrace(second.output())

    // A backup of the running coordinator (it holds the LOCK: the backup goes through its admin API).
    const backupFile = join(scope.dir, 'backup.snapshot')
    const backup = run(['coordinator', 'backup', '--data', dataDir, '--out', backupFile])
    expect(await exited(backup), backup.output()).toBe(0)
    expect(backup.output()).toContain(`wrote ${backupFile}: 2 accounts, 3 tokens, 1 sessions, ${JOBS} jobs, ${JOBS} tasks`)

    // SIGKILL the coordinator process itself (the pid LevelDB's LOCK named), then damage the log it was writing.
    await kill(coordinator)
    await garbageInTheMiddle(await newestLog(dbDir))
    const refused = run(serve)
    expect(await exited(refused)).toBe(1)
    expect(refused.output()).toMatch(new RegExp(`runsurge coordinator: the coordinator's database in ${escape(dbDir)} is damaged \\(LevelDB file \\d{6}\\.log: .*checksum mismatch at byte \\d+`))
    expect(refused.output()).toContain(`nothing was changed. Restore the last snapshot: runsurge coordinator restore --data ${dataDir} --from ${join(dataDir, 'snapshots')}/`)
    noStackTrace(refused.output())

    // A damaged backup is refused before anything is touched.
    const damagedBackup = join(scope.dir, 'damaged.snapshot')
    const bytes = await readFile(backupFile)
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01
    await writeFile(damagedBackup, bytes)
    const truncatedBackup = join(scope.dir, 'truncated.snapshot')
    await copyFile(backupFile, truncatedBackup)
    await truncate(truncatedBackup, Math.floor(bytes.length * 0.8))
    for (const [file, why] of [[damagedBackup, /record \d+ \(line \d+\) fails its checksum|line \d+ is damaged/], [truncatedBackup, /it is truncated/]] as const) {
      const refusedRestore = run(['coordinator', 'restore', '--data', dataDir, '--from', file])
      expect(await exited(refusedRestore)).toBe(1)
      expect(refusedRestore.output()).toMatch(new RegExp(`runsurge coordinator: ${escape(file)} cannot be restored: `))
      expect(refusedRestore.output()).toMatch(why)
      expect(refusedRestore.output()).toContain('Nothing was changed')
      noStackTrace(refusedRestore.output())
    }
    expect((await readdir(dataDir)).filter(name => name.startsWith('db.'))).toEqual([])

    const restore = run(['coordinator', 'restore', '--data', dataDir, '--from', backupFile])
    expect(await exited(restore), restore.output()).toBe(0)
    expect(restore.output()).toMatch(new RegExp(`restored ${escape(backupFile)} .* into ${escape(dbDir)}: 2 accounts, 3 tokens`))
    expect(restore.output()).toMatch(/the previous database is kept in .*db\.damaged-/)

    const restarted = run(serve)
    await restarted.waitForLine(/"multiaddrs"/)
    const again = JSON.parse(await readFile(join(dataDir, 'coordinator.json'), 'utf8')) as { http: string }
    await expectAllBack(again.http, state)
  })
})

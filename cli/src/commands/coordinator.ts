import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { Store, restoreSnapshot, startCoordinator, verifySnapshot, writeSnapshot } from '../../../coordinator/src/index.ts'
import { readSwarmKey } from '../../../protocols/src/index.ts'
import { createLogger } from '../log.ts'
import { parseCount, parseDuration, parseHostPort, parseMs, parseSize } from '../options.ts'
import { onShutdown } from '../shutdown.ts'
import { InvalidArgumentError } from 'commander'
import type { SnapshotInfo } from '../../../coordinator/src/index.ts'
import type { Command } from 'commander'

interface CoordinatorFlags {
  data: string
  http: { host: string, port: number }
  listen: string[]
  swarmKey?: string
  mdns?: boolean
  heartbeatInterval?: number
  deadAfter?: number
  unitRate?: number
  maxInput?: number
  snapshotInterval?: number
  snapshotKeep?: number
  maxSubmissionsPerMinute?: number
  maxActiveJobs?: number
  maxRunningTasks?: number
}

/** Errors whose message is the whole story for an operator: printed alone, without a stack trace. */
const OPERATOR_ERRORS = new Set(['StoreDamagedError', 'StoreLockedError', 'StoreIOError', 'SnapshotError', 'BackupError'])

/** `backup` could not be made (its message says why and what to do). */
class BackupError extends Error {
  override name = 'BackupError'
}

export function register (program: Command): void {
  const command = program.command('coordinator')
    // `coordinator backup --data X`: options after a subcommand are the subcommand's, not the server's.
    .enablePositionalOptions()
    .description('run the coordinator: HTTP API, node registry, and the libp2p peer nodes join')
    .option('--data <dir>', 'data directory (LevelDB, peer key, coordinator.json)', '.runsurge/coordinator')
    .option('--http <host:port>', 'HTTP address', parseHostPort, { host: '127.0.0.1', port: 8080 })
    .option('--listen <multiaddr>', 'libp2p listen address (repeatable)', (value: string, all: string[] = []) => [...all, value])
    .option('--swarm-key <file>', 'private mesh: accept only peers holding this key (runsurge keygen)')
    .option('--mdns', 'announce the coordinator on the LAN with mDNS')
    .option('--heartbeat-interval <ms>', 'how often nodes heartbeat', parseMs)
    .option('--dead-after <ms>', 'a node silent this long is dead', parseMs)
    .option('--unit-rate <micro>', 'billing: micro-units per second × GB on a reference machine (default 1000)', (value: string) => {
      const rate = Number(value)
      if (!Number.isFinite(rate) || rate < 0) throw new InvalidArgumentError('a non-negative number')
      return rate
    })
    .option('--max-input <size>', 'largest input file a job may upload (default 1G)', parseSize)
    .option('--snapshot-interval <duration>', 'snapshot the database into DATA/snapshots this often when it changed, e.g. 10m; 0 for only at start and shutdown (default 10m)', parseDuration)
    .option('--snapshot-keep <n>', 'how many automatic snapshots to keep (default 5)', parseCount)
    .option('--max-submissions-per-minute <n>', 'jobs one account may submit a minute (default 60)', parseCount)
    .option('--max-active-jobs <n>', 'jobs one account may have queued or running at once (default 100)', parseCount)
    .option('--max-running-tasks <n>', 'tasks of one account that run at once; the rest wait their turn (default 256)', parseCount)
    .action(async (flags: CoordinatorFlags) => {
      const logger = createLogger('coordinator')
      const coordinator = await startCoordinator({
        dataDir: flags.data,
        httpHost: flags.http.host,
        httpPort: flags.http.port,
        listen: flags.listen,
        swarmKey: flags.swarmKey != null ? await readSwarmKey(flags.swarmKey) : undefined,
        mdns: flags.mdns,
        liveness: {
          ...(flags.heartbeatInterval != null ? { heartbeatInterval: flags.heartbeatInterval } : {}),
          ...(flags.deadAfter != null ? { deadAfter: flags.deadAfter } : {})
        },
        ...(flags.unitRate != null ? { unitRate: flags.unitRate } : {}),
        ...(flags.maxInput != null ? { maxInputBytes: flags.maxInput } : {}),
        limits: {
          ...(flags.maxSubmissionsPerMinute !== undefined ? { submissionsPerMinute: flags.maxSubmissionsPerMinute } : {}),
          ...(flags.maxActiveJobs !== undefined ? { activeJobs: flags.maxActiveJobs } : {}),
          ...(flags.maxRunningTasks !== undefined ? { runningTasks: flags.maxRunningTasks } : {})
        },
        ...(flags.snapshotInterval != null || flags.snapshotKeep != null
          ? { snapshots: { ...(flags.snapshotInterval != null ? { interval: flags.snapshotInterval } : {}), ...(flags.snapshotKeep != null ? { keep: flags.snapshotKeep } : {}) } }
          : {}),
        logger
      }).catch(err => fail(err, 'could not start', logger))
      console.log(JSON.stringify({ http: coordinator.info.http, multiaddrs: coordinator.info.multiaddrs, info: `${flags.data}/coordinator.json` }))
      onShutdown(logger, async () => { await coordinator.close() })
    })

  command.command('backup')
    .description('write a snapshot of the coordinator\'s database to a file (works while the coordinator runs: it asks it for a fresh snapshot through its admin API)')
    .requiredOption('--data <dir>', 'the coordinator\'s data directory')
    .requiredOption('--out <file>', 'where to write the backup')
    .action(async (flags: { data: string, out: string }) => {
      const info = await backup(flags.data, resolve(flags.out)).catch(err => fail(err, 'backup failed'))
      console.log(`wrote ${info.path}: ${describeRecords(info.buckets)} (commit ${info.commit}, taken at ${info.createdAt})`)
    })

  command.command('restore')
    .description('replace the coordinator\'s database with a snapshot or backup (the coordinator must be stopped; the old database is moved aside, never deleted)')
    .requiredOption('--data <dir>', 'the coordinator\'s data directory')
    .requiredOption('--from <file>', 'a snapshot (DATA/snapshots/…) or a file written by runsurge coordinator backup')
    .action(async (flags: { data: string, from: string }) => {
      const report = await restoreSnapshot({ dataDir: flags.data, from: flags.from }).catch(err => fail(err, 'restore failed'))
      console.log(`restored ${report.from} (taken at ${report.createdAt}, commit ${report.commit}) into ${join(flags.data, 'db')}: ${describeRecords(report.buckets)}`)
      if (report.movedAside !== undefined) console.log(`the previous database is kept in ${report.movedAside}`)
      console.log(`job inputs and results are read from ${join(flags.data, 'chunks')}, which a restore leaves as it is; start the coordinator again with the same --data`)
    })
}

/**
 * A backup from a stopped coordinator is written straight from its database (after the same checks as a start); a
 * running one holds LevelDB's LOCK, so it is asked over its admin API (token from DATA/coordinator.json) for a
 * fresh snapshot in DATA/snapshots, which is then copied, checked, and renamed into place.
 */
async function backup (dataDir: string, out: string): Promise<SnapshotInfo> {
  if (!await stat(join(dataDir, 'db')).then(() => true, () => false)) {
    throw new BackupError(`there is no coordinator database in ${join(dataDir, 'db')}: give the coordinator's data directory with --data`)
  }
  let store: Store
  try {
    store = await Store.open(dataDir)
  } catch (err: any) {
    if (err?.name !== 'StoreLockedError') throw err
    return await backupRunning(dataDir, out)
  }
  try {
    return await writeSnapshot(store, out)
  } finally {
    await store.close()
  }
}

async function backupRunning (dataDir: string, out: string): Promise<SnapshotInfo> {
  const infoPath = join(dataDir, 'coordinator.json')
  let info: { http?: unknown, adminToken?: unknown }
  try {
    info = JSON.parse(await readFile(infoPath, 'utf8'))
  } catch (err: any) {
    throw new BackupError(`a coordinator has ${dataDir} open, but ${infoPath} cannot be read (${String(err?.code ?? err?.message)}): wait until it has started, or stop it and back up again`)
  }
  if (typeof info.http !== 'string' || typeof info.adminToken !== 'string') throw new BackupError(`${infoPath} does not hold the coordinator's http address and adminToken`)
  let response: Response
  try {
    response = await fetch(new URL('/api/admin/snapshots', info.http), { method: 'POST', headers: { authorization: `Bearer ${info.adminToken}` } })
  } catch (err: any) {
    throw new BackupError(`a coordinator has ${dataDir} open but does not answer at ${info.http} (${String(err?.cause?.code ?? err?.message)}): is it still starting?`)
  }
  const body = await response.json().catch(() => ({})) as { path?: string, message?: string }
  if (response.status !== 201 || typeof body.path !== 'string') {
    throw new BackupError(`the coordinator at ${info.http} did not take a snapshot (${response.status}: ${body.message ?? 'no message'})`)
  }
  const temporary = `${out}.${process.pid}.tmp`
  try {
    await mkdir(dirname(out), { recursive: true })
    await copyFile(body.path, temporary)
    const copied = await verifySnapshot(temporary)
    await rename(temporary, out)
    return { ...copied, path: out }
  } catch (err) {
    await rm(temporary, { force: true })
    throw err
  }
}

/** `3 accounts, 5 tokens, 2 jobs, 14 tasks, …` from records per bucket. */
function describeRecords (buckets: Record<string, number>): string {
  const order = ['accounts', 'tokens', 'sessions', 'nodes', 'jobs', 'tasks', 'payments', 'earnings']
  const names = [...order.filter(name => name in buckets), ...Object.keys(buckets).filter(name => !order.includes(name) && name !== 'meta' && name !== 'account-names').sort()]
  const total = Object.values(buckets).reduce((sum, n) => sum + n, 0)
  return `${names.map(name => `${buckets[name]} ${name}`).join(', ') || 'no records'} (${total} records in all)`
}

/** Prints what went wrong without a stack trace when the message says it all, and exits with 1. */
function fail (err: any, what: string, logger?: ReturnType<typeof createLogger>): never {
  if (OPERATOR_ERRORS.has(err?.name)) {
    console.error(`runsurge coordinator: ${String(err.message)}`)
  } else {
    logger?.error({ err }, what)
    console.error(`runsurge coordinator: ${what}: ${String(err?.message ?? err)}`)
  }
  process.exit(1)
}

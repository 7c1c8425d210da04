/**
 * Starts a coordinator: store, mesh peer, HTTP app; writes `DATA/coordinator.json` once it serves; closes it all
 * gracefully.
 */
import { randomUUID } from 'node:crypto'
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import Fastify from 'fastify'
import { randomToken } from '../../protocols/src/index.ts'
import app from './app.ts'
import { DEFAULT_LIVENESS, NodeRegistry } from './nodes/registry.ts'
import { JobService } from './jobs/service.ts'
import { createMesh } from './plugins/mesh.ts'
import { DEFAULT_SNAPSHOT_INTERVAL, DEFAULT_SNAPSHOT_KEEP, SnapshotSchedule, Store, tokenKey } from './store/index.ts'
import type { LivenessOptions } from './nodes/registry.ts'
import type { AccountLimits } from './jobs/policy.ts'
import type { AppOptions } from './app.ts'
import type { Mesh } from './plugins/mesh.ts'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Logger } from 'pino'

export interface CoordinatorOptions {
  dataDir: string
  /** HTTP host and port. Default 127.0.0.1:0 (any free port). */
  httpHost?: string
  httpPort?: number
  /**
   * libp2p listen multiaddrs. Default: the addresses of the previous run on this data directory (nodes know the
   * coordinator by its multiaddr, so a restart must keep its port), else `/ip4/127.0.0.1/tcp/0`.
   */
  listen?: string[]
  swarmKey?: Uint8Array
  mdns?: boolean
  liveness?: Partial<LivenessOptions>
  logger: Logger
  /** Rate limit of register and login per client address. Default 10 a minute. */
  authRateLimit?: AppOptions['authRateLimit']
  /** How long a browser session lasts (ms). Default 7 days. */
  sessionTtl?: number
  /** Billing unit rate: micro-units per second × GB on a reference machine. */
  unitRate?: number
  /** Largest input file of a job (bytes). Default 1 GiB. */
  maxInputBytes?: number
  /** What one account may use at once: submissions a minute, active jobs, running tasks (see `AccountLimits`). */
  limits?: Partial<AccountLimits>
  /**
   * Automatic snapshots of the database in `DATA/snapshots`: taken at start and every `interval` ms when the
   * database changed, and at clean shutdown; the `keep` newest are kept. Defaults: every 10 minutes, keep 5.
   * `interval: 0` leaves only the ones at start, at shutdown and those asked for through the admin API.
   */
  snapshots?: { interval?: number, keep?: number }
}

/** What `DATA/coordinator.json` holds, so scripts and the embedded mesh can drive the coordinator. */
export interface CoordinatorInfo {
  http: string
  multiaddrs: string[]
  peerId: string
  adminToken: string
  nodeToken: string
}

export interface Coordinator {
  app: FastifyInstance
  mesh: Mesh
  registry: NodeRegistry
  jobs: JobService
  store: Store
  /** The automatic snapshots; `snapshot({ force: true })` takes one now. */
  snapshots: SnapshotSchedule
  info: CoordinatorInfo
  close(): Promise<void>
}

/** The largest request body the API accepts (job uploads come with issue 5 and stream past this). */
const BODY_LIMIT = 1024 * 1024

/**
 * Opens the store (refusing a damaged one), recovers the node registry, starts the mesh peer, the job service and the
 * HTTP app, and resolves once it serves and `DATA/coordinator.json` says where. Whatever started is stopped again if a
 * later step fails.
 */
export async function startCoordinator (options: CoordinatorOptions): Promise<Coordinator> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 })
  const store = await Store.open(options.dataDir)
  const { records, commit, migrated } = store.opened
  options.logger.info({ records, commit }, migrated ? 'store opened: records sealed with checksums and counted for the first time' : 'store opened: files and every record verified')
  let mesh: Mesh | undefined
  let snapshots: SnapshotSchedule | undefined
  try {
    snapshots = new SnapshotSchedule(store, {
      dir: join(options.dataDir, 'snapshots'),
      interval: options.snapshots?.interval ?? DEFAULT_SNAPSHOT_INTERVAL,
      keep: options.snapshots?.keep ?? DEFAULT_SNAPSHOT_KEEP,
      log: options.logger
    })
    const tokens = await bootstrapAdmin(store)
    const liveness = { ...DEFAULT_LIVENESS, ...options.liveness }
    const registry = await recoverRegistry(store, liveness, options.logger)
    const fastify = Fastify({ loggerInstance: options.logger as FastifyBaseLogger, bodyLimit: BODY_LIMIT }) as unknown as FastifyInstance
    const started = await startMeshAndJobs(options, { store, registry, log: fastify.log })
    mesh = started.mesh
    const { jobs } = started
    await registerApp(fastify, options, { store, mesh, registry, deadAfter: liveness.deadAfter, jobs, snapshots })
    await jobs.start()
    const http = await fastify.listen({ host: options.httpHost ?? '127.0.0.1', port: options.httpPort ?? 0 })
    const info: CoordinatorInfo = { http, multiaddrs: mesh.multiaddrs(), peerId: mesh.libp2p.peerId.toString(), ...tokens }
    if (options.listen === undefined) await store.meta.put('listen', JSON.stringify(mesh.libp2p.getMultiaddrs().map(ma => ma.decapsulateCode(421).toString())))
    await rm(join(options.dataDir, 'uploads'), { recursive: true, force: true }).catch(() => {})
    // After the state is loaded and checked: a known-good copy of it, if it changed since the last snapshot.
    await snapshots.start()
    await writePrivateJson(join(options.dataDir, 'coordinator.json'), info)
    options.logger.info({ http, multiaddrs: info.multiaddrs }, 'coordinator ready')
    return { app: fastify, mesh, registry, jobs, store, snapshots, info, close: async () => { await fastify.close() } }
  } catch (err) {
    await mesh?.libp2p.stop()
    await snapshots?.cancel()
    await store.close()
    throw err
  }
}

/**
 * The node registry as the store left it, its events logged. Recovered before the mesh listens: a node's first
 * heartbeat after a restart must find its session (re-attach), not an empty registry that tells it to register again.
 */
async function recoverRegistry (store: Store, liveness: LivenessOptions, log: Logger): Promise<NodeRegistry> {
  const registry = new NodeRegistry(store, liveness)
  registry.on('node:alive', node => { log.info({ node: node.id, peer: node.peerId }, 'node registered') })
  registry.on('node:reattached', session => { log.info({ node: session.nodeId, peer: session.peerId }, 'node re-attached') })
  registry.on('node:dead', node => { log.warn({ node: node.id, peer: node.peerId }, 'node declared dead') })
  registry.on('node:removed', node => {
    log.warn({ node: node.id, peer: node.peerId, account: node.account, reason: node.removal?.reason }, 'node removed by its owner: disconnected, its tasks re-queued, its peer id refused')
  })
  await registry.recover()
  return registry
}

/**
 * The mesh peer and the job service that handles its task reports. Each needs the other: the service is made with
 * the mesh (it places tasks and moves chunks through it), and the mesh answers reports from the moment it listens.
 * A report that comes before the service exists waits for it, as one that comes before the service has loaded its
 * state waits for that (`JobService.report`); if the service cannot be made, the report is answered with the error.
 */
async function startMeshAndJobs (
  options: CoordinatorOptions,
  parts: { store: Store, registry: NodeRegistry, log: FastifyBaseLogger }
): Promise<{ mesh: Mesh, jobs: JobService }> {
  const service = Promise.withResolvers<JobService>()
  // Only reports await it; a coordinator that fails to start says why through its own error.
  service.promise.catch(() => {})
  const mesh = await createMesh({
    dataDir: options.dataDir,
    listen: options.listen ?? await previousListen(parts.store),
    swarmKey: options.swarmKey,
    mdns: options.mdns,
    registry: parts.registry,
    log: options.logger,
    onReport: async (report, context) => await (await service.promise).report(report, context)
  })
  try {
    const jobs = new JobService({
      ...parts,
      mesh,
      ...(options.unitRate !== undefined ? { unitRate: options.unitRate } : {}),
      stagingDir: join(options.dataDir, 'staged'),
      ...(options.limits !== undefined ? { limits: options.limits } : {})
    })
    service.resolve(jobs)
    return { mesh, jobs }
  } catch (err) {
    service.reject(err)
    await mesh.libp2p.stop()
    throw err
  }
}

/** The HTTP app on `fastify`, and what closing it closes: the job service, then the snapshots and the store. */
async function registerApp (
  fastify: FastifyInstance,
  options: CoordinatorOptions,
  services: Pick<AppOptions, 'store' | 'mesh' | 'registry' | 'deadAfter' | 'jobs' | 'snapshots'>
): Promise<void> {
  const { jobs, snapshots, store } = services
  fastify.addHook('onClose', async () => { jobs.close() })
  await fastify.register(app, {
    ...services,
    uploadDir: join(options.dataDir, 'uploads'),
    ...(options.maxInputBytes !== undefined ? { maxInputBytes: options.maxInputBytes } : {}),
    authRateLimit: options.authRateLimit,
    sessionTtl: options.sessionTtl
  })
  // The last snapshot is taken once nothing writes any more, then the store closes.
  fastify.addHook('onClose', async () => {
    await snapshots.stop()
    await store.close()
  })
}

/** The listen addresses of the previous run, when they can be bound again (ports may have been taken since). */
async function previousListen (store: Store): Promise<string[] | undefined> {
  const saved = await store.meta.get('listen')
  if (saved === undefined) return undefined
  const addresses = (JSON.parse(saved) as string[]).filter(address => /\/tcp\/\d+$/.test(address))
  const free = await Promise.all(addresses.map(async address => await portIsFree(Number(/\/tcp\/(\d+)$/.exec(address)?.[1]))))
  return addresses.length > 0 && free.every(Boolean) ? addresses : undefined
}

async function portIsFree (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const server = createServer()
    server.once('error', () => { resolve(false) })
    server.listen(port, '127.0.0.1', () => { server.close(() => { resolve(true) }) })
  })
}

/**
 * On first start, creates the admin account with an API token and an enrollment token. Their text is kept in the
 * meta bucket (the data directory is private to the coordinator) so `coordinator.json` can be rewritten on restart.
 */
async function bootstrapAdmin (store: Store): Promise<{ adminToken: string, nodeToken: string }> {
  const adminToken = await store.meta.get('adminToken')
  const nodeToken = await store.meta.get('nodeToken')
  if (adminToken !== undefined && nodeToken !== undefined) return { adminToken, nodeToken }
  const account = { id: `acct-${randomUUID()}`, name: 'admin', role: 'admin' as const, createdAt: Date.now() }
  const created = { adminToken: randomToken(), nodeToken: randomToken() }
  await store.batch([
    store.accounts.putOp(account.id, account),
    store.tokens.putOp(tokenKey(created.adminToken), { kind: 'api', account: account.id, createdAt: account.createdAt, label: 'admin' }),
    store.tokens.putOp(tokenKey(created.nodeToken), { kind: 'enroll', account: account.id, createdAt: account.createdAt, label: 'admin nodes' }),
    store.meta.putOp('adminAccount', account.id),
    store.meta.putOp('adminToken', created.adminToken),
    store.meta.putOp('nodeToken', created.nodeToken)
  ])
  return created
}

/** Writes JSON readable by the owner only, atomically (a reader never sees half a file). */
async function writePrivateJson (path: string, value: unknown): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 })
  await chmod(temporary, 0o600)
  await rename(temporary, path)
}

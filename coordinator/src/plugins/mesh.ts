/**
 * The coordinator's libp2p peer: answers register, heartbeat and report; pushes assign and cancel; holds job data
 * in its chunk store. Decorates the app with `mesh`.
 */
import { join } from 'node:path'
import fp from 'fastify-plugin'
import {
  ChunkStore, ReportResponse, assignService, cancelService, chunkExchange, createHost, heartbeatService,
  loadOrCreateIdentity, registerService, reportService
} from '../../../protocols/src/index.ts'
import type { NodeRegistry } from '../nodes/registry.ts'
import type {
  AssignService, BaseServices, CancelService, ChunkExchange, HeartbeatService, RegisterService, ReportRequest,
  ReportService, RequestContext
} from '../../../protocols/src/index.ts'
import type { Libp2p } from '@libp2p/interface'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'

export type CoordinatorServices = BaseServices & {
  register: RegisterService
  heartbeat: HeartbeatService
  report: ReportService
  assign: AssignService
  cancel: CancelService
  chunks: ChunkExchange
}

/**
 * Every node keeps one connection to the coordinator for heartbeats, reports and assignments. libp2p's default
 * limit (300) would prune connections past the 300th node, and each pruned node would then pay a new noise
 * handshake per heartbeat; the coordinator is measured with 1,000 nodes (BENCHMARKS.md), with room to spare.
 */
const MAX_NODE_CONNECTIONS = 5_000

export interface MeshOptions {
  dataDir: string
  /** Multiaddrs to listen on. Default `/ip4/127.0.0.1/tcp/0`. */
  listen?: string[]
  swarmKey?: Uint8Array
  mdns?: boolean
  registry: NodeRegistry
  /** Where corrupt chunks found in the store are logged. Default: nowhere. */
  log?: Pick<Logger, 'error'>
  /** Called for every task report; until jobs exist (issue 5) reports are only logged. */
  onReport?(report: ReportRequest, context: RequestContext): Promise<ReportResponse>
}

export interface Mesh {
  libp2p: Libp2p<CoordinatorServices>
  chunks: ChunkExchange
  /** Multiaddrs a node can use as `--coordinator`. */
  multiaddrs(): string[]
}

declare module 'fastify' {
  interface FastifyInstance {
    mesh: Mesh
  }
}

/** Creates and starts the coordinator's libp2p peer. */
export async function createMesh (options: MeshOptions): Promise<Mesh> {
  const { registry } = options
  const store = await ChunkStore.open(join(options.dataDir, 'chunks'), {
    onCorrupt: ({ cid, path, reason }) => {
      options.log?.error({ cid: cid.toString(), path, reason }, 'a stored chunk was corrupt (the disk changed it): deleted it, it is fetched again when needed')
    }
  })
  const libp2p = await createHost<Omit<CoordinatorServices, keyof BaseServices>>({
    privateKey: await loadOrCreateIdentity(join(options.dataDir, 'peer.key')),
    listen: options.listen,
    swarmKey: options.swarmKey,
    mdns: options.mdns,
    maxConnections: MAX_NODE_CONNECTIONS,
    services: {
      register: registerService({ handler: async (request, context) => await registry.register(context.peer.toString(), request) }),
      heartbeat: heartbeatService({ handler: async (request, context) => await registry.heartbeat(context.peer.toString(), request) }),
      report: reportService({
        handler: options.onReport ?? (async () => ({ status: ReportResponse.Status.REFUSED, error: 'this coordinator assigned no such task' }))
      }),
      assign: assignService(),
      cancel: cancelService(),
      chunks: chunkExchange({ store })
    }
  }).catch(async err => {
    await store.close()
    throw err
  })
  libp2p.addEventListener('stop', () => { store.close().catch(() => {}) })
  return {
    libp2p,
    chunks: libp2p.services.chunks,
    multiaddrs: () => libp2p.getMultiaddrs().map(ma => ma.toString())
  }
}

/** Registers the mesh on the app and stops it when the app closes. */
export default fp(async function meshPlugin (app: FastifyInstance, options: { mesh: Mesh }) {
  app.decorate('mesh', options.mesh)
  app.addHook('onClose', async () => { await options.mesh.libp2p.stop() })
}, { name: 'mesh' })

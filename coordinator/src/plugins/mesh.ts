/**
 * The coordinator's libp2p peer: answers register, heartbeat and report; pushes assign and cancel; holds job data
 * in its chunk store. Decorates the app with `mesh`.
 */
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import fp from 'fastify-plugin'
import { ChunkStore, ReportResponse, createHost, loadOrCreateIdentity, meshServices, REGISTER_TIMEOUT } from '../../../protocols/src/index.ts'
import { removalMessage } from '../nodes/registry.ts'
import type { NodeRegistry } from '../nodes/registry.ts'
import type { BaseServices, ChunkExchange, MeshServices, ReportRequest, RequestContext } from '../../../protocols/src/index.ts'
import type { Libp2p } from '@libp2p/interface'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'

export type CoordinatorServices = BaseServices & MeshServices

/**
 * Every node keeps one connection to the coordinator for heartbeats, reports and assignments. libp2p's default
 * limit (300) would prune connections past the 300th node, and each pruned node would then pay a new noise
 * handshake per heartbeat; the coordinator is measured with 1,000 nodes (BENCHMARKS.md), with room to spare.
 */
const MAX_NODE_CONNECTIONS = 5_000

/**
 * A removed node may still connect (the gater stops only the coordinator's own dials): so that its register or
 * heartbeat is answered why it is refused, and it stops. It gets as long as a registration may take to ask, then the
 * connection is closed whatever it did meanwhile.
 */
const REFUSED_PEER_GRACE = REGISTER_TIMEOUT

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
  const refused = (peer: { toString(): string }): boolean => registry.refused(peer.toString()) !== undefined
  const store = await ChunkStore.open(join(options.dataDir, 'chunks'), {
    onCorrupt: ({ cid, path, reason }) => {
      options.log?.error({ cid: cid.toString(), path, reason }, 'a stored chunk was corrupt (the disk changed it): deleted it, it is fetched again when needed')
    }
  })
  const libp2p = await createHost<MeshServices>({
    privateKey: await loadOrCreateIdentity(join(options.dataDir, 'peer.key')),
    listen: options.listen,
    swarmKey: options.swarmKey,
    mdns: options.mdns,
    maxConnections: MAX_NODE_CONNECTIONS,
    // The coordinator never dials a removed node: no assignment, cancel, chunk fetch or DHT query reaches it.
    denyPeer: refused,
    services: meshServices({
      // The registry refuses removed peers at register and heartbeat itself, with the message they act on.
      register: { handler: async (request, context) => await registry.register(context.peer.toString(), request) },
      heartbeat: { handler: async (request, context) => await registry.heartbeat(context.peer.toString(), request) },
      report: {
        handler: async (request, context) => {
          const removed = registry.refused(context.peer.toString())
          if (removed !== undefined) return { status: ReportResponse.Status.REFUSED, error: removalMessage(removed) }
          if (options.onReport === undefined) return { status: ReportResponse.Status.REFUSED, error: 'this coordinator assigned no such task' }
          return await options.onReport(request, context)
        }
      },
      // Assign and cancel only call: the nodes answer them.
      chunks: { store, authorize: peer => !refused(peer) }
    })
  }).catch(async err => {
    await store.close()
    throw err
  })
  libp2p.addEventListener('stop', () => { store.close().catch(() => {}) })
  // Removed at once: every connection of the node is closed now, and any it opens again is closed after the grace.
  const hangUp = (peerId: string): void => {
    const failed = (err: unknown): void => { options.log?.error({ err, peer: peerId }, 'could not hang up on a removed node') }
    // A listener of the registry's events must not throw: the job service listens after us.
    try {
      libp2p.hangUp(peerIdFromString(peerId)).catch(failed)
    } catch (err) {
      failed(err)
    }
  }
  registry.on('node:removed', node => { hangUp(node.peerId) })
  libp2p.addEventListener('connection:open', ({ detail: connection }) => {
    if (!refused(connection.remotePeer)) return
    const timer = setTimeout(() => {
      connection.close().catch(err => { connection.abort(err) })
    }, REFUSED_PEER_GRACE)
    timer.unref()
  })
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

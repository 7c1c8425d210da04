/**
 * The contributor's worker: joins the mesh through its coordinator, registers, heartbeats, serves and fetches
 * chunks, and accepts tasks only from its coordinator. What a task does is the `runTask` passed in (the sandbox
 * executors); the worker only moves messages and data. This file wires the host to the node's membership
 * (membership.ts: register, heartbeat) and its task intake (task-intake.ts: assignments, cancels, reports).
 */
import { cpus, freemem } from 'node:os'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { ChunkStore, MeshJoinError, createHost, loadOrCreateIdentity, meshServices } from '../../protocols/src/index.ts'
import { joinMesh, Membership } from './membership.ts'
import { TaskIntake } from './task-intake.ts'
import type { RunTask } from './task-intake.ts'
import type { BaseServices, ChunkExchange, MeshServices } from '../../protocols/src/index.ts'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'

export type { RunTask, RunTaskContext, TaskResult } from './task-intake.ts'

/** Services of a worker's libp2p host. */
export type WorkerServices = BaseServices & MeshServices

export interface WorkerInit {
  /** Data directory: peer key, chunk store. */
  dataDir: string
  /** The coordinator's multiaddr, ending in `/p2p/<peer id>`. */
  coordinator: string
  /** Enrollment token from the coordinator's "add a node". */
  token: string
  /** Memory offered to tasks, in bytes. Default: 80% of free memory. */
  memoryBytes?: number
  /** CPUs offered. Default: all. */
  cpus?: number
  /** Machine factor from the benchmark (1.0 = reference). Default 1. */
  benchmark?: number
  /** Contents of the swarm key file for a private mesh. */
  swarmKey?: Uint8Array
  /** Multiaddrs to listen on. Default `/ip4/127.0.0.1/tcp/0`. */
  listen?: string[]
  mdns?: boolean
  /** Runs assigned tasks. Without it the node refuses assignments. Its `executors` are announced at registration. */
  runTask?: RunTask
  /** How long to try reaching the coordinator at start (ms). Default 15 s. */
  joinTimeout?: number
  /** DHT tuning for tests. */
  dht?: { querySelfInterval?: number, initialQuerySelfInterval?: number }
  /**
   * Called once if the coordinator refuses this node for good while it runs (its owner removed it, or revoked the
   * token it enrolled with), with the coordinator's words. By then the worker has stopped heartbeating and aborted
   * its tasks; the caller stops it. Default: the worker stops itself. (Refused at start, `createWorker` rejects
   * with a `RemovedError` instead.)
   */
  onRemoved?(message: string): void
  log: Logger
}

export interface Worker {
  readonly libp2p: Libp2p<WorkerServices>
  readonly chunks: ChunkExchange
  readonly peerId: PeerId
  /** Node id given by the coordinator at registration. */
  nodeId(): string | undefined
  /** Ids of the tasks running now. */
  runningTasks(): string[]
  stop(): Promise<void>
}

/** Starts a worker: joins the mesh, registers with the coordinator and starts heartbeating. */
export async function createWorker (init: WorkerInit): Promise<Worker> {
  const { log } = init
  const { address: coordinatorAddr, id: coordinatorId, peer: coordinatorPeer } = parseCoordinator(init.coordinator)
  const privateKey = await loadOrCreateIdentity(join(init.dataDir, 'peer.key'))
  const store = await openChunkStore(init.dataDir, log)
  const memoryBytes = init.memoryBytes ?? Math.floor(freemem() * 0.8)
  const isCoordinator = (peer: PeerId): boolean => peer.toString() === coordinatorId

  // The host mounts the intake's handlers; the intake and the membership reach the host's services once it exists.
  const intake: TaskIntake = new TaskIntake({
    ...(init.runTask === undefined ? {} : { runTask: init.runTask }),
    memoryBytes,
    coordinator: { peer: coordinatorPeer, address: coordinatorAddr },
    services: () => libp2p.services,
    nodeId: () => membership.nodeId,
    reporting: () => membership.active,
    log
  })
  const libp2p: Libp2p<WorkerServices> = await createHost<MeshServices>({
    privateKey,
    listen: init.listen,
    bootstrap: [init.coordinator],
    swarmKey: init.swarmKey,
    mdns: init.mdns,
    dht: init.dht,
    services: meshServices({
      assign: { authorize: isCoordinator, handler: async (task, context) => await intake.assign(task, context) },
      cancel: { authorize: isCoordinator, handler: async request => await intake.cancel(request) },
      chunks: { store }
    })
  }).catch(async err => {
    await store.close()
    throw err
  })

  const membership: Membership = new Membership({
    services: libp2p.services,
    peerId: libp2p.peerId,
    coordinator: coordinatorAddr,
    token: init.token,
    offer: { cpus: init.cpus ?? cpus().length, memoryBytes, benchmark: init.benchmark ?? 1, executors: [...(init.runTask?.executors ?? [])] },
    load: () => intake.load(),
    onRemoved: (err) => {
      // Refused for good: the tasks here stop (they run elsewhere).
      intake.abortAll('this node was removed by its owner')
      log.error({ nodeId: membership.nodeId }, err.message)
      if (init.onRemoved !== undefined) init.onRemoved(err.message)
      else worker.stop().catch(stopErr => { log.error({ err: stopErr }, 'the removed node did not stop cleanly') })
    },
    log
  })
  try {
    await joinMesh(libp2p, coordinatorAddr, init.joinTimeout ?? 15_000, init.swarmKey != null)
    membership.startHeartbeats(await membership.register())
  } catch (err) {
    await libp2p.stop()
    await store.close()
    throw err
  }

  let stopped: Promise<void> | undefined
  const worker: Worker = {
    libp2p,
    chunks: libp2p.services.chunks,
    peerId: libp2p.peerId,
    nodeId: () => membership.nodeId,
    runningTasks: () => intake.runningTasks(),
    async stop () {
      // Once, however many ask (the owner's removal and a signal may both stop the node).
      stopped ??= (async () => {
        membership.stop()
        intake.abortAll('the node is stopping')
        await libp2p.stop()
        await store.close()
      })()
      await stopped
    }
  }
  return worker
}

/** The coordinator's multiaddr and peer id (as written, and parsed), from an address that must end in `/p2p/<peer id>`. */
function parseCoordinator (text: string): { address: Multiaddr, id: string, peer: PeerId } {
  const address = multiaddr(text)
  const id = address.getComponents().findLast(c => c.name === 'p2p')?.value
  if (id == null) throw new MeshJoinError(`the coordinator address must end in /p2p/<peer id>: ${text}`)
  return { address, id, peer: peerIdFromString(id) }
}

/** The node's chunk store; a chunk the disk changed is logged, deleted and fetched again when needed. */
async function openChunkStore (dataDir: string, log: Logger): Promise<ChunkStore> {
  return await ChunkStore.open(join(dataDir, 'chunks'), {
    onCorrupt: ({ cid, path, reason }) => {
      log.error({ cid: cid.toString(), path, reason }, 'a stored chunk was corrupt (the disk changed it): deleted it, it is fetched again when needed')
    }
  })
}

/**
 * The doors a removed node finds shut: a real coordinator (LevelDB in a temporary directory, libp2p over TCP on
 * loopback) and real libp2p peers speaking the node protocols. Its owner removes it over HTTP; from then on it is
 * disconnected, refused at register, heartbeat, report and chunk fetches with a message that says what to do, never
 * dialed by the coordinator, and hung up on when it lingers. A worker that hears it stops.
 */
import { once } from 'node:events'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCoordinator } from '../../coordinator/src/index.ts'
import { createWorker } from '../../node/src/index.ts'
import {
  ChunkStore, ReportRequest, chunkExchange, createHost, heartbeatService, loadOrCreateIdentity, registerService, reportService
} from '../../protocols/src/index.ts'
import { tempDir, testLogger } from '../helpers/index.ts'
import type { Coordinator } from '../../coordinator/src/index.ts'
import type { ChunkExchange, HeartbeatService, RegisterService, ReportService } from '../../protocols/src/index.ts'
import type { PeerId } from '@libp2p/interface'

const HEARTBEAT = 200
const offer = { cpus: 2, memoryBytes: 2 ** 30, benchmark: 1, version: 'test', executors: [] }
/** The bound: a removed node is disconnected "within 5 s". */
const DISCONNECT_DEADLINE = 5_000
/** A removed peer that connects again is hung up on after the register timeout (10 s); a generous margin for CI. */
const LINGER_DEADLINE = 30_000
const REMOVED = 'this node was removed by its owner; enroll it again with a new token, after its owner allows node '

/** How a call ended: `resolved`, or the error's name and message (libp2p errors carry too much to print whole). */
async function outcome (call: Promise<unknown>): Promise<string> {
  return await call.then(() => 'resolved', (err: any) => `${String(err?.name)}: ${String(err?.message)}`)
}

// A type alias, not an interface: libp2p's service map wants an index signature.
type NodeServices = { register: RegisterService, heartbeat: HeartbeatService, report: ReportService, chunks: ChunkExchange }

/** Resolves once the coordinator holds no connection to `peer`; rejects after `deadline` ms. */
async function disconnected (coordinator: Coordinator, peer: PeerId, deadline: number): Promise<void> {
  const libp2p = coordinator.mesh.libp2p
  if (libp2p.getConnections(peer).length === 0) return
  await new Promise<void>((resolve, reject) => {
    const onDisconnect = (event: CustomEvent<PeerId>): void => {
      if (!event.detail.equals(peer)) return
      done()
      resolve()
    }
    const timer = setTimeout(() => { done(); reject(new Error(`the coordinator still holds a connection to ${peer.toString()} after ${deadline} ms`)) }, deadline)
    const done = (): void => { clearTimeout(timer); libp2p.removeEventListener('peer:disconnect', onDisconnect) }
    libp2p.addEventListener('peer:disconnect', onDisconnect)
  })
}

describe('a removed node at the coordinator\'s doors', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let coordinator: Coordinator
  let cookie: string
  const stops: Array<() => Promise<void>> = []

  const http = async (method: 'POST' | 'DELETE', url: string, payload?: Record<string, unknown>): Promise<{ status: number, body: any }> => {
    const response = await coordinator.app.inject({ method, url, headers: { cookie }, ...(payload !== undefined ? { payload } : {}) })
    return { status: response.statusCode, body: response.body === '' ? undefined : response.json() }
  }

  beforeAll(async () => {
    dir = await tempDir()
    coordinator = await startCoordinator({
      dataDir: join(dir.path, 'coordinator'), logger: testLogger(), authRateLimit: { max: 1_000 }, liveness: { heartbeatInterval: HEARTBEAT, deadAfter: 5_000 }
    })
    const credentials = { name: 'olga', password: 'correct horse battery' }
    expect((await coordinator.app.inject({ method: 'POST', url: '/api/auth/register', payload: credentials })).statusCode).toBe(201)
    const login = await coordinator.app.inject({ method: 'POST', url: '/api/auth/login', payload: credentials })
    cookie = `runsurge_session=${login.cookies.find(c => c.name === 'runsurge_session')?.value ?? ''}`
  })

  afterAll(async () => {
    for (const stop of stops) await stop()
    await coordinator?.close()
    await dir?.remove()
  })

  it('is hung up on at once, then refused at register, heartbeat, report and chunks with what to do, never dialed, and not let linger', async () => {
    const coordinatorAddress = multiaddr(coordinator.info.multiaddrs[0] ?? '')
    const coordinatorId = coordinator.mesh.libp2p.peerId
    const store = await ChunkStore.open(join(dir.path, 'node-chunks'))
    const node = await createHost<NodeServices>({
      privateKey: await loadOrCreateIdentity(join(dir.path, 'node.key')),
      services: { register: registerService(), heartbeat: heartbeatService(), report: reportService(), chunks: chunkExchange({ store }) }
    })
    stops.push(async () => { await node.stop(); await store.close() })
    const enroll = await http('POST', '/api/nodes/enroll', { label: 'rack' })
    const { nodeId } = await node.services.register.call(coordinatorAddress, { ...offer, token: enroll.body.token })
    const beat = { nodeId, cpuLoad: 0, memoryUsedBytes: 0, memoryFreeBytes: 2 ** 30, runningTasks: [] }
    await node.services.heartbeat.call(coordinatorAddress, beat)
    // Inputs of some job, on the coordinator's disk: a node may fetch them while it is enrolled.
    const before = await coordinator.mesh.chunks.store.put(new TextEncoder().encode('1\n2\n3\n'))
    const after = await coordinator.mesh.chunks.store.put(new TextEncoder().encode('4\n5\n6\n'))
    await node.services.chunks.fetchFrom(coordinatorId, before)
    expect(await store.has(before)).toBe(true)

    const hungUp = disconnected(coordinator, node.peerId, DISCONNECT_DEADLINE)
    expect((await http('DELETE', `/api/nodes/${nodeId}`)).status).toBe(204)
    await hungUp

    expect(await outcome(node.services.heartbeat.call(coordinatorAddress, beat))).toMatch(`RemovedError: ${REMOVED}${nodeId} again`)
    // Whatever token it brings: a new one of the same account changes nothing.
    const fresh = await http('POST', '/api/nodes/enroll', { label: 'new' })
    expect(await outcome(node.services.register.call(coordinatorAddress, { ...offer, token: fresh.body.token }))).toMatch(`RemovedError: ${REMOVED}${nodeId} again`)
    const report = { taskId: 'any', nodeId, state: ReportRequest.State.COMPLETED, errorCode: '', errorMessage: '', outputCids: [], outputBytes: [], outputMemoryBytes: [], attempt: 1 }
    expect(await outcome(node.services.report.call(coordinatorAddress, report))).toMatch(`RefusedError: ${REMOVED}${nodeId} again`)
    expect(await outcome(node.services.chunks.fetchFrom(coordinatorId, after))).toBe(`Error: peer ${node.peerId.toString()} is not allowed to fetch chunks here`)
    expect(await store.has(after)).toBe(false)

    // It connected again to ask, and is hung up on without doing anything more.
    expect(coordinator.mesh.libp2p.getConnections(node.peerId).length).toBeGreaterThan(0)
    await disconnected(coordinator, node.peerId, LINGER_DEADLINE)
    // The coordinator never reaches out to it, by peer id or by an address that turns out to be its.
    expect(await outcome(coordinator.mesh.libp2p.dial(node.peerId))).toMatch(/^DialDeniedError: /)
    expect(await outcome(coordinator.mesh.libp2p.dial(node.getMultiaddrs()[0]!))).toMatch(/^\w+Error: /)
    expect(coordinator.mesh.libp2p.getConnections(node.peerId)).toEqual([])
    // Its record says why, for its owner.
    expect(await coordinator.store.nodes.get(nodeId)).toMatchObject({ status: 'removed', removal: { reason: 'removed' } })
  })

  it('a worker whose enrollment token is revoked hears why and stops itself, instead of registering again and again', async () => {
    const enroll = await http('POST', '/api/nodes/enroll', { label: 'lab' })
    const worker = await createWorker({
      dataDir: join(dir.path, 'worker'),
      coordinator: coordinator.info.multiaddrs[0] ?? '',
      token: enroll.body.token,
      memoryBytes: 256 * 1024 ** 2,
      log: testLogger()
    })
    stops.push(async () => { await worker.stop() })
    const nodeId = worker.nodeId() ?? ''
    expect(coordinator.registry.isAlive(nodeId)).toBe(true)
    const stopped = once(worker.libp2p, 'stop', { signal: AbortSignal.timeout(LINGER_DEADLINE) })
    const hungUp = disconnected(coordinator, worker.peerId, DISCONNECT_DEADLINE)
    expect((await http('DELETE', `/api/tokens/${enroll.body.id}`)).status).toBe(204)
    await hungUp
    // Its next heartbeat is answered REMOVED: it stops its peer rather than registering again.
    await stopped
    expect(worker.libp2p.status).toBe('stopped')
    expect(coordinator.registry.isAlive(nodeId)).toBe(false)
    expect(await coordinator.store.nodes.get(nodeId)).toMatchObject({ status: 'removed', removal: { reason: 'token_revoked' } })
  })
})

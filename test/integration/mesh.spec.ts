/**
 * A real mesh on loopback: a coordinator and five worker nodes, each a libp2p peer over TCP with noise and yamux,
 * LevelDB stores in temporary directories. Nothing of libp2p is mocked.
 */
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { lpStream } from '@libp2p/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCoordinator } from '../../coordinator/src/index.ts'
import { createWorker } from '../../node/src/index.ts'
import {
  AssignRequest, CHUNK_PROTOCOL, ChunkIntegrityError, ChunkRequest, ChunkResponse, REGISTER_PROTOCOL, RefusedError,
  RegisterResponse, assignService, cidOf, createHost, loadOrCreateIdentity
} from '../../protocols/src/index.ts'
import { corruptInPlace, kill, runsurge, tempDir, testLogger } from '../helpers/index.ts'
import type { Coordinator } from '../../coordinator/src/index.ts'
import type { TaskResult, Worker } from '../../node/src/index.ts'
import type { AssignService, FetchProgress } from '../../protocols/src/index.ts'

const HEARTBEAT = 200
const DEAD_AFTER = 1_500

function task (taskId: string): AssignRequest {
  return { taskId, jobId: 'job-1', script: 'def main(data):\n    return len(data)\n', inputCids: [], memoryBytes: 64 * 1024 * 1024, timeoutMs: 10_000, entry: 'main', attempt: 1, inputName: '', resultInputs: 0 }
}

describe('a coordinator and five nodes on loopback', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let coordinator: Coordinator
  const workers: Worker[] = []
  const assigned: AssignRequest[] = []

  beforeAll(async () => {
    dir = await tempDir()
    coordinator = await startCoordinator({
      dataDir: join(dir.path, 'coordinator'), logger: testLogger(), liveness: { heartbeatInterval: HEARTBEAT, deadAfter: DEAD_AFTER }
    })
    const runTask = async (request: AssignRequest): Promise<TaskResult> => {
      assigned.push(request)
      return { state: 'completed', outputCids: [] }
    }
    workers.push(...await Promise.all([0, 1, 2, 3, 4].map(async i => await createWorker({
      dataDir: join(dir.path, `node-${i}`),
      coordinator: coordinator.info.multiaddrs[0] ?? '',
      token: coordinator.info.nodeToken,
      memoryBytes: (i + 1) * 256 * 1024 * 1024,
      runTask,
      log: testLogger()
    }))))
  })

  afterAll(async () => {
    await Promise.all(workers.map(async worker => { await worker.stop() }))
    await coordinator?.close()
    await dir?.remove()
  })

  it('registers every node, and the coordinator lists them alive with what they offer', async () => {
    const nodes = await coordinator.registry.list()
    expect(nodes).toHaveLength(5)
    expect(nodes.every(node => node.status === 'alive')).toBe(true)
    expect(nodes.map(node => node.memoryBytes).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5].map(n => n * 256 * 1024 * 1024))
    for (const worker of workers) {
      expect(nodes.find(node => node.id === worker.nodeId())?.peerId).toBe(worker.peerId.toString())
    }
  })

  it('finds a chunk through the DHT and pulls it from a node it was never connected to', async () => {
    const [source, , , , sink] = workers as [Worker, Worker, Worker, Worker, Worker]
    // Several pieces' worth of data, so the transfer streams with backpressure.
    const bytes = new Uint8Array(300 * 1024).map((_, i) => (i * 7) % 251)
    const cid = await source.chunks.add(bytes)
    await sink.libp2p.hangUp(source.peerId)
    expect(sink.libp2p.getConnections(source.peerId)).toHaveLength(0)
    const providers: string[] = []
    await sink.chunks.fetch(cid, { onProgress: event => { if (event.type === 'fetched') providers.push(event.peer.toString()) } })
    expect(providers).toEqual([source.peerId.toString()])
    expect(Buffer.from(await sink.chunks.store.read(cid)).equals(Buffer.from(bytes))).toBe(true)
  })

  it('streams a chunk far larger than any stream buffer, with flow control, intact', async () => {
    const [source, sink] = workers as [Worker, Worker]
    // 48 MiB: twelve times libp2p's 4 MiB read buffers, so the fetcher must pause the sender while it writes to disk.
    const bytes = new Uint8Array(48 * 1024 * 1024)
    let x = 2463534242
    for (let i = 0; i < bytes.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; bytes[i] = x & 0xff }
    const cid = await source.chunks.store.put(bytes)
    await sink.chunks.fetchFrom(source.peerId, cid)
    expect((await sink.chunks.store.info(cid)).size).toBe(bytes.length)
    expect(await sink.chunks.store.verify(cid)).toBe(true)
  })

  it('refuses a chunk a modified peer tampers with on the wire, and takes it from an honest provider instead', async () => {
    const [, honest, , reader] = workers as [Worker, Worker, Worker, Worker]
    const bytes = new TextEncoder().encode('line 1\nline 2\nline 3\n'.repeat(1000))
    const cid = await honest.chunks.add(bytes)
    const tampered = Buffer.from(bytes)
    tampered[10] = 0x21
    // An honest node no longer serves a block its disk changed (next test): the liar is a peer running other code,
    // which announces the right size and sends other bytes.
    const liar = await createHost({ privateKey: await loadOrCreateIdentity(join(dir.path, 'liar.key')) })
    try {
      await liar.handle(CHUNK_PROTOCOL, async (stream) => {
        const framed = lpStream(stream)
        ChunkRequest.decode(await framed.read())
        await framed.write(ChunkResponse.encode({ status: ChunkResponse.Status.OK, size: tampered.byteLength, error: '' }))
        await framed.write(tampered)
        await stream.close()
      })
      await reader.libp2p.dial(liar.getMultiaddrs()[0]!)
      await expect(reader.chunks.fetchFrom(liar.peerId, cid)).rejects.toBeInstanceOf(ChunkIntegrityError)
      expect(await reader.chunks.store.has(cid)).toBe(false)
    } finally {
      await liar.stop()
    }

    await reader.chunks.fetch(cid)
    expect(Buffer.from(await reader.chunks.store.read(cid)).equals(Buffer.from(bytes))).toBe(true)
    expect(await reader.chunks.store.verify(cid)).toBe(true)
    expect(cidOf(await reader.chunks.store.read(cid)).equals(cid)).toBe(true)
  })

  it('repairs a chunk a node\'s disk changed: serving it is aborted, and a read fetches it again from another provider', async () => {
    const [damaged, honest, , reader] = workers as [Worker, Worker, Worker, Worker]
    // Several 1 MiB pieces of digits: the damage is one digit, in the middle.
    const bytes = new TextEncoder().encode(Array.from({ length: 400_000 }, (_, i) => `${(i * 7919) % 100_003}\n`).join(''))
    const cid = await damaged.chunks.add(bytes)
    await honest.chunks.fetch(cid)
    const counted = { damaged: damaged.chunks.store.corruptBlocks, reader: reader.chunks.store.corruptBlocks }
    await corruptInPlace(damaged.chunks.store.blockPath(cid))

    // The damaged node finds it out while serving: it resets the stream before the last piece and deletes the block.
    await expect(reader.chunks.fetchFrom(damaged.peerId, cid)).rejects.toMatchObject({ name: 'StreamResetError' })
    expect(await reader.chunks.store.has(cid)).toBe(false)
    expect(await damaged.chunks.store.has(cid)).toBe(false)
    expect(damaged.chunks.store.corruptBlocks).toBe(counted.damaged + 1)

    // The reader's own copy goes bad on its disk after it fetched it: its next read finds that out, deletes the
    // block and fetches it again, from the honest node (the damaged one, still listed in the DHT, has none now).
    await reader.chunks.fetch(cid)
    await corruptInPlace(reader.chunks.store.blockPath(cid), { from: 10 })
    const progress: FetchProgress[] = []
    const read = await reader.chunks.read(cid, { onProgress: event => { progress.push(event) } })
    expect(Buffer.from(read).equals(Buffer.from(bytes))).toBe(true)
    expect(progress[0]).toMatchObject({ type: 'corrupt', reason: expect.stringMatching(new RegExp(`chunk ${cid.toString()} in this store .* is corrupt: its bytes hash to`)) })
    expect(progress.at(-1)).toMatchObject({ type: 'fetched', peer: honest.peerId, bytes: bytes.byteLength })
    expect(reader.chunks.store.corruptBlocks).toBe(counted.reader + 1)
    expect(cidOf(await readFile(reader.chunks.store.blockPath(cid))).equals(cid)).toBe(true)
  })

  it('runs assign from the coordinator and refuses it from any other peer', async () => {
    const [target] = workers as [Worker]
    await coordinator.mesh.libp2p.services.assign.call(target.peerId, task('task-from-coordinator'))
    expect(assigned.map(t => t.taskId)).toContain('task-from-coordinator')

    const stranger = await createHost<{ assign: AssignService }>({
      privateKey: await loadOrCreateIdentity(join(dir.path, 'stranger.key')),
      services: { assign: assignService() }
    })
    try {
      await stranger.dial(target.libp2p.getMultiaddrs()[0]!)
      const refused = stranger.services.assign.call(target.peerId, task('task-from-stranger'))
      await expect(refused).rejects.toBeInstanceOf(RefusedError)
      await expect(refused).rejects.toThrow(/not allowed/)
      expect(assigned.map(t => t.taskId)).not.toContain('task-from-stranger')
    } finally {
      await stranger.stop()
    }
  })

  it('refuses a wrong enrollment token with a reason', async () => {
    const other = await tempDir()
    try {
      await expect(createWorker({
        dataDir: other.path, coordinator: coordinator.info.multiaddrs[0] ?? '', token: 'not-a-token', log: testLogger()
      })).rejects.toThrow(/refused this node: unknown enrollment token/)
    } finally {
      await other.remove()
    }
  })

  it('answers oversized and malformed frames with a clear error, refuses unknown versions, and keeps serving', async () => {
    const [worker] = workers as [Worker]
    const coordinatorId = coordinator.mesh.libp2p.peerId

    const oversized = lpStream(await worker.libp2p.dialProtocol(coordinatorId, REGISTER_PROTOCOL))
    await oversized.write(new Uint8Array(1024 * 1024))
    const tooLarge = RegisterResponse.decode(await oversized.read())
    expect(tooLarge.status).toBe(RegisterResponse.Status.ERROR)
    expect(tooLarge.error).toMatch(/message too large: the limit is 4096 bytes/)

    const garbage = lpStream(await worker.libp2p.dialProtocol(coordinatorId, REGISTER_PROTOCOL))
    await garbage.write(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))
    const malformed = RegisterResponse.decode(await garbage.read())
    expect(malformed.status).toBe(RegisterResponse.Status.ERROR)
    expect(malformed.error).toMatch(/malformed message/)

    await expect(worker.libp2p.dialProtocol(coordinatorId, '/runsurge/register/2.0.0')).rejects.toThrow(/protocol selection failed|not supported/i)

    // Still serving: a well-formed heartbeat goes through.
    await worker.libp2p.services.heartbeat.call(coordinatorId, {
      nodeId: worker.nodeId() ?? '', cpuLoad: 0, memoryUsedBytes: 0, memoryFreeBytes: 1, runningTasks: []
    })
    expect(coordinator.registry.isAlive(worker.nodeId() ?? '')).toBe(true)
  })

  it('declares a killed node process dead within the configured window', async () => {
    const nodeDir = join(dir.path, 'node-process')
    const alive = once(coordinator.registry, 'node:alive')
    const child = runsurge(['node', '--coordinator', coordinator.info.multiaddrs[0] ?? '', '--data', nodeDir, '--memory', '512M'], { RUNSURGE_NODE_TOKEN: coordinator.info.nodeToken })
    try {
      const [record] = await alive as [{ id: string }]
      await child.waitForLine(/registered with the coordinator/)
      const dead = once(coordinator.registry, 'node:dead')
      const killedAt = Date.now()
      await kill(child)
      const [deadRecord] = await dead as [{ id: string }]
      const detectedAfter = Date.now() - killedAt
      expect(deadRecord.id).toBe(record.id)
      // Silent for DEAD_AFTER at most one heartbeat after the kill, noticed within one sweep (a tenth of the window).
      expect(detectedAfter).toBeLessThanOrEqual(DEAD_AFTER + HEARTBEAT + DEAD_AFTER / 10 + 250)
      expect(detectedAfter).toBeGreaterThanOrEqual(DEAD_AFTER - HEARTBEAT)
      expect((await coordinator.registry.list()).find(node => node.id === record.id)?.status).toBe('dead')
    } finally {
      await kill(child)
    }
  })
})

describe('a private mesh (swarm key)', () => {
  it('lets in only nodes holding the same key, and fails the others quickly with a clear error', async () => {
    const dir = await tempDir()
    const keyA = join(dir.path, 'a.key')
    const keyB = join(dir.path, 'b.key')
    const keygen = runsurge(['keygen', '--out', keyA])
    await once(keygen, 'exit')
    const keygenB = runsurge(['keygen', '--out', keyB])
    await once(keygenB, 'exit')
    const coordinator = await startCoordinator({
      dataDir: join(dir.path, 'coordinator'), logger: testLogger(), swarmKey: await readFile(keyA)
    })
    const address = coordinator.info.multiaddrs[0] ?? ''
    const join_ = async (name: string, swarmKey?: Uint8Array): Promise<Worker> => await createWorker({
      dataDir: join(dir.path, name), coordinator: address, token: coordinator.info.nodeToken, swarmKey, joinTimeout: 10_000, log: testLogger()
    })
    try {
      await expect(join_('wrong-key', await readFile(keyB))).rejects.toThrow(/could not join the mesh .*same swarm key/)
      await expect(join_('no-key')).rejects.toThrow(/could not join the mesh .*--swarm-key FILE/)
      const member = await join_('member', await readFile(keyA))
      expect(coordinator.registry.isAlive(member.nodeId() ?? '')).toBe(true)
      await member.stop()
      expect((await coordinator.registry.list()).map(node => node.peerId)).toEqual([member.peerId.toString()])
    } finally {
      await coordinator.close()
      await dir.remove()
    }
  })
})

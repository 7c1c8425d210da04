/** Node registry over a real LevelDB, with a clock the test moves. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HeartbeatResponse, RegisterResponse } from '../../protocols/src/index.ts'
import { NodeRegistry } from '../src/nodes/registry.ts'
import { Store, tokenKey } from '../src/store/index.ts'
import { tempDir } from '../../test/helpers/index.ts'
import type { NodeRecord } from '../src/store/index.ts'

const offer = { token: 'enroll-1', cpus: 4, memoryBytes: 2 ** 30, benchmark: 1.1, version: 'test', executors: [] }
const beat = (nodeId: string): { nodeId: string, cpuLoad: number, memoryUsedBytes: number, memoryFreeBytes: number, runningTasks: string[] } =>
  ({ nodeId, cpuLoad: 0.1, memoryUsedBytes: 0, memoryFreeBytes: 2 ** 29, runningTasks: ['t1'] })

describe('NodeRegistry', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let store: Store
  let now: number
  let registry: NodeRegistry

  beforeEach(async () => {
    dir = await tempDir()
    store = await Store.open(dir.path)
    for (const [token, kind, account] of [['enroll-1', 'enroll', 'alice'], ['enroll-2', 'enroll', 'bob'], ['api-1', 'api', 'alice']] as const) {
      await store.tokens.put(tokenKey(token), { kind, account, createdAt: 0, label: '' })
    }
    now = 1_000_000
    registry = new NodeRegistry(store, { heartbeatInterval: 100, deadAfter: 1_000 }, () => now)
  })
  afterEach(async () => {
    await store.close()
    await dir.remove()
  })

  it('enrolls a node with a valid enrollment token and keeps its id across re-registration', async () => {
    const first = await registry.register('peer-a', offer)
    expect(first.status).toBe(RegisterResponse.Status.OK)
    expect(first.heartbeatIntervalMs).toBe(100)
    const again = await registry.register('peer-a', { ...offer, memoryBytes: 2 ** 31 })
    expect(again.nodeId).toBe(first.nodeId)
    const [node] = await registry.list('alice')
    expect(node?.memoryBytes).toBe(2 ** 31)
    expect(await registry.list('bob')).toEqual([])
  })

  it('refuses API tokens, unknown tokens, implausible offers, and a peer enrolled by another account', async () => {
    for (const [request, reason] of [
      [{ ...offer, token: 'api-1' }, /unknown enrollment token/],
      [{ ...offer, token: '' }, /unknown enrollment token/],
      [{ ...offer, cpus: 0 }, /cpus/],
      [{ ...offer, memoryBytes: 0 }, /memory/],
      [{ ...offer, benchmark: Number.NaN }, /benchmark/]
    ] as const) {
      const response = await registry.register('peer-a', request)
      expect(response.status).toBe(RegisterResponse.Status.REFUSED)
      expect(response.error).toMatch(reason)
    }
    await registry.register('peer-a', offer)
    const stolen = await registry.register('peer-a', { ...offer, token: 'enroll-2' })
    expect(stolen.error).toMatch(/another account/)
  })

  it('declares a silent node dead after the window, then asks it to register again', async () => {
    const { nodeId } = await registry.register('peer-a', offer)
    const dead: NodeRecord[] = []
    registry.on('node:dead', node => dead.push(node))

    now += 900
    expect((await registry.heartbeat('peer-a', beat(nodeId))).status).toBe(HeartbeatResponse.Status.OK)
    now += 1_000
    expect(await registry.sweep()).toEqual([])
    now += 1
    expect((await registry.sweep()).map(node => node.id)).toEqual([nodeId])
    expect(dead.map(node => node.id)).toEqual([nodeId])
    expect(registry.isAlive(nodeId)).toBe(false)

    expect((await registry.heartbeat('peer-a', beat(nodeId))).status).toBe(HeartbeatResponse.Status.UNKNOWN_NODE)
    expect((await registry.register('peer-a', offer)).nodeId).toBe(nodeId)
    expect(registry.isAlive(nodeId)).toBe(true)
  })

  it('does not let another peer heartbeat for a node', async () => {
    const { nodeId } = await registry.register('peer-a', offer)
    expect((await registry.heartbeat('peer-b', beat(nodeId))).status).toBe(HeartbeatResponse.Status.UNKNOWN_NODE)
  })

  it('enrolls a peer once when its registrations overlap (a retry after a timeout)', async () => {
    const [first, second] = await Promise.all([registry.register('peer-a', offer), registry.register('peer-a', offer)])
    expect(second?.nodeId).toBe(first?.nodeId)
    expect(await registry.list()).toHaveLength(1)
    expect(registry.alive().map(node => node.id)).toEqual([first?.nodeId])
  })

  it('after a restart, re-attaches nodes that were alive and sweeps the ones that stay silent', async () => {
    const a = await registry.register('peer-a', offer)
    const b = await registry.register('peer-b', offer)
    const restarted = new NodeRegistry(store, { heartbeatInterval: 100, deadAfter: 1_000 }, () => now)
    await restarted.recover()
    const reattached: string[] = []
    restarted.on('node:reattached', session => reattached.push(session.nodeId))
    now += 600
    expect((await restarted.heartbeat('peer-a', beat(a.nodeId))).status).toBe(HeartbeatResponse.Status.OK)
    now += 600
    expect((await restarted.sweep()).map(node => node.id)).toEqual([b.nodeId])
    expect(restarted.isAlive(a.nodeId)).toBe(true)
    expect(reattached).toEqual([a.nodeId])
  })
})

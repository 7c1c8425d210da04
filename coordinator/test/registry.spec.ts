/** Node registry over a real LevelDB, with a clock the test moves. */
import { beforeEach, describe, expect, it } from 'vitest'
import { HeartbeatResponse, RegisterResponse } from '../../protocols/src/index.ts'
import { NodeRegistry } from '../src/nodes/registry.ts'
import { tokenKey } from '../src/store/index.ts'
import { openStorePerTest } from './helpers/store.ts'
import type { NodeRecord } from '../src/store/index.ts'

const offer = { token: 'enroll-1', cpus: 4, memoryBytes: 2 ** 30, benchmark: 1.1, version: 'test', executors: [] }
const beat = (nodeId: string): { nodeId: string, cpuLoad: number, memoryUsedBytes: number, memoryFreeBytes: number, runningTasks: string[] } =>
  ({ nodeId, cpuLoad: 0.1, memoryUsedBytes: 0, memoryFreeBytes: 2 ** 29, runningTasks: ['t1'] })

describe('NodeRegistry', () => {
  const db = openStorePerTest()
  let now: number
  let registry: NodeRegistry

  beforeEach(async () => {
    for (const [token, kind, account] of [['enroll-1', 'enroll', 'alice'], ['enroll-2', 'enroll', 'bob'], ['api-1', 'api', 'alice']] as const) {
      await db.store.tokens.put(tokenKey(token), { kind, account, createdAt: 0, label: '' })
    }
    now = 1_000_000
    registry = new NodeRegistry(db.store, { heartbeatInterval: 100, deadAfter: 1_000 }, () => now)
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
    const restarted = new NodeRegistry(db.store, { heartbeatInterval: 100, deadAfter: 1_000 }, () => now)
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

  describe('removal', () => {
    const removedMessage = /this node was removed by its owner.*enroll it again with a new token/

    it('remembers the token a node registers with, and rebinds it to the one it registers with next', async () => {
      await db.store.tokens.put(tokenKey('enroll-3'), { kind: 'enroll', account: 'alice', createdAt: 0, label: '' })
      const { nodeId } = await registry.register('peer-a', offer)
      expect(registry.record(nodeId)?.token).toBe(tokenKey('enroll-1'))
      await registry.register('peer-a', { ...offer, token: 'enroll-3' })
      expect((await db.store.nodes.get(nodeId))?.token).toBe(tokenKey('enroll-3'))
    })

    it('removes a node of the owner only: no session, announced, refused at register and heartbeat whatever the token, across a restart', async () => {
      const a = await registry.register('peer-a', offer)
      const b = await registry.register('peer-b', offer)
      const removed: NodeRecord[] = []
      registry.on('node:removed', node => removed.push(node))

      expect(await registry.remove({ account: 'bob', nodeId: a.nodeId })).toBeUndefined()
      expect(await registry.remove({ account: 'alice', nodeId: 'node-nope' })).toBeUndefined()
      expect(registry.isAlive(a.nodeId)).toBe(true)

      const record = await registry.remove({ account: 'alice', nodeId: a.nodeId })
      expect(record).toMatchObject({ id: a.nodeId, status: 'removed', removal: { reason: 'removed', at: now } })
      expect(removed.map(node => node.id)).toEqual([a.nodeId])
      expect(registry.isAlive(a.nodeId)).toBe(false)
      expect(registry.alive().map(node => node.id)).toEqual([b.nodeId])
      expect(registry.refused('peer-a')?.id).toBe(a.nodeId)
      expect(registry.refused('peer-b')).toBeUndefined()
      expect((await registry.list('alice')).map(node => [node.id, node.status]).sort()).toEqual([[a.nodeId, 'removed'], [b.nodeId, 'alive']].sort())

      const heartbeat = await registry.heartbeat('peer-a', beat(a.nodeId))
      expect(heartbeat.status).toBe(HeartbeatResponse.Status.REMOVED)
      expect(heartbeat.error).toMatch(removedMessage)
      for (const token of ['enroll-1', 'enroll-2', 'nonsense']) {
        const again = await registry.register('peer-a', { ...offer, token })
        expect(again).toMatchObject({ status: RegisterResponse.Status.REMOVED, nodeId: '' })
        expect(again.error).toMatch(removedMessage)
        expect(again.error).toContain(a.nodeId)
      }
      // Removing it again changes nothing and announces nothing.
      expect(await registry.remove({ account: 'alice', nodeId: a.nodeId })).toMatchObject({ status: 'removed' })
      expect(removed).toHaveLength(1)

      // The refusal is stored: a restarted coordinator refuses the peer before it registers or heartbeats.
      const restarted = new NodeRegistry(db.store, { heartbeatInterval: 100, deadAfter: 1_000 }, () => now)
      await restarted.recover()
      expect(restarted.refused('peer-a')?.id).toBe(a.nodeId)
      expect(restarted.isAlive(a.nodeId)).toBe(false)
      expect((await restarted.heartbeat('peer-a', beat(a.nodeId))).status).toBe(HeartbeatResponse.Status.REMOVED)
      expect((await restarted.register('peer-a', offer)).status).toBe(RegisterResponse.Status.REMOVED)
      now += 5_000
      expect(await restarted.sweep()).toEqual([expect.objectContaining({ id: b.nodeId })])
      expect((await db.store.nodes.get(a.nodeId))?.status).toBe('removed')
    })

    it('keeps a node removed, in memory and on disk, when the liveness sweep finds it silent at the same moment', async () => {
      const { nodeId } = await registry.register('peer-a', offer)
      const events: string[] = []
      registry.on('node:dead', () => events.push('dead'))
      registry.on('node:removed', () => events.push('removed'))
      now += 2_000
      await Promise.all([registry.remove({ account: 'alice', nodeId }), registry.sweep()])
      expect(events).toEqual(['removed'])
      expect(registry.refused('peer-a')?.id).toBe(nodeId)
      expect((await db.store.nodes.get(nodeId))?.status).toBe('removed')
    })

    it('lets only the owner allow a removed node again; it then re-enrolls with a valid token of that account, same id', async () => {
      const { nodeId } = await registry.register('peer-a', offer)
      await registry.remove({ account: 'alice', nodeId })
      expect(await registry.readmit({ account: 'bob', nodeId })).toBeUndefined()
      expect(registry.refused('peer-a')).toBeDefined()

      const readmitted = await registry.readmit({ account: 'alice', nodeId })
      expect(readmitted).toMatchObject({ id: nodeId, status: 'dead' })
      expect(readmitted?.removal).toBeUndefined()
      expect(registry.refused('peer-a')).toBeUndefined()
      // Another account's token still cannot take it; its owner's can.
      expect((await registry.register('peer-a', { ...offer, token: 'enroll-2' })).error).toMatch(/another account/)
      const again = await registry.register('peer-a', offer)
      expect(again).toMatchObject({ status: RegisterResponse.Status.OK, nodeId })
      expect(registry.isAlive(nodeId)).toBe(true)
    })

    it('revokes an enrollment token with the nodes it enrolled, in one batch, and leaves the others', async () => {
      await db.store.tokens.put(tokenKey('enroll-3'), { kind: 'enroll', account: 'alice', createdAt: 0, label: '' })
      const a1 = await registry.register('peer-a1', offer)
      const a2 = await registry.register('peer-a2', offer)
      const other = await registry.register('peer-a3', { ...offer, token: 'enroll-3' })
      const bobs = await registry.register('peer-b', { ...offer, token: 'enroll-2' })
      const removed: string[] = []
      registry.on('node:removed', node => removed.push(node.id))

      // Bob cannot revoke alice's token through the registry either: the account must match the nodes'.
      expect(await registry.revokeEnrollment({ account: 'bob', token: tokenKey('enroll-1') })).toEqual([])
      expect(removed).toEqual([])

      const gone = await registry.revokeEnrollment({ account: 'alice', token: tokenKey('enroll-1') })
      expect(gone.map(node => node.id).sort()).toEqual([a1.nodeId, a2.nodeId].sort())
      expect(gone.every(node => node.removal?.reason === 'token_revoked')).toBe(true)
      expect(removed.sort()).toEqual([a1.nodeId, a2.nodeId].sort())
      expect(await db.store.tokens.get(tokenKey('enroll-1'))).toBeUndefined()
      expect(registry.alive().map(node => node.id).sort()).toEqual([other.nodeId, bobs.nodeId].sort())
      expect((await registry.register('peer-new', offer)).error).toMatch(/unknown enrollment token/)
      expect((await registry.heartbeat('peer-a1', beat(a1.nodeId))).error).toMatch(/revoked the enrollment token this node joined with/)
    })

    it('never leaves a node enrolled with a revoked token, however a registration and the revocation overlap', async () => {
      for (let i = 0; i < 20; i++) {
        await db.store.tokens.put(tokenKey(`race-${i}`), { kind: 'enroll', account: 'alice', createdAt: 0, label: '' })
        const register = async (): Promise<RegisterResponse> => await registry.register(`peer-race-${i}`, { ...offer, token: `race-${i}` })
        const revoke = async (): Promise<unknown> => await registry.revokeEnrollment({ account: 'alice', token: tokenKey(`race-${i}`) })
        // Started in the same turn, in either order.
        const [registered] = i % 2 === 0 ? await Promise.all([register(), revoke()]) : (await Promise.all([revoke(), register()])).reverse() as [RegisterResponse]
        const record = registered?.nodeId === '' ? undefined : registry.record(registered?.nodeId ?? '')
        // Refused, or enrolled and then removed with the token's other nodes: never alive.
        if (record !== undefined) expect(record.status).toBe('removed')
        else expect(registered?.error).toMatch(/unknown enrollment token/)
        expect(registry.alive().some(node => node.peerId === `peer-race-${i}`)).toBe(false)
      }
    })
  })
})

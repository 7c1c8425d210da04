import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RefusedError, RemovedError } from '../../protocols/src/index.ts'
import { Membership } from '../src/membership.ts'
import type { HeartbeatRequest, HeartbeatService, RegisterRequest, RegisterService } from '../../protocols/src/index.ts'
import type { MembershipInit, NodeLoad } from '../src/membership.ts'
import type { Logger } from 'pino'

const PEER = '12D3KooWGRUVh2xCnQ3fbGGYsJS8UPDQ3BaqAr5Q1T4uBbL8XrNE'
const INTERVAL = 1_000

/** A membership whose coordinator is two functions, and whose log is kept. */
function setUp (overrides: { heartbeat?: (request: HeartbeatRequest) => Promise<unknown>, load?: () => NodeLoad, onRemoved?: (err: RemovedError) => void } = {}): {
  membership: Membership
  registrations: RegisterRequest[]
  beats: HeartbeatRequest[]
  log: { info: ReturnType<typeof vi.fn>, warn: ReturnType<typeof vi.fn>, error: ReturnType<typeof vi.fn> }
  removed: RemovedError[]
} {
  const registrations: RegisterRequest[] = []
  const beats: HeartbeatRequest[] = []
  const removed: RemovedError[] = []
  const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() }
  const register = { call: async (_: unknown, request: RegisterRequest) => { registrations.push(request); return { nodeId: `node-${registrations.length}`, heartbeatIntervalMs: INTERVAL } } }
  const heartbeat = { call: async (_: unknown, request: HeartbeatRequest) => { beats.push(request); return await (overrides.heartbeat?.(request) ?? Promise.resolve({})) } }
  const init: MembershipInit = {
    services: { register: register as unknown as RegisterService, heartbeat: heartbeat as unknown as HeartbeatService },
    peerId: peerIdFromString(PEER),
    coordinator: multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${PEER}`),
    token: 'token',
    offer: { cpus: 2, memoryBytes: 2 ** 30, benchmark: 1, executors: ['bwrap'] },
    load: overrides.load ?? (() => ({ memoryUsedBytes: 5, memoryFreeBytes: 7, runningTasks: ['t1'] })),
    onRemoved: overrides.onRemoved ?? ((err) => { removed.push(err) }),
    log: log as unknown as Logger
  }
  return { membership: new Membership(init), registrations, beats, log, removed }
}

describe('membership', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('registers with what the node offers, its executors included, and heartbeats what the tasks use', async () => {
    const { membership, registrations, beats } = setUp()
    membership.startHeartbeats(await membership.register())
    expect(membership.nodeId).toBe('node-1')
    expect(registrations[0]).toMatchObject({ token: 'token', cpus: 2, memoryBytes: 2 ** 30, benchmark: 1, executors: ['bwrap'] })
    await vi.advanceTimersByTimeAsync(2 * INTERVAL)
    expect(beats).toHaveLength(2)
    expect(beats[0]).toMatchObject({ nodeId: 'node-1', memoryUsedBytes: 5, memoryFreeBytes: 7, runningTasks: ['t1'] })
    membership.stop()
    await vi.advanceTimersByTimeAsync(2 * INTERVAL)
    expect(beats).toHaveLength(2)
  })

  it('logs a heartbeat that fails and keeps beating', async () => {
    let calls = 0
    const { membership, beats, log } = setUp({ load: () => { if (++calls === 1) throw new Error('bookkeeping broke'); return { memoryUsedBytes: 0, memoryFreeBytes: 1, runningTasks: [] } } })
    membership.startHeartbeats(await membership.register())
    await vi.advanceTimersByTimeAsync(INTERVAL)
    expect(log.warn).toHaveBeenCalledWith({ err: 'bookkeeping broke' }, 'heartbeat failed; will retry')
    expect(beats).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(INTERVAL)
    expect(beats).toHaveLength(1)
    membership.stop()
  })

  it('logs what goes wrong while handling a heartbeat\'s answer instead of dropping it', async () => {
    const failure = new Error('the removal callback failed')
    const { membership, log } = setUp({ heartbeat: async () => { throw new RemovedError('removed by its owner') }, onRemoved: () => { throw failure } })
    membership.startHeartbeats(await membership.register())
    await vi.advanceTimersByTimeAsync(INTERVAL)
    expect(log.error).toHaveBeenCalledWith({ err: failure }, 'a heartbeat failed on this node')
    expect(membership.active).toBe(false)
  })

  it('registers again when the coordinator forgot the node, and stops for good when it was removed', async () => {
    const answers: Array<Error | undefined> = [new RefusedError('unknown node'), undefined, new RemovedError('removed by its owner')]
    const { membership, registrations, beats, removed } = setUp({ heartbeat: async () => { const err = answers.shift(); if (err !== undefined) throw err; return {} } })
    membership.startHeartbeats(await membership.register())
    await vi.advanceTimersByTimeAsync(INTERVAL)
    expect(registrations).toHaveLength(2)
    expect(membership.nodeId).toBe('node-2')
    await vi.advanceTimersByTimeAsync(2 * INTERVAL)
    expect(removed.map(err => err.message)).toEqual(['removed by its owner'])
    expect(membership.active).toBe(false)
    await vi.advanceTimersByTimeAsync(3 * INTERVAL)
    expect(beats).toHaveLength(3)
  })
})

/**
 * Removing nodes and revoking enrollment tokens over HTTP (`app.inject` on a real coordinator): each account acts on
 * its own nodes and tokens only, a removed node is refused at every door, and an enrollment token lists its nodes.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HeartbeatResponse, RegisterResponse } from '../../protocols/src/index.ts'
import { startTestApi } from './helpers/api.ts'
import type { TestApi } from './helpers/api.ts'

const offer = { cpus: 2, memoryBytes: 2 ** 30, benchmark: 1, version: 'test', executors: [] }
const beat = (nodeId: string): { nodeId: string, cpuLoad: number, memoryUsedBytes: number, memoryFreeBytes: number, runningTasks: string[] } =>
  ({ nodeId, cpuLoad: 0, memoryUsedBytes: 0, memoryFreeBytes: 2 ** 30, runningTasks: [] })

/** A real peer id, as a node's noise handshake would authenticate it. */
async function peer (): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

interface NodeJson { id: string, status: string, token?: string, removal?: { reason: string, at: number } }
interface TokenJson { id: string, kind: string, label: string, createdAt: number, nodes?: string[] }

describe('removing nodes and revoking enrollment tokens', () => {
  let api: TestApi
  beforeAll(async () => { api = await startTestApi() })
  afterAll(async () => { await api?.close() })

  /** An account with an enrollment token and `count` nodes registered with it. */
  async function owner (name: string, count: number): Promise<{ cookie: string, token: TokenJson & { token: string }, nodes: Array<{ id: string, peer: string }> }> {
    const { cookie } = await api.signUp(name)
    const created = await api.request({ method: 'POST', url: '/api/nodes/enroll', headers: { cookie }, payload: { label: `${name} rack` } })
    expect(created.statusCode).toBe(201)
    const token = created.json()
    const nodes = []
    for (let i = 0; i < count; i++) {
      const id = await peer()
      const registered = await api.coordinator.registry.register(id, { ...offer, token: token.token })
      expect(registered.status).toBe(RegisterResponse.Status.OK)
      nodes.push({ id: registered.nodeId, peer: id })
    }
    return { cookie, token, nodes }
  }
  const nodesOf = async (cookie: string): Promise<NodeJson[]> => (await api.request({ method: 'GET', url: '/api/nodes', headers: { cookie } })).json().nodes
  const tokensOf = async (cookie: string): Promise<TokenJson[]> => (await api.request({ method: 'GET', url: '/api/tokens', headers: { cookie } })).json().tokens

  it('lists each enrollment token with the nodes that joined with it, and each node with its token', async () => {
    const alice = await owner('alice', 2)
    const api1 = await api.request({ method: 'POST', url: '/api/tokens', headers: { cookie: alice.cookie }, payload: { label: 'cli' } })
    const tokens = await tokensOf(alice.cookie)
    expect(tokens).toEqual([
      { id: alice.token.id, kind: 'enroll', label: 'alice rack', createdAt: alice.token.createdAt, nodes: alice.nodes.map(n => n.id).sort() },
      { id: api1.json().id, kind: 'api', label: 'cli', createdAt: api1.json().createdAt }
    ])
    expect((await nodesOf(alice.cookie)).map(node => [node.id, node.status, node.token])).toEqual(alice.nodes.map(n => [n.id, 'alive', alice.token.id]).sort())
    // Only the token's id travels: never its key or text.
    const body = api.answers().slice(-2).join('\n')
    expect(body).not.toContain(alice.token.token)
  })

  it('removes a node of the caller: 204, listed as removed, refused at register and heartbeat, its tokens\'s other nodes untouched', async () => {
    const carol = await owner('carol', 2)
    const [gone, kept] = carol.nodes as [{ id: string, peer: string }, { id: string, peer: string }]
    const removed = once(api, 'node:removed')
    const response = await api.request({ method: 'DELETE', url: `/api/nodes/${gone.id}`, headers: { cookie: carol.cookie } })
    expect(response.statusCode).toBe(204)
    expect((await removed).id).toBe(gone.id)
    const listed = await nodesOf(carol.cookie)
    expect(listed.find(n => n.id === gone.id)).toMatchObject({ status: 'removed', removal: { reason: 'removed', at: expect.any(Number) } })
    expect(listed.find(n => n.id === kept.id)?.status).toBe('alive')
    expect(api.coordinator.registry.alive().map(n => n.id)).not.toContain(gone.id)

    const heartbeat = await api.coordinator.registry.heartbeat(gone.peer, beat(gone.id))
    expect(heartbeat).toEqual({ status: HeartbeatResponse.Status.REMOVED, error: expect.stringMatching(/^this node was removed by its owner; enroll it again with a new token/) })
    const fresh = (await api.request({ method: 'POST', url: '/api/nodes/enroll', headers: { cookie: carol.cookie } })).json()
    expect((await api.coordinator.registry.register(gone.peer, { ...offer, token: fresh.token })).status).toBe(RegisterResponse.Status.REMOVED)

    // Again: nothing more happens, still 204.
    expect((await api.request({ method: 'DELETE', url: `/api/nodes/${gone.id}`, headers: { cookie: carol.cookie } })).statusCode).toBe(204)

    // Allowed again by its owner, it enrolls with the new token and keeps its id.
    const readmit = await api.request({ method: 'POST', url: `/api/nodes/${gone.id}/readmit`, headers: { cookie: carol.cookie } })
    expect(readmit.statusCode).toBe(200)
    expect(readmit.json()).toMatchObject({ id: gone.id, status: 'dead' })
    expect(readmit.json().removal).toBeUndefined()
    expect(await api.coordinator.registry.register(gone.peer, { ...offer, token: fresh.token })).toMatchObject({ status: RegisterResponse.Status.OK, nodeId: gone.id })
    expect((await nodesOf(carol.cookie)).find(n => n.id === gone.id)).toMatchObject({ status: 'alive', token: fresh.id })
  })

  it('revoking an enrollment token removes its nodes, and only those; the token enrolls nothing more', async () => {
    const dave = await owner('dave', 2)
    const other = (await api.request({ method: 'POST', url: '/api/nodes/enroll', headers: { cookie: dave.cookie }, payload: { label: 'other' } })).json()
    const third = await api.coordinator.registry.register(await peer(), { ...offer, token: other.token })
    const response = await api.request({ method: 'DELETE', url: `/api/tokens/${dave.token.id}`, headers: { cookie: dave.cookie } })
    expect(response.statusCode).toBe(204)
    const listed = await nodesOf(dave.cookie)
    for (const node of dave.nodes) expect(listed.find(n => n.id === node.id)).toMatchObject({ status: 'removed', removal: { reason: 'token_revoked' } })
    expect(listed.find(n => n.id === third.nodeId)?.status).toBe('alive')
    expect((await tokensOf(dave.cookie)).map(t => [t.id, t.nodes])).toEqual([[other.id, [third.nodeId]]])
    const late = await api.coordinator.registry.register(await peer(), { ...offer, token: dave.token.token })
    expect(late).toMatchObject({ status: RegisterResponse.Status.REFUSED, error: expect.stringMatching(/unknown enrollment token/) })
    const heartbeat = await api.coordinator.registry.heartbeat(dave.nodes[0]?.peer ?? '', beat(dave.nodes[0]?.id ?? ''))
    expect(heartbeat.error).toMatch(/revoked the enrollment token this node joined with/)
  })

  it('answers 404 to another account, the admin included, and shows it neither the nodes nor the tokens', async () => {
    const erin = await owner('erin', 1)
    const node = erin.nodes[0]!
    const frank = await api.signUp('frank')
    for (const headers of [{ cookie: frank.cookie }, { authorization: `Bearer ${api.coordinator.info.adminToken}` }]) {
      for (const [method, url] of [['DELETE', `/api/nodes/${node.id}`], ['POST', `/api/nodes/${node.id}/readmit`], ['DELETE', `/api/tokens/${erin.token.id}`]] as const) {
        const response = await api.request({ method, url, headers })
        expect({ method, url, status: response.statusCode }).toEqual({ method, url, status: 404 })
        expect(response.json().message).toMatch(/^you have no (node|token) .*: list yours with GET \/api\/(nodes|tokens)$/)
      }
      const nodes = await api.request({ method: 'GET', url: '/api/nodes', headers })
      const tokens = await api.request({ method: 'GET', url: '/api/tokens', headers })
      expect(nodes.body + tokens.body).not.toContain(node.id)
      expect(nodes.body + tokens.body).not.toContain(erin.token.id)
    }
    // Nothing happened to erin's node or token.
    expect((await nodesOf(erin.cookie)).map(n => [n.id, n.status])).toEqual([[node.id, 'alive']])
    expect((await tokensOf(erin.cookie)).map(t => t.id)).toEqual([erin.token.id])
  })

  it('refuses node ids that are not ids, and every new route without credentials', async () => {
    const { cookie } = await api.signUp('grace')
    for (const url of ['/api/nodes/nonsense', '/api/nodes/node-../../etc']) {
      const response = await api.request({ method: 'DELETE', url, headers: { cookie } })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toEqual({ error: 'FST_ERR_VALIDATION', message: expect.stringMatching(/params\/id must match pattern/) })
    }
    const id = 'node-00000000-0000-4000-8000-000000000000'
    for (const [method, url] of [['DELETE', `/api/nodes/${id}`], ['POST', `/api/nodes/${id}/readmit`]] as const) {
      expect((await api.request({ method, url })).statusCode).toBe(401)
    }
  })
})

/** The next time the coordinator's registry announces `event`. */
async function once (api: TestApi, event: 'node:removed'): Promise<{ id: string }> {
  return await new Promise(resolve => { api.coordinator.registry.once(event, resolve) })
}

/** API tokens, enrollment tokens and nodes over HTTP: each account sees and acts on its own things only. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RegisterResponse } from '../../protocols/src/index.ts'
import { AccountService } from '../src/accounts/service.ts'
import { tokenKey } from '../src/store/index.ts'
import { PASSWORD, startTestApi } from './helpers/api.ts'
import { openStorePerTest } from './helpers/store.ts'
import type { TestApi } from './helpers/api.ts'

const offer = { cpus: 2, memoryBytes: 2 ** 30, benchmark: 1, version: 'test', executors: [] }

describe('API tokens and node enrollment', () => {
  let api: TestApi
  beforeAll(async () => { api = await startTestApi() })
  afterAll(async () => { await api?.close() })

  const bearer = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` })

  it('creates an API token shown once, lists it without its text, and a revoked token gets 401', async () => {
    const { cookie } = await api.signUp('alice')
    const created = await api.request({ method: 'POST', url: '/api/tokens', headers: { cookie }, payload: { label: 'laptop cli' } })
    expect(created.statusCode).toBe(201)
    const token = created.json()
    expect(token).toEqual({ token: expect.stringMatching(/^[\w-]{32}$/), id: tokenKey(token.token).slice(0, 12), kind: 'api', label: 'laptop cli', createdAt: expect.any(Number) })

    const me = await api.request({ method: 'GET', url: '/api/auth/me', headers: bearer(token.token) })
    expect(me.statusCode).toBe(200)
    expect(me.json().account.name).toBe('alice')

    const listed = await api.request({ method: 'GET', url: '/api/tokens', headers: bearer(token.token) })
    expect(listed.statusCode).toBe(200)
    expect(listed.json()).toEqual({ tokens: [{ id: token.id, kind: 'api', label: 'laptop cli', createdAt: token.createdAt }] })
    expect(listed.body).not.toContain(token.token)

    const revoked = await api.request({ method: 'DELETE', url: `/api/tokens/${token.id}`, headers: { cookie } })
    expect(revoked.statusCode).toBe(204)
    expect(await api.coordinator.store.tokens.get(tokenKey(token.token))).toBeUndefined()
    const after = await api.request({ method: 'GET', url: '/api/tokens', headers: bearer(token.token) })
    expect(after.statusCode).toBe(401)
    expect((await api.request({ method: 'GET', url: '/api/tokens', headers: { cookie } })).json()).toEqual({ tokens: [] })
    const again = await api.request({ method: 'DELETE', url: `/api/tokens/${token.id}`, headers: { cookie } })
    expect(again.statusCode).toBe(404)
  })

  it('neither lists nor revokes another account\'s tokens, and says nothing about them', async () => {
    const bob = await api.signUp('bob')
    const eve = await api.signUp('eve')
    const bobs = (await api.request({ method: 'POST', url: '/api/tokens', headers: { cookie: bob.cookie }, payload: { label: 'bob ci' } })).json()
    const enroll = (await api.request({ method: 'POST', url: '/api/nodes/enroll', headers: { cookie: bob.cookie }, payload: { label: 'bob rack' } })).json()

    const evesList = await api.request({ method: 'GET', url: '/api/tokens', headers: { cookie: eve.cookie } })
    expect(evesList.json()).toEqual({ tokens: [] })

    const unknown = await api.request({ method: 'DELETE', url: '/api/tokens/0123456789ab', headers: { cookie: eve.cookie } })
    for (const id of [bobs.id, enroll.id]) {
      const stolen = await api.request({ method: 'DELETE', url: `/api/tokens/${id}`, headers: { cookie: eve.cookie } })
      expect(stolen.statusCode).toBe(404)
      // The same answer as for a token that does not exist, but for the id itself.
      expect(stolen.json()).toEqual({ ...unknown.json(), message: unknown.json().message.replace('0123456789ab', id) })
    }
    // The admin has no say over bob's tokens either.
    const admin = await api.request({ method: 'DELETE', url: `/api/tokens/${bobs.id}`, headers: bearer(api.coordinator.info.adminToken) })
    expect(admin.statusCode).toBe(404)

    expect((await api.request({ method: 'GET', url: '/api/auth/me', headers: bearer(bobs.token) })).statusCode).toBe(200)
    const bobsList = await api.request({ method: 'GET', url: '/api/tokens', headers: { cookie: bob.cookie } })
    expect(bobsList.json().tokens.map((t: { id: string, kind: string }) => [t.id, t.kind]).sort())
      .toEqual([[bobs.id, 'api'], [enroll.id, 'enroll']].sort())
  })

  it('enrolls nodes into the caller\'s account; others, the admin included, do not see them', async () => {
    const carol = await api.signUp('carol')
    const dan = await api.signUp('dan')
    const enrolled = await api.request({ method: 'POST', url: '/api/nodes/enroll', headers: { cookie: carol.cookie } })
    expect(enrolled.statusCode).toBe(201)
    const { token } = enrolled.json()
    expect(enrolled.json()).toMatchObject({ kind: 'enroll', label: 'node' })

    // An enrollment token opens no API route.
    expect((await api.request({ method: 'GET', url: '/api/nodes', headers: bearer(token) })).statusCode).toBe(401)

    const registered = await api.coordinator.registry.register('peer-carol-1', { ...offer, token })
    expect(registered.status).toBe(RegisterResponse.Status.OK)
    expect((await api.coordinator.store.nodes.get(registered.nodeId))?.account).toBe(carol.id)

    const carols = await api.request({ method: 'GET', url: '/api/nodes', headers: { cookie: carol.cookie } })
    expect(carols.json().nodes.map((node: { id: string, status: string }) => [node.id, node.status])).toEqual([[registered.nodeId, 'alive']])
    const dans = await api.request({ method: 'GET', url: '/api/nodes', headers: { cookie: dan.cookie } })
    expect(dans.json()).toEqual({ nodes: [] })
    const admins = await api.request({ method: 'GET', url: '/api/nodes', headers: bearer(api.coordinator.info.adminToken) })
    expect(admins.json().nodes.map((node: { id: string }) => node.id)).not.toContain(registered.nodeId)
    expect(dans.body + admins.body).not.toContain('peer-carol-1')

    // Once carol revokes it, the token enrolls nothing more.
    const { id } = enrolled.json()
    expect((await api.request({ method: 'DELETE', url: `/api/tokens/${id}`, headers: { cookie: carol.cookie } })).statusCode).toBe(204)
    const late = await api.coordinator.registry.register('peer-carol-2', { ...offer, token })
    expect(late.status).toBe(RegisterResponse.Status.REFUSED)
  })

  it('answers 401 to every account route without credentials, before reading the body', async () => {
    for (const [method, url, payload] of [
      ['GET', '/api/auth/me'], ['GET', '/api/tokens'], ['POST', '/api/tokens', { label: 'x' }], ['POST', '/api/tokens', '{not json'],
      ['DELETE', '/api/tokens/0123456789ab'], ['DELETE', '/api/tokens/nonsense'], ['POST', '/api/nodes/enroll', {}], ['GET', '/api/nodes']
    ] as const) {
      const response = await api.request({ method, url, ...(payload !== undefined ? { payload, headers: { 'content-type': 'application/json' } } : {}) })
      expect({ method, url, status: response.statusCode }).toEqual({ method, url, status: 401 })
      expect(response.json()).toEqual({ error: 'Unauthorized', message: expect.stringMatching(/Bearer/) })
    }
  })

  it('refuses token bodies and ids that are not what the schema says', async () => {
    const { cookie } = await api.signUp('frank')
    for (const [method, url, payload, message] of [
      ['POST', '/api/tokens', {}, /required properties label/],
      ['POST', '/api/tokens', { label: 7 }, /label must be string/],
      ['POST', '/api/tokens', { label: '' }, /label must not have fewer than 1/],
      ['POST', '/api/tokens', { label: 'x'.repeat(65) }, /label must not have more than 64/],
      ['POST', '/api/nodes/enroll', { label: ['rack'] }, /label must be string/],
      ['DELETE', '/api/tokens/ABCDEF123456', undefined, /params\/id must match pattern/]
    ] as const) {
      const response = await api.request({ method, url, headers: { cookie }, ...(payload !== undefined ? { payload } : {}) })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toEqual({ error: 'FST_ERR_VALIDATION', message: expect.stringMatching(message) })
    }
    expect((await api.request({ method: 'GET', url: '/api/tokens', headers: { cookie } })).json()).toEqual({ tokens: [] })
  })
})

describe('AccountService sessions', () => {
  const db = openStorePerTest()
  let now: number
  let accounts: AccountService

  beforeEach(async () => {
    now = 1_000_000
    accounts = new AccountService(db.store, { sessionTtl: 60_000, now: () => now })
    await accounts.start()
  })

  it('expires a session after its time to live and deletes it', async () => {
    const account = await accounts.register('grace', PASSWORD)
    const session = await accounts.createSession(account.id)
    expect(session.expiresAt).toBe(now + 60_000)
    now += 59_999
    expect((await accounts.sessionAccount(session.token))?.id).toBe(account.id)
    now += 1
    expect(await accounts.sessionAccount(session.token)).toBeUndefined()
    expect(await db.store.sessions.get(tokenKey(session.token))).toBeUndefined()
  })

  it('lets only one of several simultaneous registrations of a name through', async () => {
    // An instant hash puts all three in the uniqueness check in the same turn of the event loop.
    const fast = new AccountService(db.store, { hashPassword: async password => `plain:${password}` })
    const results = await Promise.allSettled(['ivan', 'IVAN', 'ivan'].map(async name => await fast.register(name, PASSWORD)))
    expect(results.map(result => result.status).sort()).toEqual(['fulfilled', 'rejected', 'rejected'])
    const names = []
    for await (const account of db.store.accounts.values()) names.push(account.name)
    expect(names).toHaveLength(1)
  })

  it('drops expired sessions and indexes older accounts\' names when it starts', async () => {
    const account = await accounts.register('heidi', PASSWORD)
    const old = await accounts.createSession(account.id)
    now += 30_000
    const recent = await accounts.createSession(account.id)
    await db.store.accounts.put('acct-legacy', { id: 'acct-legacy', name: 'Legacy', role: 'admin', createdAt: 0 })
    now += 30_000
    await new AccountService(db.store, { sessionTtl: 60_000, now: () => now }).start()
    expect(await db.store.sessions.get(tokenKey(old.token))).toBeUndefined()
    expect(await db.store.sessions.get(tokenKey(recent.token))).toBeDefined()
    expect(await db.store.accountNames.get('legacy')).toBe('acct-legacy')
    await expect(accounts.register('legacy', PASSWORD)).rejects.toThrow(/taken/)
  })
})

/** Accounts over HTTP: register, log in with a session cookie, log out; validation, rate limiting, OpenAPI. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tokenKey } from '../src/store/index.ts'
import { PASSWORD, startTestApi } from './helpers/api.ts'
import type { TestApi } from './helpers/api.ts'

describe('accounts and sessions', () => {
  let api: TestApi
  beforeAll(async () => { api = await startTestApi() })
  afterAll(async () => { await api?.close() })

  it('registers, logs in with an httpOnly SameSite=Strict cookie, answers /me, and logs out for good', async () => {
    const registered = await api.request({ method: 'POST', url: '/api/auth/register', payload: { name: 'alice', password: PASSWORD } })
    expect(registered.statusCode).toBe(201)
    const { account } = registered.json()
    expect(account).toEqual({ id: expect.stringMatching(/^acct-/), name: 'alice', role: 'user' })

    const login = await api.request({ method: 'POST', url: '/api/auth/login', payload: { name: 'alice', password: PASSWORD } })
    expect(login.statusCode).toBe(200)
    expect(login.json()).toEqual({ account })
    const [cookie] = login.cookies
    expect(cookie).toMatchObject({ name: 'runsurge_session', httpOnly: true, sameSite: 'Strict', path: '/' })
    expect(cookie?.value).toMatch(/^[\w-]{40,}$/)
    const session = `runsurge_session=${cookie?.value}`

    // Stored by hash, with an expiry, in the sessions bucket; never by its text.
    const stored = await api.coordinator.store.sessions.get(tokenKey(cookie?.value ?? ''))
    expect(stored).toMatchObject({ account: account.id })
    expect(stored!.expiresAt).toBeGreaterThan(Date.now())
    expect(await api.coordinator.store.sessions.get(cookie?.value ?? '')).toBeUndefined()

    const me = await api.request({ method: 'GET', url: '/api/auth/me', headers: { cookie: session } })
    expect(me.statusCode).toBe(200)
    expect(me.json()).toEqual({ account })

    const logout = await api.request({ method: 'POST', url: '/api/auth/logout', headers: { cookie: session } })
    expect(logout.statusCode).toBe(204)
    expect(logout.cookies).toEqual([expect.objectContaining({ name: 'runsurge_session', value: '' })])
    expect(await api.coordinator.store.sessions.get(tokenKey(cookie?.value ?? ''))).toBeUndefined()
    // The old cookie, replayed, opens nothing.
    const replayed = await api.request({ method: 'GET', url: '/api/auth/me', headers: { cookie: session } })
    expect(replayed.statusCode).toBe(401)
    expect(replayed.json()).toEqual({ error: 'Unauthorized', message: expect.stringMatching(/log in/) })
  })

  it('stores the password as an argon2id hash that no answer ever contains', async () => {
    const { id } = await api.signUp('hashed')
    const account = await api.coordinator.store.accounts.get(id)
    expect(account?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    await api.request({ method: 'GET', url: '/api/auth/me', headers: { cookie: (await api.signUp('hashed2')).cookie } })
    const everything = api.answers().join('\n')
    expect(everything).not.toContain('$argon2')
    expect(everything).not.toContain('passwordHash')
    expect(everything).not.toContain(PASSWORD)
  })

  it('answers a wrong password and an unknown name with the same 401', async () => {
    await api.signUp('bob')
    const wrong = await api.request({ method: 'POST', url: '/api/auth/login', payload: { name: 'bob', password: 'not the password' } })
    const unknown = await api.request({ method: 'POST', url: '/api/auth/login', payload: { name: 'nobody', password: PASSWORD } })
    // The bootstrap admin has no password: nothing logs in as it.
    const admin = await api.request({ method: 'POST', url: '/api/auth/login', payload: { name: 'admin', password: PASSWORD } })
    for (const response of [wrong, unknown, admin]) {
      expect(response.statusCode).toBe(401)
      expect(response.json()).toEqual({ error: 'Unauthorized', message: 'wrong name or password' })
      expect(response.headers['set-cookie']).toBeUndefined()
    }
  })

  it('refuses a name that is taken, whatever its case, including the admin\'s', async () => {
    await api.signUp('carol')
    for (const name of ['carol', 'CAROL', 'admin']) {
      const again = await api.request({ method: 'POST', url: '/api/auth/register', payload: { name, password: PASSWORD } })
      expect(again.statusCode).toBe(409)
      expect(again.json()).toEqual({ error: 'Conflict', message: `the name "${name}" is taken: choose another one` })
    }
  })

  it('logs in with a name in another case, and logs out idempotently without a session', async () => {
    await api.signUp('Erin')
    const login = await api.request({ method: 'POST', url: '/api/auth/login', payload: { name: 'erin', password: PASSWORD } })
    expect(login.statusCode).toBe(200)
    expect(login.json().account.name).toBe('Erin')
    const logout = await api.request({ method: 'POST', url: '/api/auth/logout' })
    expect(logout.statusCode).toBe(204)
  })

  it('judges a request by its Bearer token when it has one, even with a valid cookie beside it', async () => {
    const { cookie } = await api.signUp('frank')
    const response = await api.request({ method: 'GET', url: '/api/auth/me', headers: { cookie, authorization: 'Bearer not-a-token' } })
    expect(response.statusCode).toBe(401)
    const forged = await api.request({ method: 'GET', url: '/api/auth/me', headers: { cookie: 'runsurge_session=forged' } })
    expect(forged.statusCode).toBe(401)
  })

  it('refuses malformed JSON, oversized bodies, missing fields and wrong types with a clear 400 or 413', async () => {
    const register = async (payload: string, contentType = 'application/json'): Promise<{ statusCode: number, body: { error: string, message: string } }> => {
      const response = await api.request({ method: 'POST', url: '/api/auth/register', payload, headers: { 'content-type': contentType } })
      return { statusCode: response.statusCode, body: response.json() }
    }
    const cases: Array<[string, number, RegExp]> = [
      ['{"name": "gina", "password":', 400, /not valid JSON/i],
      [JSON.stringify({ name: 'gina', password: 'x'.repeat(1024 * 1024) }), 413, /too large/i],
      [JSON.stringify({ name: 'gina' }), 400, /password/],
      [JSON.stringify({ password: PASSWORD }), 400, /name/],
      [JSON.stringify({ name: 'gina', password: 12345678 }), 400, /password.*string/],
      [JSON.stringify({ name: ['gina'], password: PASSWORD }), 400, /name.*string/],
      [JSON.stringify({ name: 'gi', password: PASSWORD }), 400, /name.*fewer than 3/],
      [JSON.stringify({ name: 'g'.repeat(65), password: PASSWORD }), 400, /name.*more than 64/],
      [JSON.stringify({ name: 'gina smith', password: PASSWORD }), 400, /name.*pattern/],
      [JSON.stringify({ name: 'gina', password: 'short' }), 400, /password.*fewer than 8/],
      [JSON.stringify([]), 400, /object/],
      ['null', 400, /object/]
    ]
    for (const [payload, status, message] of cases) {
      const { statusCode, body } = await register(payload)
      expect({ payload: payload.slice(0, 60), statusCode }).toEqual({ payload: payload.slice(0, 60), statusCode: status })
      expect(body).toEqual({ error: expect.any(String), message: expect.stringMatching(message) })
      expect(JSON.stringify(body)).not.toMatch(/\bat .*\.(ts|js):\d+/) // no stack trace
    }
    const form = await register('name=gina&password=aaaaaaaa', 'application/x-www-form-urlencoded')
    expect(form.statusCode).toBe(415)
    expect(await api.coordinator.store.accountNames.get('gina')).toBeUndefined()
  })

  it('serves the OpenAPI document listing the routes, and the docs UI', async () => {
    const docs = await api.request({ method: 'GET', url: '/docs/json' })
    expect(docs.statusCode).toBe(200)
    const document = docs.json()
    expect(document.openapi).toMatch(/^3\./)
    const paths = Object.keys(document.paths)
    for (const path of ['/api/auth/register', '/api/auth/login', '/api/auth/logout', '/api/auth/me', '/api/tokens/', '/api/tokens/{id}', '/api/nodes/', '/api/nodes/enroll']) {
      expect(paths).toContain(path)
    }
    expect(Object.keys(document.paths['/api/tokens/{id}'])).toEqual(['delete'])
    expect(document.paths['/api/auth/register'].post.requestBody.content['application/json'].schema.required).toEqual(['name', 'password'])
    expect(document.paths['/api/auth/register'].post.responses).toHaveProperty('409')
    const ui = await api.request({ method: 'GET', url: '/docs/' })
    expect(ui.statusCode).toBe(200)
    expect(ui.headers['content-type']).toMatch(/text\/html/)
  })
})

describe('rate limiting of the auth routes', () => {
  let api: TestApi
  beforeAll(async () => { api = await startTestApi({ authRateLimit: { max: 3, timeWindow: 60_000 } }) })
  afterAll(async () => { await api?.close() })

  it('answers 429 after N login attempts, even with the right password, and limits nothing else', async () => {
    const registered = await api.request({ method: 'POST', url: '/api/auth/register', payload: { name: 'mallory', password: PASSWORD } })
    expect(registered.statusCode).toBe(201)
    const login = async (password: string): Promise<number> =>
      (await api.request({ method: 'POST', url: '/api/auth/login', payload: { name: 'mallory', password } })).statusCode
    expect(await login(PASSWORD)).toBe(200)
    expect(await login('guess-one')).toBe(401)
    expect(await login('guess-two')).toBe(401)
    const limited = await api.request({ method: 'POST', url: '/api/auth/login', payload: { name: 'mallory', password: PASSWORD } })
    expect(limited.statusCode).toBe(429)
    expect(limited.json()).toEqual({ error: 'Too Many Requests', message: expect.stringMatching(/too many attempts.*retry in 1 minute/) })
    expect(limited.headers['retry-after']).toBe('60')
    expect(limited.headers['set-cookie']).toBeUndefined()

    // Other routes are not limited: more requests than the limit all get their ordinary answer.
    for (let i = 0; i < 6; i++) {
      expect((await api.request({ method: 'GET', url: '/api/auth/me' })).statusCode).toBe(401)
      expect((await api.request({ method: 'GET', url: '/api/health' })).statusCode).toBe(200)
    }
  })
})

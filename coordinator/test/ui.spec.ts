/** The coordinator serves the built UI: files, the app's index for its own paths, JSON 404s for the API. */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Fastify from 'fastify'
import uiPlugin, { CONTENT_SECURITY_POLICY } from '../src/plugins/ui.ts'
import { tempDir } from '../../test/helpers/index.ts'
import type { FastifyInstance } from 'fastify'

let dir: Awaited<ReturnType<typeof tempDir>>
let built: FastifyInstance
let bare: FastifyInstance

async function appWith (root: string): Promise<FastifyInstance> {
  const app = Fastify()
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'Not Found', message: `no route ${request.method} ${request.url}` }))
  app.get('/api/health', async () => ({ ok: true }))
  await app.register(uiPlugin, { root })
  await app.ready()
  return app
}

beforeAll(async () => {
  dir = await tempDir()
  const dist = join(dir.path, 'dist')
  await mkdir(join(dist, 'assets'), { recursive: true })
  await writeFile(join(dist, 'index.html'), '<!doctype html><div id="root"></div>')
  await writeFile(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)')
  built = await appWith(dist)
  bare = await appWith(join(dir.path, 'missing'))
})
afterAll(async () => {
  await built?.close()
  await bare?.close()
  await dir?.remove()
})

describe('the UI plugin', () => {
  it('serves built files, assets cached for good', async () => {
    const asset = await built.inject({ url: '/assets/index-abc123.js' })
    expect(asset.statusCode).toBe(200)
    expect(asset.headers['cache-control']).toContain('immutable')
    const index = await built.inject({ url: '/' })
    expect(index.statusCode).toBe(200)
    expect(index.body).toContain('id="root"')
    expect(index.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY)
  })

  it('answers the app\'s own paths with its index, and leaves the API and missing assets alone', async () => {
    for (const url of ['/jobs', '/jobs/4f3c-1', '/nodes?x=1', '/guide']) {
      const response = await built.inject({ url })
      expect(response.statusCode, url).toBe(200)
      expect(response.headers['content-type']).toMatch(/text\/html/)
      expect(response.headers['cache-control']).toBe('no-cache')
    }
    expect((await built.inject({ url: '/api/health' })).json()).toEqual({ ok: true })
    const unknown = await built.inject({ url: '/api/nope' })
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json().message).toBe('no route GET /api/nope')
    expect((await built.inject({ url: '/assets/gone.js' })).statusCode).toBe(404)
    expect((await built.inject({ method: 'POST', url: '/jobs' })).statusCode).toBe(404)
  })

  it('says how to build the UI when there is no build', async () => {
    const response = await bare.inject({ url: '/jobs' })
    expect(response.statusCode).toBe(503)
    expect(response.body).toContain('npm run build:ui')
    expect((await bare.inject({ url: '/api/health' })).statusCode).toBe(200)
  })
})

/**
 * Serves the built web UI (`ui/dist`, made by `vite build`): its files as they are, and `index.html` for every other
 * GET outside `/api` so the app's own routes (`/jobs/…`) survive a reload. Without a build, those paths answer with a
 * page that says how to make one. Registered after the API: its routes and `/docs` always win.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'

export interface UiOptions {
  /** The built UI. Default: `ui/dist` of this repository. */
  root?: string
}

export const DEFAULT_UI_ROOT = join(import.meta.dirname, '..', '..', '..', 'ui', 'dist')

/**
 * The UI loads nothing from elsewhere (no CDN, no fonts): the policy makes the browser enforce it. Styles set by
 * Solid through `style=` need 'unsafe-inline' for styles only.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join('; ')

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>RunSurge: the web UI is not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1b2330}code{background:#eef1f5;padding:.1em .3em;border-radius:3px}</style>
</head><body><main>
<h1>The web UI is not built</h1>
<p>This coordinator serves its API (<a href="/docs">API reference</a>), but there is no <code>ui/dist</code> to show.</p>
<p>Build it with <code>npm run build:ui</code>, or start the whole lab mesh with <code>npm start</code>, which builds it when needed.</p>
</main></body></html>
`

function htmlHeaders (reply: { header(name: string, value: string): unknown }): void {
  reply.header('cache-control', 'no-cache')
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY)
  reply.header('x-content-type-options', 'nosniff')
  reply.header('referrer-policy', 'same-origin')
}

export default async function uiPlugin (app: FastifyInstance, options: UiOptions): Promise<void> {
  const root = options.root ?? DEFAULT_UI_ROOT
  const built = existsSync(join(root, 'index.html'))
  if (built) {
    await app.register(fastifyStatic, {
      root,
      // One route per file of the build, so unknown paths fall through to the app's index below.
      wildcard: false,
      setHeaders: (reply, path) => {
        // Vite names assets by content hash: they never change under one name.
        if (path.startsWith(join(root, 'assets'))) reply.header('cache-control', 'public, max-age=31536000, immutable')
        else if (path.endsWith('.html')) htmlHeaders(reply)
      }
    })
  }

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/'
    // The API answers in JSON, a missing asset with 404: only the app's own pages get index.html.
    if (path === '/api' || path.startsWith('/api/') || path.startsWith('/assets/')) return reply.callNotFound()
    htmlHeaders(reply)
    if (!built) return await reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE)
    return await reply.type('text/html; charset=utf-8').sendFile('index.html')
  })
}

/**
 * The coordinator's HTTP app as a Fastify plugin (fastify/demo's shape): shared services as plugins, then routes.
 * `server.ts` only listens and closes.
 */
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import authPlugin from './plugins/auth.ts'
import livenessPlugin from './plugins/liveness.ts'
import meshPlugin from './plugins/mesh.ts'
import uiPlugin from './plugins/ui.ts'
import adminRoutes from './routes/api/admin/index.ts'
import analyzeRoutes from './routes/api/analyze/index.ts'
import authRoutes from './routes/api/auth/index.ts'
import billingRoutes from './routes/api/billing/index.ts'
import jobRoutes from './routes/api/jobs/index.ts'
import healthRoutes from './routes/api/health/index.ts'
import nodeRoutes from './routes/api/nodes/index.ts'
import tokenRoutes from './routes/api/tokens/index.ts'
import type { AuthRateLimit } from './routes/api/auth/index.ts'
import type { JobService } from './jobs/service.ts'
import type { NodeRegistry } from './nodes/registry.ts'
import type { Mesh } from './plugins/mesh.ts'
import type { SnapshotSchedule, Store } from './store/index.ts'
import type { FastifyError, FastifyInstance } from 'fastify'

export interface AppOptions {
  store: Store
  mesh: Mesh
  registry: NodeRegistry
  deadAfter: number
  jobs: JobService
  /** The database's snapshots (the admin API takes one on request). */
  snapshots: SnapshotSchedule
  /** Where job uploads are written while they are submitted. */
  uploadDir: string
  /** Largest input file of a job (bytes). Default 1 GiB. */
  maxInputBytes?: number
  /** Rate limit of register and login, per client address. Default 10 a minute. */
  authRateLimit?: Partial<AuthRateLimit>
  /** How long a browser session lasts (ms). Default 7 days. */
  sessionTtl?: number
  /** The built web UI to serve. Default: the repository's `ui/dist`. */
  uiRoot?: string
}

export default async function app (fastify: FastifyInstance, options: AppOptions): Promise<void> {
  fastify.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode ?? 500
    if (status >= 500) {
      request.log.error({ err }, 'request failed')
      return reply.code(status).send({ error: 'Internal Server Error', message: 'the coordinator failed; try again, and report it if it persists' })
    }
    return reply.code(status).send({ error: err.code ?? 'Bad Request', message: err.message })
  })
  fastify.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'Not Found', message: `no route ${request.method} ${request.url}` }))

  // OpenAPI: collects every route's schema registered after it; UI at /docs, the document at /docs/json.
  await fastify.register(swagger, {
    openapi: {
      info: { title: 'RunSurge coordinator', version: '0.1.0', description: 'Accounts, tokens, nodes and jobs of a RunSurge mesh.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'an API token from POST /api/tokens' },
          session: { type: 'apiKey', in: 'cookie', name: 'runsurge_session', description: 'set by POST /api/auth/login' }
        }
      },
      security: [{ bearer: [] }, { session: [] }]
    }
  })
  await fastify.register(swaggerUi, { routePrefix: '/docs' })
  // Only routes that ask for it (`config.rateLimit`: register and login) are limited.
  await fastify.register(rateLimit, { global: false })
  await fastify.register(authPlugin, { store: options.store, sessionTtl: options.sessionTtl })
  await fastify.register(meshPlugin, { mesh: options.mesh })
  await fastify.register(livenessPlugin, { registry: options.registry, deadAfter: options.deadAfter })
  await fastify.register(healthRoutes, { prefix: '/api/health' })
  await fastify.register(nodeRoutes, { prefix: '/api/nodes' })
  await fastify.register(authRoutes, { prefix: '/api/auth', rateLimit: options.authRateLimit })
  await fastify.register(tokenRoutes, { prefix: '/api/tokens' })
  fastify.decorate('jobs', options.jobs)
  await fastify.register(jobRoutes, { prefix: '/api/jobs', jobs: options.jobs, uploadDir: options.uploadDir, ...(options.maxInputBytes !== undefined ? { maxInputBytes: options.maxInputBytes } : {}) })
  await fastify.register(billingRoutes, { prefix: '/api' })
  await fastify.register(analyzeRoutes, { prefix: '/api/analyze' })
  await fastify.register(adminRoutes, { prefix: '/api/admin', snapshots: options.snapshots })
  // Last: the UI's index answers the GETs no route above claimed.
  await fastify.register(uiPlugin, options.uiRoot !== undefined ? { root: options.uiRoot } : {})
}

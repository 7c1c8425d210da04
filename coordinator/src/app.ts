/**
 * The coordinator's HTTP app as a Fastify plugin (fastify/demo's shape): shared services as plugins, then routes.
 * `server.ts` only listens and closes.
 */
import authPlugin from './plugins/auth.ts'
import livenessPlugin from './plugins/liveness.ts'
import meshPlugin from './plugins/mesh.ts'
import healthRoutes from './routes/api/health/index.ts'
import nodeRoutes from './routes/api/nodes/index.ts'
import type { NodeRegistry } from './nodes/registry.ts'
import type { Mesh } from './plugins/mesh.ts'
import type { Store } from './store/index.ts'
import type { FastifyError, FastifyInstance } from 'fastify'

export interface AppOptions {
  store: Store
  mesh: Mesh
  registry: NodeRegistry
  deadAfter: number
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

  await fastify.register(authPlugin, { store: options.store })
  await fastify.register(meshPlugin, { mesh: options.mesh })
  await fastify.register(livenessPlugin, { registry: options.registry, deadAfter: options.deadAfter })
  await fastify.register(healthRoutes, { prefix: '/api/health' })
  await fastify.register(nodeRoutes, { prefix: '/api/nodes' })
}

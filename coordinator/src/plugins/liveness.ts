/**
 * Declares silent nodes dead: sweeps the registry several times per `deadAfter` window, so a dead node is noticed
 * at most a tenth of the window late. Decorates the app with `registry`.
 */
import fp from 'fastify-plugin'
import type { NodeRegistry } from '../nodes/registry.ts'
import type { FastifyInstance } from 'fastify'

declare module 'fastify' {
  interface FastifyInstance {
    registry: NodeRegistry
  }
}

export default fp(async function livenessPlugin (app: FastifyInstance, options: { registry: NodeRegistry, deadAfter: number }) {
  const { registry } = options
  app.decorate('registry', registry)
  // The registry was recovered (and its events logged) before the mesh started: see server.ts.
  const period = Math.max(50, Math.floor(options.deadAfter / 10))
  const timer = setInterval(() => {
    registry.sweep().catch(err => { app.log.error({ err }, 'liveness sweep failed') })
  }, period)
  timer.unref()
  app.addHook('onClose', async () => { clearInterval(timer) })
}, { name: 'liveness' })

import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const health: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    schema: { response: { 200: Type.Object({ ok: Type.Boolean() }) } }
  }, async () => ({ ok: true }))
}

export default health

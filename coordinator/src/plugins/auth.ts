/**
 * Bearer-token authentication: `request.account` is the account whose API token came with the request.
 * Routes opt in with `preHandler: app.authenticate`.
 */
import fp from 'fastify-plugin'
import { tokenKey } from '../store/index.ts'
import type { Account, Store } from '../store/index.ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

declare module 'fastify' {
  interface FastifyInstance {
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>
  }
  interface FastifyRequest {
    account: Account | null
  }
}

export default fp(async function authPlugin (app: FastifyInstance, options: { store: Store }) {
  app.decorateRequest('account', null)
  app.decorate('authenticate', async function authenticate (request: FastifyRequest, reply: FastifyReply) {
    const header = request.headers.authorization ?? ''
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    const token = match?.[1] === undefined ? undefined : await options.store.tokens.get(tokenKey(match[1]))
    const account = token?.kind === 'api' ? await options.store.accounts.get(token.account) : undefined
    if (account == null) {
      await reply.code(401).send({ error: 'Unauthorized', message: 'send a valid API token: Authorization: Bearer <token>' })
      return
    }
    request.account = account
  })
}, { name: 'auth' })

/**
 * Authentication: `request.account` is the account of the request's API token (`Authorization: Bearer <token>`, for
 * the CLI and scripts) or of its session cookie (`runsurge_session`, for the browser). Routes opt in with
 * `preHandler: app.authenticate`. Decorates the app with `accounts`, the account service.
 */
import cookie from '@fastify/cookie'
import fp from 'fastify-plugin'
import { AccountService } from '../accounts/service.ts'
import type { Account, Store } from '../store/index.ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

declare module 'fastify' {
  interface FastifyInstance {
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>
    accounts: AccountService
  }
  interface FastifyRequest {
    account: Account | null
  }
}

/** The browser session cookie: httpOnly, SameSite=Strict, Path=/. */
export const SESSION_COOKIE = 'runsurge_session'

export interface AuthOptions {
  store: Store
  /** How long a browser session lasts (ms). Default 7 days. */
  sessionTtl?: number
}

export default fp(async function authPlugin (app: FastifyInstance, options: AuthOptions) {
  const accounts = new AccountService(options.store, { sessionTtl: options.sessionTtl })
  await accounts.start()
  await app.register(cookie)
  app.decorate('accounts', accounts)
  app.decorateRequest('account', null)
  app.decorate('authenticate', async function authenticate (request: FastifyRequest, reply: FastifyReply) {
    const header = request.headers.authorization
    let account: Account | undefined
    if (header !== undefined) {
      // A request that names a token is judged by that token alone, never by a cookie that happens to come along.
      const match = /^Bearer\s+(\S+)$/i.exec(header)
      account = match?.[1] === undefined ? undefined : await accounts.apiTokenAccount(match[1])
    } else {
      const session = request.cookies[SESSION_COOKIE]
      account = session === undefined || session === '' ? undefined : await accounts.sessionAccount(session)
    }
    if (account == null) {
      await reply.code(401).send({ error: 'Unauthorized', message: 'log in, or send a valid API token: Authorization: Bearer <token>' })
      return
    }
    request.account = account
  })
}, { name: 'auth' })

/**
 * Accounts for people: register, log in (a session cookie for the browser), log out, who am I. Register and login
 * are rate limited per client address, so passwords cannot be guessed at speed.
 */
import { Type } from 'typebox'
import { AccountNameTakenError, accountView } from '../../../accounts/service.ts'
import { SESSION_COOKIE } from '../../../plugins/auth.ts'
import { AccountReply, LoginBody, RegisterBody } from '../../../schemas/accounts.ts'
import { strictValidator } from '../../validation.ts'
import { fail, failures } from '../../replies.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

export interface AuthRateLimit {
  /** Attempts allowed per client address and route within `timeWindow`. Default 10. */
  max: number
  /** The window (ms). Default 60 000. */
  timeWindow: number
}

export const DEFAULT_AUTH_RATE_LIMIT: AuthRateLimit = { max: 10, timeWindow: 60_000 }

const auth: FastifyPluginAsyncTypebox<{ rateLimit?: Partial<AuthRateLimit> }> = async (app, options) => {
  app.setValidatorCompiler(strictValidator)
  const rateLimit = {
    ...DEFAULT_AUTH_RATE_LIMIT,
    ...options.rateLimit,
    errorResponseBuilder: (_request: unknown, context: { statusCode: number, after: string }) =>
      Object.assign(new Error(`too many attempts from this address: retry in ${context.after}`), {
        statusCode: context.statusCode, code: 'Too Many Requests'
      })
  }

  app.post('/register', {
    config: { rateLimit },
    schema: {
      tags: ['auth'],
      summary: 'Create an account',
      body: RegisterBody,
      response: { 201: AccountReply, ...failures(400, 409, 429) }
    }
  }, async (request, reply) => {
    try {
      const account = await app.accounts.register(request.body.name, request.body.password)
      request.log.info({ account: account.id }, 'account registered')
      return await reply.code(201).send({ account: accountView(account) })
    } catch (err) {
      if (err instanceof AccountNameTakenError) return await fail(reply, 409, err.message)
      throw err
    }
  })

  app.post('/login', {
    config: { rateLimit },
    schema: {
      tags: ['auth'],
      summary: 'Log in: sets the runsurge_session cookie',
      body: LoginBody,
      response: { 200: AccountReply, ...failures(400, 401, 429) }
    }
  }, async (request, reply) => {
    const account = await app.accounts.login(request.body.name, request.body.password)
    if (account === undefined) {
      request.log.info('login refused')
      return await fail(reply, 401, 'wrong name or password')
    }
    const session = await app.accounts.createSession(account.id)
    request.log.info({ account: account.id }, 'logged in')
    return await reply
      .setCookie(SESSION_COOKIE, session.token, {
        httpOnly: true,
        sameSite: 'strict',
        path: '/',
        secure: request.protocol === 'https',
        maxAge: Math.floor(app.accounts.sessionTtlMs / 1000)
      })
      .send({ account: accountView(account) })
  })

  // Logging out twice, or with an expired cookie, is not an error: the cookie is cleared all the same.
  app.post('/logout', {
    schema: { tags: ['auth'], summary: 'Log out: ends the session of the cookie', response: { 204: Type.Null() } }
  }, async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE]
    if (token !== undefined && token !== '') await app.accounts.deleteSession(token)
    return await reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/' }).code(204).send(null)
  })

  app.get('/me', {
    onRequest: app.authenticate,
    schema: { tags: ['auth'], summary: 'The account of this request', response: { 200: AccountReply, ...failures(401) } }
  }, async (request) => ({ account: accountView(request.account!) }))
}

export default auth

/** API tokens of the caller's account, for the CLI and scripts. Nobody sees or revokes another account's tokens. */
import { Type } from 'typebox'
import { ErrorReply } from '../../../schemas/common.ts'
import { CreateTokenBody, CreatedToken, TokenList, TokenParams } from '../../../schemas/tokens.ts'
import { strictValidator } from '../../validation.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const tokens: FastifyPluginAsyncTypebox = async (app) => {
  app.setValidatorCompiler(strictValidator)
  // Before the body is even read: a stranger gets 401, whatever they send.
  app.addHook('onRequest', app.authenticate)

  app.post('/', {
    schema: {
      tags: ['tokens'],
      summary: 'Create an API token; its text is shown this once',
      body: CreateTokenBody,
      response: { 201: CreatedToken, 400: ErrorReply, 401: ErrorReply }
    }
  }, async (request, reply) => {
    const created = await app.accounts.createToken(request.account!.id, 'api', request.body.label)
    request.log.info({ account: request.account!.id, token: created.id }, 'API token created')
    return await reply.code(201).send(created)
  })

  app.get('/', {
    schema: { tags: ['tokens'], summary: 'The tokens of this account (API and node enrollment)', response: { 200: TokenList, 401: ErrorReply } }
  }, async (request) => ({ tokens: await app.accounts.listTokens(request.account!.id) }))

  app.delete('/:id', {
    schema: {
      tags: ['tokens'],
      summary: 'Revoke a token of this account',
      params: TokenParams,
      response: { 204: Type.Null(), 400: ErrorReply, 401: ErrorReply, 404: ErrorReply }
    }
  }, async (request, reply) => {
    const revoked = await app.accounts.revokeToken(request.account!.id, request.params.id)
    if (!revoked) {
      return await reply.code(404).send({ error: 'Not Found', message: `you have no token ${request.params.id}: list yours with GET /api/tokens` })
    }
    request.log.info({ account: request.account!.id, token: request.params.id }, 'token revoked')
    return await reply.code(204).send(null)
  })
}

export default tokens

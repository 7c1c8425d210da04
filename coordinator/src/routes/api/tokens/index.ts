/**
 * Tokens of the caller's account: API tokens for the CLI and scripts, enrollment tokens for nodes (listed with the
 * nodes that registered with them). Nobody sees or revokes another account's tokens.
 */
import { Type } from 'typebox'
import { tokenId } from '../../../accounts/service.ts'
import { CreateTokenBody, CreatedToken, TokenList, TokenParams } from '../../../schemas/tokens.ts'
import { strictValidator } from '../../validation.ts'
import { fail, failures } from '../../replies.ts'
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
      response: { 201: CreatedToken, ...failures(400, 401) }
    }
  }, async (request, reply) => {
    const created = await app.accounts.createToken(request.account!.id, 'api', request.body.label)
    request.log.info({ account: request.account!.id, token: created.id }, 'API token created')
    return await reply.code(201).send(created)
  })

  app.get('/', {
    schema: { tags: ['tokens'], summary: 'The tokens of this account (API and node enrollment)', response: { 200: TokenList, ...failures(401) } }
  }, async (request) => {
    const account = request.account!.id
    const enrolled = new Map<string, string[]>()
    for (const node of await app.registry.list(account)) {
      if (node.token === undefined) continue
      const id = tokenId(node.token)
      enrolled.set(id, [...enrolled.get(id) ?? [], node.id])
    }
    const tokens = await app.accounts.listTokens(account)
    return { tokens: tokens.map(token => token.kind === 'enroll' ? { ...token, nodes: enrolled.get(token.id) ?? [] } : token) }
  })

  app.delete('/:id', {
    schema: {
      tags: ['tokens'],
      summary: 'Revoke a token of this account; revoking an enrollment token also removes the nodes that registered with it (as DELETE /api/nodes/ID)',
      params: TokenParams,
      response: { 204: Type.Null(), ...failures(400, 401, 404) }
    }
  }, async (request, reply) => {
    const account = request.account!.id
    const token = await app.accounts.findToken(account, request.params.id)
    if (token === undefined) {
      return await fail(reply, 404, `you have no token ${request.params.id}: list yours with GET /api/tokens`)
    }
    if (token.kind === 'enroll') {
      const removed = await app.registry.revokeEnrollment({ account, token: token.key })
      request.log.info({ account, token: token.id, nodes: removed.map(node => node.id) }, 'enrollment token revoked; its nodes are removed')
    } else {
      await app.accounts.revokeToken(account, token.id)
      request.log.info({ account, token: token.id }, 'token revoked')
    }
    return await reply.code(204).send(null)
  })
}

export default tokens

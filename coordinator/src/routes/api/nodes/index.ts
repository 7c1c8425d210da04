import { Type } from 'typebox'
import { tokenId } from '../../../accounts/service.ts'
import { MeshInfo, NodeList, NodeParams, NodeView } from '../../../schemas/nodes.ts'
import { CreatedToken, EnrollBody } from '../../../schemas/tokens.ts'
import { strictValidator } from '../../validation.ts'
import { fail, failures } from '../../replies.ts'
import type { NodeSession } from '../../../nodes/registry.ts'
import type { NodeRecord } from '../../../store/index.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import type { Static } from 'typebox'

/** What the API shows of a node: never its token's key, only the token's id. */
function nodeView (node: NodeRecord & { session?: NodeSession }): Static<typeof NodeView> {
  return {
    id: node.id,
    peerId: node.peerId,
    status: node.status,
    ...(node.token !== undefined ? { token: tokenId(node.token) } : {}),
    ...(node.removal !== undefined ? { removal: node.removal } : {}),
    cpus: node.cpus,
    memoryBytes: node.memoryBytes,
    benchmark: node.benchmark,
    version: node.version,
    registeredAt: node.registeredAt,
    lastSeen: node.lastSeen,
    runningTasks: node.session?.runningTasks ?? [],
    memoryFreeBytes: node.session?.memoryFreeBytes ?? 0,
    cpuLoad: node.session?.cpuLoad ?? 0
  }
}

const nodes: FastifyPluginAsyncTypebox = async (app) => {
  app.setValidatorCompiler(strictValidator)
  const notYours = async (reply: FastifyReply, id: string): Promise<FastifyReply> =>
    await fail(reply, 404, `you have no node ${id}: list yours with GET /api/nodes`)

  // Everybody, the admin included, sees the nodes of their own account only.
  app.get('/', {
    preHandler: app.authenticate,
    schema: { tags: ['nodes'], summary: 'The nodes of this account', response: { 200: NodeList, ...failures(401) } }
  }, async (request) => ({ nodes: (await app.registry.list(request.account!.id)).map(nodeView) }))

  // Nodes that register with the token belong to the caller's account (NodeRegistry.register).
  app.post('/enroll', {
    onRequest: app.authenticate,
    // The label is optional, and so is the body that would carry it.
    preValidation: async (request) => { request.body ??= {} },
    schema: {
      tags: ['nodes'],
      summary: 'Create a node enrollment token: RUNSURGE_NODE_TOKEN=<token> runsurge node …',
      body: EnrollBody,
      response: { 201: CreatedToken, ...failures(400, 401) }
    }
  }, async (request, reply) => {
    const created = await app.accounts.createToken(request.account!.id, 'enroll', request.body.label ?? 'node')
    request.log.info({ account: request.account!.id, token: created.id }, 'enrollment token created')
    return await reply.code(201).send(created)
  })

  // The node's connections are hung up and its tasks re-queued as the registry announces it (`node:removed`).
  app.delete('/:id', {
    onRequest: app.authenticate,
    schema: {
      tags: ['nodes'],
      summary: 'Remove a node of this account: it is disconnected at once, its tasks go to other nodes, and its peer id is refused until readmitted',
      params: NodeParams,
      response: { 204: Type.Null(), ...failures(400, 401, 404) }
    }
  }, async (request, reply) => {
    const removed = await app.registry.remove({ account: request.account!.id, nodeId: request.params.id })
    if (removed === undefined) return await notYours(reply, request.params.id)
    request.log.info({ account: request.account!.id, node: removed.id, peer: removed.peerId }, 'node removed by its owner')
    return await reply.code(204).send(null)
  })

  app.post('/:id/readmit', {
    onRequest: app.authenticate,
    schema: {
      tags: ['nodes'],
      summary: 'Allow a removed node of this account again: it may register with a valid enrollment token of this account',
      params: NodeParams,
      response: { 200: NodeView, ...failures(400, 401, 404) }
    }
  }, async (request, reply) => {
    const readmitted = await app.registry.readmit({ account: request.account!.id, nodeId: request.params.id })
    if (readmitted === undefined) return await notYours(reply, request.params.id)
    request.log.info({ account: request.account!.id, node: readmitted.id, peer: readmitted.peerId }, 'node allowed again by its owner')
    return nodeView(readmitted)
  })

  app.get('/mesh', {
    schema: { tags: ['nodes'], summary: 'How to reach the mesh', response: { 200: MeshInfo } }
  }, async () => ({
    peerId: app.mesh.libp2p.peerId.toString(),
    multiaddrs: app.mesh.multiaddrs(),
    alive: (await app.registry.list()).filter(node => node.status === 'alive').length
  }))
}

export default nodes

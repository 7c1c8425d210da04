import { ErrorReply } from '../../../schemas/common.ts'
import { MeshInfo, NodeList } from '../../../schemas/nodes.ts'
import { CreatedToken, EnrollBody } from '../../../schemas/tokens.ts'
import { strictValidator } from '../../validation.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const nodes: FastifyPluginAsyncTypebox = async (app) => {
  app.setValidatorCompiler(strictValidator)

  // Everybody, the admin included, sees the nodes of their own account only.
  app.get('/', {
    preHandler: app.authenticate,
    schema: { tags: ['nodes'], summary: 'The nodes of this account', response: { 200: NodeList, 401: ErrorReply } }
  }, async (request) => {
    const list = await app.registry.list(request.account!.id)
    return {
      nodes: list.map(node => ({
        id: node.id,
        peerId: node.peerId,
        status: node.status,
        cpus: node.cpus,
        memoryBytes: node.memoryBytes,
        benchmark: node.benchmark,
        version: node.version,
        registeredAt: node.registeredAt,
        lastSeen: node.lastSeen,
        runningTasks: node.session?.runningTasks ?? [],
        memoryFreeBytes: node.session?.memoryFreeBytes ?? 0,
        cpuLoad: node.session?.cpuLoad ?? 0
      }))
    }
  })

  // Nodes that register with the token belong to the caller's account (NodeRegistry.register).
  app.post('/enroll', {
    onRequest: app.authenticate,
    // The label is optional, and so is the body that would carry it.
    preValidation: async (request) => { request.body ??= {} },
    schema: {
      tags: ['nodes'],
      summary: 'Create a node enrollment token: runsurge node --token <token>',
      body: EnrollBody,
      response: { 201: CreatedToken, 400: ErrorReply, 401: ErrorReply }
    }
  }, async (request, reply) => {
    const created = await app.accounts.createToken(request.account!.id, 'enroll', request.body.label ?? 'node')
    request.log.info({ account: request.account!.id, token: created.id }, 'enrollment token created')
    return await reply.code(201).send(created)
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

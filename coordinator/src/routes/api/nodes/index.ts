import { ErrorReply } from '../../../schemas/common.ts'
import { MeshInfo, NodeList } from '../../../schemas/nodes.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const nodes: FastifyPluginAsyncTypebox = async (app) => {
  // A user sees the nodes of their own account; the admin sees every node.
  app.get('/', {
    preHandler: app.authenticate,
    schema: { response: { 200: NodeList, 401: ErrorReply } }
  }, async (request) => {
    const account = request.account
    const list = await app.registry.list(account?.role === 'admin' ? undefined : account?.id)
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

  app.get('/mesh', {
    schema: { response: { 200: MeshInfo } }
  }, async () => ({
    peerId: app.mesh.libp2p.peerId.toString(),
    multiaddrs: app.mesh.multiaddrs(),
    alive: (await app.registry.list()).filter(node => node.status === 'alive').length
  }))
}

export default nodes

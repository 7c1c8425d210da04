import { Type } from 'typebox'
import { TokenId } from './tokens.ts'

export const NodeStatus = Type.Union([Type.Literal('alive'), Type.Literal('dead'), Type.Literal('removed')], {
  description: '"removed": its owner removed it or revoked its enrollment token; its peer id is refused until readmitted'
})

export const NodeView = Type.Object({
  id: Type.String(),
  peerId: Type.String(),
  status: NodeStatus,
  /** The enrollment token it last registered with; absent for nodes enrolled before tokens were remembered. */
  token: Type.Optional(TokenId),
  removal: Type.Optional(Type.Object({
    reason: Type.Union([Type.Literal('removed'), Type.Literal('token_revoked')]),
    at: Type.Integer()
  })),
  cpus: Type.Integer(),
  memoryBytes: Type.Integer(),
  benchmark: Type.Number(),
  version: Type.String(),
  registeredAt: Type.Integer(),
  lastSeen: Type.Integer(),
  runningTasks: Type.Array(Type.String()),
  memoryFreeBytes: Type.Integer(),
  cpuLoad: Type.Number()
})

export const NodeList = Type.Object({ nodes: Type.Array(NodeView) })

export const MeshInfo = Type.Object({
  peerId: Type.String(),
  multiaddrs: Type.Array(Type.String()),
  alive: Type.Integer()
})

export const NodeParams = Type.Object({ id: Type.String({ pattern: '^node-[0-9a-f-]{36}$', description: 'a node id from GET /api/nodes' }) })

import { Type } from 'typebox'

export const NodeView = Type.Object({
  id: Type.String(),
  peerId: Type.String(),
  status: Type.Union([Type.Literal('alive'), Type.Literal('dead')]),
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

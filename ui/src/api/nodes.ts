import { request } from './client.ts'
import type { CreatedToken, MeshInfo, NodeInfo } from './types.ts'

export async function listNodes (): Promise<NodeInfo[]> {
  return (await request<{ nodes: NodeInfo[] }>('/api/nodes')).nodes
}

/** A new enrollment token: nodes started with it belong to this account. Its text is shown once. */
export async function enrollNode (label: string): Promise<CreatedToken> {
  return await request<CreatedToken>('/api/nodes/enroll', { json: { label } })
}

/** Removes a node: the coordinator disconnects it at once, re-queues its tasks and refuses its peer id from then on. */
export async function removeNode (id: string): Promise<void> {
  await request<undefined>(`/api/nodes/${encodeURIComponent(id)}`, { method: 'DELETE' })
}

/** Allows a removed node again: it may enroll with a valid enrollment token of this account. */
export async function readmitNode (id: string): Promise<NodeInfo> {
  return await request<NodeInfo>(`/api/nodes/${encodeURIComponent(id)}/readmit`, { method: 'POST' })
}

export async function meshInfo (): Promise<MeshInfo> {
  return await request<MeshInfo>('/api/nodes/mesh')
}

import { request } from './client.ts'
import type { CreatedToken, MeshInfo, NodeInfo } from './types.ts'

export async function listNodes (): Promise<NodeInfo[]> {
  return (await request<{ nodes: NodeInfo[] }>('/api/nodes')).nodes
}

/** A new enrollment token: nodes started with it belong to this account. Its text is shown once. */
export async function enrollNode (label: string): Promise<CreatedToken> {
  return await request<CreatedToken>('/api/nodes/enroll', { json: { label } })
}

export async function meshInfo (): Promise<MeshInfo> {
  return await request<MeshInfo>('/api/nodes/mesh')
}

import { request } from './client.ts'
import type { TokenInfo } from './types.ts'

/** The account's tokens (API and enrollment), oldest first, without their text. */
export async function listTokens (): Promise<TokenInfo[]> {
  return (await request<{ tokens: TokenInfo[] }>('/api/tokens')).tokens
}

/** Revokes a token; revoking an enrollment token also removes every node that registered with it. */
export async function revokeToken (id: string): Promise<void> {
  await request<undefined>(`/api/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' })
}

/**
 * The nodes page's arithmetic: what each node earned and how many tasks it completed (from the account's earnings,
 * one per completed task), the exact command that starts a node with a new enrollment token, and the account's
 * enrollment tokens with their nodes.
 */
import type { Earning, NodeInfo, TokenInfo } from '../api/types.ts'

export interface NodeEarnings {
  tasks: number
  total: number
  pending: number
  paid: number
}

export function earningsByNode (earnings: readonly Earning[]): Map<string, NodeEarnings> {
  const byNode = new Map<string, NodeEarnings>()
  for (const earning of earnings) {
    const entry = byNode.get(earning.nodeId) ?? { tasks: 0, total: 0, pending: 0, paid: 0 }
    entry.tasks++
    entry.total += earning.amount
    if (earning.status === 'paid') entry.paid += earning.amount
    else entry.pending += earning.amount
    byNode.set(earning.nodeId, entry)
  }
  return byNode
}

/** A word as the shell reads it: left bare when it is safe, single-quoted otherwise. */
export function shellQuote (word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`
}

/** A directory name from a node's label. */
export function dataDirFor (label: string): string {
  const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40)
  return `.runsurge/node-${slug === '' ? 'new' : slug}`
}

/**
 * The command a contributor runs on the machine to add: the token in the node's environment (only that user can read
 * a process's environment; its command line is visible to everyone on the machine), the coordinator's multiaddr
 * (with its peer id) and a data directory.
 */
export function nodeCommand (multiaddr: string, token: string, label: string): string {
  return [`RUNSURGE_NODE_TOKEN=${shellQuote(token)}`, 'npx', 'runsurge', 'node', '--coordinator', shellQuote(multiaddr), '--data', shellQuote(dataDirFor(label))].join(' ')
}

/**
 * The coordinator address to give a node: one another machine can reach when there is one (not loopback), else
 * the first. Only addresses with the coordinator's peer id (`/p2p/…`) are usable.
 */
export function pickMultiaddr (multiaddrs: readonly string[]): string | undefined {
  const usable = multiaddrs.filter(address => address.includes('/p2p/'))
  const candidates = usable.length > 0 ? usable : [...multiaddrs]
  return candidates.find(address => !/\/ip4\/127\.|\/ip6\/::1\//.test(address)) ?? candidates[0]
}

/** How a node is named on the page: the start of its id (the whole id and peer id are in its title). */
export function shortNodeId (id: string): string {
  return id.replace(/^node-/, '').slice(0, 8)
}

/** The account's enrollment tokens (the page that lists nodes does not show API tokens). */
export function enrollmentTokens (tokens: readonly TokenInfo[]): TokenInfo[] {
  return tokens.filter(token => token.kind === 'enroll')
}

/** Why a removed node is refused, in words. */
export function removalReason (node: Pick<NodeInfo, 'removal'>): string {
  return node.removal?.reason === 'token_revoked' ? 'its enrollment token was revoked' : 'removed by you'
}

/**
 * The nodes page's arithmetic: what each node earned and how many tasks it completed (from the account's earnings,
 * one per completed task), and the exact command that starts a node with a new enrollment token.
 */
import type { Earning } from '../api/types.ts'

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
 * The command a contributor runs on the machine to add: the coordinator's multiaddr (with its peer id) and the
 * token. `--token=…` keeps a token that starts with "-" from reading as an option.
 */
export function nodeCommand (multiaddr: string, token: string, label: string): string {
  return ['npx', 'runsurge', 'node', '--coordinator', shellQuote(multiaddr), shellQuote(`--token=${token}`), '--data', shellQuote(dataDirFor(label))].join(' ')
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

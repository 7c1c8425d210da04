/**
 * The nodes page's store: the account's nodes, what they earned and its enrollment tokens, refreshed as often as
 * nodes heartbeat, and what the page does to them — remove a node, allow it again, revoke a token — one at a time,
 * each said when done (or why not).
 */
import { createMemo, createResource, createSignal } from 'solid-js'
import type { Accessor, Resource } from 'solid-js'
import { earnings as loadEarnings } from '../api/billing.ts'
import { listNodes, readmitNode, removeNode } from '../api/nodes.ts'
import { listTokens, revokeToken } from '../api/tokens.ts'
import type { EarningList, NodeInfo, TokenInfo } from '../api/types.ts'
import { onEvery } from '../lib/clock.ts'
import { earningsByNode, enrollmentTokens, shortNodeId } from '../lib/nodes.ts'
import type { NodeEarnings } from '../lib/nodes.ts'

/** Nodes heartbeat every 5 s: the page refreshes as often. */
export const REFRESH_MS = 5_000

export interface NodeActions {
  /** The id of the node or token being acted on. */
  busy: Accessor<string | undefined>
  /** What the last action did, in words. */
  done: Accessor<string | undefined>
  failed: Accessor<unknown>
  remove(node: NodeInfo): void
  readmit(node: NodeInfo): void
  revoke(token: TokenInfo): void
}

export interface NodesStore extends NodeActions {
  nodes: Resource<NodeInfo[]>
  earned: Resource<EarningList>
  tokens: Resource<TokenInfo[]>
  /** What each node earned, by node id. */
  perNode: Accessor<Map<string, NodeEarnings>>
  refetchTokens(): void
}

export function createNodesStore (): NodesStore {
  const [nodes, { refetch: refetchNodes }] = createResource(listNodes)
  const [earned, { refetch: refetchEarnings }] = createResource(loadEarnings)
  const [tokens, { refetch: refetchTokens }] = createResource(async () => enrollmentTokens(await listTokens()))
  // Tokens too: a node that joins appears under the token it joined with.
  onEvery(REFRESH_MS, () => { Promise.all([refetchNodes(), refetchEarnings(), refetchTokens()]).catch(() => {}) })
  const perNode = createMemo(() => earningsByNode(earned.latest?.earnings ?? []))
  // Either way the lists show what the coordinator has now; they say so themselves if they cannot be loaded.
  const actions = createNodeActions(nodes, async () => { await Promise.all([refetchNodes(), refetchTokens()]) })
  return { nodes, earned, tokens, perNode, refetchTokens: () => { Promise.resolve(refetchTokens()).catch(() => {}) }, ...actions }
}

function createNodeActions (nodes: Resource<NodeInfo[]>, reload: () => Promise<void>): NodeActions {
  const [busy, setBusy] = createSignal<string>()
  const [done, setDone] = createSignal<string>()
  const [failed, setFailed] = createSignal<unknown>()
  const act = async (id: string, work: () => Promise<unknown>, message: string): Promise<void> => {
    setBusy(id)
    setFailed(undefined)
    setDone(undefined)
    try {
      await work()
      setDone(message)
    } catch (err) {
      setFailed(err)
    } finally {
      setBusy(undefined)
    }
    await reload().catch(() => {})
  }
  return {
    busy,
    done,
    failed,
    remove: (node) => {
      act(node.id, async () => { await removeNode(node.id) }, `Removed node ${shortNodeId(node.id)}: it was disconnected, its tasks go to your other nodes, and it is refused from now on.`).catch(() => {})
    },
    readmit: (node) => {
      act(node.id, async () => await readmitNode(node.id), `Node ${shortNodeId(node.id)} may enroll again: start it with a valid enrollment token of yours.`).catch(() => {})
    },
    revoke: (token) => {
      const count = (token.nodes ?? []).filter(id => nodes.latest?.find(node => node.id === id)?.status !== 'removed').length
      const message = `Revoked token “${token.label}”${count > 0 ? `: its ${count === 1 ? 'node was' : `${count} nodes were`} removed` : ''}.`
      act(token.id, async () => { await revokeToken(token.id) }, message).catch(() => {})
    }
  }
}

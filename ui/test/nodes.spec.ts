import { describe, expect, it } from 'vitest'
import { dataDirFor, earningsByNode, enrollmentTokens, nodeCommand, pickMultiaddr, removalReason, shellQuote, shortNodeId } from '../src/lib/nodes.ts'

describe('nodes', () => {
  it('sums each node\'s earnings and counts its completed tasks', () => {
    const earnings = [
      { taskId: 't1', jobId: 'j', nodeId: 'a', amount: 10, status: 'pending', createdAt: 1 },
      { taskId: 't2', jobId: 'j', nodeId: 'a', amount: 5, status: 'paid', createdAt: 1, paidAt: 2 },
      { taskId: 't3', jobId: 'k', nodeId: 'b', amount: 7, status: 'pending', createdAt: 1 }
    ]
    const byNode = earningsByNode(earnings)
    expect(byNode.get('a')).toEqual({ tasks: 2, total: 15, pending: 10, paid: 5 })
    expect(byNode.get('b')).toEqual({ tasks: 1, total: 7, pending: 7, paid: 0 })
  })

  it('writes the command to start a node, safe to paste into a shell, with the token in the environment', () => {
    const address = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWabc'
    expect(nodeCommand(address, '-AbC_12', 'Lab PC #1')).toBe(`RUNSURGE_NODE_TOKEN=-AbC_12 npx runsurge node --coordinator ${address} --data .runsurge/node-lab-pc-1`)
    expect(nodeCommand(address, "it's", 'x')).toMatch(/^RUNSURGE_NODE_TOKEN='it'\\''s' npx /)
    expect(nodeCommand(address, 'tok', 'x')).not.toMatch(/--token/)
    expect(shellQuote("it's")).toBe('\'it\'\\\'\'s\'')
    expect(dataDirFor('!!!')).toBe('.runsurge/node-new')
  })

  it('gives nodes a reachable address with the coordinator\'s peer id', () => {
    expect(pickMultiaddr(['/ip4/127.0.0.1/tcp/1/p2p/X', '/ip4/10.0.0.5/tcp/1/p2p/X', '/ip4/10.0.0.5/tcp/1'])).toBe('/ip4/10.0.0.5/tcp/1/p2p/X')
    expect(pickMultiaddr(['/ip4/127.0.0.1/tcp/1/p2p/X'])).toBe('/ip4/127.0.0.1/tcp/1/p2p/X')
    expect(pickMultiaddr([])).toBeUndefined()
  })

  it('names nodes by the start of their id, lists only enrollment tokens, and says why a node was removed', () => {
    expect(shortNodeId('node-1a2b3c4d-0000-4000-8000-000000000000')).toBe('1a2b3c4d')
    const tokens = [
      { id: 'aaaaaaaaaaaa', kind: 'api' as const, label: 'cli', createdAt: 1 },
      { id: 'bbbbbbbbbbbb', kind: 'enroll' as const, label: 'lab', createdAt: 2, nodes: ['node-x'] }
    ]
    expect(enrollmentTokens(tokens).map(t => t.id)).toEqual(['bbbbbbbbbbbb'])
    expect(removalReason({ removal: { reason: 'token_revoked', at: 1 } })).toBe('its enrollment token was revoked')
    expect(removalReason({ removal: { reason: 'removed', at: 1 } })).toBe('removed by you')
  })
})

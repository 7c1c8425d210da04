import { describe, expect, it } from 'vitest'
import { dataDirFor, earningsByNode, nodeCommand, pickMultiaddr, shellQuote } from '../src/lib/nodes.ts'

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

  it('writes the command to start a node, safe to paste into a shell', () => {
    const address = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWabc'
    expect(nodeCommand(address, '-AbC_12', 'Lab PC #1')).toBe(`npx runsurge node --coordinator ${address} --token=-AbC_12 --data .runsurge/node-lab-pc-1`)
    expect(shellQuote("it's")).toBe('\'it\'\\\'\'s\'')
    expect(dataDirFor('!!!')).toBe('.runsurge/node-new')
  })

  it('gives nodes a reachable address with the coordinator\'s peer id', () => {
    expect(pickMultiaddr(['/ip4/127.0.0.1/tcp/1/p2p/X', '/ip4/10.0.0.5/tcp/1/p2p/X', '/ip4/10.0.0.5/tcp/1'])).toBe('/ip4/10.0.0.5/tcp/1/p2p/X')
    expect(pickMultiaddr(['/ip4/127.0.0.1/tcp/1/p2p/X'])).toBe('/ip4/127.0.0.1/tcp/1/p2p/X')
    expect(pickMultiaddr([])).toBeUndefined()
  })
})

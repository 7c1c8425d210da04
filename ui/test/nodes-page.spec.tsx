import { cleanup, fireEvent, render, screen, waitFor, within } from '@solidjs/testing-library'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { App } from '../src/app.tsx'
import type { NodeInfo, TokenInfo } from '../src/api/types.ts'

const A = 'node-1a2b3c4d-0000-4000-8000-000000000001'
const B = 'node-5e6f7a8b-0000-4000-8000-000000000002'

function node (id: string, fields: Partial<NodeInfo> = {}): NodeInfo {
  const offer = { cpus: 4, memoryBytes: 2 ** 30, benchmark: 1, version: '0.1.0', registeredAt: 1, lastSeen: 2 }
  const live = { runningTasks: [], memoryFreeBytes: 2 ** 30, cpuLoad: 0.1 }
  return { id, peerId: `12D3Koo${id.slice(5, 13)}`, status: 'alive', token: 'aaaaaaaaaaaa', ...offer, ...live, ...fields }
}

/** The coordinator as the page sees it: its answers change as the page removes and revokes. */
let nodes: NodeInfo[]
let tokens: TokenInfo[]
let requests: string[]
let failRemoval: boolean

beforeEach(() => {
  nodes = [node(A), node(B)]
  tokens = [
    { id: 'aaaaaaaaaaaa', kind: 'enroll', label: 'lab', createdAt: 1, nodes: [A, B] },
    { id: 'cccccccccccc', kind: 'api', label: 'cli', createdAt: 2 }
  ]
  requests = []
  failRemoval = false
  vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? 'GET'
    if (method !== 'GET') requests.push(`${method} ${url}`)
    const reply = (status: number, body?: unknown): Response =>
      new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
    if (url === '/api/auth/me') return reply(200, { account: { id: 'a', name: 'ada', role: 'user' } })
    if (url === '/api/nodes') return reply(200, { nodes })
    if (url === '/api/tokens') return reply(200, { tokens })
    if (url === '/api/earnings') return reply(200, { earnings: [], pending: 0, paid: 0 })
    if (method === 'DELETE' && url.startsWith('/api/nodes/')) {
      if (failRemoval) return reply(404, { error: 'Not Found', message: 'you have no node x: list yours with GET /api/nodes' })
      const id = decodeURIComponent(url.slice('/api/nodes/'.length))
      nodes = nodes.map(n => n.id === id ? { ...n, status: 'removed', removal: { reason: 'removed', at: 3 } } : n)
      return reply(204)
    }
    if (method === 'POST' && url.endsWith('/readmit')) {
      const id = decodeURIComponent(url.split('/')[3] ?? '')
      nodes = nodes.map(n => n.id === id ? { ...node(id), status: 'dead' } : n)
      return reply(200, nodes.find(n => n.id === id))
    }
    if (method === 'DELETE' && url.startsWith('/api/tokens/')) {
      nodes = nodes.map(n => ({ ...n, status: 'removed', removal: { reason: 'token_revoked', at: 4 } }))
      tokens = tokens.filter(t => t.id !== 'aaaaaaaaaaaa')
      return reply(204)
    }
    return reply(404, { error: 'Not Found', message: `no route ${method} ${url}` })
  }))
  window.history.pushState({}, '', '/nodes')
})

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

const row = (id: string): HTMLElement => document.querySelector(`tr[data-node="${id}"]`) as HTMLElement

describe('the nodes page', () => {
  it('lists the enrollment tokens with their nodes, not the API tokens', async () => {
    render(() => <App />)
    const table = await screen.findByRole('region', { name: 'Your enrollment tokens' })
    const tokenRow = table.querySelector('tr[data-token="aaaaaaaaaaaa"]') as HTMLElement
    expect(tokenRow.textContent).toContain('lab')
    expect(tokenRow.textContent).toContain('1a2b3c4d')
    expect(tokenRow.textContent).toContain('5e6f7a8b')
    expect(table.querySelector('tr[data-token="cccccccccccc"]')).toBeNull()
  })

  it('removes a node only once asked to confirm, says what happened, and offers to allow it again', async () => {
    render(() => <App />)
    await waitFor(() => { expect(row(A)).not.toBeNull() })
    fireEvent.click(within(row(A)).getByRole('button', { name: 'Remove node 1a2b3c4d' }))
    const question = within(row(A)).getByRole('group', { name: 'Disconnect it and refuse it from now on?' })
    // A keyboard lands on the answer; Escape or Cancel backs out and sends nothing.
    await waitFor(() => { expect(document.activeElement?.textContent).toBe('Yes, remove') })
    fireEvent.keyDown(question, { key: 'Escape' })
    expect(within(row(A)).queryByRole('group')).toBeNull()
    fireEvent.click(within(row(A)).getByRole('button', { name: 'Remove node 1a2b3c4d' }))
    fireEvent.click(within(row(A)).getByRole('button', { name: 'Cancel' }))
    expect(requests).toEqual([])
    expect(within(row(A)).queryByRole('group')).toBeNull()

    fireEvent.click(within(row(A)).getByRole('button', { name: 'Remove node 1a2b3c4d' }))
    fireEvent.click(within(row(A)).getByRole('button', { name: 'Yes, remove' }))
    await screen.findByText(/^Removed node 1a2b3c4d: it was disconnected, its tasks go to your other nodes/)
    expect(requests).toEqual([`DELETE /api/nodes/${A}`])
    await waitFor(() => { expect(row(A).getAttribute('data-status')).toBe('removed') })
    expect(row(A).textContent).toContain('removed by you')
    expect(row(B).getAttribute('data-status')).toBe('alive')
    expect(screen.getByText('1 of 1')).toBeDefined()

    fireEvent.click(within(row(A)).getByRole('button', { name: 'Allow node 1a2b3c4d again' }))
    await screen.findByText(/^Node 1a2b3c4d may enroll again: start it with a valid enrollment token of yours\.$/)
    expect(requests).toEqual([`DELETE /api/nodes/${A}`, `POST /api/nodes/${A}/readmit`])
    await waitFor(() => { expect(row(A).getAttribute('data-status')).toBe('dead') })
  })

  it('revokes a token once asked to confirm, and shows its nodes removed', async () => {
    render(() => <App />)
    const table = await screen.findByRole('region', { name: 'Your enrollment tokens' })
    fireEvent.click(within(table).getByRole('button', { name: 'Revoke token lab' }))
    within(table).getByRole('group', { name: 'Revoke it and remove its 2 nodes?' })
    fireEvent.click(within(table).getByRole('button', { name: 'Yes, revoke' }))
    await screen.findByText('Revoked token “lab”: its 2 nodes were removed.')
    expect(requests).toEqual(['DELETE /api/tokens/aaaaaaaaaaaa'])
    await waitFor(() => { expect(row(A).getAttribute('data-status')).toBe('removed') })
    expect(row(B).textContent).toContain('its enrollment token was revoked')
    await screen.findByText('No enrollment token: create one above.')
  })

  it('says why a removal failed, and changes nothing', async () => {
    failRemoval = true
    render(() => <App />)
    await waitFor(() => { expect(row(B)).not.toBeNull() })
    fireEvent.click(within(row(B)).getByRole('button', { name: 'Remove node 5e6f7a8b' }))
    fireEvent.click(within(row(B)).getByRole('button', { name: 'Yes, remove' }))
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toBe('That did not work: you have no node x: list yours with GET /api/nodes')
    expect(row(B).getAttribute('data-status')).toBe('alive')
  })
})

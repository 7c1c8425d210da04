import { cleanup, render, screen, waitFor } from '@solidjs/testing-library'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { App } from '../src/app.tsx'
import { canPay, upsertJob } from '../src/stores/jobs.ts'
import { job } from './fixtures.ts'

/** EventSource as the browser has it, driven by the test. */
class FakeEventSource extends EventTarget {
  static readonly CLOSED = 2
  static opened: FakeEventSource[] = []
  readyState = 1
  constructor (readonly url: string) {
    super()
    FakeEventSource.opened.push(this)
  }

  emit (type: string, data: unknown): void {
    this.dispatchEvent(new MessageEvent(type, { data: JSON.stringify(data) }))
  }

  close (): void {
    this.readyState = FakeEventSource.CLOSED
  }
}

const cost = { contributors: 1_000, price: 1_200, platform: 200, unitRate: 1000 }
const JOBS = [
  job({ id: 'j-running', name: 'still running', status: 'running', createdAt: 3 }),
  job({ id: 'j-owed', name: 'owed', status: 'completed', payment: 'pending', cost, createdAt: 2, metrics: { wallMs: 4_200, cpuMs: 4_000, taskWallMs: 4_000, peakMemoryBytes: 64 * 1024 ** 2, attempts: 4 } }),
  job({ id: 'j-paid', name: 'paid already', status: 'completed', payment: 'paid', cost, createdAt: 1 })
]

let paid: string[] = []

beforeEach(() => {
  paid = []
  FakeEventSource.opened = []
  vi.stubGlobal('EventSource', FakeEventSource)
  vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
    const reply = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
    if (url === '/api/auth/me') return reply(200, { account: { id: 'a', name: 'ada', role: 'user' } })
    if (url === '/api/jobs') return reply(200, { jobs: JOBS.map(j => paid.includes(j.id) ? { ...j, payment: 'paid' } : j) })
    if (url === '/api/payments') return reply(200, { payments: [], pending: paid.includes('j-owed') ? 0 : 1_200, paid: paid.includes('j-owed') ? 2_400 : 1_200 })
    if (url === '/api/jobs/j-owed/pay' && init?.method === 'POST') {
      paid.push('j-owed')
      return reply(200, { jobId: 'j-owed', amount: 1_200, contributors: 1_000, platform: 200, status: 'paid', createdAt: 1 })
    }
    return reply(404, { error: 'Not Found', message: `no route ${url}` })
  }))
  window.history.pushState({}, '', '/jobs')
})

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

describe('the jobs dashboard', () => {
  it('offers Pay only for completed jobs whose payment is pending', () => {
    expect(canPay({ status: 'completed', payment: 'pending' })).toBe(true)
    expect(canPay({ status: 'completed', payment: 'paid' })).toBe(false)
    expect(canPay({ status: 'failed', payment: 'pending' })).toBe(false)
    expect(canPay({ status: 'running' })).toBe(false)
  })

  it('keeps the list newest first as updates arrive, without tasks', () => {
    const list = upsertJob(JOBS, { ...job({ id: 'j-new', createdAt: 9 }), tasks: [] })
    expect(list.map(j => j.id)).toEqual(['j-new', 'j-running', 'j-owed', 'j-paid'])
    expect(list[0]?.tasks).toBeUndefined()
    expect(upsertJob(list, job({ id: 'j-owed', createdAt: 2, status: 'failed' })).map(j => [j.id, j.status])[2]).toEqual(['j-owed', 'failed'])
  })

  it('shows charge, RAM and time, follows running jobs live, and pays', async () => {
    render(() => <App />)
    await screen.findByText('owed')
    const row = (id: string): HTMLElement => document.querySelector(`tr[data-job="${id}"]`) as HTMLElement
    expect(row('j-owed').textContent).toContain('$0.001200')
    expect(row('j-owed').textContent).toContain('64.0 MiB')
    expect(row('j-owed').textContent).toContain('4.2 s')
    expect(row('j-owed').querySelector('a[download]')?.getAttribute('href')).toBe('/api/jobs/j-owed/result')
    expect(row('j-owed').querySelector('button')?.getAttribute('aria-label')).toBe('Pay $0.001200 for owed')
    expect(row('j-paid').querySelector('button')).toBeNull()
    expect(row('j-running').querySelector('button, a[download]')).toBeNull()

    // Only the job that is not final is followed; its final event updates its row in place.
    expect(FakeEventSource.opened.map(s => s.url)).toEqual(['/api/jobs/j-running/events'])
    FakeEventSource.opened[0]?.emit('job', job({ id: 'j-running', name: 'still running', status: 'completed', payment: 'pending', cost, createdAt: 3 }))
    await waitFor(() => { expect(row('j-running').getAttribute('data-status')).toBe('completed') })
    expect(FakeEventSource.opened[0]?.readyState).toBe(FakeEventSource.CLOSED)

    row('j-owed').querySelector('button')?.click()
    await screen.findByText('Paid $0.001200 for “owed”.')
    await waitFor(() => { expect(row('j-owed').querySelector('button')).toBeNull() })
    expect(row('j-owed').querySelector('[data-status="paid"]')).not.toBeNull()
  })
})

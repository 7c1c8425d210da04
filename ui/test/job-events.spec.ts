import { describe, expect, it } from 'vitest'
import { initialJobState, reduceJobEvent } from '../src/stores/job-events.ts'
import type { JobEvent, JobState } from '../src/stores/job-events.ts'
import { job, task } from './fixtures.ts'

const apply = (events: JobEvent[], state: JobState = initialJobState()): JobState => events.reduce(reduceJobEvent, state)

describe('a job\'s live state', () => {
  it('takes the snapshot with its tasks in order, and keeps the job without them', () => {
    const state = apply([{ type: 'snapshot', job: job({ tasks: [task(1), task(0)] }), at: 10 }])
    expect(state.tasks.map(t => t.index)).toEqual([0, 1])
    expect(state.job?.tasks).toBeUndefined()
    expect(state.observed).toEqual({})
    expect(state.connection).toBe('connecting')
  })

  it('notes when this page saw a task start and end, and recounts progress from the tasks', () => {
    const state = apply([
      { type: 'snapshot', job: job({ tasks: [task(0), task(1), task(2), task(3, { entry: 'aggregate', status: 'waiting' })] }), at: 0 },
      { type: 'open' },
      { type: 'task', task: task(0, { status: 'assigned', attempt: 1, nodeId: 'n1' }), at: 100 },
      { type: 'task', task: task(0, { status: 'running', attempt: 1, nodeId: 'n1' }), at: 150 },
      { type: 'task', task: task(0, { status: 'completed', attempt: 1, nodeId: 'n1', metrics: { wallMs: 300, cpuMs: 250, peakMemoryBytes: 1, avgMemoryBytes: 1 } }), at: 500 },
      // A task first seen when it ends: its start is its end less its wall time.
      { type: 'task', task: task(1, { status: 'running', attempt: 1, nodeId: 'n2' }), at: 120 }
    ])
    expect(state.connection).toBe('live')
    expect(state.observed['job-1.0']).toEqual({ startedAt: 100, endedAt: 500 })
    expect(state.observed['job-1.1']).toEqual({ startedAt: 120 })
    expect(state.job?.progress).toEqual({ total: 4, completed: 1, running: 1, failed: 0 })
  })

  it('starts a new observation when a task is assigned again (a retry)', () => {
    const state = apply([
      { type: 'snapshot', job: job({ tasks: [task(0, { status: 'running', attempt: 1, nodeId: 'n1' })] }), at: 0 },
      { type: 'task', task: task(0, { status: 'queued', attempt: 1 }), at: 200 },
      { type: 'task', task: task(0, { status: 'assigned', attempt: 2, nodeId: 'n2' }), at: 300 }
    ])
    expect(state.observed['job-1.0']).toEqual({ startedAt: 300 })
  })

  it('ends on a final job, keeps the tasks it had when a job event carries none, and ignores a late drop', () => {
    const running = apply([{ type: 'snapshot', job: job({ tasks: [task(0, { status: 'running' })] }), at: 0 }, { type: 'open' }])
    const done = apply([
      { type: 'job', job: job({ status: 'completed', payment: 'pending', cost: { contributors: 10, price: 12, platform: 2, unitRate: 1000 } }), at: 900 },
      { type: 'lost', closed: true }
    ], running)
    expect(done.connection).toBe('ended')
    expect(done.job?.status).toBe('completed')
    expect(done.tasks).toHaveLength(1)
  })

  it('tells a dropped connection the browser retries from one it gave up', () => {
    const live = apply([{ type: 'snapshot', job: job(), at: 0 }, { type: 'open' }])
    expect(reduceJobEvent(live, { type: 'lost', closed: false }).connection).toBe('connecting')
    expect(reduceJobEvent(live, { type: 'lost', closed: true }).connection).toBe('lost')
  })

  it('adds a task it did not know (the aggregation task appears later)', () => {
    const state = apply([
      { type: 'snapshot', job: job({ progress: { total: 1, completed: 0, running: 0, failed: 0 }, tasks: [task(0)] }), at: 0 },
      { type: 'task', task: task(1, { entry: 'aggregate', status: 'queued' }), at: 10 }
    ])
    expect(state.tasks.map(t => t.entry)).toEqual(['process', 'aggregate'])
    expect(state.job?.progress.total).toBe(2)
  })
})

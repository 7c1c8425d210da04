import { describe, expect, it } from 'vitest'
import { taskTimeline } from '../src/lib/timeline.ts'
import { job, task } from './fixtures.ts'

const metrics = (wallMs: number): { wallMs: number, cpuMs: number, peakMemoryBytes: number, avgMemoryBytes: number } => ({ wallMs, cpuMs: wallMs, peakMemoryBytes: 1, avgMemoryBytes: 1 })

describe('the task timeline', () => {
  it('uses the attempts the API reports, failed ones included, one lane per node', () => {
    const tasks = [
      task(0, { status: 'completed', attempt: 2, nodeId: 'b', attempts: [{ attempt: 1, nodeId: 'a', assignedAt: 1000, endedAt: 1500, outcome: 'memory_limit' }, { attempt: 2, nodeId: 'b', assignedAt: 1600, endedAt: 2600 }] }),
      task(1, { status: 'running', attempt: 1, nodeId: 'a', attempts: [{ attempt: 1, nodeId: 'a', assignedAt: 1500 }] })
    ]
    const timeline = taskTimeline(job({ startedAt: 1000 }), tasks, {}, 3000)
    expect(timeline.approximate).toBe(false)
    expect(timeline.start).toBe(1000)
    expect(timeline.end).toBe(3000)
    expect(timeline.lanes.map(l => l.nodeId)).toEqual(['a', 'b'])
    const [a, b] = timeline.lanes
    expect(a?.bars.map(bar => [bar.taskId, bar.status, bar.offset, bar.width, bar.row, bar.running])).toEqual([
      ['job-1.0', 'memory_limit', 0, 0.25, 0, false],
      ['job-1.1', 'running', 0.25, 0.75, 0, true]
    ])
    expect(b?.bars[0]).toMatchObject({ offset: 0.3, width: 0.5, status: 'completed' })
  })

  it('uses what the page saw, and stacks tasks that overlap on one node', () => {
    const tasks = [
      task(0, { status: 'completed', attempt: 1, nodeId: 'a', metrics: metrics(400) }),
      task(1, { status: 'running', attempt: 1, nodeId: 'a' })
    ]
    const timeline = taskTimeline(job(), tasks, { 'job-1.0': { endedAt: 1000 }, 'job-1.1': { startedAt: 700 } }, 1100)
    const lane = timeline.lanes[0]
    expect(lane?.rows).toBe(2)
    expect(lane?.bars.map(bar => [bar.start, bar.end, bar.row])).toEqual([[600, 1000, 0], [700, 1100, 1]])
  })

  it('approximates the rest from wall times, after their dependencies, and lists what waits', () => {
    const tasks = [
      task(0, { status: 'completed', attempt: 1, nodeId: 'a', metrics: metrics(1000) }),
      task(1, { status: 'completed', attempt: 1, nodeId: 'b', metrics: metrics(3000) }),
      task(2, { entry: 'aggregate', status: 'completed', attempt: 1, nodeId: 'a', metrics: metrics(500) }),
      task(3, { status: 'queued' })
    ]
    const timeline = taskTimeline(job({ startedAt: 10_000, finishedAt: 13_600 }), tasks, {}, 20_000)
    expect(timeline.approximate).toBe(true)
    const bars = timeline.lanes.flatMap(l => l.bars)
    expect(bars.find(b => b.index === 2)).toMatchObject({ start: 13_000, end: 13_500, approximate: true })
    expect(timeline.end).toBe(13_600)
    expect(timeline.waiting.map(t => t.index)).toEqual([3])
  })

  it('is empty before anything ran', () => {
    expect(taskTimeline(job(), [task(0)], {}, 5).lanes).toEqual([])
  })
})

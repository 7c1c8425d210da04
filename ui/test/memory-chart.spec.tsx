import { cleanup, render } from '@solidjs/testing-library'
import { afterEach, describe, expect, it } from 'vitest'
import { MemoryChart } from '../src/components/memory-chart.tsx'
import { taskEstimate } from '../src/lib/jobs.ts'
import { job, task } from './fixtures.ts'

afterEach(cleanup)

const MiB = 1024 ** 2
const metrics = (peak: number): { wallMs: number, cpuMs: number, peakMemoryBytes: number, avgMemoryBytes: number } => ({ wallMs: 1, cpuMs: 1, peakMemoryBytes: peak, avgMemoryBytes: peak / 2 })

describe('memory per task', () => {
  it('finds a task\'s estimate in the task, then the plan', () => {
    expect(taskEstimate(job(), task(0, { memoryBytes: 5 }))).toBe(5)
    expect(taskEstimate(job({ plan: { level: 3, tasks: [{ memoryBytes: 7 }, { memoryBytes: 9 }] } }), task(1))).toBe(9)
    expect(taskEstimate(job({ plan: { level: 1, tasks: 1, taskMemoryBytes: 11 } }), task(0))).toBe(11)
    expect(taskEstimate(job({ plan: { level: 1, tasks: 1, memory: { peakBytes: 13 } } }), task(0))).toBe(13)
    expect(taskEstimate(job(), task(0))).toBeUndefined()
    const auto = { level: 3, tasks: 3, chunks: 2, estimate: { peakBytes: 900, perChunkBytes: 300 } }
    expect(taskEstimate(job({ plan: auto }), task(0, { entry: 'main' }))).toBe(300)
    expect(taskEstimate(job({ plan: auto }), task(2, { entry: 'aggregate' }))).toBeUndefined()
    expect(taskEstimate(job({ plan: { ...auto, level: 1, tasks: 1, chunks: 1 } }), task(0, { entry: 'main' }))).toBe(900)
  })

  it('draws peaks against estimates on one scale, and flags a task over its estimate', () => {
    const tasks = [task(0, { metrics: metrics(32 * MiB), memoryBytes: 64 * MiB, nodeId: 'n' }), task(1, { metrics: metrics(80 * MiB), memoryBytes: 64 * MiB }), task(2)]
    render(() => <MemoryChart tasks={tasks} estimate={(t) => t.memoryBytes} nodeName={(id) => `node ${id}`} />)
    const rows = document.querySelectorAll('tbody tr')
    expect(rows).toHaveLength(2)
    expect(rows[0]?.textContent).toContain('32.0 MiB')
    expect(rows[0]?.textContent).toContain('50% of the estimate')
    expect((rows[0]?.querySelector('.memory__peak') as HTMLElement).style.width).toBe('40%')
    expect(rows[1]?.querySelector('.memory__peak--over')).not.toBeNull()
    expect(document.querySelectorAll('thead th')).toHaveLength(6)
  })

  it('leaves out the estimate column when the plan records none', () => {
    render(() => <MemoryChart tasks={[task(0, { metrics: metrics(MiB) })]} estimate={() => undefined} nodeName={(id) => id} />)
    expect(document.querySelectorAll('thead th')).toHaveLength(5)
    expect(document.body.textContent).toContain('records no memory estimate')
  })
})

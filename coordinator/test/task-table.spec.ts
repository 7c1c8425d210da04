/** The task table's index of what runs on each node follows every status change. */
import { describe, expect, it } from 'vitest'
import { TaskTable } from '../src/jobs/task-table.ts'
import type { TaskRecord } from '../src/jobs/records.ts'

const task = (id: string, status: TaskRecord['status'], nodeId?: string): TaskRecord => ({
  id,
  jobId: 'job',
  index: 0,
  entry: 'process',
  inputName: 'input.txt',
  inputCids: [],
  dependsOn: [],
  memoryBytes: 1,
  timeoutMs: 1,
  status,
  attempt: 1,
  failures: 0,
  attempts: [],
  outputCids: [],
  ...(nodeId !== undefined ? { nodeId } : {})
})

describe('TaskTable', () => {
  it('indexes assigned and running tasks by node, and forgets them when they end or move', () => {
    const table = new TaskTable()
    table.set('a', task('a', 'queued'))
    table.set('b', task('b', 'assigned', 'n1'))
    table.set('c', task('c', 'running', 'n1'))
    table.set('d', task('d', 'completed', 'n1'))
    expect(table.activeOn('n1').map(t => t.id)).toEqual(['b', 'c'])
    table.set('b', task('b', 'running', 'n1'))
    table.set('c', task('c', 'completed', 'n1'))
    table.set('a', task('a', 'assigned', 'n2'))
    expect(table.activeOn('n1').map(t => t.id)).toEqual(['b'])
    expect(table.activeOn('n1')[0]?.status).toBe('running')
    expect([...table.active()].map(([node, t]) => `${node}:${t.id}`).sort()).toEqual(['n1:b', 'n2:a'])
    table.set('b', task('b', 'queued'))
    table.delete('a')
    expect([...table.active()]).toEqual([])
    expect(table.size).toBe(3)
  })

  it('indexes a task with a backup copy under both nodes while it runs', () => {
    const table = new TaskTable()
    table.set('a', { ...task('a', 'running', 'n1'), backup: { attempt: 2, nodeId: 'n2', assignedAt: 0 } })
    expect(table.activeOn('n1').map(t => t.id)).toEqual(['a'])
    expect(table.activeOn('n2').map(t => t.id)).toEqual(['a'])
    expect([...table.active()].map(([node, t]) => `${node}:${t.id}`).sort()).toEqual(['n1:a', 'n2:a'])
    table.set('a', task('a', 'completed', 'n2'))
    expect([...table.active()]).toEqual([])
  })

  it('counts the completed tasks of each job', () => {
    const table = new TaskTable()
    table.set('a', task('a', 'running', 'n1'))
    table.set('b', task('b', 'completed', 'n1'))
    expect(table.completedIn('job')).toBe(1)
    table.set('a', task('a', 'completed', 'n1'))
    table.set('a', task('a', 'completed', 'n1'))
    expect(table.completedIn('job')).toBe(2)
    table.delete('b')
    expect(table.completedIn('job')).toBe(1)
    expect(table.completedIn('other')).toBe(0)
  })
})

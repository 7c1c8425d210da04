import { Show } from 'solid-js'
import { formatBytes, formatPercent, taskName } from '../lib/format.ts'
import type { Task } from '../api/types.ts'
import type { Column } from './scroll-table.tsx'
import { ScrollTable } from './scroll-table.tsx'

/**
 * Each finished task's peak and average memory, against what it was planned with when the plan records it; the
 * bars share one scale so tasks compare at a glance.
 */
export function MemoryChart (props: { tasks: Task[], estimate: (task: Task) => number | undefined, nodeName: (id: string) => string }) {
  const measured = (): Task[] => props.tasks.filter(task => task.metrics !== undefined)
  const estimated = (): boolean => measured().some(task => props.estimate(task) !== undefined)
  const scale = (): number => Math.max(1, ...measured().map(task => Math.max(task.metrics?.peakMemoryBytes ?? 0, props.estimate(task) ?? 0)))
  const columns = (): Column[] => [
    'Task', 'Node', { numeric: 'Peak' }, { numeric: 'Average' },
    ...(estimated() ? [{ numeric: 'Estimate' }] : []),
    estimated() ? 'Peak against estimate' : 'Peak'
  ]
  return (
    <Show when={measured().length > 0} fallback={<p class='muted'>No task has reported its memory yet.</p>}>
      <Show when={!estimated()}>
        <p class='muted small'>The plan records no memory estimate per task for this job: the bars compare the tasks' peaks.</p>
      </Show>
      <ScrollTable label='Memory per task' class='memory' columns={columns()} rows={measured()}>
        {(task) => {
          const peak = (): number => task.metrics?.peakMemoryBytes ?? 0
          const estimate = (): number | undefined => props.estimate(task)
          return (
            <tr data-task={task.id}>
              <th scope='row'>{taskName(task)}</th>
              <td>{task.nodeId !== undefined ? props.nodeName(task.nodeId) : '–'}</td>
              <td class='num'>{formatBytes(peak())}</td>
              <td class='num'>{formatBytes(task.metrics?.avgMemoryBytes ?? 0)}</td>
              <Show when={estimated()}><td class='num'>{estimate() !== undefined ? formatBytes(estimate() ?? 0) : '–'}</td></Show>
              <td class='memory__cell'>
                <span class='memory__bars' aria-hidden='true'>
                  <Show when={estimate() !== undefined}>
                    <span class='memory__estimate' style={{ width: `${(estimate() ?? 0) / scale() * 100}%` }} />
                  </Show>
                  <span class='memory__peak' classList={{ 'memory__peak--over': estimate() !== undefined && peak() > (estimate() ?? 0) }} style={{ width: `${peak() / scale() * 100}%` }} />
                </span>
                <Show when={estimate() !== undefined && (estimate() ?? 0) > 0}>
                  <span class='memory__ratio'>{formatPercent(peak() / (estimate() ?? 1))} of the estimate</span>
                </Show>
              </td>
            </tr>
          )
        }}
      </ScrollTable>
    </Show>
  )
}

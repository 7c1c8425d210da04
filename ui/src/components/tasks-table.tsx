import type { Task } from '../api/types.ts'
import { formatBytes, formatDuration, taskName } from '../lib/format.ts'
import { Money } from './money.tsx'
import { ScrollTable } from './scroll-table.tsx'
import { StatusBadge } from './status-badge.tsx'

const COLUMNS = ['Task', 'Status', 'Node', { numeric: 'Attempt' }, { numeric: 'Wall' }, { numeric: 'CPU' }, { numeric: 'Peak RAM' }, { numeric: 'Earning' }]

/** A job's tasks: where each ran, on which attempt, what it measured and what it earned. */
export function TasksTable (props: { tasks: Task[], nodeName: (id: string) => string }) {
  return (
    <ScrollTable label='Tasks' columns={COLUMNS} rows={props.tasks}>
      {(task) => (
        <tr data-task={task.id} data-status={task.status}>
          <th scope='row'>{taskName(task)}</th>
          <td><StatusBadge status={task.status} /></td>
          <td>{task.nodeId !== undefined ? props.nodeName(task.nodeId) : '–'}</td>
          <td class='num'>{task.attempt}</td>
          <td class='num'>{task.metrics !== undefined ? formatDuration(task.metrics.wallMs) : '–'}</td>
          <td class='num'>{task.metrics !== undefined ? formatDuration(task.metrics.cpuMs) : '–'}</td>
          <td class='num'>{task.metrics !== undefined ? formatBytes(task.metrics.peakMemoryBytes) : '–'}</td>
          <td class='num'>{task.earning !== undefined ? <Money micro={task.earning} /> : '–'}</td>
        </tr>
      )}
    </ScrollTable>
  )
}

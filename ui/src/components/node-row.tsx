import { Show } from 'solid-js'
import type { NodeInfo } from '../api/types.ts'
import { formatBytes, formatDateTime, formatFactor, formatNumber, formatPercent } from '../lib/format.ts'
import { removalReason, shortNodeId } from '../lib/nodes.ts'
import type { NodeEarnings } from '../lib/nodes.ts'
import { Money } from './money.tsx'
import { NodeAction } from './node-action.tsx'
import { StatusBadge } from './status-badge.tsx'

/** One of the account's nodes: its machine, its load, what it completed and earned, and what can be done to it. */
export function NodeRow (props: { node: NodeInfo, earnings: NodeEarnings, busy: boolean, onRemove: () => void, onReadmit: () => void }) {
  return (
    <tr data-node={props.node.id} data-status={props.node.status}>
      <th scope='row'><code class='nowrap' title={`${props.node.id} · peer ${props.node.peerId}`}>{shortNodeId(props.node.id)}</code><span class='muted small block'>v{props.node.version}</span></th>
      <td>
        <StatusBadge status={props.node.status} />
        <Show when={props.node.status === 'removed'}><span class='muted small block'>{removalReason(props.node)}</span></Show>
        {/* In the status cell: the table is as wide as a laptop screen already. */}
        <NodeAction node={props.node} busy={props.busy} onRemove={props.onRemove} onReadmit={props.onReadmit} />
      </td>
      <td class='num'>{formatFactor(props.node.benchmark)}</td>
      <td class='num'>{props.node.cpus}</td>
      <td class='num'>{formatBytes(props.node.memoryBytes)}</td>
      <td class='num'>{props.node.status === 'alive' ? formatPercent(props.node.cpuLoad) : '–'}</td>
      <td class='num'>{props.node.runningTasks.length}</td>
      <td class='num' data-testid='node-tasks'>{formatNumber(props.earnings.tasks)}</td>
      <td class='num' data-testid='node-earnings'>
        <Money micro={props.earnings.total} />
        <Show when={props.earnings.pending > 0}><span class='muted small block'><Money micro={props.earnings.pending} /> pending</span></Show>
      </td>
      <td class='small'>{formatDateTime(props.node.lastSeen)}</td>
    </tr>
  )
}

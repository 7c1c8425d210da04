import { A } from '@solidjs/router'
import { Show } from 'solid-js'
import { resultUrl } from '../api/jobs.ts'
import { FINAL_JOB_STATUSES } from '../api/types.ts'
import type { Job } from '../api/types.ts'
import { formatBytes, formatDateTime, formatDuration, formatMoney } from '../lib/format.ts'
import { jobTime } from '../lib/jobs.ts'
import { canPay } from '../stores/jobs.ts'
import { Money } from './money.tsx'
import { StatusBadge } from './status-badge.tsx'

/** One job of the jobs dashboard: what it is, how far it got, what it cost, and its result and Pay button. */
export function JobRow (props: { job: Job, now: number, paying: boolean, onPay: () => void }) {
  const time = (): number | undefined => jobTime(props.job, props.now)
  return (
    <tr data-job={props.job.id} data-status={props.job.status}>
      <th scope='row'>
        <A href={`/jobs/${props.job.id}`}>{props.job.name}</A>
        <span class='muted small block'>{props.job.mode} · {props.job.inputs.map(i => i.name).join(', ') || 'no input'}</span>
      </th>
      <td>
        <StatusBadge status={props.job.status} />
        <Show when={props.job.progress.total > 0 && !FINAL_JOB_STATUSES.includes(props.job.status)}>
          <span class='small block'>{props.job.progress.completed}/{props.job.progress.total} tasks</span>
        </Show>
      </td>
      <td class='small'>{formatDateTime(props.job.createdAt)}</td>
      <td class='num'>{time() !== undefined ? formatDuration(time() ?? 0) : '–'}</td>
      <td class='num'>{props.job.metrics !== undefined ? formatBytes(props.job.metrics.peakMemoryBytes) : '–'}</td>
      <td class='num'><Show when={props.job.cost} fallback='–'>{(cost) => <Money micro={cost().price} />}</Show></td>
      <td><Show when={props.job.payment} fallback='–'>{(payment) => <StatusBadge status={payment()} />}</Show></td>
      <td class='actions-cell'>
        <Show when={props.job.status === 'completed'}>
          <a class='button button--small button--quiet' href={resultUrl(props.job.id)} download={`${props.job.name}-result.json`}>
            Download result<span class='visually-hidden'> of {props.job.name}</span>
          </a>
        </Show>
        <Show when={canPay(props.job)}>
          <button
            type='button'
            class='button button--small'
            disabled={props.paying}
            aria-label={`Pay ${formatMoney(props.job.cost?.price ?? 0)} for ${props.job.name}`}
            onClick={() => { props.onPay() }}
          >
            Pay
          </button>
        </Show>
      </td>
    </tr>
  )
}

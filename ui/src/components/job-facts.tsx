import { Show } from 'solid-js'
import type { Job } from '../api/types.ts'
import { formatBytes, formatDateTime, formatDuration } from '../lib/format.ts'
import { jobTime } from '../lib/jobs.ts'
import { Money } from './money.tsx'
import { StatusBadge } from './status-badge.tsx'

/** A job's facts: when it ran, for how long, what it measured, its inputs, and what it costs. */
export function JobFacts (props: { job: Job, now: number }) {
  const time = (): string => {
    const ms = jobTime(props.job, props.now)
    if (ms === undefined) return '–'
    return props.job.metrics !== undefined ? formatDuration(ms) : `${formatDuration(ms)} so far`
  }
  const inputs = (): string => props.job.inputs.length === 0
    ? 'none'
    : props.job.inputs.map(input => `${input.name} (${formatBytes(input.size)}, ${input.chunks} chunk${input.chunks === 1 ? '' : 's'})`).join(', ')
  return (
    <dl class='facts facts--grid'>
      <dt>Submitted</dt><dd>{formatDateTime(props.job.createdAt)}</dd>
      <Show when={props.job.startedAt}>{(at) => <><dt>Started</dt><dd>{formatDateTime(at())}</dd></>}</Show>
      <Show when={props.job.finishedAt}>{(at) => <><dt>Finished</dt><dd>{formatDateTime(at())}</dd></>}</Show>
      <dt>Time</dt>
      <dd>{time()}</dd>
      <Show when={props.job.metrics}>
        {(metrics) => (
          <>
            <dt>Peak RAM</dt><dd>{formatBytes(metrics().peakMemoryBytes)}</dd>
            <dt>CPU time</dt><dd>{formatDuration(metrics().cpuMs)}</dd>
            <dt>Attempts</dt><dd>{metrics().attempts}</dd>
          </>
        )}
      </Show>
      <dt>Inputs</dt>
      <dd>{inputs()}</dd>
      <Show when={props.job.cost}>
        {(cost) => (
          <>
            <dt>Charge</dt><dd data-testid='charge'><Money micro={cost().price} /> <span class='muted small'>(contributors <Money micro={cost().contributors} />, platform <Money micro={cost().platform} />)</span></dd>
          </>
        )}
      </Show>
      <Show when={props.job.payment}>{(payment) => <><dt>Payment</dt><dd><StatusBadge status={payment()} /></dd></>}</Show>
    </dl>
  )
}

import { A } from '@solidjs/router'
import { For, Show, createSignal, onCleanup } from 'solid-js'
import { resultUrl } from '../api/jobs.ts'
import { FINAL_JOB_STATUSES } from '../api/types.ts'
import type { Job } from '../api/types.ts'
import { ErrorNotice } from '../components/error-notice.tsx'
import { Money } from '../components/money.tsx'
import { PageTitle } from '../components/page-title.tsx'
import { SigninRequired } from '../components/signin-required.tsx'
import { StatCard } from '../components/stat-card.tsx'
import { StatusBadge } from '../components/status-badge.tsx'
import { formatBytes, formatDateTime, formatDuration, formatMoney } from '../lib/format.ts'
import { canPay, createJobsStore } from '../stores/jobs.ts'

export default function Jobs () {
  return (
    <SigninRequired what='your jobs'>
      <JobsDashboard />
    </SigninRequired>
  )
}

/** How long a job has taken: its measured wall time once done, the time since it started while it runs. */
export function jobTime (job: Job, now: number): number | undefined {
  if (job.metrics !== undefined) return job.metrics.wallMs
  if (job.startedAt === undefined) return undefined
  return (job.finishedAt ?? now) - job.startedAt
}

function JobsDashboard () {
  const store = createJobsStore()
  const [now, setNow] = createSignal(Date.now())
  const timer = setInterval(() => setNow(Date.now()), 1000)
  onCleanup(() => { clearInterval(timer) })
  const [message, setMessage] = createSignal<string>()
  const [payError, setPayError] = createSignal<unknown>()
  const [paying, setPaying] = createSignal<string>()
  const pay = async (job: Job): Promise<void> => {
    setPaying(job.id)
    setPayError(undefined)
    try {
      await store.pay(job.id)
      setMessage(`Paid ${formatMoney(job.cost?.price ?? 0)} for “${job.name}”.`)
    } catch (err) {
      setPayError(err)
    } finally {
      setPaying(undefined)
    }
  }
  return (
    <>
      <PageTitle title='Your jobs' />
      <div class='page-head'>
        <h1>Your jobs</h1>
        <A href='/submit' class='button'>Submit a job</A>
      </div>
      <dl class='stats stats--compact'>
        <StatCard label='Payments pending' loading={store.payments() === undefined} value={<Money micro={store.payments()?.pending ?? 0} />} />
        <StatCard label='Paid' loading={store.payments() === undefined} value={<Money micro={store.payments()?.paid ?? 0} />} />
        <StatCard label='Jobs running' loading={store.jobs() === undefined} value={String((store.jobs() ?? []).filter(job => !FINAL_JOB_STATUSES.includes(job.status)).length)} />
      </dl>
      <ErrorNotice error={store.error()} title='Your jobs cannot be loaded' />
      <ErrorNotice error={payError()} title='The payment failed' />
      <p class='notice notice--ok' role='status' aria-live='polite'>{message() ?? ''}</p>
      <Show when={store.jobs()} fallback={<p role='status'>Loading your jobs…</p>}>
        {(jobs) => (
          <Show when={jobs().length > 0} fallback={<section class='card'><p>No jobs yet. <A href='/submit'>Submit your first job</A>: the examples/ folder of the repository has a few.</p></section>}>
            <div class='table-scroll' role='region' aria-label='Jobs' tabindex='0'>
              <table class='table jobs'>
                <caption class='visually-hidden'>Your jobs, newest first; statuses update live</caption>
                <thead>
                  <tr>
                    <th scope='col'>Job</th>
                    <th scope='col'>Status</th>
                    <th scope='col'>Submitted</th>
                    <th scope='col' class='num'>Time</th>
                    <th scope='col' class='num'>RAM</th>
                    <th scope='col' class='num'>Charge</th>
                    <th scope='col'>Payment</th>
                    <th scope='col'><span class='visually-hidden'>Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  <For each={jobs()}>
                    {(job) => (
                      <tr data-job={job.id} data-status={job.status}>
                        <th scope='row'>
                          <A href={`/jobs/${job.id}`}>{job.name}</A>
                          <span class='muted small block'>{job.mode} · {job.inputs.map(i => i.name).join(', ') || 'no input'}</span>
                        </th>
                        <td>
                          <StatusBadge status={job.status} />
                          <Show when={job.progress.total > 0 && !FINAL_JOB_STATUSES.includes(job.status)}>
                            <span class='small block'>{job.progress.completed}/{job.progress.total} tasks</span>
                          </Show>
                        </td>
                        <td class='small'>{formatDateTime(job.createdAt)}</td>
                        <td class='num'>{jobTime(job, now()) !== undefined ? formatDuration(jobTime(job, now()) ?? 0) : '–'}</td>
                        <td class='num'>{job.metrics !== undefined ? formatBytes(job.metrics.peakMemoryBytes) : '–'}</td>
                        <td class='num'><Show when={job.cost} fallback='–'>{(cost) => <Money micro={cost().price} />}</Show></td>
                        <td><Show when={job.payment} fallback='–'>{(payment) => <StatusBadge status={payment()} />}</Show></td>
                        <td class='actions-cell'>
                          <Show when={job.status === 'completed'}>
                            <a class='button button--small button--quiet' href={resultUrl(job.id)} download={`${job.name}-result.json`}>
                              Download result<span class='visually-hidden'> of {job.name}</span>
                            </a>
                          </Show>
                          <Show when={canPay(job)}>
                            <button
                              type='button'
                              class='button button--small'
                              disabled={paying() === job.id}
                              aria-label={`Pay ${formatMoney(job.cost?.price ?? 0)} for ${job.name}`}
                              onClick={() => { pay(job).catch(() => {}) }}
                            >
                              Pay
                            </button>
                          </Show>
                        </td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          </Show>
        )}
      </Show>
    </>
  )
}

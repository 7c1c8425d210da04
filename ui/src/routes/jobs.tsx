import { A } from '@solidjs/router'
import { createSignal } from 'solid-js'
import { FINAL_JOB_STATUSES } from '../api/types.ts'
import type { Job } from '../api/types.ts'
import { ErrorNotice } from '../components/error-notice.tsx'
import { JobRow } from '../components/job-row.tsx'
import { LoadedList } from '../components/loaded-list.tsx'
import { Money } from '../components/money.tsx'
import { PageTitle } from '../components/page-title.tsx'
import { ScrollTable } from '../components/scroll-table.tsx'
import { signinRequired } from '../components/signin-required.tsx'
import { StatCard } from '../components/stat-card.tsx'
import { createNow } from '../lib/clock.ts'
import { formatMoney } from '../lib/format.ts'
import { createJobsStore } from '../stores/jobs.ts'

export default signinRequired('your jobs', JobsDashboard)

const COLUMNS = ['Job', 'Status', 'Submitted', { numeric: 'Time' }, { numeric: 'RAM' }, { numeric: 'Charge' }, 'Payment', { hidden: 'Actions' }]

function JobsDashboard () {
  const store = createJobsStore()
  const now = createNow()
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
      <LoadedList
        items={store.jobs()}
        loading={<p role='status'>Loading your jobs…</p>}
        empty={<section class='card'><p>No jobs yet. <A href='/submit'>Submit your first job</A>: the examples/ folder of the repository has a few.</p></section>}
      >
        {(jobs) => (
          <ScrollTable label='Jobs' class='jobs' caption='Your jobs, newest first; statuses update live' columns={COLUMNS} rows={jobs()}>
            {(job) => <JobRow job={job} now={now()} paying={paying() === job.id} onPay={() => { pay(job).catch(() => {}) }} />}
          </ScrollTable>
        )}
      </LoadedList>
    </>
  )
}

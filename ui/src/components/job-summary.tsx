import { Show, createSignal } from 'solid-js'
import { resultUrl } from '../api/jobs.ts'
import type { Job } from '../api/types.ts'
import { formatMoney } from '../lib/format.ts'
import { canPay } from '../stores/jobs.ts'
import { Card } from './card.tsx'
import { ErrorNotice } from './error-notice.tsx'
import { JobFacts } from './job-facts.tsx'

/** A job page's summary: progress, facts, and the result to download or the charge to pay. */
export function JobSummary (props: { job: Job, now: number, onPay: () => Promise<void> }) {
  const [payError, setPayError] = createSignal<unknown>()
  const [paying, setPaying] = createSignal(false)
  const pay = async (): Promise<void> => {
    setPaying(true)
    setPayError(undefined)
    try {
      await props.onPay()
    } catch (err) {
      setPayError(err)
    } finally {
      setPaying(false)
    }
  }
  const progress = (): Job['progress'] => props.job.progress
  return (
    <Card name='summary' title='Summary' hideTitle>
      <Show when={progress().total > 0}>
        <div class='progress'>
          <label for='job-progress'>{progress().completed} of {progress().total} tasks done{progress().running > 0 ? `, ${progress().running} running` : ''}</label>
          <progress id='job-progress' max={progress().total} value={progress().completed} />
        </div>
      </Show>
      <JobFacts job={props.job} now={props.now} />
      <div class='actions'>
        <Show when={props.job.status === 'completed'}>
          <a class='button' href={resultUrl(props.job.id)} download={`${props.job.name}-result.json`}>Download result</a>
        </Show>
        <Show when={canPay(props.job)}>
          <button type='button' class='button' disabled={paying()} onClick={() => { pay().catch(() => {}) }}>
            Pay {formatMoney(props.job.cost?.price ?? 0)}
          </button>
        </Show>
      </div>
      <ErrorNotice error={payError()} title='The payment failed' />
    </Card>
  )
}

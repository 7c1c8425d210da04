import { Show, createUniqueId } from 'solid-js'
import type { JobFormStore } from '../stores/job-form.ts'
import { ErrorNotice } from './error-notice.tsx'
import { Estimates } from './estimates.tsx'
import { SourceFindings } from './source-findings.tsx'

/** "Before you submit": whether the scanner accepts the script, its findings against its lines, and the estimates. */
export function AnalysisPanel (props: { store: JobFormStore }) {
  const id = createUniqueId()
  const current = (): ReturnType<JobFormStore['current']> => props.store.current()
  const status = (): string => props.store.script() === undefined ? 'idle' : props.store.analysis.loading ? 'analyzing' : current()?.status ?? 'idle'
  return (
    <section class='submit__check' aria-labelledby={`${id}-check`}>
      <h2 id={`${id}-check`}>Before you submit</h2>
      <p role='status' class='analysis-status' data-status={status()}>
        <Show when={props.store.script() !== undefined} fallback='Choose a script: its findings and estimates appear here.'>
          <Show when={!props.store.analysis.loading || current() !== undefined} fallback='Analyzing…'>
            <Show when={current()?.status === 'rejected'} fallback={<>The scanner accepts this script.{props.store.analysis.loading ? ' Updating…' : ''}</>}>
              Rejected: {current()?.error?.code} — {current()?.error?.message}
            </Show>
          </Show>
        </Show>
      </p>
      <Show when={props.store.analysis.error !== undefined}><ErrorNotice error={props.store.analysis.error} title='The analysis failed' /></Show>
      <Show when={props.store.script()}>
        {(picked) => (
          <SourceFindings source={picked().text} findings={current()?.findings ?? []} error={current()?.error} fileName={picked().file.name} />
        )}
      </Show>
      <Show when={props.store.kind() === 'grouped' && props.store.aggregate()}>
        {(picked) => <SourceFindings source={picked().text} findings={props.store.aggregateFindings()} fileName={picked().file.name} />}
      </Show>
      <Show when={current()?.status === 'accepted' ? current() : undefined}>
        {(accepted) => <Estimates analysis={accepted()} kind={props.store.kind()} inputName={props.store.inputs()[0]?.name} />}
      </Show>
    </section>
  )
}

import { Show, createUniqueId } from 'solid-js'
import type { JobFormStore } from '../stores/job-form.ts'
import { ErrorNotice } from './error-notice.tsx'
import { InputField } from './input-field.tsx'
import { JobFileFields } from './job-file-fields.tsx'
import { JobKindPicker } from './job-kind-picker.tsx'
import { TaskLimitFields } from './task-limit-fields.tsx'

/** The submit form: kind, files, limits and name, then what stops it from being sent, and the button. */
export function JobForm (props: { store: JobFormStore }) {
  const id = createUniqueId()
  const submit = (event: SubmitEvent): void => {
    event.preventDefault()
    props.store.submit().catch(() => {})
  }
  return (
    <form class='card submit__form' onSubmit={submit} novalidate>
      <JobKindPicker kind={props.store.kind()} onChange={(kind) => props.store.setKind(kind)} />
      <JobFileFields store={props.store} />
      <TaskLimitFields store={props.store} />
      <InputField id={`${id}-name`} label='Name' name='name' maxLength={200} value={props.store.name()} onInput={(event) => props.store.setName(event.currentTarget.value)} />

      <ErrorNotice error={props.store.submitError()} title='The job was not submitted' />
      <Show when={props.store.blocked()}>{(why) => <p class='notice notice--error' role='alert'>{why()}</p>}</Show>
      <button type='submit' class='button button--large' disabled={props.store.submitting() || props.store.blocked() !== undefined}>
        {props.store.submitting() ? 'Submitting…' : 'Submit job'}
      </button>
    </form>
  )
}

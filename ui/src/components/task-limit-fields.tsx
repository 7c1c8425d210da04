import { Show, createUniqueId } from 'solid-js'
import type { JobFormStore } from '../stores/job-form.ts'
import { JobTextField } from './job-text-field.tsx'

/** How many tasks a manual job runs, the memory each task of a manual or grouped job gets, and every task's timeout. */
export function TaskLimitFields (props: { store: JobFormStore }) {
  const id = createUniqueId()
  return (
    <div class='field-row'>
      <Show when={props.store.kind() === 'manual'}>
        <JobTextField store={props.store} field='tasks' id={`${id}-tasks`} label='Number of tasks' type='number' inputmode='numeric' min='1' max='10000' />
      </Show>
      <Show when={props.store.kind() !== 'auto'}>
        <JobTextField
          store={props.store}
          field='taskMemory'
          id={`${id}-memory`}
          errorId={`${id}-taskMemory-error`}
          label='Memory per task'
          help='A size like 256M or 1G; default 512M.'
          placeholder='512M'
        />
      </Show>
      <JobTextField store={props.store} field='timeout' id={`${id}-timeout`} label='Timeout per task (seconds)' type='number' inputmode='numeric' min='1' placeholder='600' />
    </div>
  )
}

import { Show } from 'solid-js'
import type { Job } from '../api/types.ts'
import { Card } from './card.tsx'

/** Why a job was rejected or failed, with the line it concerns and the message (a traceback, for a failure). */
export function JobErrorCard (props: { job: Job }) {
  return (
    <Show when={props.job.error}>
      {(error) => (
        <Card
          name='error'
          error
          title={<>{props.job.status === 'rejected' ? 'Rejected' : 'Error'}: <code>{error().code}</code>{error().line !== undefined ? ` at line ${error().line}` : ''}</>}
        >
          <pre class='traceback'>{error().message}</pre>
        </Card>
      )}
    </Show>
  )
}

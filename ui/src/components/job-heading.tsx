import { A } from '@solidjs/router'
import type { Job } from '../api/types.ts'
import type { Connection } from '../stores/job-events.ts'
import { PageTitle } from './page-title.tsx'
import { StatusBadge } from './status-badge.tsx'

const CONNECTION_TEXT: Record<Connection, string> = { connecting: 'connecting…', live: 'live', ended: 'final', lost: 'updates lost: reload the page' }

/** A job page's title: the job's name and status, whether its updates arrive live, and what kind of job it is. */
export function JobHeading (props: { job: Job, connection: Connection }) {
  return (
    <>
      <PageTitle title={props.job.name} />
      <div class='page-head'>
        <h1>{props.job.name}</h1>
        <StatusBadge status={props.job.status} />
        <span class='live' data-connection={props.connection} role='status'>
          {CONNECTION_TEXT[props.connection]}
        </span>
      </div>
      <p class='muted small'>Job <code>{props.job.id}</code> · {props.job.mode} · <A href='/jobs'>all jobs</A></p>
    </>
  )
}

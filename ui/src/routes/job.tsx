import { useParams } from '@solidjs/router'
import { Show, createMemo, createResource } from 'solid-js'
import { payJob } from '../api/jobs.ts'
import { listNodes } from '../api/nodes.ts'
import { FINAL_JOB_STATUSES } from '../api/types.ts'
import type { Job, Task } from '../api/types.ts'
import { Card } from '../components/card.tsx'
import { ErrorNotice } from '../components/error-notice.tsx'
import { FindingsTable } from '../components/findings-table.tsx'
import { JobErrorCard } from '../components/job-error-card.tsx'
import { JobHeading } from '../components/job-heading.tsx'
import { JobSummary } from '../components/job-summary.tsx'
import { MemoryChart } from '../components/memory-chart.tsx'
import { PlanGraph } from '../components/plan-graph.tsx'
import { signinRequired } from '../components/signin-required.tsx'
import { TaskErrors } from '../components/task-errors.tsx'
import { TaskTimeline } from '../components/task-timeline.tsx'
import { TasksTable } from '../components/tasks-table.tsx'
import { createNow } from '../lib/clock.ts'
import { taskEstimate } from '../lib/jobs.ts'
import { shortNodeId } from '../lib/nodes.ts'
import { createJobStore } from '../stores/job-events.ts'

export default signinRequired('this job', JobById)

function JobById () {
  const params = useParams<{ id: string }>()
  // Keyed: another job's page is a new store, not this one's state with another id.
  return <Show when={params.id} keyed>{(id) => <JobDetail id={id} />}</Show>
}

function JobDetail (props: { id: string }) {
  const store = createJobStore(props.id)
  const [nodes] = createResource(listNodes)
  const now = createNow()
  const job = (): Job | undefined => store.state().job
  const tasks = (): Task[] => store.state().tasks
  const ownNodes = createMemo(() => new Set((nodes.latest ?? []).map(node => node.id)))
  const nodeName = (id: string): string => `${ownNodes().has(id) ? 'your node' : 'node'} ${shortNodeId(id)}`
  const failedTasks = (): Task[] => tasks().filter(task => task.error !== undefined)
  // A final job's timeline ends when the job did; a running one's grows with the clock.
  const end = (current: Job): number => FINAL_JOB_STATUSES.includes(current.status) ? (current.finishedAt ?? now()) : now()
  const pay = async (): Promise<void> => {
    await payJob(props.id)
    await store.reload()
  }
  return (
    <>
      <ErrorNotice error={store.error()} title='This job cannot be shown' />
      <Show when={job()} fallback={<Show when={store.error() === undefined}><p role='status'>Loading the job…</p></Show>}>
        {(current) => (
          <article class='job' data-job={current().id} data-status={current().status}>
            <JobHeading job={current()} connection={store.state().connection} />
            <JobSummary job={current()} now={now()} onPay={pay} />
            <JobErrorCard job={current()} />
            <Show when={current().findings.length > 0}>
              <Card name='findings' title='Scanner findings'><FindingsTable findings={current().findings} /></Card>
            </Show>
            <Card name='plan' title='Plan'><PlanGraph job={current()} tasks={tasks()} /></Card>
            <Show when={current().status !== 'rejected'}>
              <Card name='timeline' title='Tasks across nodes'>
                <TaskTimeline job={current()} tasks={tasks()} observed={store.state().observed} now={end(current())} nodeName={nodeName} />
              </Card>
              <Card name='memory' title='Memory per task'>
                <MemoryChart tasks={tasks()} estimate={(task) => taskEstimate(current(), task)} nodeName={nodeName} />
              </Card>
              <Show when={failedTasks().length > 0}>
                <Card name='task-errors' title='Task errors' error><TaskErrors tasks={failedTasks()} /></Card>
              </Show>
              <Card name='tasks' title='Tasks'><TasksTable tasks={tasks()} nodeName={nodeName} /></Card>
            </Show>
          </article>
        )}
      </Show>
    </>
  )
}

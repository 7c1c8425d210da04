import { A, useParams } from '@solidjs/router'
import { For, Show, createMemo, createResource, createSignal, onCleanup } from 'solid-js'
import { payJob, resultUrl } from '../api/jobs.ts'
import { listNodes } from '../api/nodes.ts'
import { FINAL_JOB_STATUSES } from '../api/types.ts'
import type { Job, Task } from '../api/types.ts'
import { ErrorNotice } from '../components/error-notice.tsx'
import { FindingsTable } from '../components/findings-table.tsx'
import { MemoryChart } from '../components/memory-chart.tsx'
import { Money } from '../components/money.tsx'
import { PageTitle } from '../components/page-title.tsx'
import { PlanGraph } from '../components/plan-graph.tsx'
import { SigninRequired } from '../components/signin-required.tsx'
import { StatusBadge } from '../components/status-badge.tsx'
import { TaskTimeline } from '../components/task-timeline.tsx'
import { formatBytes, formatDateTime, formatDuration, formatMoney, taskName } from '../lib/format.ts'
import { canPay } from '../stores/jobs.ts'
import { createJobStore } from '../stores/job-events.ts'

export default function JobPage () {
  const params = useParams<{ id: string }>()
  // Keyed: another job's page is a new store, not this one's state with another id.
  return (
    <SigninRequired what='this job'>
      <Show when={params.id} keyed>{(id) => <JobDetail id={id} />}</Show>
    </SigninRequired>
  )
}

const CONNECTION_TEXT = { connecting: 'connecting…', live: 'live', ended: 'final', lost: 'updates lost: reload the page' }

/** What the plan says each task was sized with, when it says. */
export function taskEstimate (job: Pick<Job, 'plan'>, task: Task): number | undefined {
  if (task.memoryBytes !== undefined) return task.memoryBytes
  const plan = job.plan
  const planned = Array.isArray(plan.tasks) ? plan.tasks[task.index] as { memoryBytes?: unknown } | undefined : undefined
  const estimate = plan.estimate as { peakBytes?: unknown, perChunkBytes?: unknown } | undefined
  // Automatic jobs: a chunk task is sized per chunk, a whole-program task by the program's peak; the aggregator of
  // partial results has no estimate of its own.
  const automatic = task.entry === 'aggregate' ? undefined : typeof plan.chunks === 'number' && plan.chunks > 1 ? estimate?.perChunkBytes : estimate?.peakBytes
  const candidates = [planned?.memoryBytes, automatic, plan.taskMemoryBytes, (plan.memory as { peakBytes?: unknown } | undefined)?.peakBytes]
  return candidates.find((value): value is number => typeof value === 'number')
}

function JobDetail (props: { id: string }) {
  const store = createJobStore(props.id)
  const [nodes] = createResource(listNodes)
  const [now, setNow] = createSignal(Date.now())
  const timer = setInterval(() => setNow(Date.now()), 1000)
  onCleanup(() => { clearInterval(timer) })
  const [payError, setPayError] = createSignal<unknown>()
  const [paying, setPaying] = createSignal(false)
  const job = (): Job | undefined => store.state().job
  const tasks = (): Task[] => store.state().tasks
  const ownNodes = createMemo(() => new Set((nodes.latest ?? []).map(node => node.id)))
  const nodeName = (id: string): string => `${ownNodes().has(id) ? 'your node' : 'node'} ${id.replace(/^node-/, '').slice(0, 8)}`
  const failedTasks = (): Task[] => tasks().filter(task => task.error !== undefined)
  const pay = async (): Promise<void> => {
    setPaying(true)
    setPayError(undefined)
    try {
      await payJob(props.id)
      await store.reload()
    } catch (err) {
      setPayError(err)
    } finally {
      setPaying(false)
    }
  }
  return (
    <>
      <ErrorNotice error={store.error()} title='This job cannot be shown' />
      <Show when={job()} fallback={<Show when={store.error() === undefined}><p role='status'>Loading the job…</p></Show>}>
        {(current) => (
          <article class='job' data-job={current().id} data-status={current().status}>
            <PageTitle title={current().name} />
            <div class='page-head'>
              <h1>{current().name}</h1>
              <StatusBadge status={current().status} />
              <span class='live' data-connection={store.state().connection} role='status'>
                {CONNECTION_TEXT[store.state().connection]}
              </span>
            </div>
            <p class='muted small'>Job <code>{current().id}</code> · {current().mode} · <A href='/jobs'>all jobs</A></p>

            <section class='card' aria-labelledby='summary-title'>
              <h2 id='summary-title' class='visually-hidden'>Summary</h2>
              <Show when={current().progress.total > 0}>
                <div class='progress'>
                  <label for='job-progress'>{current().progress.completed} of {current().progress.total} tasks done{current().progress.running > 0 ? `, ${current().progress.running} running` : ''}</label>
                  <progress id='job-progress' max={current().progress.total} value={current().progress.completed} />
                </div>
              </Show>
              <dl class='facts facts--grid'>
                <dt>Submitted</dt><dd>{formatDateTime(current().createdAt)}</dd>
                <Show when={current().startedAt}>{(at) => <><dt>Started</dt><dd>{formatDateTime(at())}</dd></>}</Show>
                <Show when={current().finishedAt}>{(at) => <><dt>Finished</dt><dd>{formatDateTime(at())}</dd></>}</Show>
                <dt>Time</dt>
                <dd>{current().metrics !== undefined ? formatDuration(current().metrics?.wallMs ?? 0) : current().startedAt !== undefined ? `${formatDuration((current().finishedAt ?? now()) - (current().startedAt ?? 0))} so far` : '–'}</dd>
                <Show when={current().metrics}>
                  {(metrics) => (
                    <>
                      <dt>Peak RAM</dt><dd>{formatBytes(metrics().peakMemoryBytes)}</dd>
                      <dt>CPU time</dt><dd>{formatDuration(metrics().cpuMs)}</dd>
                      <dt>Attempts</dt><dd>{metrics().attempts}</dd>
                    </>
                  )}
                </Show>
                <dt>Inputs</dt>
                <dd>{current().inputs.length === 0 ? 'none' : current().inputs.map(input => `${input.name} (${formatBytes(input.size)}, ${input.chunks} chunk${input.chunks === 1 ? '' : 's'})`).join(', ')}</dd>
                <Show when={current().cost}>
                  {(cost) => (
                    <>
                      <dt>Charge</dt><dd data-testid='charge'><Money micro={cost().price} /> <span class='muted small'>(contributors <Money micro={cost().contributors} />, platform <Money micro={cost().platform} />)</span></dd>
                    </>
                  )}
                </Show>
                <Show when={current().payment}>{(payment) => <><dt>Payment</dt><dd><StatusBadge status={payment()} /></dd></>}</Show>
              </dl>
              <div class='actions'>
                <Show when={current().status === 'completed'}>
                  <a class='button' href={resultUrl(current().id)} download={`${current().name}-result.json`}>Download result</a>
                </Show>
                <Show when={canPay(current())}>
                  <button type='button' class='button' disabled={paying()} onClick={() => { pay().catch(() => {}) }}>
                    Pay {formatMoney(current().cost?.price ?? 0)}
                  </button>
                </Show>
              </div>
              <ErrorNotice error={payError()} title='The payment failed' />
            </section>

            <Show when={current().error}>
              {(error) => (
                <section class='card card--error' aria-labelledby='error-title'>
                  <h2 id='error-title'>{current().status === 'rejected' ? 'Rejected' : 'Error'}: <code>{error().code}</code>{error().line !== undefined ? ` at line ${error().line}` : ''}</h2>
                  <pre class='traceback'>{error().message}</pre>
                </section>
              )}
            </Show>
            <Show when={current().findings.length > 0}>
              <section class='card' aria-labelledby='findings-title'>
                <h2 id='findings-title'>Scanner findings</h2>
                <FindingsTable findings={current().findings} />
              </section>
            </Show>

            <section class='card' aria-labelledby='plan-title'>
              <h2 id='plan-title'>Plan</h2>
              <PlanGraph job={current()} tasks={tasks()} />
            </section>

            <Show when={current().status !== 'rejected'}>
              <section class='card' aria-labelledby='timeline-title'>
                <h2 id='timeline-title'>Tasks across nodes</h2>
                <TaskTimeline job={current()} tasks={tasks()} observed={store.state().observed} now={FINAL_JOB_STATUSES.includes(current().status) ? (current().finishedAt ?? now()) : now()} nodeName={nodeName} />
              </section>

              <section class='card' aria-labelledby='memory-title'>
                <h2 id='memory-title'>Memory per task</h2>
                <MemoryChart tasks={tasks()} estimate={(task) => taskEstimate(current(), task)} nodeName={nodeName} />
              </section>

              <Show when={failedTasks().length > 0}>
                <section class='card card--error' aria-labelledby='task-errors-title'>
                  <h2 id='task-errors-title'>Task errors</h2>
                  <For each={failedTasks()}>
                    {(task) => (
                      <div class='task-error' data-task={task.id}>
                        <h3>{taskName(task)}: <code>{task.error?.code}</code> <span class='muted small'>attempt {task.attempt}, {task.failures} failure{task.failures === 1 ? '' : 's'}</span></h3>
                        <pre class='traceback'>{task.error?.message}</pre>
                      </div>
                    )}
                  </For>
                </section>
              </Show>

              <section class='card' aria-labelledby='tasks-title'>
                <h2 id='tasks-title'>Tasks</h2>
                <div class='table-scroll' role='region' aria-label='Tasks' tabindex='0'>
                  <table class='table'>
                    <thead>
                      <tr>
                        <th scope='col'>Task</th><th scope='col'>Status</th><th scope='col'>Node</th><th scope='col' class='num'>Attempt</th>
                        <th scope='col' class='num'>Wall</th><th scope='col' class='num'>CPU</th><th scope='col' class='num'>Peak RAM</th><th scope='col' class='num'>Earning</th>
                      </tr>
                    </thead>
                    <tbody>
                      <For each={tasks()}>
                        {(task) => (
                          <tr data-task={task.id} data-status={task.status}>
                            <th scope='row'>{taskName(task)}</th>
                            <td><StatusBadge status={task.status} /></td>
                            <td>{task.nodeId !== undefined ? nodeName(task.nodeId) : '–'}</td>
                            <td class='num'>{task.attempt}</td>
                            <td class='num'>{task.metrics !== undefined ? formatDuration(task.metrics.wallMs) : '–'}</td>
                            <td class='num'>{task.metrics !== undefined ? formatDuration(task.metrics.cpuMs) : '–'}</td>
                            <td class='num'>{task.metrics !== undefined ? formatBytes(task.metrics.peakMemoryBytes) : '–'}</td>
                            <td class='num'>{task.earning !== undefined ? <Money micro={task.earning} /> : '–'}</td>
                          </tr>
                        )}
                      </For>
                    </tbody>
                  </table>
                </div>
              </section>
            </Show>
          </article>
        )}
      </Show>
    </>
  )
}

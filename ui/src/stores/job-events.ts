/**
 * One job, live: the state a job page holds, and the reducer that applies what arrives — the first snapshot
 * (GET), then `job` and `task` server-sent events. Pure, so every ordering of events can be tested; it also notes
 * when this page saw each task start and end, for the timeline.
 */
import { createSignal, onCleanup } from 'solid-js'
import { subscribeJobEvents } from '../api/events.ts'
import { getJob } from '../api/jobs.ts'
import { FINAL_JOB_STATUSES, FINAL_TASK_STATUSES } from '../api/types.ts'
import type { Job, Task } from '../api/types.ts'
import type { ObservedTimes } from '../lib/timeline.ts'

export type Connection = 'connecting' | 'live' | 'ended' | 'lost'

export interface JobState {
  job?: Job
  /** By index. */
  tasks: Task[]
  observed: Record<string, ObservedTimes>
  connection: Connection
}

export type JobEvent =
  | { type: 'snapshot', job: Job, at: number }
  | { type: 'job', job: Job, at: number }
  | { type: 'task', task: Task, at: number }
  | { type: 'open' }
  | { type: 'lost', closed: boolean }

export const initialJobState = (): JobState => ({ tasks: [], observed: {}, connection: 'connecting' })

const ACTIVE = ['assigned', 'running']

/** What a task's change says about when it started or ended, as seen at `at`. */
function observe (observed: Record<string, ObservedTimes>, before: Task | undefined, after: Task, at: number): Record<string, ObservedTimes> {
  if (before === undefined) return observed
  const wasActive = ACTIVE.includes(before.status) && before.attempt === after.attempt
  const wasFinal = FINAL_TASK_STATUSES.includes(before.status)
  if (ACTIVE.includes(after.status) && !wasActive) return { ...observed, [after.id]: { startedAt: at } }
  if (FINAL_TASK_STATUSES.includes(after.status) && !wasFinal) {
    const seen = observed[after.id] ?? {}
    const startedAt = seen.startedAt ?? (after.metrics?.wallMs !== undefined ? at - after.metrics.wallMs : undefined)
    return { ...observed, [after.id]: { ...(startedAt !== undefined ? { startedAt } : {}), endedAt: at } }
  }
  return observed
}

function progressOf (tasks: Task[]): Job['progress'] {
  return {
    total: tasks.length,
    completed: tasks.filter(t => t.status === 'completed').length,
    running: tasks.filter(t => ACTIVE.includes(t.status)).length,
    failed: tasks.filter(t => t.status === 'failed').length
  }
}

export function reduceJobEvent (state: JobState, event: JobEvent): JobState {
  switch (event.type) {
    case 'open':
      return { ...state, connection: state.job !== undefined && FINAL_JOB_STATUSES.includes(state.job.status) ? 'ended' : 'live' }
    case 'lost':
      return state.connection === 'ended' ? state : { ...state, connection: event.closed ? 'lost' : 'connecting' }
    case 'snapshot':
    case 'job': {
      const { tasks: incoming, ...job } = event.job
      let tasks = state.tasks
      let observed = state.observed
      if (incoming !== undefined) {
        const known = new Map(state.tasks.map(task => [task.id, task]))
        for (const task of incoming) observed = observe(observed, known.get(task.id), task, event.at)
        tasks = [...incoming].sort((a, b) => a.index - b.index)
      }
      const final = FINAL_JOB_STATUSES.includes(job.status)
      return {
        job,
        tasks,
        observed,
        connection: final ? 'ended' : state.connection
      }
    }
    case 'task': {
      const index = state.tasks.findIndex(task => task.id === event.task.id)
      const before = index >= 0 ? state.tasks[index] : undefined
      const tasks = index >= 0
        ? state.tasks.map((task, i) => i === index ? event.task : task)
        : [...state.tasks, event.task].sort((a, b) => a.index - b.index)
      const job = state.job !== undefined && state.job.progress.total <= tasks.length ? { ...state.job, progress: progressOf(tasks) } : state.job
      return { ...state, ...(job !== undefined ? { job } : {}), tasks, observed: observe(state.observed, before, event.task, event.at) }
    }
  }
}

export interface JobStore {
  state(): JobState
  /** The load failed (not found, not signed in…). */
  error(): Error | undefined
  /** Reloads the job (after paying, for example). */
  reload(): Promise<void>
}

/** Loads a job and follows its events until it is final; stops following when the owner is disposed. */
export function createJobStore (id: string): JobStore {
  const [state, setState] = createSignal<JobState>(initialJobState())
  const [error, setError] = createSignal<Error>()
  const dispatch = (event: JobEvent): void => { setState(current => reduceJobEvent(current, event)) }
  let unsubscribe: (() => void) | undefined
  let disposed = false
  const reload = async (): Promise<void> => {
    try {
      dispatch({ type: 'snapshot', job: await getJob(id), at: Date.now() })
      setError(undefined)
    } catch (err) {
      setError(err as Error)
    }
  }
  const follow = async (): Promise<void> => {
    await reload()
    const job = state().job
    if (disposed || job === undefined || FINAL_JOB_STATUSES.includes(job.status)) return
    unsubscribe = subscribeJobEvents(id, {
      onOpen: () => { dispatch({ type: 'open' }) },
      onJob: (update) => { dispatch({ type: 'job', job: update, at: Date.now() }) },
      onTask: (task) => { dispatch({ type: 'task', task, at: Date.now() }) },
      onError: (closed) => { dispatch({ type: 'lost', closed }) }
    })
  }
  follow().catch((err: unknown) => { setError(err as Error) })
  onCleanup(() => {
    disposed = true
    unsubscribe?.()
  })
  return { state, error, reload }
}

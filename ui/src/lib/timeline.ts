/**
 * Tasks on a time axis, one lane per node. Times come from the best source there is: the task's attempts when the
 * API reports them, else the moments this page saw the task start and end (live events), else an approximation
 * from each task's measured wall time, started when its dependencies ended (marked `approximate`).
 */
import { FINAL_TASK_STATUSES } from '../api/types.ts'
import type { Job, Task } from '../api/types.ts'

/** When this page saw a task start and end (from its live events). */
export interface ObservedTimes {
  startedAt?: number
  endedAt?: number
}

export interface TimelineBar {
  taskId: string
  index: number
  entry: string
  status: string
  attempt: number
  start: number
  end: number
  running: boolean
  approximate: boolean
  /** Position on the axis, 0–1. */
  offset: number
  width: number
  /** Row inside the lane: tasks that overlap on one node stack. */
  row: number
}

export interface TimelineLane {
  nodeId: string
  bars: TimelineBar[]
  rows: number
}

export interface Timeline {
  lanes: TimelineLane[]
  start: number
  end: number
  approximate: boolean
  /** Tasks that have not run anywhere yet. */
  waiting: Task[]
}

/** The thinnest bar drawn, as a share of the axis, so an instant task stays visible. */
const MIN_WIDTH = 0.004

type JobTimes = Pick<Job, 'createdAt' | 'startedAt' | 'finishedAt'>

export function taskTimeline (job: JobTimes, tasks: readonly Task[], observed: Readonly<Record<string, ObservedTimes>>, now: number): Timeline {
  const bars: Array<Omit<TimelineBar, 'offset' | 'width' | 'row'> & { nodeId: string }> = []
  const ends = new Map<string, number>()
  const pending: Task[] = []
  const waiting: Task[] = []
  const sorted = [...tasks].sort((a, b) => a.index - b.index)
  for (const task of sorted) {
    const final = FINAL_TASK_STATUSES.includes(task.status)
    const wall = task.metrics?.wallMs
    if (task.attempts !== undefined && task.attempts.length > 0) {
      for (const attempt of task.attempts) {
        const last = attempt.attempt === task.attempt
        const end = attempt.endedAt ?? (last && !final ? now : attempt.assignedAt + (last ? wall ?? 0 : 0))
        bars.push({ nodeId: attempt.nodeId, taskId: task.id, index: task.index, entry: task.entry, status: last ? task.status : attempt.outcome ?? 'failed', attempt: attempt.attempt, start: attempt.assignedAt, end, running: last && !final, approximate: false })
        if (last) ends.set(task.id, end)
      }
      continue
    }
    const seen = observed[task.id]
    if (task.nodeId !== undefined && seen !== undefined && (seen.startedAt !== undefined || (seen.endedAt !== undefined && wall !== undefined))) {
      const start = seen.startedAt ?? (seen.endedAt ?? now) - (wall ?? 0)
      const end = seen.endedAt ?? (final ? start + (wall ?? 0) : now)
      bars.push({ nodeId: task.nodeId, taskId: task.id, index: task.index, entry: task.entry, status: task.status, attempt: task.attempt, start, end, running: !final, approximate: false })
      ends.set(task.id, end)
      continue
    }
    if (task.nodeId === undefined) waiting.push(task)
    else pending.push(task)
  }
  // Approximate the rest in dependency order: a task starts when the last of its dependencies ended.
  const origin = job.startedAt ?? job.createdAt
  const workers = sorted.filter(task => task.entry !== 'aggregate').map(task => task.id)
  let approximate = false
  for (const task of pending) {
    const deps = task.dependsOn ?? (task.entry === 'aggregate' ? workers : [])
    const start = Math.max(origin, ...deps.map(id => ends.get(id) ?? origin))
    const final = FINAL_TASK_STATUSES.includes(task.status)
    const end = task.metrics?.wallMs !== undefined ? start + task.metrics.wallMs : final ? start : Math.max(start, now)
    bars.push({ nodeId: task.nodeId ?? '', taskId: task.id, index: task.index, entry: task.entry, status: task.status, attempt: task.attempt, start, end, running: !final, approximate: true })
    ends.set(task.id, end)
    approximate = true
  }
  if (bars.length === 0) return { lanes: [], start: origin, end: origin, approximate: false, waiting }
  const start = Math.min(...bars.map(bar => bar.start))
  const end = Math.max(...bars.map(bar => bar.end), job.finishedAt ?? 0)
  const span = Math.max(end - start, 1)
  const lanes = new Map<string, TimelineLane>()
  for (const bar of [...bars].sort((a, b) => a.start - b.start || a.index - b.index)) {
    const lane = lanes.get(bar.nodeId) ?? { nodeId: bar.nodeId, bars: [], rows: 1 }
    lanes.set(bar.nodeId, lane)
    // The first row whose last bar ended before this one starts.
    let row = 0
    while (lane.bars.some(other => other.row === row && other.end > bar.start && other.start < bar.end)) row++
    lane.rows = Math.max(lane.rows, row + 1)
    const { nodeId: _node, ...rest } = bar
    lane.bars.push({ ...rest, row, offset: (bar.start - start) / span, width: Math.max((bar.end - bar.start) / span, MIN_WIDTH) })
  }
  return { lanes: [...lanes.values()], start, end, approximate, waiting }
}

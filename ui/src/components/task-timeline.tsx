import { For, Show, createMemo } from 'solid-js'
import { formatDuration, taskName } from '../lib/format.ts'
import { taskTimeline } from '../lib/timeline.ts'
import type { Job, Task } from '../api/types.ts'
import type { ObservedTimes } from '../lib/timeline.ts'

const ROW_HEIGHT = 26

/** Every task as a bar on its node's lane, over the job's time. */
export function TaskTimeline (props: { job: Job, tasks: Task[], observed: Record<string, ObservedTimes>, now: number, nodeName: (id: string) => string }) {
  const timeline = createMemo(() => taskTimeline(props.job, props.tasks, props.observed, props.now))
  const span = (): number => timeline().end - timeline().start
  return (
    <figure class='timeline'>
      <figcaption>
        Tasks over time, one lane per node{timeline().lanes.length > 0 ? ` (${formatDuration(span())} in all)` : ''}.
        <Show when={timeline().approximate}> Some times are approximate: placed from each task's measured wall time after its dependencies.</Show>
      </figcaption>
      <Show when={timeline().lanes.length > 0} fallback={<p class='muted'>No task has started yet.</p>}>
        <ul class='timeline__lanes'>
          <For each={timeline().lanes}>
            {(lane) => (
              <li class='timeline__lane' data-node={lane.nodeId}>
                <span class='timeline__node' title={lane.nodeId}>{props.nodeName(lane.nodeId)}</span>
                <ul class='timeline__track' style={{ height: `${lane.rows * ROW_HEIGHT}px` }} aria-label={`tasks on ${props.nodeName(lane.nodeId)}`}>
                  <For each={lane.bars}>
                    {(bar) => {
                      const label = (): string => `${taskName(bar)}${bar.attempt > 1 ? ` (attempt ${bar.attempt})` : ''}: ${bar.status}, ${formatDuration(bar.end - bar.start)}${bar.approximate ? ' (approximate)' : ''}`
                      return (
                        <li
                          class={`timeline__bar timeline__bar--${bar.status}`}
                          classList={{ 'timeline__bar--approximate': bar.approximate, 'timeline__bar--running': bar.running }}
                          style={{ left: `${bar.offset * 100}%`, width: `${bar.width * 100}%`, top: `${bar.row * ROW_HEIGHT}px` }}
                          tabindex='0'
                          title={label()}
                          aria-label={label()}
                          data-task={bar.taskId}
                        >
                          <span class='timeline__text' aria-hidden='true'>{bar.index < 0 ? bar.entry : `#${bar.index}`}</span>
                        </li>
                      )
                    }}
                  </For>
                </ul>
              </li>
            )}
          </For>
        </ul>
        <div class='timeline__axis' aria-hidden='true'><span>0</span><span>{formatDuration(span())}</span></div>
      </Show>
      <Show when={timeline().waiting.length > 0}>
        <p class='muted'>{timeline().waiting.length} task{timeline().waiting.length === 1 ? '' : 's'} waiting for a node or for other tasks.</p>
      </Show>
    </figure>
  )
}

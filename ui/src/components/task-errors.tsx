import { For } from 'solid-js'
import type { Task } from '../api/types.ts'
import { taskName } from '../lib/format.ts'

/** Each failed task's last error with its traceback, and how often it was tried. */
export function TaskErrors (props: { tasks: Task[] }) {
  return (
    <For each={props.tasks}>
      {(task) => (
        <div class='task-error' data-task={task.id}>
          <h3>{taskName(task)}: <code>{task.error?.code}</code> <span class='muted small'>attempt {task.attempt}, {task.failures} failure{task.failures === 1 ? '' : 's'}</span></h3>
          <pre class='traceback'>{task.error?.message}</pre>
        </div>
      )}
    </For>
  )
}

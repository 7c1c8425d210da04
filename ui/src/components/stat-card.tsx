import { Show } from 'solid-js'
import type { JSX } from 'solid-js'

/** One figure with its label; shows a placeholder (and tells assistive technology) while it loads. */
export function StatCard (props: { label: string, value: JSX.Element | undefined, loading?: boolean, hint?: string }) {
  return (
    <div class='stat' aria-busy={props.loading === true}>
      <dt class='stat__label'>{props.label}</dt>
      <dd class='stat__value'>
        <Show when={props.loading !== true} fallback={<span class='skeleton' aria-label='loading'>…</span>}>
          {props.value}
        </Show>
      </dd>
      <Show when={props.hint}>{(hint) => <dd class='stat__hint'>{hint()}</dd>}</Show>
    </div>
  )
}

import { Show } from 'solid-js'
import type { Accessor, JSX } from 'solid-js'

/** A list from the coordinator: what stands in for it while it loads, a sentence when it is empty, else the list. */
export function LoadedList<T> (props: {
  /** Undefined until the list has loaded. */
  items: readonly T[] | undefined
  loading?: JSX.Element
  empty: JSX.Element
  children: (items: Accessor<readonly T[]>) => JSX.Element
}) {
  return (
    <Show when={props.items} fallback={props.loading}>
      {(items) => <Show when={items().length > 0} fallback={props.empty}>{props.children(items)}</Show>}
    </Show>
  )
}

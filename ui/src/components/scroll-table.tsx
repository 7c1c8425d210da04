import { For, Show } from 'solid-js'
import type { Accessor, JSX } from 'solid-js'

/**
 * A column's heading: a plain title, a numeric column's (right-aligned, as its cells are), or one that only screen
 * readers read (a column of buttons needs a name, not a visible one).
 */
export type Column = string | { numeric: string } | { hidden: string }

function heading (column: Column): JSX.Element {
  if (typeof column === 'string') return <th scope='col'>{column}</th>
  if ('numeric' in column) return <th scope='col' class='num'>{column.numeric}</th>
  return <th scope='col'><span class='visually-hidden'>{column.hidden}</span></th>
}

/**
 * A table in a region of its own that scrolls sideways when the page is narrower than the table; the region takes
 * the keyboard's focus so it can be scrolled without a mouse, and its label names the table to screen readers.
 */
export function ScrollTable<T> (props: {
  /** The region's accessible name. */
  label: string
  /** Classes besides `table`. */
  class?: string
  /** A caption for screen readers only. */
  caption?: string
  columns: readonly Column[]
  rows: readonly T[]
  children: (row: T, index: Accessor<number>) => JSX.Element
}) {
  return (
    <div class='table-scroll' role='region' aria-label={props.label} tabindex='0'>
      <table class={props.class === undefined ? 'table' : `table ${props.class}`}>
        <Show when={props.caption}>{(caption) => <caption class='visually-hidden'>{caption()}</caption>}</Show>
        <thead><tr><For each={props.columns}>{heading}</For></tr></thead>
        <tbody><For each={props.rows}>{props.children}</For></tbody>
      </table>
    </div>
  )
}

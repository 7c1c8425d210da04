import type { JSX, ParentProps } from 'solid-js'

/** A card of a page: a section named by its heading, whose id is `${props.name}-title`. */
export function Card (props: ParentProps<{
  name: string
  title: JSX.Element
  /** A card that reports a failure. */
  error?: boolean
  /** The heading is for screen readers only (the card's content speaks for itself on screen). */
  hideTitle?: boolean
}>) {
  return (
    <section class='card' classList={{ 'card--error': props.error === true }} aria-labelledby={`${props.name}-title`}>
      <h2 id={`${props.name}-title`} classList={{ 'visually-hidden': props.hideTitle === true }}>{props.title}</h2>
      {props.children}
    </section>
  )
}

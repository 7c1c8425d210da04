import { Show, createSignal } from 'solid-js'

/**
 * A button for an action that cannot be undone by clicking again: the first click asks (in place, with the question
 * read out), the second does it. Escape or "Cancel" backs out.
 */
export function ConfirmButton (props: {
  /** The button's text, e.g. "Remove". */
  label: string
  /** Its accessible name when the text alone is ambiguous in a table, e.g. "Remove node 1a2b3c4d". */
  name?: string
  /** What is about to happen, asked before doing it. */
  question: string
  /** The text of the button that does it, e.g. "Yes, remove". */
  confirmLabel: string
  busy?: boolean
  onConfirm: () => void
}) {
  const [asking, setAsking] = createSignal(false)
  return (
    <Show
      when={asking()}
      fallback={
        <button type='button' class='button button--small button--quiet' disabled={props.busy === true} aria-label={props.name} onClick={() => setAsking(true)}>
          {props.label}
        </button>
      }
    >
      <span class='confirm' role='group' aria-label={props.question} onKeyDown={(event) => { if (event.key === 'Escape') setAsking(false) }}>
        <span class='confirm__question'>{props.question}</span>
        <span class='confirm__buttons'>
          <button
            // Keyboard users land on the answer once it is on the page.
            ref={(element) => { queueMicrotask(() => { element.focus() }) }}
            type='button'
            class='button button--small button--danger'
            disabled={props.busy === true}
            onClick={() => { setAsking(false); props.onConfirm() }}
          >
            {props.confirmLabel}
          </button>
          <button type='button' class='button button--small button--quiet' onClick={() => setAsking(false)}>Cancel</button>
        </span>
      </span>
    </Show>
  )
}

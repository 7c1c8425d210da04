import { createSignal } from 'solid-js'

/** Copies a text to the clipboard and says so (politely, to screen readers too). */
export function CopyButton (props: { text: string, label?: string }) {
  const [state, setState] = createSignal<'idle' | 'copied' | 'failed'>('idle')
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(props.text)
      setState('copied')
    } catch {
      setState('failed')
    }
  }
  return (
    <span class='copy'>
      <button type='button' class='button button--small' onClick={() => { copy().catch(() => {}) }}>
        {props.label ?? 'Copy'}
      </button>
      <span class='copy__status' role='status' aria-live='polite'>
        {state() === 'copied' ? 'Copied' : state() === 'failed' ? 'Select the text and copy it' : ''}
      </span>
    </span>
  )
}

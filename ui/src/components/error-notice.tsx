import { Show } from 'solid-js'

/** An error the user should read now: announced by screen readers as it appears. */
export function ErrorNotice (props: { error: unknown, title?: string }) {
  const message = (): string => props.error instanceof Error ? props.error.message : String(props.error)
  return (
    <Show when={props.error !== undefined && props.error !== null}>
      <div class='notice notice--error' role='alert'>
        <Show when={props.title}>{(title) => <strong>{title()}: </strong>}</Show>
        {message()}
      </div>
    </Show>
  )
}

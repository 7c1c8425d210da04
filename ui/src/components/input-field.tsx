import { Show, splitProps } from 'solid-js'
import type { JSX } from 'solid-js'

/** The field's own props; every other prop is the input's. */
export type InputFieldProps = JSX.InputHTMLAttributes<HTMLInputElement> & {
  id: string
  label: JSX.Element
  help?: string | undefined
  /** What is wrong with the value, once it should be said. */
  error?: string | undefined
  errorId?: string
}

/**
 * A labelled input with its help and, when there is one to show, its problem under it; both are tied to the input
 * (`aria-describedby`) so a screen reader reads them with it. The help is `${id}-help`, the problem `errorId`
 * (`${id}-error` unless given).
 */
export function InputField (props: InputFieldProps) {
  const [field, input] = splitProps(props, ['label', 'help', 'error', 'errorId'])
  const helpId = (): string => `${props.id}-help`
  const errorId = (): string => field.errorId ?? `${props.id}-error`
  const describedBy = (): string | undefined =>
    [field.help !== undefined ? helpId() : undefined, field.error !== undefined ? errorId() : undefined].filter(Boolean).join(' ') || undefined
  return (
    <div class='field'>
      <label for={props.id}>{field.label}</label>
      <input {...input} aria-describedby={describedBy()} />
      <Show when={field.help}>{(help) => <small id={helpId()} class='field__help'>{help()}</small>}</Show>
      <Show when={field.error}>{(error) => <small id={errorId()} class='field__error'>{error()}</small>}</Show>
    </div>
  )
}

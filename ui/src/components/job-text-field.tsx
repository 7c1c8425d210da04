import { splitProps } from 'solid-js'
import type { TextField } from '../stores/job-form.ts'
import type { JobFormStore } from '../stores/job-form.ts'
import type { InputFieldProps } from './input-field.tsx'
import { JobField } from './job-field.tsx'

/** A text field of the submit form, named after its field and bound to its value in the store. */
export function JobTextField (props: Omit<InputFieldProps, 'error' | 'name' | 'value'> & { store: JobFormStore, field: TextField }) {
  const [own, input] = splitProps(props, ['store', 'field'])
  return (
    <JobField
      {...input}
      store={own.store}
      field={own.field}
      name={own.field}
      value={own.store.text(own.field)}
      onInput={(event) => own.store.setText(own.field, event.currentTarget.value)}
    />
  )
}

import { splitProps } from 'solid-js'
import type { FormField } from '../lib/job-form.ts'
import type { JobFormStore } from '../stores/job-form.ts'
import { InputField } from './input-field.tsx'
import type { InputFieldProps } from './input-field.tsx'

/** A field of the submit form whose problem, once the user has tried to submit, is said under it and marked on it. */
export function JobField (props: Omit<InputFieldProps, 'error'> & { store: JobFormStore, field: FormField }) {
  const [own, input] = splitProps(props, ['store', 'field'])
  const problem = (): string | undefined => own.store.problem(own.field)
  return <InputField {...input} error={problem()} aria-invalid={problem() !== undefined} />
}

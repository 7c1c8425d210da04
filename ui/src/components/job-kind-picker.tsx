import { For } from 'solid-js'
import type { JobKind } from '../lib/job-form.ts'

const KINDS: Array<{ value: JobKind, title: string, text: string }> = [
  { value: 'auto', title: 'Automatic', text: 'One file defining main(data). RunSurge splits it where the result provably stays the same.' },
  { value: 'manual', title: 'Manual', text: 'process(input_data) runs once per chunk of the input; you choose the number of tasks and their memory.' },
  { value: 'grouped', title: 'Grouped', text: 'Several input files, one process() each, then your aggregation script over all the results.' }
]

/** The three kinds of job as radio cards, each saying what it asks of the script. */
export function JobKindPicker (props: { kind: JobKind, onChange: (kind: JobKind) => void }) {
  return (
    <fieldset class='kinds'>
      <legend>Kind of job</legend>
      <For each={KINDS}>
        {(option) => (
          <label class='kind' classList={{ 'kind--selected': props.kind === option.value }}>
            <input type='radio' name='mode' value={option.value} checked={props.kind === option.value} onChange={() => props.onChange(option.value)} />
            <span class='kind__title'>{option.title}</span>
            <span class='kind__text'>{option.text}</span>
          </label>
        )}
      </For>
    </fieldset>
  )
}

import { Show, createUniqueId } from 'solid-js'
import { formatBytes } from '../lib/format.ts'
import type { JobFormStore } from '../stores/job-form.ts'
import { JobField } from './job-field.tsx'

const INPUT_HELP = '.json (an array), .jsonl, .csv (rows as dicts) or text (a list of lines).'

/** The job's files: its script, its input file(s) and, for a grouped job, its aggregation script. */
export function JobFileFields (props: { store: JobFormStore }) {
  const id = createUniqueId()
  const grouped = (): boolean => props.store.kind() === 'grouped'
  const scriptHelp = (): string => props.store.kind() === 'auto'
    ? 'Defines main(data) at module level; returns a JSON value.'
    : 'Defines process(input_data) returning a dict' + (props.store.kind() === 'manual' ? '; may define aggregate(results).' : '.')
  const inputsHelp = (): string => {
    const chosen = props.store.inputs()
    return chosen.length > 0 ? `${INPUT_HELP} Chosen: ${chosen.map(f => `${f.name} (${formatBytes(f.size)})`).join(', ')}.` : INPUT_HELP
  }
  return (
    <>
      <JobField
        store={props.store}
        field='script'
        id={`${id}-script`}
        label={grouped() ? 'Processing script (process per file)' : 'Python script'}
        help={scriptHelp()}
        name='script'
        type='file'
        accept='.py,text/x-python'
        onChange={(event) => { props.store.chooseScript(event.currentTarget.files) }}
      />
      <JobField
        store={props.store}
        field='inputs'
        id={`${id}-inputs`}
        label={grouped() ? 'Input files (one task each)' : 'Input file'}
        help={inputsHelp()}
        name='input'
        type='file'
        multiple={grouped()}
        onChange={(event) => props.store.setInputs([...(event.currentTarget.files ?? [])])}
      />
      <Show when={grouped()}>
        <JobField
          store={props.store}
          field='aggregate'
          id={`${id}-aggregate`}
          label='Aggregation script'
          help='Defines aggregate(results), run once every task succeeded.'
          name='aggregate'
          type='file'
          accept='.py,text/x-python'
          onChange={(event) => { props.store.chooseAggregate(event.currentTarget.files) }}
        />
      </Show>
    </>
  )
}

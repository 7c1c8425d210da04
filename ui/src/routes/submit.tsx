import { useNavigate } from '@solidjs/router'
import { For, Show, createEffect, createMemo, createResource, createSignal, createUniqueId, on, onCleanup } from 'solid-js'
import type { JSX } from 'solid-js'
import { analyzeJob, submitJob } from '../api/jobs.ts'
import type { AnalyzeRequest, Analysis, Job } from '../api/types.ts'
import { ErrorNotice } from '../components/error-notice.tsx'
import { Money } from '../components/money.tsx'
import { PageTitle } from '../components/page-title.tsx'
import { PlanGraph } from '../components/plan-graph.tsx'
import { SigninRequired } from '../components/signin-required.tsx'
import { SourceFindings } from '../components/source-findings.tsx'
import { formatBytes, formatDuration, formatNumber, parseSize } from '../lib/format.ts'
import { isBlocking } from '../lib/findings.ts'
import { definesAggregate, formProblems, inputFormat, nameFromFile } from '../lib/job-form.ts'
import type { JobKind } from '../lib/job-form.ts'

/** The beginning of the input sent for analysis: enough lines to size the elements. */
const SAMPLE_BYTES = 256 * 1024
/** Typing in a field re-analyzes after this pause (ms). */
const ANALYZE_DELAY_MS = 250

interface PickedFile { file: File, text: string }

const KINDS: Array<{ value: JobKind, title: string, text: string }> = [
  { value: 'auto', title: 'Automatic', text: 'One file defining main(data). RunSurge splits it where the result provably stays the same.' },
  { value: 'manual', title: 'Manual', text: 'process(input_data) runs once per chunk of the input; you choose the number of tasks and their memory.' },
  { value: 'grouped', title: 'Grouped', text: 'Several input files, one process() each, then your aggregation script over all the results.' }
]

export default function Submit () {
  return (
    <SigninRequired what='the submit form'>
      <SubmitForm />
    </SigninRequired>
  )
}

function SubmitForm () {
  const id = createUniqueId()
  const navigate = useNavigate()
  const [kind, setKind] = createSignal<JobKind>('auto')
  const [name, setName] = createSignal('')
  const [script, setScript] = createSignal<PickedFile>()
  const [inputs, setInputs] = createSignal<File[]>([])
  const [aggregate, setAggregate] = createSignal<PickedFile>()
  const [tasks, setTasks] = createSignal('2')
  const [taskMemory, setTaskMemory] = createSignal('')
  const [timeout, setTimeoutSeconds] = createSignal('')
  const [sample, setSample] = createSignal<string>()
  const [submitting, setSubmitting] = createSignal(false)
  const [submitError, setSubmitError] = createSignal<unknown>()
  const [tried, setTried] = createSignal(false)

  const pick = async (files: FileList | null): Promise<PickedFile | undefined> => {
    const file = files?.[0]
    return file === undefined ? undefined : { file, text: await file.text() }
  }

  createEffect(on(inputs, (files) => {
    const first = files[0]
    if (first === undefined) {
      setSample(undefined)
      return
    }
    first.slice(0, SAMPLE_BYTES).text().then(setSample, () => { setSample(undefined) })
  }))

  const request = createMemo<AnalyzeRequest | undefined>(() => {
    const picked = script()
    if (picked === undefined) return undefined
    const files = inputs()
    const first = files[0]
    const memory = parseSize(taskMemory())
    const count = kind() === 'grouped' ? Math.max(files.length, 1) : kind() === 'manual' ? Number(tasks()) : undefined
    return {
      source: picked.text,
      mode: kind() === 'auto' ? 'auto' : 'manual',
      ...(first !== undefined
        ? { inputBytes: files.reduce((sum, f) => sum + f.size, 0), format: inputFormat(first.name), ...(sample() !== undefined && kind() !== 'grouped' ? { sample: sample() } : {}) }
        : {}),
      ...(count !== undefined && Number.isInteger(count) && count >= 1 && count <= 10_000 ? { tasks: count } : {}),
      ...(kind() !== 'auto' && memory !== undefined ? { taskMemory: memory } : {})
    }
  })
  const [settled, setSettled] = createSignal<AnalyzeRequest>()
  createEffect(() => {
    const body = request()
    const timer = setTimeout(() => setSettled(body), ANALYZE_DELAY_MS)
    onCleanup(() => { clearTimeout(timer) })
  })
  const [analysis] = createResource(settled, async (body) => await analyzeJob(body))
  const [aggregateAnalysis] = createResource(
    () => kind() === 'grouped' ? aggregate()?.text : undefined,
    async (source) => await analyzeJob({ source, mode: 'manual' })
  )
  // The aggregation script needs aggregate(results), not process(): only its other findings count.
  const aggregateFindings = (): Analysis['findings'] => (aggregateAnalysis.latest?.findings ?? []).filter(f => f.rule !== 'template/process-missing')
  const current = (): Analysis | undefined => script() !== undefined ? analysis.latest : undefined

  const problems = createMemo(() => formProblems({
    kind: kind(),
    hasScript: script() !== undefined,
    inputs: inputs().length,
    hasAggregate: aggregate() !== undefined,
    tasks: tasks(),
    taskMemory: taskMemory(),
    timeout: timeout()
  }))
  const blocked = (): string | undefined => {
    if (current()?.status === 'rejected') return 'The scanner rejects this script: fix the blocking findings shown against its lines, then choose the file again.'
    if (kind() === 'grouped' && aggregateFindings().some(f => isBlocking(f.severity))) return 'The aggregation script has blocking findings.'
    if (kind() === 'grouped' && aggregate() !== undefined && !definesAggregate(aggregate()?.text ?? '')) return 'The aggregation script must define aggregate(results) at module level.'
    return undefined
  }

  const submit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault()
    setTried(true)
    const picked = script()
    if (Object.keys(problems()).length > 0 || blocked() !== undefined || picked === undefined) return
    setSubmitting(true)
    setSubmitError(undefined)
    try {
      const memory = parseSize(taskMemory())
      const job: Job = await submitJob({
        name: name().trim() === '' ? nameFromFile(picked.file.name) : name().trim(),
        mode: kind(),
        script: picked.file,
        inputs: inputs(),
        ...(kind() === 'grouped' && aggregate() !== undefined ? { aggregate: aggregate()?.file } : {}),
        ...(kind() === 'manual' ? { tasks: Number(tasks()) } : {}),
        ...(memory !== undefined ? { taskMemoryBytes: memory } : {}),
        ...(timeout().trim() !== '' ? { timeoutSeconds: Number(timeout()) } : {})
      })
      navigate(`/jobs/${job.id}`)
    } catch (err) {
      setSubmitError(err)
    } finally {
      setSubmitting(false)
    }
  }

  const problem = (field: keyof ReturnType<typeof formProblems>): JSX.Element => (
    <Show when={tried() && problems()[field]}>
      {(text) => <small id={`${id}-${field}-error`} class='field__error'>{text()}</small>}
    </Show>
  )
  const describedBy = (field: keyof ReturnType<typeof formProblems>, help?: string): string | undefined =>
    [help, tried() && problems()[field] !== undefined ? `${id}-${field}-error` : undefined].filter(Boolean).join(' ') || undefined

  return (
    <>
      <PageTitle title='Submit a job' />
      <h1>Submit a job</h1>
      <div class='submit'>
        <form class='card submit__form' onSubmit={(event) => { submit(event).catch(() => {}) }} novalidate>
          <fieldset class='kinds'>
            <legend>Kind of job</legend>
            <For each={KINDS}>
              {(option) => (
                <label class='kind' classList={{ 'kind--selected': kind() === option.value }}>
                  <input type='radio' name='mode' value={option.value} checked={kind() === option.value} onChange={() => setKind(option.value)} />
                  <span class='kind__title'>{option.title}</span>
                  <span class='kind__text'>{option.text}</span>
                </label>
              )}
            </For>
          </fieldset>

          <div class='field'>
            <label for={`${id}-script`}>{kind() === 'grouped' ? 'Processing script (process per file)' : 'Python script'}</label>
            <input
              id={`${id}-script`}
              name='script'
              type='file'
              accept='.py,text/x-python'
              aria-invalid={tried() && problems().script !== undefined}
              aria-describedby={describedBy('script', `${id}-script-help`)}
              onChange={(event) => {
                pick(event.currentTarget.files).then((picked) => {
                  setScript(picked)
                  if (picked !== undefined && name() === '') setName(nameFromFile(picked.file.name))
                }, () => { setScript(undefined) })
              }}
            />
            <small id={`${id}-script-help`} class='field__help'>
              {kind() === 'auto' ? 'Defines main(data) at module level; returns a JSON value.' : 'Defines process(input_data) returning a dict' + (kind() === 'manual' ? '; may define aggregate(results).' : '.')}
            </small>
            {problem('script')}
          </div>

          <div class='field'>
            <label for={`${id}-inputs`}>{kind() === 'grouped' ? 'Input files (one task each)' : 'Input file'}</label>
            <input
              id={`${id}-inputs`}
              name='input'
              type='file'
              multiple={kind() === 'grouped'}
              aria-invalid={tried() && problems().inputs !== undefined}
              aria-describedby={describedBy('inputs', `${id}-inputs-help`)}
              onChange={(event) => setInputs([...(event.currentTarget.files ?? [])])}
            />
            <small id={`${id}-inputs-help`} class='field__help'>
              .json (an array), .jsonl, .csv (rows as dicts) or text (a list of lines).
              <Show when={inputs().length > 0}> Chosen: {inputs().map(f => `${f.name} (${formatBytes(f.size)})`).join(', ')}.</Show>
            </small>
            {problem('inputs')}
          </div>

          <Show when={kind() === 'grouped'}>
            <div class='field'>
              <label for={`${id}-aggregate`}>Aggregation script</label>
              <input
                id={`${id}-aggregate`}
                name='aggregate'
                type='file'
                accept='.py,text/x-python'
                aria-invalid={tried() && problems().aggregate !== undefined}
                aria-describedby={describedBy('aggregate', `${id}-aggregate-help`)}
                onChange={(event) => { pick(event.currentTarget.files).then(setAggregate, () => { setAggregate(undefined) }) }}
              />
              <small id={`${id}-aggregate-help`} class='field__help'>Defines aggregate(results), run once every task succeeded.</small>
              {problem('aggregate')}
            </div>
          </Show>

          <div class='field-row'>
            <Show when={kind() === 'manual'}>
              <div class='field'>
                <label for={`${id}-tasks`}>Number of tasks</label>
                <input
                  id={`${id}-tasks`}
                  name='tasks'
                  type='number'
                  inputmode='numeric'
                  min='1'
                  max='10000'
                  value={tasks()}
                  aria-invalid={tried() && problems().tasks !== undefined}
                  aria-describedby={describedBy('tasks')}
                  onInput={(event) => setTasks(event.currentTarget.value)}
                />
                {problem('tasks')}
              </div>
            </Show>
            <Show when={kind() !== 'auto'}>
              <div class='field'>
                <label for={`${id}-memory`}>Memory per task</label>
                <input
                  id={`${id}-memory`}
                  name='taskMemory'
                  placeholder='512M'
                  value={taskMemory()}
                  aria-invalid={tried() && problems().taskMemory !== undefined}
                  aria-describedby={describedBy('taskMemory', `${id}-memory-help`)}
                  onInput={(event) => setTaskMemory(event.currentTarget.value)}
                />
                <small id={`${id}-memory-help`} class='field__help'>A size like 256M or 1G; default 512M.</small>
                {problem('taskMemory')}
              </div>
            </Show>
            <div class='field'>
              <label for={`${id}-timeout`}>Timeout per task (seconds)</label>
              <input
                id={`${id}-timeout`}
                name='timeout'
                type='number'
                inputmode='numeric'
                min='1'
                placeholder='600'
                value={timeout()}
                aria-invalid={tried() && problems().timeout !== undefined}
                aria-describedby={describedBy('timeout')}
                onInput={(event) => setTimeoutSeconds(event.currentTarget.value)}
              />
              {problem('timeout')}
            </div>
          </div>

          <div class='field'>
            <label for={`${id}-name`}>Name</label>
            <input id={`${id}-name`} name='name' maxLength={200} value={name()} onInput={(event) => setName(event.currentTarget.value)} />
          </div>

          <ErrorNotice error={submitError()} title='The job was not submitted' />
          <Show when={blocked()}>{(why) => <p class='notice notice--error' role='alert'>{why()}</p>}</Show>
          <button type='submit' class='button button--large' disabled={submitting() || blocked() !== undefined}>
            {submitting() ? 'Submitting…' : 'Submit job'}
          </button>
        </form>

        <section class='submit__check' aria-labelledby={`${id}-check`}>
          <h2 id={`${id}-check`}>Before you submit</h2>
          <p role='status' class='analysis-status' data-status={script() === undefined ? 'idle' : analysis.loading ? 'analyzing' : current()?.status ?? 'idle'}>
            <Show when={script() !== undefined} fallback='Choose a script: its findings and estimates appear here.'>
              <Show when={!analysis.loading || current() !== undefined} fallback='Analyzing…'>
                <Show when={current()?.status === 'rejected'} fallback={<>The scanner accepts this script.{analysis.loading ? ' Updating…' : ''}</>}>
                  Rejected: {current()?.error?.code} — {current()?.error?.message}
                </Show>
              </Show>
            </Show>
          </p>
          <Show when={analysis.error !== undefined}><ErrorNotice error={analysis.error} title='The analysis failed' /></Show>
          <Show when={script()}>
            {(picked) => (
              <SourceFindings source={picked().text} findings={current()?.findings ?? []} error={current()?.error} fileName={picked().file.name} />
            )}
          </Show>
          <Show when={kind() === 'grouped' && aggregate()}>
            {(picked) => <SourceFindings source={picked().text} findings={aggregateFindings()} fileName={picked().file.name} />}
          </Show>
          <Show when={current()?.status === 'accepted' ? current() : undefined}>
            {(accepted) => <Estimates analysis={accepted()} kind={kind()} inputName={inputs()[0]?.name} />}
          </Show>
        </section>
      </div>
    </>
  )
}

function Estimates (props: { analysis: Analysis, kind: JobKind, inputName: string | undefined }) {
  const preview = createMemo<Job | undefined>(() => {
    const blocks = props.analysis.blocks ?? []
    if (props.kind !== 'auto' || blocks.length === 0) return undefined
    return {
      id: 'preview',
      name: 'this script',
      mode: 'auto',
      status: 'queued',
      createdAt: 0,
      findings: [],
      inputs: props.inputName !== undefined ? [{ name: props.inputName, size: 0, chunks: 0 }] : [],
      plan: { level: 1, tasks: 1, blocks },
      progress: { total: 0, completed: 0, running: 0, failed: 0 }
    }
  })
  return (
    <div class='estimates'>
      <Show when={props.analysis.memory}>
        {(memory) => (
          <section aria-labelledby='memory-estimate'>
            <h3 id='memory-estimate'>Memory</h3>
            <dl class='facts'>
              <Show when={memory().elements !== undefined}>
                <dt>Input</dt><dd>{formatNumber(memory().elements ?? 0)} elements ({memory().format})</dd>
                <dt>Data in memory</dt><dd>{formatBytes(memory().data.fixed + memory().data.perElement * (memory().elements ?? 0))}</dd>
              </Show>
              <dt>Peak</dt>
              <dd data-testid='memory-peak'>
                <Show when={memory().peakBytes !== undefined} fallback={<>{formatBytes(memory().peak.fixed)} + {formatBytes(memory().peak.perElement)} per element</>}>
                  {formatBytes(memory().peakBytes ?? 0)}
                </Show>
                {' '}<span class='muted'>({memory().basis} estimate, an upper bound)</span>
              </dd>
            </dl>
          </section>
        )}
      </Show>
      <Show when={props.analysis.estimate}>
        {(estimate) => (
          <section aria-labelledby='cost-estimate'>
            <h3 id='cost-estimate'>Cost</h3>
            <dl class='facts'>
              <dt>You would pay about</dt><dd data-testid='price-estimate'><Money micro={estimate().price} /></dd>
              <dt>Contributors earn</dt><dd><Money micro={estimate().contributors} /></dd>
              <dt>Platform share</dt><dd><Money micro={estimate().platform} /></dd>
              <dt>Assumed</dt><dd>{estimate().tasks} task{estimate().tasks === 1 ? '' : 's'} × {formatDuration(estimate().taskWallMs)} × {formatBytes(estimate().taskMemoryBytes)}</dd>
            </dl>
            <p class='muted small'>{estimate().basis}</p>
          </section>
        )}
      </Show>
      <Show when={preview()}>
        {(job) => (
          <section aria-labelledby='blocks-preview'>
            <h3 id='blocks-preview'>Blocks of main()</h3>
            <PlanGraph job={job()} tasks={[]} caption='How the analyzer cuts main() into blocks, and what each block waits for (a preview: the planner decides the tasks).' />
          </section>
        )}
      </Show>
    </div>
  )
}

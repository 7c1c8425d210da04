/**
 * The submit form's state: its fields, the analysis of the script as the fields change (a moment after the last
 * change), what blocks a submission, and the submission itself. The rules live in lib/job-form.ts, the markup in
 * components/.
 */
import { createEffect, createMemo, createResource, createSignal, on, onCleanup } from 'solid-js'
import type { Accessor, Resource, Setter } from 'solid-js'
import { analyzeJob, submitJob } from '../api/jobs.ts'
import type { JobSubmission } from '../api/jobs.ts'
import type { AnalyzeRequest, Analysis, Job } from '../api/types.ts'
import { isBlocking } from '../lib/findings.ts'
import { parseSize } from '../lib/format.ts'
import { definesAggregate, formProblems, inputFormat, nameFromFile } from '../lib/job-form.ts'
import type { FormField, JobKind } from '../lib/job-form.ts'

/** The beginning of the input sent for analysis: enough lines to size the elements. */
const SAMPLE_BYTES = 256 * 1024
/** Typing in a field re-analyzes after this pause (ms). */
const ANALYZE_DELAY_MS = 250

/** A chosen Python file, with its text. */
export interface PickedFile { file: File, text: string }

export interface JobFields {
  kind: Accessor<JobKind>
  setKind: Setter<JobKind>
  name: Accessor<string>
  setName: Setter<string>
  script: Accessor<PickedFile | undefined>
  setScript: Setter<PickedFile | undefined>
  inputs: Accessor<File[]>
  setInputs: Setter<File[]>
  aggregate: Accessor<PickedFile | undefined>
  setAggregate: Setter<PickedFile | undefined>
  tasks: Accessor<string>
  setTasks: Setter<string>
  taskMemory: Accessor<string>
  setTaskMemory: Setter<string>
  timeout: Accessor<string>
  setTimeoutSeconds: Setter<string>
}

export interface ScriptAnalysis {
  /** The script's analysis as last answered. */
  analysis: Resource<Analysis>
  /** The analysis of the script chosen now, if one is. */
  current(): Analysis | undefined
  /** The findings of the aggregation script that count. */
  aggregateFindings(): Analysis['findings']
}

/** The fields typed in as text. */
export type TextField = 'tasks' | 'taskMemory' | 'timeout'

export interface JobFormStore extends JobFields, ScriptAnalysis {
  text(field: TextField): string
  setText(field: TextField, value: string): void
  /** Reads the chosen script, and names the job after it unless it has a name already. */
  chooseScript(files: FileList | null): void
  chooseAggregate(files: FileList | null): void
  /** A field's problem, once the user has tried to submit. */
  problem(field: FormField): string | undefined
  /** Why the job cannot be sent, whatever the fields say. */
  blocked(): string | undefined
  submitting: Accessor<boolean>
  submitError: Accessor<unknown>
  submit(): Promise<void>
}

export function createJobFormStore (options: { onSubmitted: (job: Job) => void }): JobFormStore {
  const fields = createFields()
  const analysis = createAnalysis(fields)
  const [tried, setTried] = createSignal(false)
  const [submitting, setSubmitting] = createSignal(false)
  const [submitError, setSubmitError] = createSignal<unknown>()
  const problems = createMemo(() => formProblems({
    kind: fields.kind(),
    hasScript: fields.script() !== undefined,
    inputs: fields.inputs().length,
    hasAggregate: fields.aggregate() !== undefined,
    tasks: fields.tasks(),
    taskMemory: fields.taskMemory(),
    timeout: fields.timeout()
  }))
  const blocked = (): string | undefined => blockedReason(fields, analysis)
  const submit = async (): Promise<void> => {
    setTried(true)
    const picked = fields.script()
    if (Object.keys(problems()).length > 0 || blocked() !== undefined || picked === undefined) return
    setSubmitting(true)
    setSubmitError(undefined)
    try {
      options.onSubmitted(await submitJob(submission(fields, picked)))
    } catch (err) {
      setSubmitError(err)
    } finally {
      setSubmitting(false)
    }
  }
  const texts: Record<TextField, [Accessor<string>, Setter<string>]> = {
    tasks: [fields.tasks, fields.setTasks],
    taskMemory: [fields.taskMemory, fields.setTaskMemory],
    timeout: [fields.timeout, fields.setTimeoutSeconds]
  }
  return {
    ...fields,
    ...analysis,
    text: (field) => texts[field][0](),
    setText: (field, value) => { texts[field][1](value) },
    chooseScript: (files) => {
      pick(files).then((picked) => {
        fields.setScript(picked)
        if (picked !== undefined && fields.name() === '') fields.setName(nameFromFile(picked.file.name))
      }, () => { fields.setScript(undefined) })
    },
    chooseAggregate: (files) => { pick(files).then(fields.setAggregate, () => { fields.setAggregate(undefined) }) },
    problem: (field) => tried() ? problems()[field] : undefined,
    blocked,
    submitting,
    submitError,
    submit
  }
}

function createFields (): JobFields {
  const [kind, setKind] = createSignal<JobKind>('auto')
  const [name, setName] = createSignal('')
  const [script, setScript] = createSignal<PickedFile>()
  const [inputs, setInputs] = createSignal<File[]>([])
  const [aggregate, setAggregate] = createSignal<PickedFile>()
  const [tasks, setTasks] = createSignal('2')
  const [taskMemory, setTaskMemory] = createSignal('')
  const [timeout, setTimeoutSeconds] = createSignal('')
  return {
    kind, setKind, name, setName, script, setScript, inputs, setInputs, aggregate, setAggregate, tasks, setTasks, taskMemory, setTaskMemory, timeout, setTimeoutSeconds
  }
}

async function pick (files: FileList | null): Promise<PickedFile | undefined> {
  const file = files?.[0]
  return file === undefined ? undefined : { file, text: await file.text() }
}

function createAnalysis (fields: JobFields): ScriptAnalysis {
  const sample = createInputSample(fields.inputs)
  const request = createMemo(() => analyzeRequest(fields, sample))
  const settled = createSettled(request, ANALYZE_DELAY_MS)
  const [analysis] = createResource(settled, async (body) => await analyzeJob(body))
  const [aggregateAnalysis] = createResource(
    () => fields.kind() === 'grouped' ? fields.aggregate()?.text : undefined,
    async (source) => await analyzeJob({ source, mode: 'manual' })
  )
  return {
    analysis,
    current: () => fields.script() !== undefined ? analysis.latest : undefined,
    // The aggregation script needs aggregate(results), not process(): only its other findings count.
    aggregateFindings: () => (aggregateAnalysis.latest?.findings ?? []).filter(f => f.rule !== 'template/process-missing')
  }
}

/** The beginning of the first input file, read as it is chosen. */
function createInputSample (inputs: Accessor<File[]>): Accessor<string | undefined> {
  const [sample, setSample] = createSignal<string>()
  createEffect(on(inputs, (files) => {
    const first = files[0]
    if (first === undefined) {
      setSample(undefined)
      return
    }
    first.slice(0, SAMPLE_BYTES).text().then(setSample, () => { setSample(undefined) })
  }))
  return sample
}

/** `value`, once it has stayed the same for `ms`. */
function createSettled<T> (value: Accessor<T>, ms: number): Accessor<T | undefined> {
  const [settled, setSettled] = createSignal<T>()
  createEffect(() => {
    const current = value()
    const timer = setTimeout(() => setSettled(() => current), ms)
    onCleanup(() => { clearTimeout(timer) })
  })
  return settled
}

/** What the analyzer is asked: the script, the input's size and format with a sample of it, the tasks and their memory. */
function analyzeRequest (fields: JobFields, sample: Accessor<string | undefined>): AnalyzeRequest | undefined {
  const picked = fields.script()
  if (picked === undefined) return undefined
  const kind = fields.kind
  const files = fields.inputs()
  const first = files[0]
  const memory = parseSize(fields.taskMemory())
  const count = kind() === 'grouped' ? Math.max(files.length, 1) : kind() === 'manual' ? Number(fields.tasks()) : undefined
  return {
    source: picked.text,
    mode: kind() === 'auto' ? 'auto' : 'manual',
    ...(first !== undefined
      ? { inputBytes: files.reduce((sum, f) => sum + f.size, 0), format: inputFormat(first.name), ...(sample() !== undefined && kind() !== 'grouped' ? { sample: sample() } : {}) }
      : {}),
    ...(count !== undefined && Number.isInteger(count) && count >= 1 && count <= 10_000 ? { tasks: count } : {}),
    ...(kind() !== 'auto' && memory !== undefined ? { taskMemory: memory } : {})
  }
}

function blockedReason (fields: JobFields, analysis: ScriptAnalysis): string | undefined {
  if (analysis.current()?.status === 'rejected') return 'The scanner rejects this script: fix the blocking findings shown against its lines, then choose the file again.'
  if (fields.kind() === 'grouped' && analysis.aggregateFindings().some(f => isBlocking(f.severity))) return 'The aggregation script has blocking findings.'
  if (fields.kind() === 'grouped' && fields.aggregate() !== undefined && !definesAggregate(fields.aggregate()?.text ?? '')) return 'The aggregation script must define aggregate(results) at module level.'
  return undefined
}

/** What is sent: the files, and the fields that apply to the kind of job. */
function submission (fields: JobFields, picked: PickedFile): JobSubmission {
  const memory = parseSize(fields.taskMemory())
  const name = fields.name().trim()
  return {
    name: name === '' ? nameFromFile(picked.file.name) : name,
    mode: fields.kind(),
    script: picked.file,
    inputs: fields.inputs(),
    ...(fields.kind() === 'grouped' && fields.aggregate() !== undefined ? { aggregate: fields.aggregate()?.file } : {}),
    ...(fields.kind() === 'manual' ? { tasks: Number(fields.tasks()) } : {}),
    ...(memory !== undefined ? { taskMemoryBytes: memory } : {}),
    ...(fields.timeout().trim() !== '' ? { timeoutSeconds: Number(fields.timeout()) } : {})
  }
}

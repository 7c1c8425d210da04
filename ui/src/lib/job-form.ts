/**
 * The submit form's rules, apart from its markup: how an input file is loaded (by its extension, as the runtime
 * does), what each kind of job needs, and what stops a submission before it is sent.
 */
import type { Analysis, Job } from '../api/types.ts'
import { parseSize } from './format.ts'

export type JobKind = 'auto' | 'manual' | 'grouped'
export type InputFormat = 'json' | 'jsonl' | 'csv' | 'text'

/** Smallest memory per task the coordinator accepts (16 MiB). */
export const MIN_TASK_MEMORY = 16 * 1024 * 1024

/** The runtime's loader for a file name: .json, .jsonl/.ndjson, .csv, anything else is text lines. */
export function inputFormat (fileName: string): InputFormat {
  const lower = fileName.toLowerCase()
  if (lower.endsWith('.json')) return 'json'
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl'
  if (lower.endsWith('.csv')) return 'csv'
  return 'text'
}

/** Whether a script defines `aggregate(results)` at module level (as the coordinator checks it). */
export function definesAggregate (source: string): boolean {
  return /^def\s+aggregate\s*\(/m.test(source)
}

/** A job name from a script's file name: `word_count.py` → `word_count`. */
export function nameFromFile (fileName: string): string {
  return fileName.replace(/\.[^.]*$/, '').slice(0, 200) || 'job'
}

export interface FormState {
  kind: JobKind
  hasScript: boolean
  inputs: number
  hasAggregate: boolean
  tasks: string
  taskMemory: string
  timeout: string
}

/** The fields that can be wrong. */
export type FormField = 'script' | 'inputs' | 'aggregate' | 'tasks' | 'taskMemory' | 'timeout'

/** What is missing or wrong, in words, field by field; empty when the job can be sent. */
export function formProblems (form: FormState): Partial<Record<FormField, string>> {
  const problems: ReturnType<typeof formProblems> = {}
  if (!form.hasScript) problems.script = 'Choose the Python file of the job.'
  if (form.kind === 'auto' && form.inputs > 1) problems.inputs = 'An automatic job reads one input file; choose “grouped” for several.'
  if (form.kind === 'manual' && form.inputs !== 1) problems.inputs = 'A manual job needs one input file, split into the tasks.'
  if (form.kind === 'grouped' && form.inputs < 1) problems.inputs = 'A grouped job needs at least one input file (one task each).'
  if (form.kind === 'grouped' && !form.hasAggregate) problems.aggregate = 'A grouped job needs an aggregation script defining aggregate(results).'
  if (form.kind === 'manual') {
    const tasks = Number(form.tasks)
    if (!Number.isInteger(tasks) || tasks < 1 || tasks > 10_000) problems.tasks = 'The number of tasks is a whole number from 1 to 10,000.'
  }
  if (form.taskMemory.trim() !== '') {
    const bytes = parseSize(form.taskMemory)
    if (bytes === undefined) problems.taskMemory = 'Write the memory as a size, like 256M or 1G.'
    else if (bytes < MIN_TASK_MEMORY) problems.taskMemory = 'Each task needs at least 16M.'
  }
  if (form.timeout.trim() !== '') {
    const seconds = Number(form.timeout)
    if (!Number.isInteger(seconds) || seconds < 1) problems.timeout = 'The timeout is a whole number of seconds, at least 1.'
  }
  return problems
}

/**
 * An automatic script's blocks as a job that has not run, so the plan graph can draw them before submission;
 * undefined for other kinds, or when the analyzer found no blocks.
 */
export function blocksPreview (analysis: Analysis, kind: JobKind, inputName: string | undefined): Job | undefined {
  const blocks = analysis.blocks ?? []
  if (kind !== 'auto' || blocks.length === 0) return undefined
  return {
    id: 'preview',
    name: 'this script',
    mode: 'auto',
    status: 'queued',
    createdAt: 0,
    findings: [],
    inputs: inputName !== undefined ? [{ name: inputName, size: 0, chunks: 0 }] : [],
    plan: { level: 1, tasks: 1, blocks },
    progress: { total: 0, completed: 0, running: 0, failed: 0 }
  }
}

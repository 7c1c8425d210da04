/**
 * The Python job contract (DESIGN.md) on top of any executor: prepares a task directory holding the
 * job, its input and the runtime (runtime/runner.py), runs it, and reads the result back exactly.
 */
import { randomBytes } from 'node:crypto'
import { copyFile, link, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { extname, join } from 'node:path'
import { RUNTIME_DIR } from './executors/common.ts'
import type { Executor, RunOptions, TaskLimits, TaskOutcome } from './executors/contract.ts'

/**
 * `auto`: `main(data)`; `manual`: `process(chunk_text)`; `aggregate`: `aggregate(results)`; `segment`:
 * `segment(data, results)`, part of an automatic job's main with the data (if it reads it) and earlier parts' values.
 */
export type PythonTaskMode = 'auto' | 'manual' | 'aggregate' | 'segment'

const DEFAULT_FUNCTION: Record<PythonTaskMode, string> = { auto: 'main', manual: 'process', aggregate: 'aggregate', segment: '_runsurge_segment' }

/** Cap on the traceback kept in an outcome's error message. */
const MAX_ERROR_MESSAGE_CHARS = 16 * 1024

/** One Python task. */
export interface PythonTaskInit {
  /** Where to run it. */
  executor: Executor
  /** Source code of the job (one Python 3 file). */
  script: string
  /**
   * The input: a host file (copied; its extension picks the loader in `auto` mode: .json, .jsonl,
   * .csv, else text lines), or bytes with a file name. Absent: `main([])` / `process('')`.
   */
  input?: { path: string } | { name: string, data: Uint8Array | string }
  /** `segment` mode: the JSON array of earlier tasks' results, its second argument. */
  results?: string
  /** Default `auto`. */
  mode?: PythonTaskMode
  /** Function to call; default `main`, `process` or `aggregate` by mode. */
  function?: string
  limits?: Partial<TaskLimits>
  /** Id for logs and remote directories. */
  taskId?: string
  /** Parent of the temporary task directory; default the OS temp directory. */
  workDir?: string
}

/** A task outcome plus the job's result. */
export interface PythonTaskOutcome extends TaskOutcome {
  /**
   * The result, present when `status` is `completed`: parsed JSON in which integers beyond 2^53 are
   * `bigint`. Use {@link stringifyResult} (or forward {@link PythonTaskOutcome.resultJson}) to send it on.
   */
  result?: unknown
  /** The result exactly as Python wrote it (big ints as digits, floats in shortest round-trip form). */
  resultJson?: string
}

/**
 * Runs one Python job under `init.executor` and returns its outcome and result.
 *
 * The task directory holds `job.py`, `input<ext>`, `runner.py` and `runsurge-task.json`; the runtime
 * writes `result.json` or `error.json` (a Python exception's traceback, which becomes
 * `error.message`, capped at 16 KiB). Rejects only when `options.signal` aborts; every task failure
 * resolves with a status.
 *
 * @example
 * const outcome = await runPythonTask({ executor, script, input: { path: 'data.csv' }, limits: { memoryBytes: 256 * 2 ** 20 } })
 * if (outcome.status === 'completed') send(outcome.resultJson)
 */
export async function runPythonTask (init: PythonTaskInit, options: RunOptions = {}): Promise<PythonTaskOutcome> {
  options.signal?.throwIfAborted()
  const mode = init.mode ?? 'auto'
  const dir = await mkdtemp(join(init.workDir ?? tmpdir(), 'runsurge-job-'))
  try {
    let inputName: string | null = null
    if (init.input !== undefined) {
      const sourceName = 'path' in init.input ? init.input.path : init.input.name
      inputName = `input${extname(sourceName).toLowerCase().replace(/[^a-z0-9.]/g, '')}`
      // A hard link where possible: the executor copies the directory again before the task sees it,
      // so the input is never exposed to the task through this link.
      if ('path' in init.input) await linkOrCopy(init.input.path, join(dir, inputName))
      else await writeFile(join(dir, inputName), init.input.data)
    }
    if (init.results !== undefined) await writeFile(join(dir, 'results.json'), init.results)
    await writeFile(join(dir, 'job.py'), init.script)
    await copyFile(join(RUNTIME_DIR, 'runner.py'), join(dir, 'runner.py'))
    await writeFile(join(dir, 'runsurge-task.json'), JSON.stringify({
      script: 'job.py',
      function: init.function ?? DEFAULT_FUNCTION[mode],
      mode,
      input: inputName,
      ...(init.results !== undefined ? { results: 'results.json' } : {}),
      result: 'result.json',
      error: 'error.json'
    }))

    const taskId = init.taskId ?? randomBytes(6).toString('hex')
    const outcome: PythonTaskOutcome = await init.executor.run({
      id: taskId,
      taskDir: dir,
      entry: 'runner.py',
      // Ignored by the runner; tags the task's processes so `ps` shows which task they belong to.
      args: ['--task', taskId],
      ...(init.limits === undefined ? {} : { limits: init.limits })
    }, options)

    if (outcome.status === 'completed') {
      const text = await readFile(join(dir, 'result.json'), 'utf8').catch(() => undefined)
      if (text === undefined) {
        return { ...outcome, status: 'sandbox_error', error: { code: 'sandbox_error', message: 'the task ended without writing its result (result.json)' } }
      }
      return { ...outcome, resultJson: text, result: parseResultJson(text) }
    }
    const error = await readFile(join(dir, 'error.json'), 'utf8').then(t => JSON.parse(t) as { traceback?: string, message?: string }, () => undefined)
    if (error !== undefined && outcome.error !== undefined && outcome.status !== 'sandbox_error') {
      const detail = error.traceback ?? error.message ?? ''
      const message = detail.length > MAX_ERROR_MESSAGE_CHARS ? '…' + detail.slice(detail.length - MAX_ERROR_MESSAGE_CHARS) : detail
      // Keep the executor's explanation of a limit, and follow it with Python's own traceback.
      outcome.error = {
        code: outcome.error.code,
        message: outcome.status === 'runtime_error' ? message.trimEnd() : `${outcome.error.message.split('\n')[0] ?? ''}\n${message.trimEnd()}`
      }
    }
    return outcome
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function linkOrCopy (source: string, target: string): Promise<void> {
  try {
    await link(source, target)
  } catch {
    await copyFile(source, target)
  }
}

/** `JSON.parse` that keeps integers beyond ±2^53 exact as `bigint`. */
export function parseResultJson (text: string): unknown {
  return JSON.parse(text, function (_key, value: unknown, context?: { source?: string }) {
    if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source !== undefined && /^-?\d+$/.test(context.source)) {
      return BigInt(context.source)
    }
    return value
  })
}

declare global {
  interface JSON {
    rawJSON: (text: string) => unknown
  }
}

/** `JSON.stringify` that writes `bigint` as plain JSON integers (the inverse of {@link parseResultJson}). */
export function stringifyResult (value: unknown, space?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => typeof v === 'bigint' ? JSON.rawJSON(v.toString()) : v, space)
}

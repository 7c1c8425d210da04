/**
 * What a node does with an assigned task: pull its input chunks through the DHT, run the script in the node's
 * sandbox executor under the task's limits, and store the result as a new chunk that it provides to the mesh.
 */
import { parseCid } from '../../protocols/src/index.ts'
import { runPythonTask } from './task-runner.ts'
import type { RunTask, RunTaskContext, TaskResult } from './task-intake.ts'
import type { Executor } from './executors/index.ts'
import type { PythonTaskInit, PythonTaskMode } from './task-runner.ts'
import type { AssignRequest, ChunkExchange } from '../../protocols/src/index.ts'
import type { PeerId } from '@libp2p/interface'

/**
 * The entry a task calls, and how its input is handed to it (DESIGN.md's job contract). `calibrate` is the
 * analyzer's harness, written by the coordinator as a manual-mode script: `process(sample_text)` returns the
 * measurements.
 */
/**
 * An automatic-mode partial result begins `{"memory":N,"format":"runsurge-partials/…` (planner/src/partials/encoding.py): what decoding its
 * values will take, which sizes the task that decodes them. Only a number at the very start counts.
 */
const PARTIALS_MEMORY = /^\{"memory":(\d{1,15}),"format":"runsurge-partials\//

const MODES: Record<string, PythonTaskMode> = { main: 'auto', process: 'manual', aggregate: 'aggregate', segment: 'segment', calibrate: 'manual' }

export interface SandboxTasksInit {
  executor: Executor
  /** Parent directory of task directories (default: the OS temp directory). */
  workDir?: string
}

/** A `RunTask` for `createWorker` that runs every task through `executor` (whose kind the node announces). */
export function sandboxTasks (init: SandboxTasksInit): RunTask {
  const run = async (task: AssignRequest, { chunks, signal, coordinator, onProgress }: RunTaskContext): Promise<TaskResult> => {
    const mode = MODES[task.entry]
    if (mode === undefined) {
      return { state: 'failed', errorCode: 'sandbox_error', errorMessage: `unknown entry "${task.entry}": expected main, process, aggregate, segment or calibrate` }
    }
    if (task.resultInputs > task.inputCids.length || (mode !== 'segment' && task.resultInputs > 0)) {
      return { state: 'failed', errorCode: 'sandbox_error', errorMessage: `result_inputs ${task.resultInputs} does not fit ${task.inputCids.length} input chunks of a ${task.entry} task` }
    }
    let input: PythonTaskInit['input']
    let results: string | undefined
    try {
      ({ input, results } = await loadInput(task, mode, chunks, coordinator, signal))
    } catch (err: any) {
      if (signal.aborted) throw err
      return { state: 'failed', errorCode: 'input_unavailable', errorMessage: `could not get the task's input: ${String(err?.message ?? err)}` }
    }
    const python: PythonTaskInit = {
      executor: init.executor,
      script: task.script,
      mode,
      taskId: task.taskId,
      limits: { memoryBytes: task.memoryBytes, ...(task.timeoutMs > 0 ? { timeoutMs: task.timeoutMs } : {}) },
      ...(input === undefined ? {} : { input }),
      ...(results === undefined ? {} : { results }),
      ...(init.workDir === undefined ? {} : { workDir: init.workDir })
    }
    const outcome = await runPythonTask(python, { signal, onProgress })
    const metrics = {
      wallMs: Math.round(outcome.metrics.wallMs),
      cpuMs: Math.round(outcome.metrics.cpuMs),
      peakMemoryBytes: outcome.metrics.peakMemoryBytes,
      avgMemoryBytes: Math.round(outcome.metrics.avgMemoryBytes)
    }
    if (outcome.status !== 'completed' || outcome.resultJson === undefined) {
      return {
        state: 'failed',
        errorCode: outcome.error?.code ?? outcome.status,
        errorMessage: outcome.error?.message ?? `the task ended with ${outcome.status}`,
        metrics
      }
    }
    const output = new TextEncoder().encode(outcome.resultJson)
    const cid = await chunks.add(output, { signal })
    const memory = PARTIALS_MEMORY.exec(outcome.resultJson.slice(0, 80))?.[1]
    return { state: 'completed', outputCids: [cid.toString()], outputBytes: [output.byteLength], ...(memory !== undefined ? { outputMemoryBytes: [Number(memory)] } : {}), metrics } satisfies TaskResult
  }
  return Object.assign(run, { executors: [init.executor.kind] })
}

/**
 * The task's input as the runtime expects it: for `aggregate` a JSON array of the results in the input chunks
 * (each chunk holds one result exactly as Python wrote it), otherwise the chunks' bytes in order, under
 * `inputName` so the loader matches the original file's type. A `segment` task has both: its last
 * `resultInputs` chunks are results, the ones before them the data.
 */
async function loadInput (task: AssignRequest, mode: PythonTaskMode, chunks: ChunkExchange, coordinator: PeerId, signal: AbortSignal): Promise<{ input?: PythonTaskInit['input'], results?: string }> {
  const cids = task.inputCids.map(text => parseCid(text))
  // Through the DHT; when no provider is known (e.g. the coordinator just restarted and has not announced its
  // chunks again), straight from the coordinator, which holds every input it split. Each chunk is verified as it is
  // read, and a local copy found corrupt is fetched again: a damaged disk must not change a result.
  const parts = await Promise.all(cids.map(async cid => await chunks.read(cid, { signal, fallback: [coordinator] })))
  const decoder = new TextDecoder()
  const resultsOf = (texts: Uint8Array[]): string => `[${texts.map(part => decoder.decode(part)).join(',')}]`
  if (mode === 'aggregate') return { input: { name: 'results.json', data: resultsOf(parts) } }
  const dataParts = mode === 'segment' ? parts.slice(0, parts.length - task.resultInputs) : parts
  const results = mode === 'segment' ? resultsOf(parts.slice(parts.length - task.resultInputs)) : undefined
  const input = dataParts.length === 0 ? undefined : { name: task.inputName === '' ? 'input.txt' : task.inputName, data: Buffer.concat(dataParts) }
  return { ...(input !== undefined ? { input } : {}), ...(results !== undefined ? { results } : {}) }
}

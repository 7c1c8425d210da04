/**
 * Sizing the tasks that receive the chunks' keyed partials (automatic mode) once those partials exist. The planner
 * estimates a set, Counter or group-by as if every key were distinct, since its samples cannot tell how many distinct
 * keys the whole input has; the chunks' reports say how many bytes of partials they actually send, which bounds what
 * the aggregator (or a stage between rounds) holds once it decodes and combines them.
 */
import { runtimeBytes } from '../../../planner/src/index.ts'
import { formatBytes } from '../../../protocols/src/index.ts'
import { autoTaskMemory } from './policy.ts'
import type { JobError, TaskRecord } from './records.ts'

/** Bytes of the outputs of `tasks` (or what decoding them takes), or undefined when a node did not report one. */
export function outputBytesOf (tasks: Array<TaskRecord | undefined>, what: 'outputBytes' | 'outputMemoryBytes' = 'outputBytes'): number | undefined {
  let total = 0
  for (const task of tasks) {
    const sizes = task?.[what]
    if (task === undefined || sizes === undefined || sizes.length !== task.outputCids.length) return undefined
    for (const size of sizes) total += size
  }
  return total
}

/**
 * The task with its memory sized from its inputs' reported bytes (never above its estimate), or why no node can run
 * it. Unchanged without sizing, without a node, or when an input's size is unknown.
 */
export function sizedTask (task: TaskRecord, inputs: Array<TaskRecord | undefined>, largestNode: number, what: string): { task: TaskRecord } | { error: JobError } {
  const sizing = task.sizing
  const received = outputBytesOf(inputs)
  if (sizing === undefined || received === undefined || largestNode <= 0) return { task }
  const needed = runtimeBytes(sizing, received, outputBytesOf(inputs, 'outputMemoryBytes'))
  if (needed > largestNode) {
    return {
      error: {
        code: 'does_not_fit',
        message: `the chunks found more distinct keys than one node can combine: ${what} receives ${formatBytes(received)} of partial results, ` +
          `which need about ${formatBytes(needed)} decoded, but the largest node offers ${formatBytes(largestNode)}`
      }
    }
  }
  const memoryBytes = Math.min(task.memoryBytes, autoTaskMemory(needed, largestNode))
  return { task: { ...task, memoryBytes } }
}

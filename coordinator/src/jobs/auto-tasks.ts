/**
 * An automatic job's plan made into its tasks, with its input stored cut the way the plan reads it: the whole program
 * (level 1), main's parts (level 2), or K chunk tasks, a stage and K chunk tasks per later round, and an aggregator
 * (level 3).
 */
import { autoTaskMemory } from './policy.ts'
import { newTask } from './transitions.ts'
import type { AutoInput, AutoPlan, PlanView } from '../../../planner/src/index.ts'
import type { JobChunks } from './chunks.ts'
import type { JobRecord, TaskRecord } from './records.ts'

/** What building an automatic job's tasks needs beside its plan. */
interface Context {
  chunks: JobChunks
  base: JobRecord
  input: AutoInput
  view: JobRecord['plan']
  /** A task's memory from the planner's estimate for it. */
  memoryFor: (estimate: number) => number
}

/** The job and its tasks for `plan`, its input stored in the chunks the plan's tasks read. */
export async function autoTasks (chunks: JobChunks, base: JobRecord, input: AutoInput, plan: AutoPlan, view: PlanView, nodes: number[]): Promise<{ job: JobRecord, tasks: TaskRecord[] }> {
  const largest = nodes.length > 0 ? Math.max(...nodes) : Number.POSITIVE_INFINITY
  const memoryFor = (estimate: number): number => base.explicitMemory === true ? base.taskMemoryBytes : autoTaskMemory(estimate, largest)
  const context: Context = { chunks, base, input, view: { ...view, mode: 'auto' }, memoryFor }
  if (plan.segments !== undefined) return await partTasks(context, plan)
  if (plan.chunkTask === undefined || input.path === undefined) return await wholeTask(context, plan)
  return await chunkTasks(context, plan, input.path)
}

/** The input whole, as one list of chunks (none without input). */
async function wholeInput ({ chunks, input }: Context, needed = true): Promise<string[]> {
  return input.path === undefined || !needed ? [] : (await chunks.storeSplit(input.path, 1)).flat()
}

function inputsOf ({ input }: Context, cids: string[]): JobRecord['inputs'] {
  return input.path === undefined ? [] : [{ name: input.uploadedName ?? input.name, size: input.size, cids }]
}

/** Level 2: one task per part of main (the one returning the result last); parts that read the input get it whole. */
async function partTasks (context: Context, plan: AutoPlan): Promise<{ job: JobRecord, tasks: TaskRecord[] }> {
  const { base, input, memoryFor } = context
  const segments = plan.segments ?? []
  const cids = await wholeInput(context, segments.some(seg => seg.readsData))
  const job: JobRecord = {
    ...base,
    inputs: inputsOf(context, cids),
    plan: context.view,
    generated: { final: plan.finalTask.script, segments: segments.map(seg => seg.script) }
  }
  const tasks = segments.map((seg, i) => {
    const task = newTask(job, { index: i, entry: 'segment', inputName: input.name, inputCids: seg.readsData ? cids : [] })
    task.memoryBytes = memoryFor(seg.memoryBytes)
    task.dependsOn = seg.dependsOn.map(d => `${base.id}.${d}`)
    if (task.dependsOn.length > 0) task.status = 'waiting'
    return task
  })
  job.taskIds = tasks.map(task => task.id)
  return { job, tasks }
}

/** Level 1 (or an aggregator-only plan without input): one task running the whole program. */
async function wholeTask (context: Context, plan: AutoPlan): Promise<{ job: JobRecord, tasks: TaskRecord[] }> {
  const { base, input, memoryFor } = context
  const cids = await wholeInput(context)
  const job: JobRecord = {
    ...base,
    inputs: inputsOf(context, cids),
    plan: { ...context.view, tasks: 1 },
    ...(plan.finalTask.script !== base.script ? { generated: { final: plan.finalTask.script } } : {})
  }
  const task = newTask(job, { index: 0, entry: plan.finalTask.entry === 'aggregate' ? 'aggregate' : 'main', inputName: input.name, inputCids: cids })
  task.memoryBytes = memoryFor(plan.finalTask.memoryBytes)
  job.taskIds = [task.id]
  return { job, tasks: [task] }
}

/** Level 3: K parts on line boundaries (a csv part after the first gets the header row in front), rounds, aggregator. */
async function chunkTasks (context: Context, plan: AutoPlan, path: string): Promise<{ job: JobRecord, tasks: TaskRecord[] }> {
  const { chunks, base, input, memoryFor } = context
  const parts = await chunks.storeSplit(path, plan.chunks)
  const header = input.format === 'csv' ? await chunks.storeHeader(path) : undefined
  const job: JobRecord = {
    ...base,
    inputs: inputsOf(context, parts.flat()),
    plan: { ...context.view, chunks: parts.length, tasks: parts.length + 1 },
    generated: { chunk: plan.chunkTask?.script ?? '', final: plan.finalTask.script },
    ...(header !== undefined ? { csvHeader: header } : {})
  }
  const tasks: TaskRecord[] = parts.map((cids, index) => {
    const task = newTask(job, { index, entry: 'main', inputName: input.name, inputCids: index > 0 && header !== undefined ? [header, ...cids] : cids })
    task.memoryBytes = memoryFor(plan.chunkTask?.memoryBytes ?? 0)
    if ((plan.rounds ?? []).length > 0) task.chunk = index
    return task
  })
  const chunkTasks = [...tasks, ...laterRounds(context, job, plan, tasks)]
  const final = { ...newTask(job, { index: tasks.length, entry: 'aggregate', inputName: 'results.json', inputCids: [] }), status: 'waiting' as const, dependsOn: chunkTasks.map(task => task.id) }
  final.memoryBytes = memoryFor(plan.finalTask.memoryBytes)
  if (plan.finalTask.sizing !== undefined && base.explicitMemory !== true) final.sizing = plan.finalTask.sizing
  tasks.push(final)
  job.plan = { ...job.plan, tasks: tasks.length }
  job.taskIds = tasks.map(task => task.id)
  return { job, tasks }
}

/**
 * Later rounds: a stage task on every earlier round's chunk results, then each chunk again where round 1 ran it.
 * Appends the stages and chunk tasks to `tasks` (round 1's chunk tasks on entry) and returns the rounds' chunk tasks.
 */
function laterRounds ({ base, input, memoryFor }: Context, job: JobRecord, plan: AutoPlan, tasks: TaskRecord[]): TaskRecord[] {
  const parts = tasks.length
  const chunkTasks = [...tasks]
  const later: TaskRecord[] = []
  const segments: string[] = []
  for (const round of plan.rounds ?? []) {
    const stage = { ...newTask(job, { index: tasks.length, entry: 'segment', inputName: input.name, inputCids: [] }), status: 'waiting' as const, dependsOn: chunkTasks.map(task => task.id), script: segments.length }
    stage.memoryBytes = memoryFor(round.stage.memoryBytes)
    if (round.stage.sizing !== undefined && base.explicitMemory !== true) stage.sizing = round.stage.sizing
    tasks.push(stage)
    const again = Array.from({ length: parts }, (_, i): TaskRecord => {
      const first = tasks[i] as TaskRecord
      const task = { ...newTask(job, { index: tasks.length + i, entry: 'segment', inputName: input.name, inputCids: first.inputCids }), status: 'waiting' as const, dependsOn: [stage.id], script: segments.length + 1, near: first.id, chunk: i }
      task.memoryBytes = memoryFor(round.chunk.memoryBytes)
      return task
    })
    tasks.push(...again)
    chunkTasks.push(...again)
    later.push(...again)
    segments.push(round.stage.script, round.chunk.script)
  }
  if (segments.length > 0) job.generated = { ...job.generated, final: plan.finalTask.script, segments }
  return later
}

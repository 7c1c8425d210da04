/**
 * `runsurge submit`, `runsurge status` and `runsurge result`: a job on a running coordinator, over its HTTP API.
 * `--coordinator URL --token T`, or RUNSURGE_COORDINATOR and RUNSURGE_TOKEN.
 */
import { InvalidArgumentError, Option } from 'commander'
import { ApiError, FINAL_STATUSES, UsageError, connection, followJob, getJob, getResultText, submitJob } from '../client.ts'
import { parseSize } from '../options.ts'
import { progressLine, renderOutcome } from '../outcome.ts'
import type { Connection, JobView, Submission } from '../client.ts'
import type { Command } from 'commander'

export interface JobFlags {
  input?: string[]
  mode?: string
  tasks?: number
  taskMemory?: number
  timeout?: number
  aggregate?: string
  json?: boolean
}

interface ConnectionFlags {
  coordinator?: string
  token?: string
}

function addConnectionOptions (command: Command): Command {
  return command
    .option('--coordinator <url>', 'the coordinator\'s HTTP URL (or its coordinator.json); default $RUNSURGE_COORDINATOR')
    .option('--token <token>', 'API token; default $RUNSURGE_TOKEN')
}

/** The job options shared with `runsurge run`. */
export function addJobOptions (command: Command): Command {
  return command
    .option('-i, --input <file>', 'input file (repeatable: several files make a grouped job with --aggregate)', (value: string, all: string[] = []) => [...all, value])
    .addOption(new Option('--mode <mode>', 'auto: main(data); manual: process(input_data) per chunk; grouped: one task per input file').choices(['auto', 'manual', 'grouped']))
    .option('--tasks <n>', 'manual mode: number of tasks (chunks of the input)', positiveInteger)
    .option('--task-memory <size>', 'memory limit of each task, e.g. 256M', parseSize)
    .option('--timeout <seconds>', 'wall-clock limit of each task', positiveInteger)
    .option('--aggregate <file>', 'aggregation script (defines aggregate(results)) run after every task succeeded')
    .option('--json', 'machine-readable output')
}

export function positiveInteger (value: string): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, not "${value}"`)
  return n
}

/** The mode a command line means: explicit, else grouped for an aggregation script with several inputs, else manual with --tasks. */
export function modeOf (flags: JobFlags): string {
  if (flags.mode !== undefined) return flags.mode
  if (flags.aggregate !== undefined) return 'grouped'
  if (flags.tasks !== undefined) return 'manual'
  return 'auto'
}

/** Waits for a job to end, drawing a progress bar on a terminal; reconnects if the event stream is cut. */
export async function waitForJob (conn: Connection, id: string, json: boolean): Promise<JobView> {
  const tty = process.stderr.isTTY && !json
  const draw = (job: JobView): void => { if (tty) process.stderr.write(`\r\x1b[2K${progressLine(job)}`) }
  let job = await getJob(conn, id)
  while (!FINAL_STATUSES.has(job.status)) job = await followJob(conn, id, draw)
  if (tty) process.stderr.write(`\r\x1b[2K${progressLine(job)}\n`)
  return job
}

/** Prints a finished job's outcome; returns the exit code. */
export async function printOutcome (conn: Connection, job: JobView, json: boolean): Promise<number> {
  const text = job.status === 'completed' ? await getResultText(conn, job.id) : undefined
  const printed = renderOutcome(job, text, json)
  process.stdout.write(printed.stdout)
  return printed.exitCode
}

/**
 * Runs a command's body and sets the exit code: its own, or 2 for an unusable command line (with `--json`, a
 * `rejected` object), 1 for anything else (`failed`, with `failureCode`).
 */
export async function guard (json: boolean | undefined, fn: () => Promise<number>, options: { prefix?: string, failureCode?: string } = {}): Promise<void> {
  try {
    process.exitCode = await fn()
  } catch (err: any) {
    const usage = err instanceof UsageError || err?.name === 'UnsafeSandboxError' || (err instanceof ApiError && err.status === 400)
    const code = usage ? 2 : 1
    if (json === true) process.stdout.write(JSON.stringify({ status: usage ? 'rejected' : 'failed', error: { code: usage ? 'usage' : (options.failureCode ?? 'coordinator'), message: String(err?.message ?? err) } }) + '\n')
    else process.stderr.write(`${options.prefix ?? 'runsurge'}: ${String(err?.message ?? err)}\n`)
    process.exitCode = code
  }
}

/** The submission a command line describes; `defaults` fill what the flags leave open. */
export function submissionOf (script: string, flags: JobFlags, defaults: { taskMemoryBytes?: number } = {}): Submission {
  const taskMemoryBytes = flags.taskMemory ?? defaults.taskMemoryBytes
  return {
    script,
    inputs: flags.input ?? [],
    mode: modeOf(flags),
    ...(flags.tasks !== undefined ? { tasks: flags.tasks } : {}),
    ...(taskMemoryBytes !== undefined ? { taskMemoryBytes } : {}),
    ...(flags.timeout !== undefined ? { timeoutSeconds: flags.timeout } : {}),
    ...(flags.aggregate !== undefined ? { aggregate: flags.aggregate } : {})
  }
}

/** Submits and, unless the scanner rejected it, waits for the job's end; prints the outcome, returns the exit code. */
export async function submitAndWait (conn: Connection, submission: Submission, json: boolean): Promise<number> {
  const job = await submitJob(conn, submission)
  if (job.status === 'rejected') return await printOutcome(conn, job, json)
  return await printOutcome(conn, await waitForJob(conn, job.id, json), json)
}

export function register (program: Command): void {
  const submit = program.command('submit')
    .description('submit a job to a coordinator; prints its id (with --json, an object whose "id" is the job id)')
    .argument('<job>', 'the Python file')
    .option('--wait', 'wait for the result and print it (as `runsurge result --json` does)')
  addConnectionOptions(addJobOptions(submit))
    .action(async (script: string, flags: JobFlags & ConnectionFlags & { wait?: boolean }) => {
      await guard(flags.json, async () => {
        const conn = await connection(flags)
        if (flags.wait === true) return await submitAndWait(conn, submissionOf(script, flags), flags.json === true)
        const job = await submitJob(conn, submissionOf(script, flags))
        if (job.status === 'rejected') return await printOutcome(conn, job, flags.json === true)
        process.stdout.write(flags.json === true ? JSON.stringify(job) + '\n' : `${job.id}\n`)
        return 0
      })
    })

  addConnectionOptions(program.command('status')
    .description('a job\'s status and progress')
    .argument('<id>', 'job id')
    .option('--json', 'print the job as JSON'))
    .action(async (id: string, flags: ConnectionFlags & { json?: boolean }) => {
      await guard(flags.json, async () => {
        const conn = await connection(flags)
        const job = await getJob(conn, id)
        if (flags.json === true) {
          process.stdout.write(JSON.stringify(job) + '\n')
        } else {
          process.stdout.write(`${job.id} ${job.name} (${job.mode}): ${job.status}\n${progressLine(job)}\n`)
          if (job.error !== undefined) process.stdout.write(`error: ${job.error.code}: ${job.error.message}\n`)
          if (job.cost !== undefined) process.stdout.write(`cost: ${JSON.stringify(job.cost)} (${job.payment ?? 'pending'})\n`)
        }
        return 0
      })
    })

  addConnectionOptions(program.command('result')
    .description('a job\'s result (the value its program returned)')
    .argument('<id>', 'job id')
    .option('--wait', 'wait until the job ends')
    .option('--json', 'print {"status","result","plan","cost","metrics"}'))
    .action(async (id: string, flags: ConnectionFlags & { wait?: boolean, json?: boolean }) => {
      await guard(flags.json, async () => {
        const conn = await connection(flags)
        let job = await getJob(conn, id)
        if (!FINAL_STATUSES.has(job.status)) {
          if (flags.wait !== true) throw new UsageError(`job ${id} is ${job.status}: no result yet (use --wait)`)
          job = await waitForJob(conn, id, flags.json === true)
        }
        return await printOutcome(conn, job, flags.json === true)
      })
    })
}

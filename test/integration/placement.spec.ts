/**
 * Placement on the mesh `runsurge run` starts (issue 20): the same level-3 job, run 20 times on a 2-node embedded
 * mesh, never has an assignment refused or a task parked. Before the fix an automatic task asked for its node's
 * whole memory, the aggregator was pushed to a node still holding a superseded copy, the node refused it, and the
 * task then avoided that node for 30 s: about half of all cold runs took 5 times as long.
 */
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { promisify } from 'node:util'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { followJob, getJob, getResultText, submitJob } from '../../cli/src/client.ts'
import { embeddedJobDefaults, startEmbeddedMesh } from '../../cli/src/embedded-mesh.ts'
import { submissionOf } from '../../cli/src/commands/jobs.ts'
import { SEQUENTIAL_DRIVER, inputOfSize, program, programPath } from '../../corpus/auto.ts'
import { tempDir } from '../helpers/index.ts'
import type { EmbeddedMesh } from '../../cli/src/embedded-mesh.ts'
import type { Connection, JobView } from '../../cli/src/client.ts'

const MiB = 1024 * 1024
const RUNS = 20
/** Nodes offering this much, and an input a few times larger: the plan is level 3 by memory, whatever the load. */
const NODE_MEMORY = 64 * MiB
/** Outcomes of an assignment that did not start: a refusal, no room on the node, or a node out of reach. */
const NOT_STARTED = new Set(['refused', 'busy', 'unreachable'])

interface TaskAttempts { id: string, entry: string, attempts?: Array<{ attempt: number, nodeId: string, outcome?: string, message?: string }> }

describe(`the same level-3 job ${RUNS} times on a 2-node embedded mesh`, () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>
  let mesh: EmbeddedMesh
  /** Every log line of the mesh (coordinator and nodes), as JSON. */
  const logs: string[] = []

  beforeAll(async () => {
    tmp = await tempDir()
    const logger = pino({ level: 'info' }, new Writable({ write (line, _encoding, done) { logs.push(String(line)); done() } }))
    mesh = await startEmbeddedMesh({ nodes: 2, nodeMemory: NODE_MEMORY, executor: { kind: 'bwrap' }, logger })
  })
  afterAll(async () => {
    await mesh?.stop()
    await tmp?.remove()
  })

  it('no assignment is refused and no task waits for a node to be forgiven; every run gives python3\'s result', async () => {
    const p = program('04-reductions.py')
    const { text } = inputOfSize(p, 0, 8 * MiB, 20)
    const input = join(tmp.path, `reductions.${p.ext}`)
    await writeFile(input, text)
    const { stdout: expected } = await promisify(execFile)('/usr/bin/python3', [SEQUENTIAL_DRIVER, programPath(p.file), input], { maxBuffer: 64 * MiB })
    const conn: Connection = { url: mesh.coordinator.info.http, token: mesh.coordinator.info.adminToken }
    // Submitted as `runsurge run` submits to its embedded mesh: the same flags, the same defaults.
    const flags = { input: [input] }
    const submission = submissionOf(programPath(p.file), flags, embeddedJobDefaults('auto', NODE_MEMORY))
    const walls: number[] = []
    for (let run = 0; run < RUNS; run++) {
      const started = Date.now()
      const submitted = await submitJob(conn, submission)
      const ended: JobView = await followJob(conn, submitted.id, () => {})
      walls.push(Date.now() - started)
      const job = await getJob(conn, submitted.id)
      const tasks = (job.tasks ?? []) as unknown as TaskAttempts[]
      const what = `run ${run + 1}: ${JSON.stringify({ status: job.status, plan: job.plan, error: job.error })}`
      expect(ended.status, what).toBe('completed')
      expect(job.plan.level, what).toBe(3)
      expect(await getResultText(conn, submitted.id), what).toBe(expected.trim())
      const notStarted = tasks.flatMap(t => (t.attempts ?? []).filter(a => NOT_STARTED.has(a.outcome ?? '')).map(a => `${t.id} on ${a.nodeId}: ${a.outcome} ${a.message ?? ''}`))
      expect(notStarted, what).toEqual([])
      // Each task ran once, or twice where a copy of a straggler ran beside it (the loser is superseded).
      for (const task of tasks) {
        const outcomes = (task.attempts ?? []).map(a => a.outcome)
        expect(outcomes.filter(o => o === 'completed'), `${what}\n${task.id}: ${JSON.stringify(outcomes)}`).toHaveLength(1)
        expect(outcomes.every(o => o === 'completed' || o === 'superseded'), `${what}\n${task.id}: ${JSON.stringify(outcomes)}`).toBe(true)
      }
    }
    // Nothing in the logs of the coordinator or the nodes says an assignment was not taken.
    expect(logs.filter(line => /assignment not accepted|no room for the task|not enough memory/.test(line))).toEqual([])
    if (process.env.RUNSURGE_TEST_SUMMARY !== undefined) {
      const sorted = [...walls].sort((a, b) => a - b)
      process.stdout.write(`${RUNS} runs: min ${sorted[0]} ms, median ${sorted[Math.floor(RUNS / 2)]} ms, max ${sorted.at(-1)} ms\n`)
    }
  }, 600_000)
})

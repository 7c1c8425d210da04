/**
 * The jobs pipeline end to end: a real `runsurge coordinator` process and real `runsurge node` processes that run
 * Python under bubblewrap. Jobs go in over HTTP (multipart), their progress comes back as server-sent events, and
 * results, failures, refusals and money are checked against what the test computes itself. Faults (stragglers,
 * damaged disks, a killed node, a coordinator crash) are in jobs-faults.spec.ts.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  FAILING_SCRIPT, GROUP_AGGREGATE, GROUP_SCRIPT, RANGE_SCRIPT, SUM_SCRIPT, UNSAFE_SCRIPT, expectChunksInOrder, lines, numbers, range, sum
} from '../helpers/job-scripts.ts'
import { UNIT_RATE, account, bearer, getJson, result, runJob, startJobsMesh, submit, submitted, tasksOf, untilEnd } from '../helpers/jobs-mesh.ts'
import { processScope } from '../helpers/scope.ts'
import type { Auth, Earning, JobView, Mesh, Payment, Submission } from '../helpers/jobs-mesh.ts'

describe('jobs on a coordinator and three node processes', () => {
  const scope = processScope()
  // alice submits; the nodes belong to the admin account (they enrolled with coordinator.json's token).
  let mesh: Mesh, http: string, alice: Auth, admin: Auth
  beforeAll(async () => { ({ mesh, http, alice, admin } = await startJobsMesh(scope)) })

  it('runs a manual job split in four with aggregate(), and one without it whose result is the chunks\' dicts in order', async () => {
    const input = numbers(5000, 42)
    const job = await runJob(http, alice, { script: SUM_SCRIPT, inputs: [{ name: 'numbers.txt', data: lines(input) }], fields: { mode: 'manual', tasks: '4', name: 'sums' } })
    expect(job).toMatchObject({ status: 'completed', mode: 'manual', name: 'sums', plan: { tasks: 5, processTasks: 4, aggregation: true } })
    expect(job.progress).toEqual({ total: 5, completed: 5, running: 0, failed: 0 })
    expect(job.tasks?.map(t => [t.index, t.entry, t.status])).toEqual([
      [0, 'process', 'completed'], [1, 'process', 'completed'], [2, 'process', 'completed'], [3, 'process', 'completed'], [4, 'aggregate', 'completed']
    ])
    expect(await result(http, alice, job.id)).toEqual({ count: input.length, sum: sum(input), min: Math.min(...input), max: Math.max(...input), parts: 4 })

    const sequence = range(1, 3000)
    const listed = await runJob(http, alice, { script: RANGE_SCRIPT, inputs: [{ name: 'seq.txt', data: lines(sequence) }], fields: { mode: 'manual', tasks: '5' } })
    expect(listed).toMatchObject({ status: 'completed', plan: { tasks: 5, processTasks: 5, aggregation: false } })
    expectChunksInOrder(await result(http, alice, listed.id), sequence, 5)
  })

  it('runs a grouped job: one task per input file, then the aggregation script over their results in file order', async () => {
    const files = [range(1, 10), range(100, 400), [7, -7, 12345]]
    const job = await runJob(http, alice, {
      script: GROUP_SCRIPT,
      aggregate: GROUP_AGGREGATE,
      inputs: files.map((values, i) => ({ name: `part-${i}.txt`, data: values.join(i === 1 ? '\n' : ' ') })),
      fields: { mode: 'grouped' }
    })
    expect(job).toMatchObject({ status: 'completed', mode: 'grouped', plan: { tasks: 4, processTasks: 3, aggregation: true } })
    expect(job.tasks?.map(t => t.entry)).toEqual(['process', 'process', 'process', 'aggregate'])
    expect(await result(http, alice, job.id)).toEqual({ files: 3, sums: files.map(sum), words: sum(files.map(f => f.length)) })
  })

  it('fails a job whose program raises after that one attempt, with the exception, and bills the attempt that ran', async () => {
    const { id } = await submitted(http, alice, { script: FAILING_SCRIPT, inputs: [{ name: 'x.txt', data: '1\n' }], fields: { mode: 'manual', tasks: '1' } })
    const { job, events } = await untilEnd(http, alice, id)
    expect(job.status).toBe('failed')
    expect(job.error?.code).toBe('runtime_error')
    expect(job.error?.message).toMatch(/task 0 failed: .*ValueError: boom: this chunk is cursed/s)
    // The same program on the same input raises wherever it runs: no retry.
    expect(job.tasks).toEqual([expect.objectContaining({ status: 'failed', attempt: 1, failures: 1, error: expect.objectContaining({ code: 'runtime_error' }) })])
    expect(job.tasks?.[0]?.error?.message).toMatch(/boom: this chunk is cursed/)
    expect(job.metrics?.attempts).toBe(1)
    expect(events.flatMap(tasksOf).filter(t => t.status === 'assigned')).toHaveLength(1)
    // The node ran it: the submitter pays for that attempt.
    const billed = job.tasks?.[0]?.attempts?.[0]?.earning ?? 0
    expect(billed).toBeGreaterThan(0)
    expect(job.cost).toMatchObject({ contributors: billed, price: Math.floor((billed * 6 + 2) / 5) })
    expect(job.payment).toBe('pending')

    const noResult = await fetch(`${http}/api/jobs/${id}/result`, { headers: alice })
    expect(noResult.status).toBe(409)
    expect(((await noResult.json()) as { message: string }).message).toMatch(/is failed, there is no result: runtime_error/)
  })

  it('bills a completed job from its tasks\' metrics and the nodes\' machine factor, and pays it exactly once', async () => {
    const input = numbers(3000, 7)
    const job = await runJob(http, alice, { script: SUM_SCRIPT, inputs: [{ name: 'n.txt', data: lines(input) }], fields: { mode: 'manual', tasks: '3', taskMemory: String(256 * 1024 * 1024) } })
    expect(job.status).toBe('completed')
    expect(job.payment).toBe('pending')

    const { nodes } = await getJson<{ nodes: Array<{ id: string, benchmark: number }> }>(`${http}/api/nodes`, admin)
    expect(nodes).toHaveLength(3)
    const factor = new Map(nodes.map(node => [node.id, node.benchmark]))
    const tasks = job.tasks ?? []
    expect(tasks).toHaveLength(4)
    for (const task of tasks) {
      const metrics = task.metrics!
      expect(metrics.wallMs).toBeGreaterThan(0)
      expect(metrics.avgMemoryBytes).toBeGreaterThan(0)
      const benchmark = factor.get(task.nodeId ?? '')
      expect(benchmark).toBeGreaterThan(0)
      expect(task.earning).toBe(Math.round(UNIT_RATE * (metrics.wallMs / 1000) * benchmark! * (metrics.avgMemoryBytes / 1e9)))
      expect(task.earning).toBeGreaterThan(0)
    }
    const contributors = sum(tasks.map(t => t.earning ?? NaN))
    const price = Math.floor((6 * contributors + 2) / 5)
    expect(job.cost).toEqual({ contributors, price, platform: price - contributors, unitRate: UNIT_RATE })
    expect(price).toBe(Math.round(1.2 * contributors))

    const before = await getJson<{ payments: Payment[], pending: number, paid: number }>(`${http}/api/payments`, alice)
    expect(before.payments.find(p => p.jobId === job.id)).toMatchObject({ amount: price, contributors, platform: price - contributors, status: 'pending' })
    const earningsBefore = await getJson<{ earnings: Earning[] }>(`${http}/api/earnings`, admin)
    const ofJob = (list: Earning[]): Earning[] => list.filter(e => e.jobId === job.id).sort((a, b) => a.taskId.localeCompare(b.taskId))
    expect(ofJob(earningsBefore.earnings).map(e => [e.taskId, e.nodeId, e.amount, e.status])).toEqual(
      tasks.map(t => [t.id, t.nodeId, t.earning, 'pending']).sort((a, b) => String(a[0]).localeCompare(String(b[0]))))

    const pay = await fetch(`${http}/api/jobs/${job.id}/pay`, { method: 'POST', headers: alice })
    expect(pay.status).toBe(200)
    const paid = await pay.json() as Payment
    expect(paid).toMatchObject({ jobId: job.id, amount: price, status: 'paid' })
    expect((await getJson<JobView>(`${http}/api/jobs/${job.id}`, alice)).payment).toBe('paid')
    const after = await getJson<{ payments: Payment[], pending: number, paid: number }>(`${http}/api/payments`, alice)
    expect(after.payments.find(p => p.jobId === job.id)?.status).toBe('paid')
    expect(after.paid).toBe(before.paid + price)
    expect(after.pending).toBe(before.pending - price)
    const earningsAfter = await getJson<{ earnings: Earning[], pending: number, paid: number }>(`${http}/api/earnings`, admin)
    expect(ofJob(earningsAfter.earnings).every(e => e.status === 'paid' && e.paidAt === paid.paidAt)).toBe(true)

    // Paying again changes nothing.
    const again = await fetch(`${http}/api/jobs/${job.id}/pay`, { method: 'POST', headers: alice })
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual(paid)
    expect(await getJson(`${http}/api/payments`, alice)).toEqual(after)
    expect(await getJson(`${http}/api/earnings`, admin)).toEqual(earningsAfter)

    const stats = await getJson<{ activeNodes: number, lifetimeEarnings: number, completedJobs: number }>(`${http}/api/stats`)
    expect(stats.activeNodes).toBe(3)
    expect(stats.lifetimeEarnings).toBe(earningsAfter.pending + earningsAfter.paid)
    const alicesJobs = await getJson<{ jobs: JobView[] }>(`${http}/api/jobs`, alice)
    expect(stats.completedJobs).toBe(alicesJobs.jobs.filter(j => j.status === 'completed').length)

    // A job whose program failed is billed for the attempt that ran it, and can be paid.
    const failed = await runJob(http, alice, { script: FAILING_SCRIPT, inputs: [{ name: 'x.txt', data: '1\n' }], fields: { mode: 'manual', timeout: '30' } })
    expect(failed.status).toBe('failed')
    const owed = (await getJson<{ payments: Payment[] }>(`${http}/api/payments`, alice)).payments.find(p => p.jobId === failed.id)
    expect(owed).toMatchObject({ status: 'pending', amount: failed.cost?.price })
    const paidFailed = await fetch(`${http}/api/jobs/${failed.id}/pay`, { method: 'POST', headers: alice })
    expect(paidFailed.status).toBe(200)
    expect(await paidFailed.json()).toMatchObject({ jobId: failed.id, status: 'paid' })
    // A job that ran nothing billed has nothing to pay.
    const rejected = await runJob(http, alice, { script: UNSAFE_SCRIPT, inputs: [{ name: 'x.txt', data: '1\n' }], fields: { mode: 'manual' } })
    expect(rejected.status).toBe('rejected')
    const refused = await fetch(`${http}/api/jobs/${rejected.id}/pay`, { method: 'POST', headers: alice })
    expect(refused.status).toBe(409)
    expect(((await refused.json()) as { message: string }).message).toMatch(/nothing to pay: it was rejected/)
  })

  it('hides a job from every other account: not listed, and 404 for status, result, events, cancel and pay', async () => {
    const job = await runJob(http, alice, { script: SUM_SCRIPT, inputs: [{ name: 'n.txt', data: lines(range(1, 100)) }], fields: { mode: 'manual', tasks: '2' } })
    expect(job.status).toBe('completed')
    const bob = await account(http, 'bob')
    for (const auth of [bearer(bob.token), { cookie: bob.cookie }]) {
      for (const [method, path] of [['GET', ''], ['GET', '/result'], ['GET', '/events'], ['POST', '/cancel'], ['POST', '/pay']] as const) {
        const response = await fetch(`${http}/api/jobs/${job.id}${path}`, { method, headers: auth })
        expect(response.status, `${method} ${path}`).toBe(404)
        expect(await response.text()).not.toMatch(/"sum"|"cost"|"tasks"/)
      }
      expect(await getJson(`${http}/api/jobs`, auth)).toEqual({ jobs: [] })
      expect(await getJson(`${http}/api/payments`, auth)).toEqual({ payments: [], pending: 0, paid: 0 })
      expect(await getJson(`${http}/api/earnings`, auth)).toEqual({ earnings: [], pending: 0, paid: 0 })
    }
    // Nothing bob tried had an effect.
    expect(await getJson<JobView>(`${http}/api/jobs/${job.id}`, alice)).toMatchObject({ status: 'completed', payment: 'pending' })
    expect((await getJson<{ jobs: JobView[] }>(`${http}/api/jobs`, alice)).jobs.map(j => j.id)).toContain(job.id)
    // And alice, who owns no node, earned nothing; the admin, who pays nothing, owes nothing.
    expect(await getJson(`${http}/api/earnings`, alice)).toEqual({ earnings: [], pending: 0, paid: 0 })
    expect(await getJson(`${http}/api/payments`, admin)).toEqual({ payments: [], pending: 0, paid: 0 })
  })

  it('refuses bad submissions with the right status, and stores scanner-refused scripts as rejected jobs', async () => {
    const ok: Submission = { script: SUM_SCRIPT, inputs: [{ name: 'n.txt', data: '1\n2\n' }], fields: { mode: 'manual' } }
    const message = async (response: Response): Promise<string> => ((await response.json()) as { message: string }).message

    expect((await submit(http, {}, ok)).status).toBe(401)
    expect((await submit(http, bearer('not-a-token'), ok)).status).toBe(401)
    const json = await fetch(`${http}/api/jobs`, { method: 'POST', headers: { ...alice, 'content-type': 'application/json' }, body: '{"script":"x"}' })
    expect(json.status).toBe(400)
    expect(await message(json)).toMatch(/multipart\/form-data/)
    const noScript = new FormData()
    noScript.append('mode', 'manual')
    noScript.append('input', new Blob(['1\n']), 'n.txt')
    const missing = await fetch(`${http}/api/jobs`, { method: 'POST', headers: alice, body: noScript })
    expect(missing.status).toBe(400)
    expect(await message(missing)).toMatch(/no "script" file/)
    for (const tasks of ['abc', '0', '2.5']) {
      const response = await submit(http, alice, { ...ok, fields: { mode: 'manual', tasks } })
      expect(response.status, `tasks=${tasks}`).toBe(400)
      expect(await message(response)).toMatch(/tasks must be a whole number of tasks from 1 to 10000/)
    }
    expect((await submit(http, alice, { ...ok, fields: { mode: 'sideways' } })).status).toBe(400)

    // More memory per task than any node offers: it would wait forever; it fails at once, saying why.
    const huge = await submitted(http, alice, { ...ok, fields: { mode: 'manual', taskMemory: String(64 * 1024 ** 3) } })
    expect(huge).toMatchObject({ status: 'failed', error: { code: 'does_not_fit' } })
    expect(huge.error?.message).toMatch(/asks for 64\.0 GiB \(taskMemory\), more than any node offers \(the largest offers [\d.]+ [MG]iB\): ask for less/)

    // 2 MiB against --max-input 1M: refused, nothing of it left on disk, and the coordinator serves on.
    const big = await submit(http, alice, { ...ok, inputs: [{ name: 'big.txt', data: '9\n'.repeat(1024 * 1024) }] })
    expect(big.status).toBe(413)
    expect(await message(big)).toMatch(/larger than the limit/)
    expect((await getJson<JobView>(`${http}/api/jobs/${(await submitted(http, alice, ok)).id}`, alice)).status).not.toBe('rejected')

    const rejected = async (script: string | Uint8Array<ArrayBuffer>): Promise<JobView> => {
      const job = await submitted(http, alice, { ...ok, script })
      expect(job.status).toBe('rejected')
      expect(job.plan.tasks).toBe(0)
      expect(job.progress.total).toBe(0)
      // Final at once: its event stream says so and ends.
      expect((await untilEnd(http, alice, job.id)).job.status).toBe('rejected')
      expect((await fetch(`${http}/api/jobs/${job.id}/result`, { headers: alice })).status).toBe(409)
      return job
    }
    const unsafe = await rejected(UNSAFE_SCRIPT)
    expect(unsafe.error).toMatchObject({ code: 'SECURITY_VIOLATION', line: 1 })
    expect(unsafe.findings).toEqual(expect.arrayContaining([expect.objectContaining({ line: 1, message: expect.stringMatching(/subprocess/) })]))

    // Where Python reports it: the parser fails at `def` inside the open `{`, on the line the `(` opens too.
    const syntax = await rejected('def process(input_data: str) -> dict:\n    return {\n\n\ndef oops(:\n')
    expect(syntax.error).toMatchObject({ code: 'SYNTAX_ERROR', line: 5 })

    const binary = await rejected(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x3e, 0x00]))
    expect(binary.error?.code).toBe('BINARY_SOURCE')
    // Every upload above, the refused 2 MiB one included, is gone from the coordinator's disk.
    expect(await readdir(join(mesh.dir, 'coordinator', 'uploads'))).toEqual([])

    // Not UTF-8 (Latin-1 "é"): the analyzer refuses such bytes, so the upload must reach it as bytes, not as
    // already-decoded text in which the byte became U+FFFD.
    const latin1 = await rejected(new Uint8Array([...Buffer.from("def process(input_data: str) -> dict:\n    return {'caf"), 0xe9, ...Buffer.from("': 1}\n")]))
    expect(latin1.error).toMatchObject({ code: 'BINARY_SOURCE', line: 2 })
  })
})

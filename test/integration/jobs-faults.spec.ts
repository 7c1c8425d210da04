/**
 * Jobs through faults, end to end on real processes (see jobs.spec.ts): a straggling task copied to an idle node,
 * chunks damaged on every node's disk, a node killed mid-task, and the coordinator itself killed mid-job and
 * restarted on the same data. Every job still completes with the result the test computes itself.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { cidOf } from '../../protocols/src/index.ts'
import { corruptInPlace, freePort, kill } from '../helpers/index.ts'
import { SLOW_SCRIPT, SPIN_SCRIPT, SUM_SCRIPT, expectChunksInOrder, lines, numbers, range, sum } from '../helpers/job-scripts.ts'
import {
  bearer, follow, getJson, gone, processesOfTask, result, runJob, startCoordinator, startJobsMesh, startMesh, submitted, tasksOf, untilEnd
} from '../helpers/jobs-mesh.ts'
import { processScope } from '../helpers/scope.ts'
import type { RunsurgeProcess } from '../helpers/index.ts'
import type { Auth, Event, JobView, Mesh, Payment, Submission } from '../helpers/jobs-mesh.ts'

describe('jobs on a coordinator and three node processes, through faults', () => {
  const scope = processScope()
  // alice submits; the nodes belong to the admin account (they enrolled with coordinator.json's token).
  let mesh: Mesh, http: string, alice: Auth, admin: Auth
  beforeAll(async () => { ({ mesh, http, alice, admin } = await startJobsMesh(scope)) })

  it('runs a copy of a straggling task on an idle node, takes the first result, and stops the straggler', async () => {
    const sequence = range(1, 600)
    const { id } = await submitted(http, alice, { script: SPIN_SCRIPT, inputs: [{ name: 'seq.txt', data: lines(sequence) }], fields: { mode: 'manual', tasks: '3', taskMemory: String(256 * 1024 * 1024) } })
    // The first task to run is frozen (SIGSTOP on its sandboxed processes): its node stays alive and heartbeats, the
    // task just makes no progress, like one on an overloaded machine.
    let frozen: { taskId: string, nodeId: string, pids: number[] } | undefined
    const onEvent = async (event: Event): Promise<void> => {
      if (frozen !== undefined) return
      const task = tasksOf(event).find(t => (t.status === 'assigned' || t.status === 'running') && t.entry === 'process' && t.nodeId !== undefined)
      if (task === undefined) return
      const pids = await processesOfTask(task.id, AbortSignal.timeout(10_000))
      for (const pid of pids) process.kill(pid, 'SIGSTOP')
      frozen = { taskId: task.id, nodeId: task.nodeId as string, pids }
    }
    const { job } = await untilEnd(http, alice, id, onEvent)
    expect(frozen).toBeDefined()
    expect(job.status).toBe('completed')
    expectChunksInOrder(await result(http, alice, id), sequence, 3)
    const task = job.tasks?.find(t => t.id === frozen?.taskId)
    expect(task?.status).toBe('completed')
    expect(task?.nodeId).not.toBe(frozen?.nodeId)
    expect(task?.failures).toBe(0)
    const attempts = task?.attempts ?? []
    expect(attempts.find(a => a.nodeId === frozen?.nodeId)).toMatchObject({ outcome: 'superseded' })
    expect(attempts.find(a => a.nodeId === task?.nodeId)).toMatchObject({ outcome: 'completed' })
    // The node of the straggler was never declared dead, and was told to stop it: its processes are gone.
    const { nodes } = await getJson<{ nodes: Array<{ id: string, status: string }> }>(`${http}/api/nodes`, admin)
    expect(nodes.find(n => n.id === frozen?.nodeId)?.status).toBe('alive')
    await gone(frozen?.pids ?? [], AbortSignal.timeout(10_000))
  })

  it('keeps a resubmitted job exact when every chunk the nodes hold, and the coordinator\'s copy of the result, were changed on disk', async () => {
    const input = numbers(6000, 2024)
    const expected = { count: input.length, sum: sum(input), min: Math.min(...input), max: Math.max(...input), parts: 3 }
    const submission: Submission = { script: SUM_SCRIPT, inputs: [{ name: 'numbers.txt', data: lines(input) }], fields: { mode: 'manual', tasks: '3' } }
    const first = await runJob(http, alice, submission)
    expect(first.status).toBe('completed')
    expect(await result(http, alice, first.id)).toEqual(expected)

    // A failing disk on every node: each block they hold (the input chunks they ran, the results they made or
    // pulled) keeps its length and has one digit changed. The same tasks land on the same idle nodes again, which
    // used to take their local copies on trust and complete with a wrong sum.
    const corruptLogs = (): number => mesh.nodes.reduce((n, node) => n + node.child.output().split('\n').filter(line => /a stored chunk was corrupt/.test(line)).length, 0)
    const logged = corruptLogs()
    let damaged = 0
    for (const name of mesh.nodes.map((_, i) => `node-${i}`)) {
      const blocks = join(mesh.dir, name, 'chunks', 'blocks')
      for (const file of await readdir(blocks)) {
        await corruptInPlace(join(blocks, file), { from: 0 })
        damaged++
      }
    }
    expect(damaged).toBeGreaterThanOrEqual(4)

    const again = await runJob(http, alice, submission)
    expect(again.status, JSON.stringify(again.error)).toBe('completed')
    expect(await result(http, alice, again.id)).toEqual(expected)
    // The nodes found the damage (reading their copies, or serving them) and logged it.
    expect(corruptLogs()).toBeGreaterThan(logged)

    // The coordinator's copy of the result (pulled from the aggregating node) goes bad: reading it for the API finds
    // that out, deletes it and fetches it again from the node that made it.
    const text = await (await fetch(`${http}/api/jobs/${again.id}/result`, { headers: alice })).text()
    const cid = cidOf(new TextEncoder().encode(text))
    const block = join(mesh.dir, 'coordinator', 'chunks', 'blocks', cid.toString())
    await corruptInPlace(block, { from: 0 })
    expect(await result(http, alice, again.id)).toEqual(expected)
    expect(await result(http, alice, first.id)).toEqual(expected)
    const line = JSON.parse(await mesh.coordinator.waitForLine(/a stored chunk was corrupt/)) as { cid: string, path: string, reason: string }
    expect(line).toMatchObject({ cid: cid.toString(), path: block, reason: expect.stringMatching(/^its bytes hash to /) })
    expect(cidOf(await readFile(block)).equals(cid)).toBe(true)
  })

  // Last in this block: it takes one of the three nodes away.
  it('re-queues the task of a node killed mid-task on another node, and the job still completes correctly', async () => {
    const sequence = range(1, 900)
    const { id } = await submitted(http, alice, { script: SLOW_SCRIPT, inputs: [{ name: 'seq.txt', data: lines(sequence) }], fields: { mode: 'manual', tasks: '3', taskMemory: String(256 * 1024 * 1024) } })
    let victim: { child: RunsurgeProcess, nodeId: string, taskId: string } | undefined
    const onEvent = async (event: Event): Promise<void> => {
      if (victim !== undefined) return
      const task = tasksOf(event).find(t => t.status === 'assigned' && t.nodeId !== undefined)
      if (task === undefined) return
      const node = mesh.nodes.find(n => n.nodeId === task.nodeId)!
      victim = { ...node, taskId: task.id }
      // The node has the task in hand (the sandbox is starting or running it) when it dies.
      await node.child.waitForLine(new RegExp(`"task":"${task.id.replaceAll('.', '\\.')}".*task accepted`), { signal: AbortSignal.timeout(10_000) })
      await kill(node.child)
    }
    const { job, events } = await untilEnd(http, alice, id, onEvent)
    expect(victim).toBeDefined()
    expect(job.status).toBe('completed')
    expectChunksInOrder(await result(http, alice, id), sequence, 3)

    const task = job.tasks?.find(t => t.id === victim!.taskId)
    expect(task).toMatchObject({ status: 'completed', failures: 0 })
    expect(task?.nodeId).not.toBe(victim!.nodeId)
    // Its first attempt ended with the node; a later one (the re-queued task, or a copy of it if that one straggled
    // on a busy node) completed elsewhere.
    expect(task?.attempts?.[0]).toMatchObject({ attempt: 1, nodeId: victim!.nodeId, outcome: 'node_dead' })
    expect(task?.attempts?.find(a => a.attempt === task.attempt)).toMatchObject({ outcome: 'completed' })
    expect(events.some(e => e.event === 'task' && e.data.id === victim!.taskId && e.data.status === 'queued')).toBe(true)
    // Every task, and so every earning of the job, is another node's.
    expect(job.tasks?.every(t => t.nodeId !== victim!.nodeId && t.earning !== undefined)).toBe(true)
    const { nodes } = await getJson<{ nodes: Array<{ id: string, status: string }> }>(`${http}/api/nodes`, admin)
    expect(nodes.find(n => n.id === victim!.nodeId)?.status).toBe('dead')
  })
})

describe('jobs across a coordinator crash', () => {
  const scope = processScope()

  it('finishes a job whose coordinator was killed -9 mid-job and restarted on the same data, and loses no job', async () => {
    // The nodes dial the multiaddr they were given: the restarted coordinator must listen on the same port.
    const listen = ['--listen', `/ip4/127.0.0.1/tcp/${await freePort()}`]
    const mesh = await startMesh(scope.dir, 2, listen, join(scope.dir, 'benchmark.json'), scope.children)
    const admin = bearer(mesh.info.adminToken)
    let http = mesh.info.http

    const input = numbers(2000, 3)
    const quick = await runJob(http, admin, { script: SUM_SCRIPT, inputs: [{ name: 'n.txt', data: lines(input) }], fields: { mode: 'manual', tasks: '2' } })
    expect(quick.status).toBe('completed')
    const quickResult = await result(http, admin, quick.id)

    // Six two-second tasks of 512 MiB on two 1 GiB nodes: four run when the coordinator dies, two still wait.
    const sequence = range(1, 1200)
    const slow = await submitted(http, admin, { script: SLOW_SCRIPT, inputs: [{ name: 'seq.txt', data: lines(sequence) }], fields: { mode: 'manual', tasks: '6', taskMemory: String(512 * 1024 * 1024) } })
    const placed = new Map<string, string>()
    await follow(http, admin, slow.id, event => {
      for (const task of tasksOf(event)) if (task.status === 'assigned' && task.nodeId !== undefined) placed.set(task.id, task.nodeId)
      return placed.size === 4
    })
    // Kill the coordinator once the nodes have all four in hand.
    await Promise.all([...placed].map(async ([taskId, nodeId]) => {
      const node = mesh.nodes.find(n => n.nodeId === nodeId)!
      await node.child.waitForLine(new RegExp(`"task":"${taskId.replaceAll('.', '\\.')}".*task accepted`), { signal: AbortSignal.timeout(10_000) })
    }))
    // A job acknowledged (201) just before the crash, all of whose tasks still wait: its input lives only on the
    // coordinator's disk, which the restarted process must serve again.
    const late = numbers(500, 11)
    const acknowledged = await submitted(http, admin, { script: SUM_SCRIPT, inputs: [{ name: 'late.txt', data: lines(late) }], fields: { mode: 'manual', tasks: '2' } })
    await kill(mesh.coordinator)

    const restarted = await startCoordinator(join(scope.dir, 'coordinator'), listen, scope.children)
    expect(restarted.info.peerId).toBe(mesh.info.peerId)
    http = restarted.info.http
    const { job } = await untilEnd(http, admin, slow.id)
    expect(job.status, JSON.stringify(job.error)).toBe('completed')
    expect(job.progress).toEqual({ total: 6, completed: 6, running: 0, failed: 0 })
    expectChunksInOrder(await result(http, admin, slow.id), sequence, 6)

    const ended = (await untilEnd(http, admin, acknowledged.id)).job
    expect(ended.status, JSON.stringify(ended.error)).toBe('completed')
    expect(await result(http, admin, acknowledged.id)).toEqual({ count: late.length, sum: sum(late), min: Math.min(...late), max: Math.max(...late), parts: 2 })

    const { jobs } = await getJson<{ jobs: JobView[] }>(`${http}/api/jobs`, admin)
    expect(jobs.map(j => [j.id, j.status])).toEqual([[acknowledged.id, 'completed'], [slow.id, 'completed'], [quick.id, 'completed']])
    expect(await result(http, admin, quick.id)).toEqual(quickResult)
    expect(quickResult).toEqual({ count: input.length, sum: sum(input), min: Math.min(...input), max: Math.max(...input), parts: 2 })
    const { payments } = await getJson<{ payments: Payment[] }>(`${http}/api/payments`, admin)
    expect(payments.map(p => p.jobId).sort()).toEqual([quick.id, slow.id, acknowledged.id].sort())
    // Both nodes are still attached: neither process exited.
    expect(mesh.nodes.every(node => node.child.exitCode === null)).toBe(true)
  })
})

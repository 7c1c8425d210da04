/**
 * Revoked access end to end: a real coordinator (in this process, so its libp2p events can be awaited) and real
 * `runsurge node` processes running Python under bubblewrap. A node enrolled with a token that is then revoked, or a
 * node its owner removes, is disconnected within 5 s while it runs a task: the task finishes on another node, the
 * removed node gets nothing more, its process exits saying why, and a restarted coordinator still refuses it.
 */
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { benchmarkCacheFile } from '../../cli/src/commands/node.ts'
import { startCoordinator } from '../../coordinator/src/index.ts'
import { freePort, kill, runsurge, tempDir, testLogger } from '../helpers/index.ts'
import type { Coordinator, JobRecord, TaskRecord } from '../../coordinator/src/index.ts'
import type { RunsurgeProcess } from '../helpers/index.ts'
import type { PeerId } from '@libp2p/interface'

const HEARTBEAT = 200
const DEAD_AFTER = 1_500
/** The bound: a removed node is disconnected "within 5 s". */
const DISCONNECT_DEADLINE = 5_000
/** Generous bounds for what is not the subject here (a node joining, a job ending, a process exiting). */
const JOIN_DEADLINE = 60_000
const JOB_DEADLINE = 60_000
const EXIT_DEADLINE = 20_000
/** The exit code of a removed node (cli/src/commands/node.ts). */
const EXIT_REMOVED = 3

/** One chunk of numbers a task; each spins about two seconds, so a removal lands while it runs. */
const SLOW_SCRIPT = `
def process(input_data: str) -> dict:
    numbers = [int(line) for line in input_data.split('\\n') if line.strip() != '']
    spin = 0
    for i in range(40_000_000):
        spin = (spin + i) % 7
    return {'count': len(numbers), 'sum': sum(numbers)}


def aggregate(results: list) -> dict:
    return {'count': sum(r['count'] for r in results), 'sum': sum(r['sum'] for r in results)}
`
const lines = (from: number, to: number): string => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}\n`).join('')

interface NodeProcess { child: RunsurgeProcess, nodeId: string, peerId: string, data: string }

describe('revoking a token or removing a node, with real node processes', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let coordinator: Coordinator
  let listen: string[]
  let http: string
  /** The account that owns the nodes, by its session cookie. */
  let owner: Record<string, string>
  /** The submitter: another account, whose scripts and inputs a removed node must not see any more. */
  let submitter: Record<string, string>
  const children: RunsurgeProcess[] = []
  /** Node id → when it was removed: every assignment is checked against it. */
  const removedAt = new Map<string, number>()
  const assignments: Array<{ taskId: string, nodeId: string, at: number }> = []

  const start = async (): Promise<void> => {
    coordinator = await startCoordinator({
      dataDir: join(dir.path, 'coordinator'), listen, logger: testLogger(), authRateLimit: { max: 1_000 }, liveness: { heartbeatInterval: HEARTBEAT, deadAfter: DEAD_AFTER }
    })
    http = coordinator.info.http
    // Every placement, of a task or of a copy of it, as it happens.
    coordinator.jobs.on('task', task => {
      if (task.status === 'assigned' && task.nodeId !== undefined) assignments.push({ taskId: task.id, nodeId: task.nodeId, at: Date.now() })
      if (task.backup !== undefined) assignments.push({ taskId: task.id, nodeId: task.backup.nodeId, at: Date.now() })
    })
  }

  const api = async (method: string, path: string, headers: Record<string, string>, json?: unknown): Promise<{ status: number, body: any }> => {
    const response = await fetch(`${http}${path}`, {
      method, headers: { ...headers, ...(json !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(json !== undefined ? { body: JSON.stringify(json) } : {})
    })
    const text = await response.text()
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
  }

  const signUp = async (name: string): Promise<Record<string, string>> => {
    const credentials = { name, password: `${name}-correct-horse` }
    expect((await api('POST', '/api/auth/register', {}, credentials)).status).toBe(201)
    const login = await fetch(`${http}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(credentials) })
    const cookie = login.headers.getSetCookie().map(c => c.split(';')[0] ?? '').find(c => c.startsWith('runsurge_session=')) ?? ''
    expect(cookie).not.toBe('')
    return { cookie }
  }

  const enrollmentToken = async (label: string): Promise<{ id: string, token: string }> => {
    const created = await api('POST', '/api/nodes/enroll', owner, { label })
    expect(created.status).toBe(201)
    return created.body
  }

  /** Starts `runsurge node` with its token in the environment or in a file, never on its command line. */
  const startNode = (name: string, token: string, via: 'env' | 'file'): RunsurgeProcess => {
    const data = join(dir.path, name)
    const args = ['node', '--coordinator', coordinator.info.multiaddrs[0] ?? '', '--data', data, '--memory', '1G', '--benchmark-file', benchmarkCacheFile()]
    const tokenFile = join(dir.path, `${name}.token`)
    const child = via === 'env'
      ? runsurge(args, { RUNSURGE_NODE_TOKEN: token })
      : runsurge([...args, '--token-file', tokenFile])
    children.push(child)
    return child
  }
  const joined = async (name: string, token: string, via: 'env' | 'file'): Promise<NodeProcess> => {
    if (via === 'file') await writeFile(join(dir.path, `${name}.token`), `${token}\n`, { mode: 0o600 })
    const child = startNode(name, token, via)
    const registered = JSON.parse(await child.waitForLine(/registered with the coordinator as node/, { signal: AbortSignal.timeout(JOIN_DEADLINE) })) as { nodeId: string, peerId: string }
    return { child, nodeId: registered.nodeId, peerId: registered.peerId, data: join(dir.path, name) }
  }

  /** Submits a manual job as the submitter; returns its id. */
  const submit = async (tasks: number, from: number): Promise<string> => {
    const form = new FormData()
    form.append('mode', 'manual')
    form.append('tasks', String(tasks))
    form.append('taskMemory', String(256 * 1024 ** 2))
    form.append('script', new Blob([SLOW_SCRIPT]), 'job.py')
    form.append('input', new Blob([lines(from, from + 99)]), 'numbers.txt')
    const response = await fetch(`${http}/api/jobs`, { method: 'POST', headers: submitter, body: form })
    expect(response.status).toBe(201)
    return ((await response.json()) as { id: string }).id
  }
  /** The first task of a job assigned to `nodeId` that the node has in hand (its process logged that it took it). */
  const taskOn = async (node: NodeProcess, jobId: string): Promise<string> => {
    const seen = assignments.find(a => a.nodeId === node.nodeId && a.taskId.startsWith(`${jobId}.`))
    const taskId = seen?.taskId ?? await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { coordinator.jobs.off('task', onTask); reject(new Error(`no task of ${jobId} went to ${node.nodeId}`)) }, JOB_DEADLINE)
      const onTask = (task: TaskRecord): void => {
        if (task.jobId !== jobId || task.nodeId !== node.nodeId || task.status !== 'assigned') return
        clearTimeout(timer)
        coordinator.jobs.off('task', onTask)
        resolve(task.id)
      }
      coordinator.jobs.on('task', onTask)
    })
    await node.child.waitForLine(new RegExp(`"task":"${taskId.replaceAll('.', '\\.')}".*task accepted`), { signal: AbortSignal.timeout(JOB_DEADLINE) })
    return taskId
  }
  /** Resolves with the job once it reached a final status. */
  const ended = async (jobId: string): Promise<JobRecord> => {
    const final = ['completed', 'failed', 'cancelled', 'rejected']
    const job = coordinator.jobs.job(jobId)
    if (job !== undefined && final.includes(job.status)) return job
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { coordinator.jobs.off('job', onJob); reject(new Error(`job ${jobId} did not end`)) }, JOB_DEADLINE)
      const onJob = (changed: JobRecord): void => {
        if (changed.id !== jobId || !final.includes(changed.status)) return
        clearTimeout(timer)
        coordinator.jobs.off('job', onJob)
        resolve(changed)
      }
      coordinator.jobs.on('job', onJob)
    })
  }
  /** Resolves once the coordinator holds no connection to `peer`; rejects after `deadline` ms. */
  const disconnected = async (peer: string, deadline: number): Promise<void> => {
    const libp2p = coordinator.mesh.libp2p
    const isPeer = (id: PeerId): boolean => id.toString() === peer
    if (!libp2p.getConnections().some(connection => isPeer(connection.remotePeer))) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { done(); reject(new Error(`still connected to ${peer} after ${deadline} ms`)) }, deadline)
      const onDisconnect = (event: CustomEvent<PeerId>): void => { if (isPeer(event.detail)) { done(); resolve() } }
      const done = (): void => { clearTimeout(timer); libp2p.removeEventListener('peer:disconnect', onDisconnect) }
      libp2p.addEventListener('peer:disconnect', onDisconnect)
    })
  }
  const exitOf = async (child: RunsurgeProcess): Promise<number | null> => {
    if (child.exitCode !== null) return child.exitCode
    const [code] = await once(child, 'exit', { signal: AbortSignal.timeout(EXIT_DEADLINE) }) as [number | null]
    return code
  }
  /** Every attempt of every task of a job, with the node it went to. */
  const attemptsOf = (jobId: string): Array<{ taskId: string, nodeId: string, assignedAt: number, outcome?: string }> => {
    const job = coordinator.jobs.job(jobId)
    return job === undefined ? [] : coordinator.jobs.tasksOf(job).flatMap(task => task.attempts.map(a => ({ taskId: task.id, nodeId: a.nodeId, assignedAt: a.assignedAt, ...(a.outcome !== undefined ? { outcome: a.outcome } : {}) })))
  }
  const expectNothingAfterRemoval = (): void => {
    const late = assignments.filter(a => removedAt.has(a.nodeId) && a.at > (removedAt.get(a.nodeId) ?? Infinity))
    expect(late).toEqual([])
  }

  let stolen: NodeProcess
  let removedByOwner: NodeProcess
  let stays: NodeProcess
  let lab: { id: string, token: string }

  beforeAll(async () => {
    dir = await tempDir()
    // The restarted coordinator must listen where the nodes know it.
    listen = [`/ip4/127.0.0.1/tcp/${await freePort()}`]
    await start()
    owner = await signUp('owner')
    submitter = await signUp('submitter')
    // One token leaked (a node the owner does not know joined with it); the owner's own nodes share another.
    const leaked = await enrollmentToken('leaked')
    lab = await enrollmentToken('lab')
    stolen = await joined('stolen', leaked.token, 'env')
    removedByOwner = await joined('lab-1', lab.token, 'file')
    stays = await joined('lab-2', lab.token, 'env')
    const tokens = (await api('GET', '/api/tokens', owner)).body.tokens as Array<{ id: string, nodes: string[] }>
    expect(tokens.map(t => [t.id, t.nodes.sort()])).toEqual([[leaked.id, [stolen.nodeId]], [lab.id, [removedByOwner.nodeId, stays.nodeId].sort()]])
  })

  afterAll(async () => {
    await Promise.all(children.map(async child => { await kill(child) }))
    await coordinator?.close()
    await dir?.remove()
  })

  it('a revoked token\'s node is disconnected within 5 s; its task finishes elsewhere and it gets no task afterwards; its process exits saying why', async () => {
    const first = await submit(6, 1)
    const running = await taskOn(stolen, first)
    const hungUp = disconnected(stolen.peerId, DISCONNECT_DEADLINE)
    const leakedId = (await api('GET', '/api/tokens', owner)).body.tokens.find((t: { nodes: string[] }) => t.nodes.includes(stolen.nodeId)).id as string
    expect((await api('DELETE', `/api/tokens/${leakedId}`, owner)).status).toBe(204)
    removedAt.set(stolen.nodeId, Date.now())
    await hungUp

    expect(await exitOf(stolen.child)).toBe(EXIT_REMOVED)
    expect(stolen.child.output()).toMatch(/runsurge node: this node was removed by its owner \(it revoked the enrollment token this node joined with\); enroll it again with a new token/)

    const job = await ended(first)
    expect(job.status).toBe('completed')
    expect(JSON.parse(await coordinator.jobs.resultText(job) ?? 'null')).toEqual({ count: 100, sum: 5050 })
    const attempts = attemptsOf(first).filter(a => a.taskId === running)
    expect(attempts[0]).toMatchObject({ nodeId: stolen.nodeId, outcome: 'node_removed' })
    expect(attempts.at(-1)).toMatchObject({ outcome: 'completed' })
    expect(attempts.at(-1)?.nodeId).not.toBe(stolen.nodeId)

    // More work for the mesh: none of it goes to the removed node.
    const second = await submit(4, 101)
    expect((await ended(second)).status).toBe('completed')
    expect(attemptsOf(second).map(a => a.nodeId)).not.toContain(stolen.nodeId)
    expectNothingAfterRemoval()
    expect((await api('GET', '/api/nodes', owner)).body.nodes.find((n: { id: string }) => n.id === stolen.nodeId)).toMatchObject({ status: 'removed', removal: { reason: 'token_revoked' } })
  })

  it('a node removed by its owner (DELETE /api/nodes/ID) is disconnected within 5 s the same way, and its task finishes on the other node', async () => {
    const job = await submit(4, 201)
    const running = await taskOn(removedByOwner, job)
    const hungUp = disconnected(removedByOwner.peerId, DISCONNECT_DEADLINE)
    expect((await api('DELETE', `/api/nodes/${removedByOwner.nodeId}`, owner)).status).toBe(204)
    removedAt.set(removedByOwner.nodeId, Date.now())
    await hungUp

    expect(await exitOf(removedByOwner.child)).toBe(EXIT_REMOVED)
    expect(removedByOwner.child.output()).toMatch(/runsurge node: this node was removed by its owner; enroll it again with a new token/)
    expect((await ended(job)).status).toBe('completed')
    const attempts = attemptsOf(job).filter(a => a.taskId === running)
    expect(attempts[0]).toMatchObject({ nodeId: removedByOwner.nodeId, outcome: 'node_removed' })
    expect(attempts.at(-1)).toMatchObject({ nodeId: stays.nodeId, outcome: 'completed' })
    expectNothingAfterRemoval()
  })

  it('another account can neither remove my node nor revoke my token, and sees neither', async () => {
    for (const [method, path] of [['DELETE', `/api/nodes/${stays.nodeId}`], ['POST', `/api/nodes/${removedByOwner.nodeId}/readmit`], ['DELETE', `/api/tokens/${lab.id}`]] as const) {
      expect((await api(method, path, submitter)).status, `${method} ${path}`).toBe(404)
    }
    const nodes = await api('GET', '/api/nodes', submitter)
    const tokens = await api('GET', '/api/tokens', submitter)
    expect({ nodes: nodes.body.nodes, tokens: tokens.body.tokens }).toEqual({ nodes: [], tokens: [] })
    expect(coordinator.registry.isAlive(stays.nodeId)).toBe(true)
  })

  it('a restarted coordinator still refuses both removed peer ids, whatever token they bring, until the owner allows one again', async () => {
    await coordinator.close()
    await start()
    const fresh = await enrollmentToken('fresh')
    // The same machines (same data directories, so the same peer ids), started again with a valid token.
    for (const [node, token] of [[stolen, fresh.token], [removedByOwner, lab.token]] as const) {
      const again = startNode(node === stolen ? 'stolen' : 'lab-1', token, 'env')
      expect(await exitOf(again)).toBe(EXIT_REMOVED)
      expect(again.output()).toMatch(/runsurge node: this node was removed by its owner.*enroll it again with a new token/)
      expect(again.output()).toContain(node.nodeId)
    }
    expect(coordinator.registry.isAlive(stolen.nodeId)).toBe(false)
    expect(coordinator.registry.isAlive(removedByOwner.nodeId)).toBe(false)

    // Its owner allows the lab node again: it re-enrolls under its old id, and runs tasks.
    expect((await api('POST', `/api/nodes/${removedByOwner.nodeId}/readmit`, owner)).status).toBe(200)
    removedAt.delete(removedByOwner.nodeId)
    const back = await joined('lab-1', lab.token, 'file')
    expect(back.nodeId).toBe(removedByOwner.nodeId)
    const job = await submit(4, 301)
    expect((await ended(job)).status).toBe('completed')
    expect(attemptsOf(job).map(a => a.nodeId)).not.toContain(stolen.nodeId)
    expectNothingAfterRemoval()
  })
})

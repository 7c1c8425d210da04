/**
 * A coordinator that restarts while nodes still report (issue 13): a report that comes before the job state is
 * loaded waits for it and is applied, instead of being refused for good (the node would drop the finished work and
 * the task would run again). Real LevelDB, a real libp2p peer; the job service is started by hand to hold the window
 * open as long as the test needs.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ReportRequest, ReportResponse } from '../../protocols/src/index.ts'
import { JobService } from '../src/jobs/service.ts'
import { JobState } from '../src/jobs/state.ts'
import { newTask } from '../src/jobs/transitions.ts'
import { NodeRegistry } from '../src/nodes/registry.ts'
import { createMesh } from '../src/plugins/mesh.ts'
import { Store } from '../src/store/index.ts'
import { tempDir, testLogger } from '../../test/helpers/index.ts'
import type { JobRecord } from '../src/jobs/records.ts'
import type { Mesh } from '../src/plugins/mesh.ts'
import type { NodeRecord } from '../src/store/index.ts'
import type { Connection, PeerId } from '@libp2p/interface'

describe('reports during recovery', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let store: Store
  let mesh: Mesh | undefined
  let jobs: JobService | undefined

  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => {
    jobs?.close()
    await mesh?.libp2p.stop()
    await store?.close()
    await dir.remove()
  })

  it('holds a report that comes before the job state is loaded, then applies it: the task completes once', async () => {
    const peer: PeerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    // The state a crashed coordinator left: a node, and a manual job whose first task runs on it.
    store = await Store.open(dir.path)
    const node: NodeRecord = { id: 'node-a', peerId: peer.toString(), account: 'owner', cpus: 2, memoryBytes: 1 << 30, benchmark: 1, version: 'test', registeredAt: 1, lastSeen: 1, status: 'alive' }
    await store.nodes.put(node.id, node)
    const base: JobRecord = {
      id: 'job-1',
      account: 'alice',
      name: 'j',
      mode: 'manual',
      status: 'running',
      createdAt: 1,
      script: 'def process(s):\n    return {}\n',
      inputs: [],
      taskMemoryBytes: 1 << 26,
      taskTimeoutMs: 60_000,
      taskIds: ['job-1.0', 'job-1.1', 'job-1.2'],
      findings: [],
      plan: { level: 1, tasks: 3 }
    }
    const running = { ...newTask(base, { index: 0, entry: 'process', inputName: 'in.txt', inputCids: [] }), status: 'running' as const, attempt: 1, nodeId: node.id, attempts: [{ attempt: 1, nodeId: node.id, assignedAt: 1 }] }
    const queued = newTask(base, { index: 1, entry: 'process', inputName: 'in.txt', inputCids: [] })
    const aggregate = { ...newTask(base, { index: 2, entry: 'aggregate', inputName: 'results.json', inputCids: [] }), status: 'waiting' as const, dependsOn: ['job-1.0', 'job-1.1'] }
    await new JobState(store).apply({ jobs: [base], tasks: [running, queued, aggregate] })

    // The coordinator comes back: registry, mesh, job service — not started yet.
    const registry = new NodeRegistry(store)
    await registry.recover()
    mesh = await createMesh({ dataDir: dir.path, registry })
    jobs = new JobService({ store, mesh, registry, log: testLogger(), stagingDir: `${dir.path}/staged` })
    const report: ReportRequest = {
      taskId: 'job-1.0',
      nodeId: node.id,
      state: ReportRequest.State.COMPLETED,
      errorCode: '',
      errorMessage: '',
      outputCids: ['bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'],
      metrics: { wallMs: 1000, cpuMs: 900, peakMemoryBytes: 1e6, avgMemoryBytes: 1e6 },
      attempt: 1,
      outputBytes: [120],
      outputMemoryBytes: []
    }
    let answered = false
    const answer = jobs.report(report, { peer, connection: {} as unknown as Connection }).finally(() => { answered = true })
    // Whatever happens meanwhile, the report has no answer before the state is loaded.
    await new Promise(resolve => setImmediate(resolve))
    expect(answered).toBe(false)
    await jobs.start()
    expect(await answer).toEqual({ status: ReportResponse.Status.OK, error: '' })
    expect(jobs.tasksOf(jobs.job('job-1') as JobRecord).map(t => [t.id, t.status, t.attempts.length])).toEqual([
      ['job-1.0', 'completed', 1], ['job-1.1', expect.stringMatching(/queued|assigned/), expect.any(Number)], ['job-1.2', 'waiting', 0]
    ])
  })
})

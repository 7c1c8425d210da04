/**
 * The coordinator's side of `assign` and `cancel`: pushes assignments to nodes over libp2p, a bounded number per node
 * at a time, and tells nodes to stop tasks. It moves messages only; what an answer means is the job service's.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { scriptForChunk } from '../../../planner/src/index.ts'
import type { JobRecord, TaskRecord } from './records.ts'
import type { Mesh } from '../plugins/mesh.ts'
import type { PeerId } from '@libp2p/interface'
import type { NodeRecord } from '../store/index.ts'

/**
 * Assignments pushed to one node at once. libp2p resets a peer's streams of one protocol past 32 open at once, and a
 * reset assignment counts as an unreachable node; a node offering much memory can take hundreds of small tasks. No
 * more than the streams the assign protocol keeps open per peer (rpc.ts, 8): past those, every push paid a new
 * stream (a yamux open and close and a protocol negotiation, several times the push itself).
 */
const MAX_PUSHES_PER_NODE = 8

/** The script a task runs: its part of main, the aggregator or whole program, a chunk's stages, the calibration harness, or the job's own. */
export function scriptOf (job: JobRecord, task: TaskRecord): string {
  // A chunk task of several rounds learns its chunk from its script (a loop numbering elements starts from there).
  if (task.chunk !== undefined) return scriptForChunk(jobScript(job, task), task.chunk)
  return jobScript(job, task)
}

function jobScript (job: JobRecord, task: TaskRecord): string {
  switch (task.entry) {
    case 'segment': return job.generated?.segments?.[task.script ?? task.index] ?? ''
    case 'aggregate': return job.generated?.final ?? job.aggregateScript ?? job.script
    case 'main': return job.generated?.chunk ?? job.generated?.final ?? job.script
    case 'calibrate': return job.calibration?.harness ?? ''
    default: return job.script
  }
}

export class Dispatcher {
  private readonly mesh: Mesh
  /** Per node: assignments in flight, and the pushes waiting for one of them to end. */
  private readonly slots = new Map<string, { active: number, waiting: Array<() => void> }>()
  /** Peer ids parsed once, not once per push (a base58 decode and a key parse each). */
  private readonly peers = new Map<string, PeerId>()

  constructor (mesh: Mesh) {
    this.mesh = mesh
  }

  /** Pushes one attempt of a task to a node; rejects with the node's refusal (`RefusedError`) or a network error. */
  async assign (job: JobRecord, task: TaskRecord, node: NodeRecord, attempt: number): Promise<void> {
    await this.inSlot(node.id, async () => await this.mesh.libp2p.services.assign.call(this.peer(node.peerId), {
      taskId: task.id,
      jobId: task.jobId,
      script: scriptOf(job, task),
      inputCids: task.inputCids,
      memoryBytes: task.memoryBytes,
      timeoutMs: task.timeoutMs,
      entry: task.entry,
      attempt,
      inputName: task.inputName,
      resultInputs: task.entry === 'segment' ? task.dependsOn.length : 0
    }))
  }

  /** Tells a node to stop running a task. */
  async cancel (peerId: string, taskId: string, reason: string): Promise<void> {
    await this.mesh.libp2p.services.cancel.call(this.peer(peerId), { taskId, reason })
  }

  private peer (text: string): PeerId {
    let peer = this.peers.get(text)
    if (peer === undefined) this.peers.set(text, peer = peerIdFromString(text))
    return peer
  }

  /** Runs `fn` once fewer than `MAX_PUSHES_PER_NODE` pushes to the node are in flight. */
  private async inSlot<T>(nodeId: string, fn: () => Promise<T>): Promise<T> {
    let slots = this.slots.get(nodeId)
    if (slots === undefined) this.slots.set(nodeId, slots = { active: 0, waiting: [] })
    if (slots.active >= MAX_PUSHES_PER_NODE) await new Promise<void>(resolve => slots.waiting.push(resolve))
    slots.active++
    try {
      return await fn()
    } finally {
      slots.active--
      const next = slots.waiting.shift()
      if (next !== undefined) next()
      else if (slots.active === 0) this.slots.delete(nodeId)
    }
  }
}

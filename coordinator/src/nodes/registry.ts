/**
 * Which nodes exist, which are alive, and what they offer: registration, heartbeats and liveness. Pure logic over
 * the store; the libp2p handlers in `plugins/mesh.ts` only translate messages to these calls.
 */
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { HeartbeatResponse, RegisterResponse } from '../../../protocols/src/index.ts'
import { tokenKey } from '../store/index.ts'
import type { HeartbeatRequest, RegisterRequest } from '../../../protocols/src/index.ts'
import type { NodeRecord, NodeRemoval, Store } from '../store/index.ts'

export interface LivenessOptions {
  /** How often nodes heartbeat (ms). Default 5 000. */
  heartbeatInterval: number
  /** A node silent for this long (ms) is dead. Default 20 000. */
  deadAfter: number
}

export const DEFAULT_LIVENESS: LivenessOptions = { heartbeatInterval: 5_000, deadAfter: 20_000 }

/** The live view of a node: its record plus what its last heartbeat said. */
export interface NodeSession {
  nodeId: string
  peerId: string
  lastSeen: number
  cpuLoad: number
  memoryFreeBytes: number
  runningTasks: string[]
  /** Rebuilt from the store after a restart, and not heard from since. */
  recovered?: boolean
}

export interface RegistryEvents {
  'node:alive': [NodeRecord]
  'node:dead': [NodeRecord]
  /** A node that was alive before a coordinator restart was heard from again. */
  'node:reattached': [NodeSession]
  /** Every heartbeat, with the tasks the node says it runs. */
  'node:heartbeat': [NodeSession]
  /**
   * Its owner removed the node, or revoked the token it enrolled with: its tasks are lost like a dead node's, its
   * connections are to be hung up, and its peer id is refused from now on.
   */
  'node:removed': [NodeRecord]
}

const MAX_MEMORY_BYTES = 16 * 1024 ** 4 // 16 TiB: anything above is a lie, not a machine
const MAX_CPUS = 4096

export class NodeRegistry extends EventEmitter<RegistryEvents> {
  private readonly store: Store
  private readonly options: LivenessOptions
  private readonly sessions = new Map<string, NodeSession>()
  /**
   * Every node record, mirrored from the store (the registry is the only writer of the nodes bucket): loaded once,
   * then kept in step with every put. Registration, the sweep and the scheduler read nodes here, never by scanning
   * LevelDB, which cost a scan of every node per registration and per scheduling pass.
   */
  private records: Promise<Map<string, NodeRecord>> | undefined
  private loaded: Map<string, NodeRecord> | undefined
  /** Peer id → node id, over the same records. */
  private readonly byPeer = new Map<string, string>()
  private readonly now: () => number
  /**
   * Registrations, removals and readmissions run one at a time: a node registering with a token while the token is
   * revoked is either refused or enrolled before the revocation's removal looks for the token's nodes.
   */
  private serial: Promise<unknown> = Promise.resolve()

  constructor (store: Store, options: Partial<LivenessOptions> = {}, now: () => number = Date.now) {
    super()
    this.store = store
    this.options = { ...DEFAULT_LIVENESS, ...options }
    this.now = now
  }

  get heartbeatInterval (): number {
    return this.options.heartbeatInterval
  }

  /** Enrolls (or re-enrolls) the node whose noise-authenticated peer id is `peerId`. */
  async register (peerId: string, request: RegisterRequest): Promise<RegisterResponse> {
    return await this.exclusive(async () => await this.enroll(peerId, request))
  }

  private async enroll (peerId: string, request: RegisterRequest): Promise<RegisterResponse> {
    const refuse = (error: string, status = RegisterResponse.Status.REFUSED): RegisterResponse => ({ status, error, nodeId: '', heartbeatIntervalMs: 0 })
    const records = await this.all()
    const knownId = this.byPeer.get(peerId)
    const existing = knownId === undefined ? undefined : records.get(knownId)
    // First: whatever token it brings, a removed peer hears why it is refused, and that trying again will not help.
    if (existing?.status === 'removed') return refuse(removalMessage(existing), RegisterResponse.Status.REMOVED)
    const key = request.token === '' ? undefined : tokenKey(request.token)
    const token = key === undefined ? undefined : await this.store.tokens.get(key)
    if (key === undefined || token?.kind !== 'enroll') return refuse('unknown enrollment token: create one with "add a node" on the coordinator')
    if (!Number.isInteger(request.cpus) || request.cpus < 1 || request.cpus > MAX_CPUS) return refuse(`cpus must be between 1 and ${MAX_CPUS}`)
    if (!(request.memoryBytes > 0 && request.memoryBytes <= MAX_MEMORY_BYTES)) return refuse('memory offered must be positive and plausible')
    if (!(Number.isFinite(request.benchmark) && request.benchmark > 0 && request.benchmark < 1000)) return refuse('benchmark must be a positive machine factor')

    if (existing != null && existing.account !== token.account) {
      return refuse('this peer id is enrolled by another account')
    }
    const now = this.now()
    const record: NodeRecord = {
      id: existing?.id ?? `node-${randomUUID()}`,
      peerId,
      account: token.account,
      cpus: request.cpus,
      memoryBytes: request.memoryBytes,
      benchmark: request.benchmark,
      version: request.version.slice(0, 64),
      registeredAt: existing?.registeredAt ?? now,
      lastSeen: now,
      status: 'alive',
      // The token it registers with now: revoking that token removes the node.
      token: key
    }
    // In memory before the write: a second registration of the same peer meanwhile (a retry after a timeout)
    // finds this record instead of enrolling the peer twice.
    records.set(record.id, record)
    this.byPeer.set(peerId, record.id)
    await this.store.nodes.put(record.id, record)
    this.sessions.set(record.id, {
      nodeId: record.id, peerId, lastSeen: now, cpuLoad: 0, memoryFreeBytes: record.memoryBytes, runningTasks: []
    })
    this.emit('node:alive', record)
    return { status: RegisterResponse.Status.OK, error: '', nodeId: record.id, heartbeatIntervalMs: this.options.heartbeatInterval }
  }

  /** Records a heartbeat; a node without a live session (dead, or the coordinator restarted) must register again. */
  async heartbeat (peerId: string, request: HeartbeatRequest): Promise<HeartbeatResponse> {
    const removed = this.refused(peerId)
    if (removed !== undefined) return { status: HeartbeatResponse.Status.REMOVED, error: removalMessage(removed) }
    const session = this.sessions.get(request.nodeId)
    if (session == null || session.peerId !== peerId) {
      return { status: HeartbeatResponse.Status.UNKNOWN_NODE, error: 'unknown node: register again' }
    }
    session.lastSeen = this.now()
    session.cpuLoad = request.cpuLoad
    session.memoryFreeBytes = request.memoryFreeBytes
    session.runningTasks = request.runningTasks
    if (session.recovered === true) {
      session.recovered = false
      this.emit('node:reattached', session)
    } else {
      this.emit('node:heartbeat', session)
    }
    return { status: HeartbeatResponse.Status.OK, error: '' }
  }

  /** Declares dead every node silent for longer than `deadAfter`; returns them. */
  async sweep (): Promise<NodeRecord[]> {
    const now = this.now()
    const dead: NodeRecord[] = []
    for (const session of [...this.sessions.values()]) {
      if (now - session.lastSeen <= this.options.deadAfter) continue
      this.sessions.delete(session.nodeId)
      // In turn with removals and registrations: a node removed meanwhile stays removed (on disk too), and one that
      // registered again meanwhile is alive.
      const updated = await this.exclusive(async () => {
        const records = await this.all()
        const record = records.get(session.nodeId)
        if (record == null || record.status === 'removed' || this.sessions.has(record.id)) return undefined
        const updated: NodeRecord = { ...record, status: 'dead', lastSeen: session.lastSeen }
        records.set(updated.id, updated)
        await this.store.nodes.put(updated.id, updated)
        return updated
      })
      if (updated === undefined) continue
      dead.push(updated)
      this.emit('node:dead', updated)
    }
    return dead
  }

  /**
   * After a restart, nodes that were alive get a session again, as if just seen: their next heartbeat re-attaches
   * them, and those that stay silent for `deadAfter` are swept as dead.
   */
  async recover (): Promise<void> {
    const now = this.now()
    for (const record of (await this.all()).values()) {
      if (record.status !== 'alive') continue
      this.sessions.set(record.id, {
        nodeId: record.id, peerId: record.peerId, lastSeen: now, cpuLoad: 0, memoryFreeBytes: record.memoryBytes, runningTasks: [], recovered: true
      })
    }
  }

  /**
   * Removes a node of `account` (DELETE /api/nodes/ID): its session ends, its tasks are lost (`node:removed`) and its
   * peer id is refused from now on. Undefined when the account has no such node; a removed node stays removed.
   */
  async remove (options: { account: string, nodeId: string }): Promise<NodeRecord | undefined> {
    return await this.exclusive(async () => {
      const record = (await this.all()).get(options.nodeId)
      if (record?.account !== options.account) return undefined
      return (await this.detach([record], 'removed'))[0] ?? record
    })
  }

  /**
   * Revokes an enrollment token of `account` (its key, `tokenKey(text)`) and removes, as `remove` does, every node
   * that registered with it, in one batch: a node registering with it meanwhile is either refused or removed with the
   * others. Returns the nodes removed.
   */
  async revokeEnrollment (options: { account: string, token: string }): Promise<NodeRecord[]> {
    return await this.exclusive(async () => {
      const enrolled = [...(await this.all()).values()].filter(record => record.account === options.account && record.token === options.token)
      return await this.detach(enrolled, 'token_revoked', [this.store.tokens.delOp(options.token)])
    })
  }

  /**
   * Lifts the refusal of a removed node of `account`: it may register again with a valid enrollment token of that
   * account, and keeps its id and history. Undefined when the account has no such node.
   */
  async readmit (options: { account: string, nodeId: string }): Promise<NodeRecord | undefined> {
    return await this.exclusive(async () => {
      const records = await this.all()
      const record = records.get(options.nodeId)
      if (record?.account !== options.account) return undefined
      if (record.status !== 'removed') return record
      const readmitted: NodeRecord = { ...record, status: 'dead' }
      delete readmitted.removal
      // Stored first: the peer is let in only once that survives a restart.
      await this.store.nodes.put(readmitted.id, readmitted)
      records.set(readmitted.id, readmitted)
      return readmitted
    })
  }

  /**
   * The record of a removed node whose peer id this is, from memory: what every door (register, heartbeat, report,
   * chunks, the connection gater) checks. Undefined for everyone else, and before the registry has loaded (`recover`).
   */
  refused (peerId: string): NodeRecord | undefined {
    const nodeId = this.byPeer.get(peerId)
    const record = nodeId === undefined ? undefined : this.loaded?.get(nodeId)
    return record?.status === 'removed' ? record : undefined
  }

  isAlive (nodeId: string): boolean {
    return this.sessions.has(nodeId)
  }

  session (nodeId: string): NodeSession | undefined {
    return this.sessions.get(nodeId)
  }

  /** Nodes of one account (every node for `undefined`, the admin's view), with their live state, in id order. */
  async list (account?: string): Promise<Array<NodeRecord & { session?: NodeSession }>> {
    const nodes = []
    for (const record of (await this.all()).values()) {
      if (account !== undefined && record.account !== account) continue
      const session = this.sessions.get(record.id)
      const status = record.status === 'removed' ? 'removed' as const : session != null ? 'alive' as const : 'dead' as const
      nodes.push({ ...record, status, ...(session != null ? { session, lastSeen: session.lastSeen } : {}) })
    }
    return nodes.sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  }

  /** The records of the nodes alive now, from memory: what the scheduler places tasks on. */
  alive (): NodeRecord[] {
    const nodes: NodeRecord[] = []
    for (const nodeId of this.sessions.keys()) {
      const record = this.loaded?.get(nodeId)
      if (record !== undefined) nodes.push(record)
    }
    return nodes
  }

  /** A node's record from memory (alive or dead); undefined for an unknown id or before the registry has loaded. */
  record (nodeId: string): NodeRecord | undefined {
    return this.loaded?.get(nodeId)
  }

  /**
   * Marks nodes removed in one batch (with `also`), ends their sessions and announces them; returns those that were
   * not removed yet.
   */
  private async detach (nodes: NodeRecord[], reason: NodeRemoval['reason'], also: Parameters<Store['batch']>[0] = []): Promise<NodeRecord[]> {
    const records = await this.all()
    const now = this.now()
    const removed: NodeRecord[] = []
    for (const record of nodes) {
      if (record.status === 'removed') continue
      const session = this.sessions.get(record.id)
      removed.push({ ...record, status: 'removed', removal: { reason, at: now }, lastSeen: session?.lastSeen ?? record.lastSeen })
    }
    await this.store.batch([...removed.map(record => this.store.nodes.putOp(record.id, record)), ...also])
    for (const record of removed) {
      records.set(record.id, record)
      this.sessions.delete(record.id)
    }
    for (const record of removed) this.emit('node:removed', record)
    return removed
  }

  private async exclusive<T> (work: () => Promise<T>): Promise<T> {
    const run = this.serial.then(work)
    this.serial = run.catch(() => {})
    return await run
  }

  /** Every node record, loaded from the store on first use. */
  private async all (): Promise<Map<string, NodeRecord>> {
    this.records ??= (async () => {
      const records = new Map<string, NodeRecord>()
      for await (const record of this.store.nodes.values()) {
        records.set(record.id, record)
        this.byPeer.set(record.peerId, record.id)
      }
      this.loaded = records
      return records
    })().catch(err => {
      this.records = undefined // the next call tries again
      throw err
    })
    return await this.records
  }
}

/** What a removed node is told at every door, and how it can come back. */
export function removalMessage (record: NodeRecord): string {
  const why = record.removal?.reason === 'token_revoked' ? ' (it revoked the enrollment token this node joined with)' : ''
  return `this node was removed by its owner${why}; enroll it again with a new token, after its owner allows node ${record.id} ` +
    'again ("Allow again" on the Nodes page, or POST /api/nodes/ID/readmit)'
}

/**
 * The job service: wires intake (submissions become jobs), the task state machine (`transitions.ts`), placement
 * and dispatch (tasks pushed to nodes over libp2p) and the node registry's liveness events. Every transition is stored
 * atomically, in one LevelDB batch (`JobState.commit`, with the transitions computed while the one before was written),
 * before anything acts on it; memory only mirrors the store, and `start()` rebuilds it after a crash.
 *
 * Events (`job`, `task`) feed the server-sent event streams of the HTTP API.
 */
import { parseCid, ReportRequest, ReportResponse } from '../../../protocols/src/index.ts'
import { DEFAULT_UNIT_RATE } from './billing.ts'
import { JobChunks } from './chunks.ts'
import { Dispatcher } from './dispatch.ts'
import { JobIntake } from './intake.ts'
import { placeQueued, speculation, stragglers } from './placement.ts'
import { DEFAULT_ACCOUNT_LIMITS, SHUN_MS } from './policy.ts'
import { FINAL_JOB_STATUSES } from './records.ts'
import { JobState } from './state.ts'
import {
  assignmentFailed, jobCancelled, nodeDied, placed, planFailed, planned, reconciled, speculated, started
} from './transitions.ts'
import { reported } from './reports.ts'
import { payment } from './payment.ts'
import { StoppingTasks } from './stopping.ts'
import { PlanError } from '../../../planner/src/index.ts'
import type { JobSubmission } from './intake.ts'
import type { AccountLimits } from './policy.ts'
import type { JobRecord, PaymentRecord, TaskRecord } from './records.ts'
import type { Change, JobStateEvents } from './state.ts'
import type { ReportContext } from './reports.ts'
import type { NodeRegistry, NodeSession } from '../nodes/registry.ts'
import type { Mesh } from '../plugins/mesh.ts'
import type { NodeRecord, Store } from '../store/index.ts'
import type { RequestContext } from '../../../protocols/src/index.ts'
import type { FastifyBaseLogger } from 'fastify'

export { JobUsageError, definesAggregate, rejectionOf } from './intake.ts'
export type { JobSubmission } from './intake.ts'

/** How often running tasks are checked for stragglers (ms). */
const STRAGGLER_CHECK_MS = 500

export interface JobServiceOptions {
  store: Store
  mesh: Mesh
  registry: NodeRegistry
  log: FastifyBaseLogger
  /** Micro-units per second × GB on a reference machine. */
  unitRate?: number
  /** Where automatic jobs' inputs wait while they are measured (default `DATA/staged`). */
  stagingDir: string
  /** What one account may use at once (default `DEFAULT_ACCOUNT_LIMITS`). */
  limits?: Partial<AccountLimits>
}

/** A submission past what its account may have at once (429): not wrong, only too much now. */
export class AccountLimitError extends Error {
  override name = 'AccountLimitError'
}

export type JobServiceEvents = JobStateEvents

export class JobService {
  private readonly state: JobState
  private readonly chunks: JobChunks
  private readonly intake: JobIntake
  private readonly dispatcher: Dispatcher
  private readonly mesh: Mesh
  private readonly registry: NodeRegistry
  private readonly log: FastifyBaseLogger
  private readonly unitRate: number
  readonly limits: AccountLimits
  private scheduling = false
  private rescheduling = false
  private closed = false
  private retryTimer: NodeJS.Timeout | undefined
  private stragglerTimer: NodeJS.Timeout | undefined
  /**
   * Per node, the tasks it was told to stop (a superseded copy, a cancelled job's task) and has not confirmed
   * stopping, with their memory: the node keeps that memory for them until then, so the coordinator counts it too.
   */
  private readonly stopping = new StoppingTasks()
  /** Nodes that answered an assignment with "no room now": nothing more goes there until they send news. */
  private readonly busy = new Set<string>()
  /** Resolved once `start()` has loaded the state: reports that come earlier wait for it. */
  private readonly loaded = Promise.withResolvers<void>()

  constructor (options: JobServiceOptions) {
    this.state = new JobState(options.store)
    this.chunks = new JobChunks(options.mesh, options.log)
    this.dispatcher = new Dispatcher(options.mesh)
    this.mesh = options.mesh
    this.registry = options.registry
    this.log = options.log
    this.unitRate = options.unitRate ?? DEFAULT_UNIT_RATE
    this.limits = { ...DEFAULT_ACCOUNT_LIMITS, ...options.limits }
    this.intake = new JobIntake({ chunks: this.chunks, registry: options.registry, log: options.log, stagingDir: options.stagingDir })
    // A failed start is raised by start() itself; the reports waiting for it are answered with an error.
    this.loaded.promise.catch(() => {})
  }

  /** The job buckets of the store (billing routes read payments and earnings there). */
  get db (): JobState['db'] {
    return this.state.db
  }

  on<E extends keyof JobServiceEvents>(event: E, listener: (...args: JobServiceEvents[E]) => void): this {
    this.state.on(event, listener as any)
    return this
  }

  off<E extends keyof JobServiceEvents>(event: E, listener: (...args: JobServiceEvents[E]) => void): this {
    this.state.off(event, listener as any)
    return this
  }

  /** Loads the state machine from the store, hooks node events and places whatever waits. */
  async start (): Promise<void> {
    try {
      await this.state.load()
    } catch (err) {
      this.loaded.reject(err)
      throw err
    }
    this.loaded.resolve()
    this.registry.on('node:alive', () => { this.schedule() })
    this.registry.on('node:reattached', session => { this.reconcile(session) })
    this.registry.on('node:heartbeat', session => { this.reconcile(session) })
    this.registry.on('node:dead', node => {
      this.stopping.forget(node.id)
      this.busy.delete(node.id)
      this.commit(async () => nodeDied(this.state, node, Date.now()))
        .then(() => { this.schedule() }, err => { this.log.error({ err }, 'requeueing a dead node\'s tasks failed') })
    })
    // Removed by its owner (or its enrollment token revoked): lost like a dead node, at once.
    this.registry.on('node:removed', node => {
      this.stopping.forget(node.id)
      this.busy.delete(node.id)
      this.commit(async () => nodeDied(this.state, node, Date.now(), 'node_removed'))
        .then(() => { this.schedule() }, err => { this.log.error({ err }, 'requeueing a removed node\'s tasks failed') })
    })
    this.chunks.reprovide(this.unfinishedInputs())
    this.stragglerTimer = setInterval(() => { if (this.state.queue.size === 0 && stragglers(this.state, Date.now()).length > 0) this.schedule() }, STRAGGLER_CHECK_MS)
    this.stragglerTimer.unref()
    const running = [...this.state.tasks.values()].filter(task => task.status === 'assigned' || task.status === 'running').length
    this.log.info({ jobs: this.state.jobs.size, queued: this.state.queue.size, running }, 'job state loaded')
    // Jobs whose calibration ended before a crash, and were not planned yet: planned now. Staged inputs of jobs that
    // ended meanwhile are removed.
    for (const job of this.state.jobs.values()) {
      if (job.staged === undefined) continue
      if (FINAL_JOB_STATUSES.includes(job.status)) this.intake.discardStaged(job.id).catch(() => {})
      else if (['completed', 'failed'].includes(this.state.tasks.get(job.calibration?.taskId ?? '')?.status ?? '')) this.planJob(job.id)
    }
    this.schedule()
  }

  close (): void {
    this.closed = true
    clearTimeout(this.retryTimer)
    clearInterval(this.stragglerTimer)
    this.chunks.close()
  }

  job (id: string): JobRecord | undefined {
    return this.state.stored.jobs.get(id)
  }

  /** The account's jobs, newest first. */
  list (account: string): JobRecord[] {
    return [...this.state.stored.jobs.values()].filter(job => job.account === account).sort((a, b) => b.createdAt - a.createdAt)
  }

  /** Every task of the job: its calibration (if it was measured), then its plan's. */
  tasksOf (job: JobRecord): TaskRecord[] {
    return this.state.stored.allTasksOf(job)
  }

  /** The result exactly as Python wrote it, or undefined while there is none. */
  async resultText (job: JobRecord): Promise<string | undefined> {
    if (job.resultCid === undefined) return undefined
    return new TextDecoder().decode(await this.chunks.read(job.resultCid))
  }

  /** Counts for the landing page. */
  stats (): { runningJobs: number, completedJobs: number, queuedTasks: number } {
    let runningJobs = 0
    let completedJobs = 0
    for (const job of this.state.stored.jobs.values()) {
      if (job.status === 'running' || job.status === 'pending_aggregation' || job.status === 'queued') runningJobs++
      else if (job.status === 'completed') completedJobs++
    }
    return { runningJobs, completedJobs, queuedTasks: this.state.stored.queued }
  }

  /** Checks, scans and plans a submission, stores the job and its tasks in one batch, then places the tasks. */
  async submit (submission: JobSubmission): Promise<JobRecord> {
    const active = this.list(submission.account).filter(job => !FINAL_JOB_STATUSES.includes(job.status)).length
    if (active >= this.limits.activeJobs) {
      throw new AccountLimitError(`this account has ${active} jobs queued or running, the most one account may have at once: wait for one to end, or cancel one`)
    }
    const { job, tasks } = await this.intake.prepare(submission)
    await this.commit(async () => ({ jobs: [job], tasks }))
    if (tasks.length > 0) this.log.info({ job: job.id, mode: job.mode, level: job.plan.level, tasks: tasks.length }, 'job accepted')
    this.schedule()
    return job
  }

  /** Cancels a job; its running tasks are told to stop. */
  async cancel (job: JobRecord): Promise<JobRecord> {
    const result = await this.commit(async () => {
      const current = this.state.jobs.get(job.id)
      if (current === undefined || FINAL_JOB_STATUSES.includes(current.status)) return {}
      return jobCancelled(this.state, current, Date.now(), this.unitRate)
    })
    this.schedule()
    return result.jobs?.[0] ?? this.state.stored.jobs.get(job.id) ?? job
  }

  /** Pays a job that ended with something to pay: its payment and every earning of its tasks become `paid` in one batch. */
  async pay (job: JobRecord): Promise<PaymentRecord> {
    let paid: PaymentRecord | undefined
    await this.commit(async () => {
      const paying = await payment(this.state, job.id, Date.now())
      paid = paying.paid
      return paying.change
    })
    return paid as PaymentRecord
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Reports from nodes

  /**
   * The report protocol handler: applies a node's report once, and only from the node the task is assigned to. A
   * report that comes while the state is still loading (the coordinator just restarted) waits for it: refused, it
   * would make the node drop work it finished.
   */
  async report (report: ReportRequest, context: RequestContext): Promise<ReportResponse> {
    await this.loaded.promise
    const ok: ReportResponse = { status: ReportResponse.Status.OK, error: '' }
    // An answer read from the state waits until what it read is stored: a node is never told more than a crash keeps.
    const answer = async (response: ReportResponse): Promise<ReportResponse> => {
      await this.state.settled()
      return response
    }
    const refused = async (error: string): Promise<ReportResponse> => await answer({ status: ReportResponse.Status.REFUSED, error })
    const task = this.state.tasks.get(report.taskId)
    if (task === undefined) return await refused(`no task ${report.taskId}`)
    // The task's current attempt, or the copy of it running as a backup.
    const copy = task.backup !== undefined && report.attempt === task.backup.attempt
    const nodeId = copy ? task.backup?.nodeId : task.nodeId
    const node = nodeId !== undefined ? this.registry.record(nodeId) ?? await this.state.db.store.nodes.get(nodeId) : undefined
    if (node === undefined || node.peerId !== context.peer.toString()) return await refused(`task ${report.taskId} is not assigned to this node`)
    // A node reports after releasing the task's memory: news that it may have room again.
    this.heardFrom(node.id)
    if (!copy && report.attempt !== task.attempt) return await refused(`attempt ${report.attempt} of task ${report.taskId} is over`)
    if (report.state === ReportRequest.State.RUNNING) {
      if (copy) return await answer(ok)
      await this.commit(async () => started(this.state.tasks.get(task.id), report.attempt))
      return ok
    }
    // Reported twice (a retry after a lost answer): already applied.
    if (task.status !== 'assigned' && task.status !== 'running') return await answer(ok)
    if (report.state === ReportRequest.State.COMPLETED) {
      // Results the coordinator serves or aggregates are pulled before the transition, straight from the reporter.
      try {
        await this.pullOutputs(task, report.outputCids, context)
      } catch (err: any) {
        this.log.warn({ task: task.id, err: err?.message }, 'could not fetch the task\'s output')
        return { status: ReportResponse.Status.ERROR, error: `the coordinator could not fetch the output: ${String(err?.message ?? err)}` }
      }
    }
    await this.commit(async () => await reported(this.state, report, node, this.reportContext()))
    this.schedule()
    return ok
  }

  private reportContext (): ReportContext {
    const { registry } = this
    // `largestNode` looks at every alive node: only for the few transitions that size a task, not for every report.
    return { unitRate: this.unitRate, get largestNode () { return Math.max(0, ...registry.alive().map(node => node.memoryBytes)) }, io: this.chunks, now: Date.now() }
  }

  /**
   * Outputs the coordinator needs itself: the final result, every process result of a job without aggregation, or a
   * calibration's measurements.
   */
  private async pullOutputs (task: TaskRecord, cids: string[], context: RequestContext): Promise<void> {
    const job = this.state.jobs.get(task.jobId)
    if (job === undefined) return
    // An automatic job's result is its last task's output; other jobs aggregate (the aggregation task is the job's
    // last, records.ts), or combine every task's result.
    const aggregated = this.state.tasks.get(job.taskIds.at(-1) ?? '')?.entry === 'aggregate'
    const needed = task.entry === 'calibrate' || (job.mode === 'auto' ? task.id === job.taskIds.at(-1) : (!aggregated || task.entry === 'aggregate'))
    if (!needed) return
    for (const text of cids) {
      const cid = parseCid(text)
      if (await this.mesh.chunks.store.has(cid)) continue
      await this.mesh.chunks.fetchFrom(context.peer, cid).catch(async () => { await this.mesh.chunks.fetch(cid) })
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Placement and assignment

  /** Places queued tasks on nodes and pushes the assignments; runs again if asked while running. */
  schedule (): void {
    if (this.closed) return
    if (this.scheduling) {
      this.rescheduling = true
      return
    }
    this.scheduling = true
    this.placeAll().catch(err => { this.log.error({ err }, 'scheduling failed') }).finally(() => {
      this.scheduling = false
      // Tasks left waiting only because their nodes are shunned get another chance when the shunning ends.
      if (this.state.queue.size > 0 && this.retryTimer === undefined && !this.closed) {
        this.retryTimer = setTimeout(() => { this.retryTimer = undefined; this.schedule() }, SHUN_MS)
        this.retryTimer.unref()
      }
      if (this.rescheduling) {
        this.rescheduling = false
        this.schedule()
      }
    })
  }

  private async placeAll (): Promise<void> {
    if (this.state.queue.size === 0) {
      await this.speculate()
      return
    }
    const nodes = this.registry.alive().filter(node => !this.busy.has(node.id))
    if (nodes.length === 0) return
    const pushes: Array<{ task: TaskRecord, node: NodeRecord }> = []
    await this.commit(async () => {
      const placements = placeQueued(this.state, nodes, Date.now(), { stopping: this.stopping.entries(), maxPerAccount: this.limits.runningTasks })
      const change = placed(this.state, placements.map(({ task, node }) => ({ task, nodeId: node.id })), Date.now())
      const byId = new Map(nodes.map(node => [node.id, node]))
      for (const task of change.tasks ?? []) {
        const node = byId.get(task.nodeId ?? '')
        if (node !== undefined) pushes.push({ task, node })
      }
      return change
    })
    await Promise.all(pushes.map(async ({ task, node }) => { await this.push(task, node) }))
  }

  /**
   * Speculative execution: when nothing waits in the queue, a straggler gets a copy on an idle node that fits it
   * (one that has not failed it); the first copy to report a result wins.
   */
  private async speculate (): Promise<void> {
    const nodes = this.registry.alive().filter(node => !this.busy.has(node.id))
    // Most passes find no idle node (or no straggler): known without a transition.
    if (speculation(this.state, nodes, Date.now(), this.stopping.entries()) === undefined) return
    let pushed: { task: TaskRecord, node: NodeRecord } | undefined
    await this.commit(async () => {
      if (this.state.queue.size > 0) return {}
      const found = speculation(this.state, nodes, Date.now(), this.stopping.entries())
      if (found === undefined) return {}
      const change = speculated(found.task, found.node.id, Date.now())
      pushed = { task: change.tasks?.[0] ?? found.task, node: found.node }
      return change
    })
    if (pushed?.task.backup !== undefined) await this.push(pushed.task, pushed.node, pushed.task.backup.attempt)
  }

  /**
   * Pushes one assignment (the task's attempt, or its backup copy's). A node without room now (`busy`) gets nothing
   * more until it sends news (a heartbeat, a report, a confirmed cancel), and the task waits in the queue without
   * counting it as a failure and without avoiding that node; a refusal or an unreachable node puts the task back in
   * the queue for another node, or drops the copy.
   */
  private async push (task: TaskRecord, node: NodeRecord, attempt = task.attempt): Promise<void> {
    const job = this.state.jobs.get(task.jobId)
    if (job === undefined) return
    try {
      await this.dispatcher.assign(job, task, node, attempt)
      this.log.info({ task: task.id, node: node.id, attempt }, 'task assigned')
    } catch (err: any) {
      const outcome = err?.name === 'BusyError' ? 'busy' : err?.name === 'RefusedError' ? 'refused' : 'unreachable'
      if (outcome === 'busy') {
        this.busy.add(node.id)
        this.log.info({ task: task.id, node: node.id, reason: err?.message }, 'the node has no room for the task now; it waits for the node to free memory')
      } else {
        this.log.warn({ task: task.id, node: node.id, err: err?.message }, 'assignment not accepted; the task goes back to the queue')
      }
      await this.commit(async () => assignmentFailed(this.state.tasks.get(task.id), attempt, outcome, String(err?.message ?? err), Date.now()))
      // A busy node or a refusal waits for the next event; an unreachable node is swept as dead, others may take it.
      if (outcome === 'unreachable') this.schedule()
    }
  }

  /** News from a node (a heartbeat, a report, an answered cancel): one that had no room may have some now. */
  private heardFrom (nodeId: string): void {
    if (this.busy.delete(nodeId)) this.schedule()
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Liveness

  /** Re-queues what a node's heartbeat says it does not run (`reconciled`). */
  private reconcile (session: NodeSession): void {
    this.stopping.runningOn(session.nodeId, session.runningTasks)
    this.heardFrom(session.nodeId)
    const grace = 3 * this.registry.heartbeatInterval
    // Most heartbeats change nothing: look before queueing a transition.
    if (reconciled(this.state, session, grace, Date.now()).tasks?.length === 0) return
    this.commit(async () => reconciled(this.state, session, grace, Date.now()))
      .then(() => { this.schedule() }, err => { this.log.error({ err }, 'reconciling a node\'s tasks failed') })
  }

  /** Chunks that unfinished tasks need. */
  private * unfinishedInputs (): Generator<string> {
    for (const task of this.state.tasks.values()) {
      if (['completed', 'failed', 'cancelled'].includes(task.status)) continue
      yield * task.inputCids
    }
  }

  // ---------------------------------------------------------------------------------------------------------------

  /**
   * Runs one transition: `compute` reads the state (after every transition before it) and returns its change; the
   * change is stored and mirrored, its log lines written and its effects run.
   */
  private async commit (compute: () => Promise<Change>): Promise<Change> {
    const change = await this.state.commit(async () => {
      const change = await compute()
      // Before the next transition can place anything: the memory of tasks being stopped is not free yet (a task told
      // to stop keeps its memory size in the change, so the record before it says as much).
      for (const effect of change.effects ?? []) {
        if (effect.type === 'cancel') this.stopping.mark(effect.nodeId, effect.taskId, this.state.tasks.get(effect.taskId)?.memoryBytes ?? 0)
      }
      return change
    })
    for (const note of change.log ?? []) this.log[note.level](note.data, note.message)
    for (const effect of change.effects ?? []) {
      if (effect.type === 'cancel') this.cancelOn(effect.taskId, effect.nodeId, effect.reason)
      else if (effect.type === 'plan') this.planJob(effect.jobId)
    }
    for (const job of change.jobs ?? []) {
      if (job.staged !== undefined && FINAL_JOB_STATUSES.includes(job.status)) this.intake.discardStaged(job.id).catch(() => {})
    }
    return change
  }

  /**
   * Plans a job whose calibration ended, with its measurements (the calibration task's output) or, when it failed, on
   * the static estimate; a job that fits no node fails with `does_not_fit` and owes its calibration.
   */
  private planJob (jobId: string): void {
    const run = async (): Promise<void> => {
      const job = this.state.jobs.get(jobId)
      if (job?.staged === undefined || FINAL_JOB_STATUSES.includes(job.status)) return
      const calibration = this.state.tasks.get(job.calibration?.taskId ?? '')
      const output = calibration?.status === 'completed' && calibration.outputCids[0] !== undefined
        ? new TextDecoder().decode(await this.chunks.read(calibration.outputCids[0]))
        : undefined
      let intake
      try {
        intake = await this.intake.planMeasured(job, output)
      } catch (err: any) {
        if (!(err instanceof PlanError)) throw err
        await this.commit(async () => planFailed(this.state, job, { code: 'does_not_fit', message: err.message, ...(err.line !== undefined ? { line: err.line } : {}) }, Date.now(), this.unitRate))
        return
      }
      await this.commit(async () => planned(this.state, intake))
      this.schedule()
    }
    run().catch(err => {
      this.log.error({ err, job: jobId }, 'planning a measured job failed')
      const job = this.state.jobs.get(jobId)
      if (job === undefined) return
      this.commit(async () => planFailed(this.state, job, { code: 'planning_failed', message: `the coordinator could not plan the job: ${String(err?.message ?? err)}` }, Date.now(), this.unitRate))
        .catch(e => { this.log.error({ err: e, job: jobId }, 'could not record that planning failed') })
    })
  }

  /**
   * Tells one node to stop running a task. Its answer (stopped, or not running it) frees the task's memory there;
   * without an answer, its next heartbeat that no longer lists the task does.
   */
  private cancelOn (taskId: string, nodeId: string, reason: string): void {
    const lookup = async (): Promise<NodeRecord | undefined> => this.registry.record(nodeId) ?? await this.state.db.store.nodes.get(nodeId)
    const stopped = (): void => {
      this.stopping.stopped(nodeId, taskId)
      this.heardFrom(nodeId)
      this.schedule()
    }
    lookup().then(async node => {
      if (node === undefined) return
      await this.dispatcher.cancel(node.peerId, taskId, reason)
      stopped()
    }).catch(err => {
      if (err?.name === 'RemoteError' || err?.name === 'RefusedError') stopped()
      else this.log.debug({ task: taskId, err: err?.message }, 'cancel not delivered')
    })
  }
}

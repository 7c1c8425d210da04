/**
 * A worker's tasks: the assignments it accepts from its coordinator (never more memory than it offers), the cancels,
 * the tasks running now and what they use, and the report of each finished one, retried until the coordinator
 * takes it. What a task does is the `RunTask` passed in (the sandbox executors, see tasks.ts).
 */
import { setMaxListeners } from '@libp2p/interface'
import { AssignResponse, CancelResponse, RefusedError, ReportRequest } from '../../protocols/src/index.ts'
import type { TaskProgressEvent } from './executors/index.ts'
import type { NodeLoad } from './membership.ts'
import type { AssignRequest, ChunkExchange, ReportService, RequestContext } from '../../protocols/src/index.ts'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'

/** A report is retried with backoff (up to 5 s apart) this many times: a coordinator restart is minutes at most. */
const REPORT_ATTEMPTS = 60

/** What a finished task reports. */
export interface TaskResult {
  state: 'completed' | 'failed'
  errorCode?: string
  errorMessage?: string
  outputCids?: string[]
  /** Byte size of each output, in order. */
  outputBytes?: number[]
  /** Automatic mode: what decoding each output takes, as its task measured it (the `memory` its partials begin with). */
  outputMemoryBytes?: number[]
  metrics?: { wallMs: number, cpuMs: number, peakMemoryBytes: number, avgMemoryBytes: number }
}

/** What a running task gets from the worker. */
export interface RunTaskContext {
  chunks: ChunkExchange
  signal: AbortSignal
  coordinator: PeerId
  /** Progress of the task's sandbox: its samples are the memory the node's heartbeats report in use. */
  onProgress?: (event: TaskProgressEvent) => void
}

/** Runs one assigned task: fetch inputs through `chunks`, run in a sandbox, store outputs. */
export interface RunTask {
  (task: AssignRequest, context: RunTaskContext): Promise<TaskResult>
  /** The sandboxes it runs tasks in (`bwrap`, `ssh`, `none`), which the node announces when it registers. */
  readonly executors?: readonly string[]
}

/** Options of {@link TaskIntake}. */
export interface TaskIntakeInit {
  /** Runs assigned tasks. Without it the node refuses assignments. */
  runTask?: RunTask
  /** Memory offered to tasks, in bytes. */
  memoryBytes: number
  /** The coordinator, whom reports go to and inputs may come from. */
  coordinator: { peer: PeerId, address: Multiaddr }
  /** The host's services; read when a task starts or ends (the host is created after the intake: it mounts its handlers). */
  services: () => { chunks: ChunkExchange, report: ReportService }
  /** The node id to report under, once registered. */
  nodeId: () => string | undefined
  /** Whether reports are still sent: not once the node stops or is removed. */
  reporting: () => boolean
  log: Logger
}

/** Accepts, runs, cancels and reports this node's tasks. */
export class TaskIntake {
  private readonly running = new Map<string, AbortController>()
  /** Memory promised to each running task: a node never accepts more than it offers. */
  private readonly reserved = new Map<string, number>()
  /** Memory each running task's tree used at its monitor's last sample. */
  private readonly inUse = new Map<string, number>()
  /** Finished tasks whose report the coordinator has not taken yet. */
  private readonly unreported = new Set<string>()

  constructor (private readonly init: TaskIntakeInit) {}

  /** The assign handler: accepts a task when it fits in the memory not promised yet, and runs it after answering. */
  async assign (task: AssignRequest, context: RequestContext): Promise<AssignResponse> {
    const { memoryBytes, log } = this.init
    const refuse = (error: string): AssignResponse => ({ status: AssignResponse.Status.REFUSED, error, memoryFreeBytes: 0 })
    if (this.init.runTask == null) return refuse('this node does not run tasks')
    if (task.taskId === '') return refuse('the task has no id')
    if (this.running.has(task.taskId)) return { status: AssignResponse.Status.ACCEPTED, error: '', memoryFreeBytes: this.memoryFree() }
    if (task.memoryBytes > memoryBytes) return refuse(`the task needs ${task.memoryBytes} bytes, more than the ${memoryBytes} this node offers`)
    const free = this.memoryFree()
    if (task.memoryBytes > free) {
      // Not a failure: the memory is promised to running tasks; the coordinator tries again once some is released.
      return { status: AssignResponse.Status.BUSY, error: `no room now: the task needs ${task.memoryBytes} bytes, ${free} of ${memoryBytes} are free`, memoryFreeBytes: free }
    }
    this.reserved.set(task.taskId, task.memoryBytes)
    const controller = new AbortController()
    setMaxListeners(Infinity, controller.signal)
    this.running.set(task.taskId, controller)
    log.info({ task: task.taskId, job: task.jobId, from: context.peer.toString() }, 'task accepted')
    // The task runs after we answered: the coordinator hears about it through report.
    this.execute(task, controller).catch(err => { log.error({ err, task: task.taskId }, 'task bookkeeping failed') })
    return { status: AssignResponse.Status.ACCEPTED, error: '', memoryFreeBytes: this.memoryFree() }
  }

  /** The cancel handler: aborts a running task; it is not reported. */
  async cancel (request: { taskId: string, reason: string }): Promise<CancelResponse> {
    const controller = this.running.get(request.taskId)
    if (controller == null) return { status: CancelResponse.Status.UNKNOWN, error: `task ${request.taskId} is not running here` }
    controller.abort(new Error(`cancelled: ${request.reason}`))
    this.forget(request.taskId)
    this.init.log.info({ task: request.taskId, reason: request.reason }, 'task cancelled')
    return { status: CancelResponse.Status.OK, error: '' }
  }

  /** Ids of the tasks running now. */
  runningTasks (): string[] {
    return [...this.running.keys()]
  }

  /** What the next heartbeat says about the tasks here. */
  load (): NodeLoad {
    let used = 0
    for (const bytes of this.inUse.values()) used += bytes
    return { memoryUsedBytes: used, memoryFreeBytes: this.memoryFree(), runningTasks: [...this.running.keys(), ...this.unreported] }
  }

  /** Aborts every running task (they are not reported). */
  abortAll (reason: string): void {
    for (const controller of this.running.values()) controller.abort(new Error(reason))
  }

  /** Memory offered and not promised to a running task. */
  private memoryFree (): number {
    let committed = 0
    for (const bytes of this.reserved.values()) committed += bytes
    return this.init.memoryBytes - committed
  }

  private forget (taskId: string): void {
    this.running.delete(taskId)
    this.reserved.delete(taskId)
    this.inUse.delete(taskId)
  }

  private async execute (task: AssignRequest, controller: AbortController): Promise<void> {
    const onProgress = (event: TaskProgressEvent): void => {
      if (event.type === 'sample' && this.running.get(task.taskId) === controller) this.inUse.set(task.taskId, event.rssBytes)
    }
    let result: TaskResult
    try {
      const context = { chunks: this.init.services().chunks, signal: controller.signal, coordinator: this.init.coordinator.peer, onProgress }
      result = await (this.init.runTask as RunTask)(task, context)
    } catch (err: any) {
      result = { state: 'failed', errorCode: 'sandbox_error', errorMessage: String(err?.message ?? err) }
    } finally {
      this.forget(task.taskId)
    }
    if (controller.signal.aborted) return
    await this.report(task, result)
  }

  /**
   * Reports until the coordinator takes it: a coordinator that restarts meanwhile gets the report when it is back
   * (the task stays in the heartbeat's list until then, so it is not taken for lost). A refusal means the attempt
   * is over (re-queued elsewhere, or the job ended).
   */
  private async report (task: AssignRequest, result: TaskResult): Promise<void> {
    const { log } = this.init
    const request: ReportRequest = {
      taskId: task.taskId,
      nodeId: this.init.nodeId() ?? '',
      state: result.state === 'completed' ? ReportRequest.State.COMPLETED : ReportRequest.State.FAILED,
      errorCode: result.errorCode ?? '',
      errorMessage: result.errorMessage ?? '',
      outputCids: result.outputCids ?? [],
      outputBytes: result.outputBytes ?? [],
      outputMemoryBytes: result.outputMemoryBytes ?? [],
      metrics: result.metrics,
      attempt: task.attempt
    }
    this.unreported.add(task.taskId)
    try {
      for (let attempt = 0, delay = 250; attempt < REPORT_ATTEMPTS; attempt++, delay = Math.min(delay * 2, 5_000)) {
        if (!this.init.reporting()) return
        try {
          // The node id as of now: the node may have registered again meanwhile.
          await this.init.services().report.call(this.init.coordinator.address, { ...request, nodeId: this.init.nodeId() ?? '' })
          return
        } catch (err: any) {
          if (err instanceof RefusedError) {
            log.warn({ task: task.taskId, reason: err.message }, 'the coordinator refused the report')
            return
          }
          log.warn({ task: task.taskId, err: err?.message }, 'could not report the task; retrying')
          await new Promise(resolve => setTimeout(resolve, delay))
        }
      }
      log.error({ task: task.taskId }, 'gave up reporting the task')
    } finally {
      this.unreported.delete(task.taskId)
    }
  }
}

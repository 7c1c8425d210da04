/**
 * Resource monitoring of a whole process tree through `/proc` (VmRSS, VmHWM, VmSize, CPU ticks).
 *
 * A sandboxed task is a tree (bwrap, its init, the launcher, Python and whatever Python forks), so one
 * sample walks every process descending from the root. Peak memory is the larger of the highest
 * sampled tree RSS and the highest VmHWM of any single process (the kernel's own high-water mark, which
 * catches spikes between samples); average memory is the time-weighted mean of the sampled tree RSS.
 */
import { readdirSync, readFileSync } from 'node:fs'
import type { TaskMetrics } from './executors/contract.ts'

/** Clock ticks per second of `/proc/PID/stat` times; 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100

/** One reading of a process tree. */
export interface ProcessTreeSample {
  /** `Date.now()` when read. */
  at: number
  /** Sum of VmRSS over the tree. */
  rssBytes: number
  /** Largest VmHWM (peak RSS) of any process in the tree. */
  hwmBytes: number
  /** Sum of VmSize over the tree. */
  vmBytes: number
  /** Processes in the tree (threads not counted). */
  processes: number
  /** Threads of those processes, each process's main thread included: what RLIMIT_NPROC counts. */
  threads: number
  /**
   * Sum of PSS over the tree (shared pages divided among the processes sharing them): the memory the
   * tree really holds, where summed RSS counts a page once per process mapping it. Read only when asked
   * for (see {@link MonitorOptions.pssAbove}): it costs a page-table walk, about 10 ms per GiB mapped.
   */
  pssBytes?: number
  /** User + system CPU of the live tree, including children it has already reaped. */
  cpuMs: number
}

/** What a monitor saw over a task's life: the executors hand it on as the outcome's metrics. */
export type ResourceUsage = TaskMetrics

interface ProcStat {
  pid: number
  ppid: number
  cpuTicks: number
}

function readStat (pid: number): ProcStat | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1')
  } catch {
    return undefined
  }
  // comm is parenthesized and may hold spaces or ')', so split after the last ')'.
  const close = text.lastIndexOf(')')
  const fields = text.slice(close + 2).split(' ')
  // fields[0] is state (field 3); ppid is field 4, utime..cstime are fields 14..17.
  const ppid = Number(fields[1])
  const cpuTicks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
  return { pid, ppid, cpuTicks }
}

function readStatusKiB (pid: number): { rss: number, hwm: number, vm: number, threads: number } | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1')
  } catch {
    return undefined
  }
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)
    return match?.[1] === undefined ? 0 : Number(match[1])
  }
  const threads = /^Threads:\s+(\d+)/m.exec(text)?.[1]
  return { rss: field('VmRSS'), hwm: field('VmHWM'), vm: field('VmSize'), threads: threads === undefined ? 1 : Number(threads) }
}

/** PSS of one process in KiB; undefined when the kernel does not say (then its RSS stands in). */
function readPssKiB (pid: number): number | undefined {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'))
    return match?.[1] === undefined ? undefined : Number(match[1])
  } catch {
    return undefined
  }
}

/**
 * The pids of `rootPid` and all its descendants, found by one scan of `/proc` (the per-task
 * `children` files are not available on every kernel).
 */
export function processTree (rootPid: number): number[] {
  return processTreeWithDepth(rootPid).map(([pid]) => pid)
}

/** The last full scan of `/proc`, shared by every monitor in this process (see `maxAgeMs`). */
let lastScan: { at: number, children: Map<number, number[]> } | undefined

function scanChildren (maxAgeMs: number): Map<number, number[]> {
  const now = Date.now()
  if (lastScan !== undefined && now - lastScan.at <= maxAgeMs) return lastScan.children
  const children = new Map<number, number[]>()
  let entries: string[] = []
  try {
    entries = readdirSync('/proc')
  } catch {}
  for (const entry of entries) {
    const pid = Number(entry)
    if (!Number.isInteger(pid)) continue
    const stat = readStat(pid)
    if (stat === undefined) continue
    const list = children.get(stat.ppid)
    if (list === undefined) children.set(stat.ppid, [pid])
    else list.push(pid)
  }
  lastScan = { at: now, children }
  return children
}

/**
 * Like {@link processTree}, with each process's depth below the root (root = 0). A scan of `/proc`
 * costs about 20 µs per process on the box, so concurrent monitors may share one up to `maxAgeMs` old.
 */
export function processTreeWithDepth (rootPid: number, maxAgeMs = 0): Array<[pid: number, depth: number]> {
  const children = scanChildren(maxAgeMs)
  const tree: Array<[number, number]> = []
  const queue: Array<[number, number]> = [[rootPid, 0]]
  const seen = new Set<number>()
  while (queue.length > 0) {
    const [pid, depth] = queue.pop() as [number, number]
    if (seen.has(pid)) continue
    seen.add(pid)
    tree.push([pid, depth])
    for (const child of children.get(pid) ?? []) queue.push([child, depth + 1])
  }
  return tree
}

/**
 * Reads the tree under `rootPid` once; `undefined` when the root is gone. Processes less than
 * `skipDepth` levels below the root are the sandbox's own supervisors (bwrap, its init, the launcher)
 * and are not counted: the figures are the task's. With `readPss` the sample also carries the tree's
 * summed PSS (a process whose PSS cannot be read counts with its RSS).
 * Reads are synchronous on purpose: procfs answers from kernel memory and never waits on a disk.
 */
export function sampleProcessTree (rootPid: number, skipDepth = 0, tree?: Array<[number, number]>, readPss = false): ProcessTreeSample | undefined {
  if (readStat(rootPid) === undefined) return undefined
  const sample: ProcessTreeSample = { at: Date.now(), rssBytes: 0, hwmBytes: 0, vmBytes: 0, processes: 0, threads: 0, cpuMs: 0 }
  let pssBytes = 0
  for (const [pid, depth] of tree ?? processTreeWithDepth(rootPid)) {
    if (depth < skipDepth) continue
    const status = readStatusKiB(pid)
    const stat = readStat(pid)
    if (status === undefined || stat === undefined) continue
    sample.processes++
    sample.threads += status.threads
    sample.rssBytes += status.rss * 1024
    sample.hwmBytes = Math.max(sample.hwmBytes, status.hwm * 1024)
    sample.vmBytes += status.vm * 1024
    sample.cpuMs += stat.cpuTicks * 1000 / CLOCK_TICKS_PER_SECOND
    if (readPss) pssBytes += (readPssKiB(pid) ?? status.rss) * 1024
  }
  if (readPss) sample.pssBytes = pssBytes
  return sample
}

/**
 * Folds samples into peak/average figures. Executors use it both for local samples and for samples
 * streamed from a remote box.
 */
export class UsageAccumulator {
  startedAt: number
  private lastAt: number
  private lastRss = 0
  private weightedRss = 0
  private weightedMs = 0
  private peakRss = 0
  private peakHwm = 0
  private peakCpu = 0
  private peakProcs = 0
  private count = 0

  constructor (startedAt: number = Date.now()) {
    this.startedAt = startedAt
    this.lastAt = startedAt
  }

  /** Moves the start (e.g. to when a remote task really started); only before the first sample. */
  restart (at: number): void {
    if (this.count > 0) return
    this.startedAt = at
    this.lastAt = at
  }

  add (sample: ProcessTreeSample): void {
    const dt = Math.max(0, sample.at - this.lastAt)
    // Trapezoid between samples: memory rises and falls between readings, not in steps.
    this.weightedRss += dt * (this.lastRss + sample.rssBytes) / 2
    this.weightedMs += dt
    this.lastAt = sample.at
    this.lastRss = sample.rssBytes
    this.peakRss = Math.max(this.peakRss, sample.rssBytes)
    this.peakHwm = Math.max(this.peakHwm, sample.hwmBytes)
    this.peakCpu = Math.max(this.peakCpu, sample.cpuMs)
    this.peakProcs = Math.max(this.peakProcs, sample.processes)
    this.count++
  }

  /** Latest tree RSS seen. */
  get currentRssBytes (): number {
    return this.lastRss
  }

  /** Usage so far; `extra` folds in figures the task's supervisor reported at exit (wait4 rusage). */
  usage (endedAt: number = Date.now(), extra: { cpuMs?: number, maxRssBytes?: number } = {}): ResourceUsage {
    const peak = Math.max(this.peakRss, this.peakHwm, extra.maxRssBytes ?? 0)
    let avg = this.weightedMs > 0 ? this.weightedRss / this.weightedMs : this.lastRss
    // A task shorter than the sampling period may never be seen running; its supervisor's rusage is
    // then the only figure, and billing must not read its memory as zero.
    if (avg === 0) avg = peak
    return {
      wallMs: Math.max(0, endedAt - this.startedAt),
      cpuMs: Math.round(Math.max(this.peakCpu, extra.cpuMs ?? 0)),
      peakMemoryBytes: peak,
      // The average can never exceed the peak, even when rusage saw a spike no sample caught.
      avgMemoryBytes: Math.round(Math.min(avg, peak)),
      // A supervisor report means at least the task's own process ran.
      peakProcesses: Math.max(this.peakProcs, extra.maxRssBytes === undefined ? 0 : 1),
      samples: this.count
    }
  }
}

/** Options of {@link monitorProcessTree}. */
export interface MonitorOptions {
  /** Sampling period; default 100 ms. */
  intervalMs?: number
  /** Levels of supervisor processes below the root not to count; default 0. */
  skipDepth?: number
  /**
   * Full `/proc` scans (to find new processes) happen every this many samples; in between only the
   * known processes are read. Default 3.
   */
  rescanEvery?: number
  /**
   * Read the tree's PSS ({@link ProcessTreeSample.pssBytes}) whenever its summed RSS is above this many
   * bytes — the memory limit, where forked processes sharing pages would otherwise look like a
   * memory bomb. At most about a tenth of the time goes to it: after a read that took `t` ms the next
   * one waits at least `9t` ms. Default: never.
   */
  pssAbove?: number
  /** Called after every sample, e.g. to enforce a memory limit or report progress. */
  onSample?: (sample: ProcessTreeSample, usage: UsageAccumulator) => void
}

/** A running monitor; `stop()` ends sampling and returns the usage seen. */
export interface ProcessTreeMonitor {
  readonly usage: UsageAccumulator
  /** Takes one more sample (if the tree is still there) and stops. */
  stop: (extra?: { cpuMs?: number, maxRssBytes?: number }) => ResourceUsage
}

/**
 * Samples the tree under `rootPid` every `intervalMs` until stopped. The first sample is taken
 * immediately.
 */
export function monitorProcessTree (rootPid: number, options: MonitorOptions = {}): ProcessTreeMonitor {
  const usage = new UsageAccumulator()
  const intervalMs = options.intervalMs ?? 100
  const rescanEvery = options.rescanEvery ?? 3
  let known: Array<[number, number]> = []
  let ticks = 0
  let nextPssAt = 0
  const tick = (): void => {
    if (ticks++ % rescanEvery === 0 || known.length === 0) known = processTreeWithDepth(rootPid, intervalMs / 2)
    let sample = sampleProcessTree(rootPid, options.skipDepth, known)
    if (sample === undefined) return
    if (options.pssAbove !== undefined && sample.rssBytes > options.pssAbove && performance.now() >= nextPssAt) {
      const started = performance.now()
      sample = sampleProcessTree(rootPid, options.skipDepth, known, true) ?? sample
      const ended = performance.now()
      nextPssAt = ended + 9 * (ended - started)
    }
    usage.add(sample)
    options.onSample?.(sample, usage)
  }
  tick()
  const timer = setInterval(tick, intervalMs)
  timer.unref()
  return {
    usage,
    stop: (extra) => {
      clearInterval(timer)
      return usage.usage(Date.now(), extra)
    }
  }
}

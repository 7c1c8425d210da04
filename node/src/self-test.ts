/**
 * The node's self-test (`runsurge node --self-test`): runs built-in probe jobs through an executor
 * exactly as tasks run, and reports which containment properties hold on this machine. The same
 * probes back the executors' test suites.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { homedir, networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolvePython } from './python.ts'
import { runPythonTask } from './task-runner.ts'
import type { Executor, TaskLimits } from './executors/index.ts'
import type { PythonTaskOutcome } from './task-runner.ts'
import type { Socket } from 'node:net'

/** What one probe found. */
export interface ProbeResult {
  name: ProbeName
  /** The property the probe checks, in words. */
  property: string
  holds: boolean
  /** What was observed, for people. */
  detail: string
  /** Observations for machines (tests assert on these). */
  evidence: Record<string, unknown>
  /** Status of the probe's task. */
  status: string
  durationMs: number
}

/** The built-in probes. */
export type ProbeName =
  | 'home-unreadable'
  | 'no-writes-outside-task-dir'
  | 'no-network'
  | 'no-host-processes-or-env'
  | 'fork-bomb-contained'
  | 'memory-bomb-contained'
  | 'infinite-loop-contained'
  | 'syscalls-denied'
  | 'peak-memory-accurate'

/** Result of {@link runSelfTest}. */
export interface SelfTestReport {
  executor: string
  /** True when every probe holds. */
  holds: boolean
  probes: ProbeResult[]
}

/** Options of the probes and {@link runSelfTest}. */
export interface SelfTestOptions {
  signal?: AbortSignal
  /** Called as each probe finishes. */
  onProgress?: (result: ProbeResult) => void
  /** Only these probes (default all). */
  probes?: ProbeName[]
}

type ProbeRun = (executor: Executor, options: SelfTestOptions) => Promise<Omit<ProbeResult, 'name' | 'property' | 'durationMs'>>

const PROPERTIES: Record<ProbeName, string> = {
  'home-unreadable': 'a task cannot read a file planted in the home directory of the node\'s user',
  'no-writes-outside-task-dir': 'a task cannot write outside its task directory',
  'no-network': 'a task cannot open any network connection (a listener on the host sees nothing)',
  'no-host-processes-or-env': 'a task cannot see host processes, the node\'s environment or its open files',
  'fork-bomb-contained': 'a fork bomb ends with process_limit inside its limit (not memory_limit, though its processes share 64 MiB) while other tasks keep running',
  'memory-bomb-contained': 'a memory bomb ends with memory_limit inside its limit while other tasks keep running',
  'infinite-loop-contained': 'an infinite loop ends with time_limit, not before its deadline and within its CPU budget, while other tasks keep running',
  'syscalls-denied': 'system calls that are kernel attack surface (io_uring, bpf, keyrings, ptrace, userfaultfd, unshare) are denied',
  'peak-memory-accurate': 'peak memory reported for a task allocating 200 MiB is within 10%'
}

const MiB = 1024 ** 2

/** CPU time is accounted in scheduler ticks (10 ms) and sampled: a reading may be a few ticks over what ran. */
const CPU_TICK_SLACK_MS = 100

async function job (executor: Executor, script: string, input: unknown, limits: Partial<TaskLimits>, options: SelfTestOptions, taskId?: string): Promise<PythonTaskOutcome> {
  return await runPythonTask({
    executor,
    script,
    input: { name: 'probe.json', data: JSON.stringify(input) },
    limits,
    ...(taskId === undefined ? {} : { taskId })
  }, options.signal === undefined ? {} : { signal: options.signal })
}

function tag (): string {
  return randomBytes(8).toString('hex')
}

/** Pids whose command line mentions `marker` (tasks are tagged with `--task ID`). */
export function processesMentioning (marker: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(marker)) pids.push(Number(entry))
    } catch {}
  }
  return pids
}

const BYSTANDER = 'def main(data):\n    return sum(i * i for i in range(data["n"]))\n'

/** A job meant to hit one of its limits; its task id is `<kind>-<random>`, so its processes can be found. */
interface Bomb {
  kind: string
  script: string
  limits: Partial<TaskLimits>
}

/**
 * Runs `bomb` and, at the same time, an ordinary task that must still complete with the right result; then
 * looks for the bomb's processes still running (there must be none).
 */
async function withBystander (executor: Executor, bomb: Bomb, options: SelfTestOptions): Promise<{ outcome: PythonTaskOutcome, bystander: PythonTaskOutcome, bystanderOk: boolean, leftovers: number[] }> {
  const taskId = `${bomb.kind}-${tag()}`
  const [outcome, bystander] = await Promise.all([
    job(executor, bomb.script, {}, bomb.limits, options, taskId),
    job(executor, BYSTANDER, { n: 1000 }, { timeoutMs: 30_000 }, options)
  ])
  return { outcome, bystander, bystanderOk: bystander.status === 'completed' && bystander.result === 332833500, leftovers: processesMentioning(taskId) }
}

const probes: Record<ProbeName, ProbeRun> = {
  async 'home-unreadable' (executor, options) {
    const home = homedir()
    const name = `.runsurge-self-test-${tag()}`
    const secret = `secret-${tag()}`
    const planted = join(home, name)
    await writeFile(planted, secret, { mode: 0o644 })
    try {
      const outcome = await job(executor, `
import os
def main(data):
    found = {}
    for path in data['paths']:
        try:
            with open(path) as f:
                found[path] = f.read()
        except OSError as e:
            found[path] = None
    listing = {}
    for d in data['dirs']:
        try:
            listing[d] = os.listdir(d)
        except OSError:
            listing[d] = None
    return {'found': found, 'listing': listing}
`, { paths: [planted, join('/home', name), join('/root', name)], dirs: [home, '/home', '/root'] }, {}, options)
      const result = outcome.result as { found: Record<string, string | null>, listing: Record<string, string[] | null> } | undefined
      const readBack = Object.entries(result?.found ?? {}).filter(([, v]) => v !== null).map(([k]) => k)
      const listed = Object.entries(result?.listing ?? {}).filter(([, v]) => v?.includes(name) === true).map(([k]) => k)
      const leaked = (outcome.resultJson ?? '').includes(secret) || outcome.stdout.includes(secret)
      const holds = outcome.status === 'completed' && readBack.length === 0 && listed.length === 0 && !leaked
      return {
        holds,
        status: outcome.status,
        detail: holds ? `${planted} was neither readable nor listed` : `read: ${readBack.join(', ') || 'none'}; listed in: ${listed.join(', ') || 'none'}; ${outcome.error?.message ?? ''}`,
        evidence: { planted, readBack, listed, leaked }
      }
    } finally {
      await rm(planted, { force: true })
    }
  },

  async 'no-writes-outside-task-dir' (executor, options) {
    const name = `runsurge-self-test-${tag()}`
    const targets = ['/', '/tmp', '/var/tmp', '/dev/shm', '/usr', '/etc', '/run', homedir(), tmpdir(), '/root', '/home']
      .map(dir => join(dir, name))
    const outcome = await job(executor, `
import os
def main(data):
    wrote = []
    for path in data['targets']:
        try:
            with open(path, 'w') as f:
                f.write('x')
            wrote.append(path)
        except OSError:
            pass
    try:
        with open('/proc/sys/kernel/hostname', 'w') as f:
            f.write('owned')
        wrote.append('/proc/sys/kernel/hostname')
    except OSError:
        pass
    with open('inside.txt', 'w') as f:
        f.write('task output')
    return {'wrote': wrote}
`, { targets }, {}, options)
    const onHost = targets.filter(path => existsSync(path))
    await Promise.all(onHost.map(async path => { await rm(path, { force: true }) }))
    const wrote = (outcome.result as { wrote?: string[] } | undefined)?.wrote ?? []
    const insideOk = outcome.outputFiles.includes('inside.txt')
    const holds = outcome.status === 'completed' && onHost.length === 0 && wrote.length === 0 && insideOk
    return {
      holds,
      status: outcome.status,
      detail: holds
        ? `${targets.length + 1} writes outside /task failed; the write inside came back`
        : `written on the host: ${onHost.join(', ') || 'none'}; writable inside the sandbox: ${wrote.join(', ') || 'none'}; task dir output returned: ${String(insideOk)}; ${outcome.error?.message ?? ''}`,
      evidence: { hostFilesCreated: onHost, sandboxWrites: wrote, insideOutputReturned: insideOk }
    }
  },

  async 'no-network' (executor, options) {
    const connections: Socket[] = []
    const server = createServer((socket) => { connections.push(socket) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      // Every host address: a task reaching any of them would be seen.
      server.listen(0, '0.0.0.0', resolve)
    })
    const address = server.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    const hosts = ['127.0.0.1', ...Object.values(networkInterfaces()).flat()
      .filter(i => i !== undefined && i.family === 'IPv4' && !i.internal).map(i => (i as { address: string }).address)]
    try {
      const outcome = await job(executor, `
import socket
def main(data):
    opened = []
    errors = {}
    for host in data['hosts'] + ['1.1.1.1']:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect((host, data['port'] if host != '1.1.1.1' else 53))
            opened.append(host)
        except OSError as e:
            errors[host] = str(e)
        finally:
            s.close()
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b'x', ('127.0.0.1', data['port']))
        u.close()
    except OSError:
        pass
    try:
        socket.getaddrinfo('example.com', 80)
        opened.append('dns')
    except OSError as e:
        errors['dns'] = str(e)
    ifaces = [name for _, name in socket.if_nameindex()]
    return {'opened': opened, 'errors': errors, 'interfaces': ifaces}
`, { hosts, port }, { timeoutMs: 30_000 }, options)
      // Connections are accepted in order: once our own arrives, any earlier one from the task has too.
      const ownPort = await new Promise<number>((resolve, reject) => {
        const own = connect(port, '127.0.0.1')
        own.once('error', reject)
        own.once('connect', () => {
          const local = own.localPort ?? 0
          const check = (): void => {
            if (connections.some(c => c.remotePort === local)) { own.end(); resolve(local) } else server.once('connection', check)
          }
          check()
        })
      })
      const seen = connections.filter(c => c.remotePort !== ownPort).length
      const result = outcome.result as { opened?: string[], interfaces?: string[] } | undefined
      const opened = result?.opened ?? []
      const holds = outcome.status === 'completed' && opened.length === 0 && seen === 0
      return {
        holds,
        status: outcome.status,
        detail: holds
          ? `no connection to ${hosts.join(', ')}:${port}, 1.1.1.1:53 or DNS; interfaces inside: ${(result?.interfaces ?? []).join(', ')}`
          : `opened: ${opened.join(', ') || 'none'}; the host listener saw ${seen}; ${outcome.error?.message ?? ''}`,
        evidence: { listenerConnections: seen, opened, interfaces: result?.interfaces ?? [] }
      }
    } finally {
      for (const socket of connections) socket.destroy()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  },

  async 'no-host-processes-or-env' (executor, options) {
    const marker = `runsurge-canary-${tag()}`
    const secret = `runsurge-secret-${tag()}`
    const variable = `RUNSURGE_SELF_TEST_SECRET_${tag().toUpperCase()}`
    // A host process the task must not see, blocked on its stdin until we end it.
    const canary = spawn(resolvePython(), ['-c', 'import sys; sys.stdin.read()', marker], { stdio: ['pipe', 'ignore', 'ignore'] })
    process.env[variable] = secret
    try {
      const outcome = await job(executor, `
import os
def main(data):
    seen = []
    leaked = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        for kind in ('cmdline', 'environ'):
            try:
                with open('/proc/%s/%s' % (entry, kind), 'rb') as f:
                    text = f.read().decode('latin-1')
            except OSError:
                continue
            if kind == 'cmdline':
                seen.append(text.replace('\\0', ' ').strip())
            if data['marker'] in text or data['secret'] in text:
                leaked.append('/proc/%s/%s' % (entry, kind))
    env = dict(os.environ)
    if any(data['secret'] in v for v in env.values()) or data['variable'] in env:
        leaked.append('os.environ')
    fds = []
    for fd in range(1024):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            pass
    return {'processes': seen, 'leaked': leaked, 'env': sorted(env), 'fds': fds}
`, { marker, secret, variable }, {}, options)
      const result = outcome.result as { processes?: string[], leaked?: string[], env?: string[], fds?: number[] } | undefined
      const leaked = result?.leaked ?? []
      const hostVisible = (result?.processes ?? []).filter(cmd => cmd.includes(marker) || cmd.includes(process.argv[1] ?? '\0'))
      // Descriptors beyond stdin/stdout/stderr would be the node's (or its parent's) leaking in.
      const extraFds = (result?.fds ?? []).filter(fd => fd > 2)
      const holds = outcome.status === 'completed' && leaked.length === 0 && hostVisible.length === 0 && extraFds.length === 0
      return {
        holds,
        status: outcome.status,
        detail: holds
          ? `the task saw ${result?.processes?.length ?? 0} processes (its own) and environment ${(result?.env ?? []).join(' ')}`
          : `leaked: ${leaked.join(', ') || 'none'}; host processes visible: ${hostVisible.length}; inherited descriptors: ${extraFds.join(', ') || 'none'}; ${outcome.error?.message ?? ''}`,
        evidence: { leaked, visibleProcesses: result?.processes ?? [], environment: result?.env ?? [], extraFds }
      }
    } finally {
      delete process.env[variable]
      canary.stdin?.end()
      canary.kill('SIGKILL')
    }
  },

  async 'fork-bomb-contained' (executor, options) {
    const limits = { maxProcesses: 32, timeoutMs: 30_000 }
    // The bomb holds 64 MiB before forking: every child maps the same pages, so summed RSS passes the
    // 512 MiB memory limit long before 32 processes — memory that is not really there. It must still
    // end with process_limit (a memory_limit would make the coordinator retry it with more memory).
    const { outcome, bystanderOk, leftovers } = await withBystander(executor, {
      kind: 'fork-bomb', limits, script: `
import os
def main(data):
    held = b'x' * (64 * 1024 * 1024)
    while True:
        os.fork()
`
    }, options)
    const holds = outcome.status === 'process_limit' && outcome.metrics.peakProcesses <= limits.maxProcesses && bystanderOk && leftovers.length === 0
    return {
      holds,
      status: outcome.status,
      detail: `ended ${outcome.status} with at most ${outcome.metrics.peakProcesses}/${limits.maxProcesses} processes in ${outcome.metrics.wallMs} ms; other task ${bystanderOk ? 'completed' : 'FAILED'}; ${leftovers.length} processes left`,
      evidence: { peakProcesses: outcome.metrics.peakProcesses, wallMs: outcome.metrics.wallMs, bystanderOk, leftovers }
    }
  },

  async 'memory-bomb-contained' (executor, options) {
    const limits = { memoryBytes: 128 * MiB, timeoutMs: 30_000 }
    const { outcome, bystanderOk, leftovers } = await withBystander(executor, {
      kind: 'memory-bomb', limits, script: `
def main(data):
    hoard = []
    while True:
        hoard.append(b'x' * (4 * 1024 * 1024))
`
    }, options)
    const holds = outcome.status === 'memory_limit' && outcome.metrics.peakMemoryBytes <= limits.memoryBytes && bystanderOk && leftovers.length === 0
    return {
      holds,
      status: outcome.status,
      detail: `ended ${outcome.status} at a peak of ${(outcome.metrics.peakMemoryBytes / MiB).toFixed(1)}/${limits.memoryBytes / MiB} MiB; other task ${bystanderOk ? 'completed' : 'FAILED'}; ${leftovers.length} processes left`,
      evidence: { peakMemoryBytes: outcome.metrics.peakMemoryBytes, limitBytes: limits.memoryBytes, bystanderOk, leftovers }
    }
  },

  async 'infinite-loop-contained' (executor, options) {
    const limits = { timeoutMs: 2_000 }
    const { outcome, bystanderOk, leftovers } = await withBystander(executor, {
      kind: 'infinite-loop', limits, script: `
def main(data):
    while True:
        pass
`
    }, options)
    // Bounded in CPU time, not wall time: on a busy machine the kill and the SSH round trips after it
    // take what they take, but a loop that was stopped cannot have used more than its CPU budget —
    // the CPU seconds follow the timeout, and RLIMIT_CPU's hard limit is one second above them.
    const cpuBudgetMs = (Math.ceil(limits.timeoutMs / 1000) + 1) * 1000
    const holds = outcome.status === 'time_limit' && outcome.metrics.wallMs >= limits.timeoutMs &&
      outcome.metrics.cpuMs <= cpuBudgetMs + CPU_TICK_SLACK_MS && bystanderOk && leftovers.length === 0
    return {
      holds,
      status: outcome.status,
      detail: `ended ${outcome.status} after ${outcome.metrics.wallMs} ms and ${outcome.metrics.cpuMs} ms of CPU (limits ${limits.timeoutMs} ms, ${cpuBudgetMs} ms of CPU); other task ${bystanderOk ? 'completed' : 'FAILED'}; ${leftovers.length} processes left`,
      evidence: { wallMs: outcome.metrics.wallMs, cpuMs: outcome.metrics.cpuMs, cpuBudgetMs, timeoutMs: limits.timeoutMs, bystanderOk, leftovers }
    }
  },

  async 'syscalls-denied' (executor, options) {
    const outcome = await job(executor, `
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
# x86_64 numbers; elsewhere the probe reports what it can.
CALLS = {'ptrace': (101, 0, 0, 0, 0), 'io_uring_setup': (425, 1, 0), 'bpf': (321, 0, 0, 0), 'keyctl': (250, 0, 0),
         'userfaultfd': (323, 0), 'unshare': (272, 0x40000000), 'getpid': (39,)}
def main(data):
    out = {}
    for name, args in CALLS.items():
        r = libc.syscall(*args)
        out[name] = 'ok' if r >= 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
    return out
`, {}, {}, options)
    const results = (outcome.result ?? {}) as Record<string, string>
    const denied = Object.entries(results).filter(([name, r]) => name !== 'getpid' && r === 'EPERM').map(([name]) => name)
    const holds = outcome.status === 'completed' && denied.length === 6 && results.getpid === 'ok'
    return {
      holds,
      status: outcome.status,
      detail: holds ? `denied: ${denied.join(', ')}; ordinary calls work` : `results: ${JSON.stringify(results)} ${outcome.error?.message ?? ''}`,
      evidence: { results }
    }
  },

  async 'peak-memory-accurate' (executor, options) {
    const allocated = 200 * MiB
    const outcome = await job(executor, `
def main(data):
    block = b'\\x01' * data['bytes']
    return len(block)
`, { bytes: allocated }, { memoryBytes: 512 * MiB }, options)
    const peak = outcome.metrics.peakMemoryBytes
    const error = Math.abs(peak - allocated) / allocated
    const holds = outcome.status === 'completed' && error <= 0.1
    return {
      holds,
      status: outcome.status,
      detail: `allocated ${allocated / MiB} MiB, reported peak ${(peak / MiB).toFixed(1)} MiB (${(error * 100).toFixed(1)}% off), average ${(outcome.metrics.avgMemoryBytes / MiB).toFixed(1)} MiB`,
      evidence: { allocatedBytes: allocated, peakMemoryBytes: peak, relativeError: error }
    }
  }
}

/** Names of all probes, in the order they are reported. */
export const PROBE_NAMES = Object.keys(probes) as ProbeName[]

/** Runs one probe. */
export async function runProbe (executor: Executor, name: ProbeName, options: SelfTestOptions = {}): Promise<ProbeResult> {
  const started = Date.now()
  try {
    const result = await probes[name](executor, options)
    return { name, property: PROPERTIES[name], ...result, durationMs: Date.now() - started }
  } catch (err: any) {
    if (options.signal?.aborted === true) throw err
    return { name, property: PROPERTIES[name], holds: false, status: 'error', detail: `the probe failed: ${err.message as string}`, evidence: {}, durationMs: Date.now() - started }
  }
}

/**
 * Runs the probes (all at once: the bombs must not stop the other tasks) and reports what holds.
 * Takes a few seconds. A contributor runs it before joining a mesh; a probe that does not hold names
 * the property and what was seen.
 */
export async function runSelfTest (executor: Executor, options: SelfTestOptions = {}): Promise<SelfTestReport> {
  const names = options.probes ?? PROBE_NAMES
  const results = await Promise.all(names.map(async name => {
    const result = await runProbe(executor, name, options)
    options.onProgress?.(result)
    return result
  }))
  return { executor: executor.describe(), holds: results.every(r => r.holds), probes: results }
}

/**
 * Abuse and bad input at the coordinator's doors (issue 13): each defect the adversarial pass found, as it found it,
 * against a real `runsurge coordinator` process.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { followJob, getJob, getResultText, submitJob } from '../../cli/src/client.ts'
import { startEmbeddedMesh } from '../../cli/src/embedded-mesh.ts'
import { startCoordinator } from '../../coordinator/src/index.ts'
import { JobState } from '../../coordinator/src/jobs/state.ts'
import { newTask } from '../../coordinator/src/jobs/transitions.ts'
import { Store } from '../../coordinator/src/store/index.ts'
import { createExecutor } from '../../node/src/executors/index.ts'
import { createWorker, sandboxTasks } from '../../node/src/index.ts'
import { kill, runsurge, tempDir, testLogger } from '../helpers/index.ts'
import type { JobRecord } from '../../coordinator/src/index.ts'
import type { RunsurgeProcess } from '../helpers/index.ts'

const MiB = 1024 * 1024

/** Peak resident memory of a process (VmHWM), in bytes. */
async function peakRss (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024
}

/** POSTs a multipart body produced piece by piece (never whole in this process); resolves with the status and body. */
async function postStream (url: string, token: string, boundary: string, body: AsyncIterable<Buffer>): Promise<{ status: number, text: string }> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` } }, res => {
      let text = ''
      res.setEncoding('utf8').on('data', (piece: string) => { text += piece }).on('end', () => {
        req.destroy()
        resolve({ status: res.statusCode ?? 0, text })
      })
    })
    // The server may answer and close before the whole body is sent: that is the point.
    req.on('error', err => { if ((err as NodeJS.ErrnoException).code !== 'EPIPE' && (err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err) })
    Readable.from(body).pipe(req)
  })
}

describe('a coordinator process under abuse', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>
  let coordinator: RunsurgeProcess
  let info: { http: string, adminToken: string }

  beforeAll(async () => {
    tmp = await tempDir()
    coordinator = runsurge([
      'coordinator', '--data', join(tmp.path, 'coordinator'), '--http', '127.0.0.1:0', '--max-active-jobs', '3', '--max-submissions-per-minute', '5'
    ], { RUNSURGE_LOG_LEVEL: 'info' })
    await coordinator.waitForLine(/"multiaddrs"/)
    info = JSON.parse(await readFile(join(tmp.path, 'coordinator', 'coordinator.json'), 'utf8'))
  })
  afterAll(async () => {
    await kill(coordinator, 'SIGTERM')
    await tmp.remove()
  })

  it('refuses a 400 MB script part as it arrives: 413, and the coordinator\'s peak memory stays under 300 MB', async () => {
    const boundary = 'runsurge-boundary'
    const size = 400 * MiB
    const body = async function * (): AsyncGenerator<Buffer> {
      yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="script"; filename="huge.py"\r\nContent-Type: text/x-python\r\n\r\n`)
      const piece = Buffer.alloc(MiB, 'x')
      for (let sent = 0; sent < size; sent += piece.byteLength) yield piece
      yield Buffer.from(`\r\n--${boundary}--\r\n`)
    }
    const answer = await postStream(`${info.http}/api/jobs`, info.adminToken, boundary, body())
    expect(answer.status, answer.text).toBe(413)
    expect(JSON.parse(answer.text).message).toMatch(/script is larger than 1048576 bytes/)
    expect(await peakRss(coordinator.pid ?? 0)).toBeLessThan(300 * 1e6)
    // Still serving.
    expect((await fetch(`${info.http}/api/health`)).status).toBe(200)
  }, 120_000)

  /** A new account's API token. */
  const account = async (name: string): Promise<string> => {
    const json = { 'content-type': 'application/json' }
    const credentials = JSON.stringify({ name, password: `${name}-correct-horse` })
    expect((await fetch(`${info.http}/api/auth/register`, { method: 'POST', headers: json, body: credentials })).status).toBe(201)
    const login = await fetch(`${info.http}/api/auth/login`, { method: 'POST', headers: json, body: credentials })
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
    const created = await fetch(`${info.http}/api/tokens`, { method: 'POST', headers: { ...json, cookie }, body: JSON.stringify({ label: 'test' }) })
    return ((await created.json()) as { token: string }).token
  }
  const submit = async (token: string, fields: Record<string, string> = {}): Promise<Response> => {
    const form = new FormData()
    form.set('script', new Blob(['def main(data):\n    return len(data)\n']), 'job.py')
    form.set('input', new Blob(['1\n2\n']), 'numbers.txt')
    for (const [name, value] of Object.entries(fields)) form.set(name, value)
    return await fetch(`${info.http}/api/jobs`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form })
  }

  it('caps an account\'s jobs queued or running at once, and its submissions a minute: 429 with what to do', async () => {
    const token = await account('busy-submitter')
    // No node here: jobs stay queued.
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const response = await submit(token)
      expect(response.status).toBe(201)
      ids.push(((await response.json()) as { id: string }).id)
    }
    const refused = await submit(token)
    expect(refused.status).toBe(429)
    expect(((await refused.json()) as { message: string }).message).toMatch(/3 jobs queued or running, the most one account may have at once: wait for one to end, or cancel one/)
    // Another account is not held back by this one.
    expect((await submit(await account('other-submitter'))).status).toBe(201)
    // One cancelled: room for one more.
    expect((await fetch(`${info.http}/api/jobs/${ids[0]}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
    expect((await submit(token)).status).toBe(201)
    // Five submissions in this minute (the refused one counts): the sixth is refused for the rate, with when to retry.
    const limited = await submit(token)
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(((await limited.json()) as { message: string }).message).toMatch(/submitted 5 jobs in the last minute, the most it may: retry in \d+ s/)
  })

  it('answers malformed uploads and impossible limits with a 400 that says what is wrong', async () => {
    const token = await account('careless-submitter')
    const raw = async (type: string, body: string): Promise<{ status: number, message: string }> => {
      const response = await fetch(`${info.http}/api/jobs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body })
      return { status: response.status, message: ((await response.json()) as { message: string }).message }
    }
    const cut = await raw('multipart/form-data; boundary=XX', '--XX\r\nContent-Disposition: form-data; name="script"; filename="a.py"\r\n\r\nprint(1)\r\n')
    expect(cut).toEqual({ status: 400, message: expect.stringMatching(/not well-formed multipart\/form-data \(Unexpected end of multipart data\)/) })
    expect(await raw('multipart/form-data', 'hello')).toEqual({ status: 400, message: expect.stringMatching(/Boundary not found/) })
    // 2,147,484 s overflowed a timer: every task failed at once with a nonsensical time_limit.
    const overflow = await submit(token, { timeout: '2147484' })
    expect(overflow.status).toBe(400)
    expect(((await overflow.json()) as { message: string }).message).toBe('timeout must be a whole number of seconds from 1 to 604800, not "2147484"')
    const memory = await submit(token, { taskMemory: '1.5G' })
    expect(memory.status).toBe(400)
    expect(((await memory.json()) as { message: string }).message).toMatch(/taskMemory must be a whole number of bytes/)
  })
})

describe('a fork bomb that got past the scanner', () => {
  it('holds its node no longer than its time limit, once: the job fails with process_limit and its submitter pays for the attempt', async () => {
    const tmp = await tempDir()
    const dataDir = join(tmp.path, 'coordinator')
    // The scanner refuses every way to fork today; an older scanner let one through (collections._sys.modules["os"]),
    // and its job is still in the store after the upgrade: the sandbox and the state machine must hold alone.
    const store = await Store.open(dataDir)
    const timeoutMs = 60_000
    const job: JobRecord = {
      id: 'fork-bomb',
      account: 'attacker',
      name: 'bomb.py',
      mode: 'manual',
      status: 'queued',
      createdAt: Date.now(),
      script: 'import os\n\ndef process(text):\n    while True:\n        os.fork()\n',
      inputs: [],
      taskMemoryBytes: 256 * MiB,
      taskTimeoutMs: timeoutMs,
      taskIds: ['fork-bomb.0'],
      findings: [],
      plan: { level: 1, tasks: 1 }
    }
    await new JobState(store).apply({ jobs: [job], tasks: [newTask(job, { index: 0, entry: 'process', inputName: 'input.txt', inputCids: [] })] })
    await store.close()
    const coordinator = await startCoordinator({ dataDir, logger: testLogger() })
    const executor = createExecutor({ kind: 'bwrap' })
    const ended = new Promise<JobRecord>(resolve => {
      coordinator.jobs.on('job', updated => { if (updated.id === job.id && ['failed', 'completed'].includes(updated.status)) resolve(updated) })
    })
    const worker = await createWorker({
      dataDir: join(tmp.path, 'node'),
      coordinator: coordinator.info.multiaddrs[0] ?? '',
      token: coordinator.info.nodeToken,
      memoryBytes: 1024 * MiB,
      runTask: sandboxTasks({ executor, workDir: tmp.path }),
      log: testLogger()
    })
    try {
      const failed = await ended
      const [task] = coordinator.jobs.tasksOf(failed)
      expect(failed.error?.code, JSON.stringify(failed.error)).toBe('process_limit')
      // One attempt, ended by the process limit within the task's time limit (plus a generous margin for a loaded
      // machine): never retried, never given more memory.
      expect(task?.attempts).toHaveLength(1)
      const attempt = task?.attempts[0]
      expect(attempt?.outcome).toBe('process_limit')
      expect((attempt?.endedAt ?? Infinity) - (attempt?.assignedAt ?? 0)).toBeLessThanOrEqual(timeoutMs + 30_000)
      // The node did the work, and the submitter pays for it.
      expect(attempt?.earning).toBeGreaterThan(0)
      expect(failed.cost?.price).toBeGreaterThan(0)
      expect(failed.payment).toBe('pending')
    } finally {
      await worker.stop()
      await executor.close()
      await coordinator.close()
      await tmp.remove()
    }
  }, 180_000)
})

describe('calibration', () => {
  it('runs on a node as a billed task of the job, never on the coordinator: the submission answers at once', async () => {
    const tmp = await tempDir()
    const mesh = await startEmbeddedMesh({ nodes: 2, nodeMemory: 512 * MiB, executor: { kind: 'bwrap' }, logger: testLogger() })
    try {
      const script = join(tmp.path, 'squares.py')
      await writeFile(script, 'def main(data):\n    squares = [int(x) ** 2 for x in data]\n    return sum(squares)\n')
      const input = join(tmp.path, 'numbers.txt')
      await writeFile(input, Array.from({ length: 5000 }, (_, i) => String(i)).join('\n') + '\n')
      const conn = { url: mesh.coordinator.info.http, token: mesh.coordinator.info.adminToken }
      // The answer comes before any measurement: the job waits for its calibration task like any task.
      const submitted = await submitJob(conn, { script, inputs: [input] })
      expect(submitted.status).toBe('queued')
      expect(submitted.plan).toMatchObject({ calibrating: true })
      await followJob(conn, submitted.id, () => {})
      const job = await getJob(conn, submitted.id)
      expect(job.status).toBe('completed')
      expect(await getResultText(conn, submitted.id)).toBe(String(Array.from({ length: 5000 }, (_, i) => i * i).reduce((a, b) => a + b, 0)))
      const tasks = (job.tasks ?? []) as unknown as Array<{ entry: string, nodeId?: string, earning?: number, attempts: Array<{ outcome?: string }> }>
      const calibration = tasks[0]
      expect(calibration).toMatchObject({ entry: 'calibrate', attempts: [{ outcome: 'completed' }] })
      expect(mesh.workers.map(w => w.nodeId())).toContain(calibration?.nodeId)
      // Billed like any task (a short task may round to 0 µ): part of what the job costs.
      expect(calibration?.earning).toEqual(expect.any(Number))
      expect((job as unknown as { cost: { contributors: number } }).cost.contributors).toBe(tasks.reduce((sum, t) => sum + (t.earning ?? 0), 0))
      expect(JSON.stringify(job.plan)).toMatch(/calibrated/)
    } finally {
      await mesh.stop()
      await tmp.remove()
    }
  }, 180_000)
})

/**
 * Abuse and bad input at the coordinator's doors (issue 13): each defect the adversarial pass found, as it found it,
 * against a real `runsurge coordinator` process.
 */
import { readFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kill, runsurge, tempDir } from '../helpers/index.ts'
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
    coordinator = runsurge(['coordinator', '--data', join(tmp.path, 'coordinator')], { RUNSURGE_LOG_LEVEL: 'info' })
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
})

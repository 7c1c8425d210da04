/** Shared helpers of the integration tests: temporary directories, quiet loggers, real processes. */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pino } from 'pino'
import type { ChildProcessByStdio } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import type { Readable } from 'node:stream'

export const ROOT = join(import.meta.dirname, '..', '..')
export const BIN = join(ROOT, 'bin', 'runsurge.js')

/** A logger that keeps test output clean (RUNSURGE_TEST_LOG=debug to see everything). */
export function testLogger (): pino.Logger {
  return pino({ level: process.env.RUNSURGE_TEST_LOG ?? 'silent' })
}

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir (prefix = 'runsurge-test-'): Promise<{ path: string, remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, remove: async () => { await rm(path, { recursive: true, force: true }) } }
}

export type RunsurgeProcess = ChildProcessByStdio<null, Readable, Readable> & {
  /** Resolves with the first line (stdout or stderr) that matches, rejects if the process exits first. */
  waitForLine(pattern: RegExp, options?: { signal?: AbortSignal }): Promise<string>
  /** Everything printed so far. */
  output(): string
}

/** Starts `runsurge ARGS…` as a real process with the project's pinned Node.js. */
export function runsurge (args: string[], env: Record<string, string> = {}): RunsurgeProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }
  }) as RunsurgeProcess
  const lines: string[] = []
  const waiters = new Set<(line: string) => void>()
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', line => {
      lines.push(line)
      for (const waiter of waiters) waiter(line)
    })
  }
  child.output = () => lines.join('\n')
  child.waitForLine = async (pattern, options = {}) => {
    const found = lines.find(line => pattern.test(line))
    if (found !== undefined) return found
    return await new Promise<string>((resolve, reject) => {
      const done = (): void => { waiters.delete(check); child.off('exit', onExit); options.signal?.removeEventListener('abort', onAbort) }
      const check = (line: string): void => { if (pattern.test(line)) { done(); resolve(line) } }
      const onExit = (code: number | null): void => { done(); reject(new Error(`runsurge exited (${code}) before printing ${pattern}:\n${child.output()}`)) }
      const onAbort = (): void => { done(); reject(new Error(`timed out waiting for ${pattern}:\n${child.output()}`)) }
      waiters.add(check)
      child.once('exit', onExit)
      options.signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
  return child
}

/** Kills a process (SIGKILL by default) and waits until it is gone. */
export async function kill (child: RunsurgeProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill(signal)
  await exited
}

/** A TCP port free on 127.0.0.1 now: for a process that must listen on the same port again after a restart. */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/** The events of a `text/event-stream` response, in order, until the server ends the stream. */
export async function * serverSentEvents (response: Response): AsyncGenerator<{ event: string, data: string }> {
  if (response.body === null) return
  let buffer = ''
  for await (const text of response.body.pipeThrough(new TextDecoderStream())) {
    buffer += text
    let end: number
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      let event = 'message'
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim()
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
      }
      // A block of comments only (": keep-alive") is no event.
      if (data.length > 0) yield { event, data: data.join('\n') }
    }
  }
}

/**
 * Damages a file in place as a failing disk would: the same file and length, one digit changed (the first at or
 * after `from`, default the middle of the file, becomes the next digit: `1` → `2`). Only a hash notices. Returns the
 * offset changed.
 */
export async function corruptInPlace (path: string, options: { from?: number } = {}): Promise<number> {
  const bytes = await readFile(path)
  const start = options.from ?? Math.floor(bytes.byteLength / 2)
  let at = start
  while (at < bytes.byteLength && (bytes[at]! < 0x30 || bytes[at]! > 0x39)) at++
  if (at >= bytes.byteLength) throw new Error(`no digit at or after byte ${start} of ${path} to change`)
  const file = await open(path, 'r+')
  try {
    await file.write(Buffer.from([0x30 + (bytes[at]! - 0x30 + 1) % 10]), 0, 1, at)
  } finally {
    await file.close()
  }
  return at
}

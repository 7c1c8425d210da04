/** Shared helpers of the integration tests: temporary directories, quiet loggers, real processes. */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pino } from 'pino'
import type { ChildProcessByStdio } from 'node:child_process'
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

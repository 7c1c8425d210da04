/**
 * What the integration tests of a describe block (or of a file) share and must not leave behind: a temporary
 * directory, and the `runsurge` processes they started.
 */
import { afterAll, beforeAll } from 'vitest'
import { kill, runsurge, tempDir } from './index.ts'
import type { RunsurgeProcess } from './index.ts'

export interface ProcessScope {
  /** The temporary directory, made before the first test and removed after the last. */
  readonly dir: string
  /** Every process started for these tests: killed (SIGKILL) after the last one. */
  readonly children: RunsurgeProcess[]
  /** Starts `runsurge ARGS…` and keeps it in `children`. */
  run(args: string[]): RunsurgeProcess
}

/** Registers the `beforeAll` and `afterAll` hooks of a scope in the calling describe block (or file). */
export function processScope (prefix?: string): ProcessScope {
  let tmp: Awaited<ReturnType<typeof tempDir>> | undefined
  const children: RunsurgeProcess[] = []
  beforeAll(async () => { tmp = await tempDir(prefix) })
  afterAll(async () => {
    await Promise.all(children.map(async child => { await kill(child) }))
    await tmp?.remove()
  })
  return {
    get dir () {
      if (tmp === undefined) throw new Error('the scope\'s directory exists from its beforeAll hook on')
      return tmp.path
    },
    children,
    run: args => {
      const child = runsurge(args)
      children.push(child)
      return child
    }
  }
}

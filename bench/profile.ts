/** CPU profiles of a benchmark's measured part, for finding what to fix when a target is missed. */
import { writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'

/** Runs `fn`; with a `path`, writes a CPU profile of it there (open it in Chrome DevTools, or see `topFunctions`). */
export async function profiled<T> (path: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (path === undefined) return await fn()
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  try {
    return await fn()
  } finally {
    const { profile } = await session.post('Profiler.stop')
    await writeFile(path, JSON.stringify(profile))
    session.disconnect()
  }
}

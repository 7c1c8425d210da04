/**
 * Finds a real Python 3 interpreter for tasks. Shims (pyenv, asdf) re-resolve on every start, cost
 * hundreds of milliseconds and live under a home directory the sandbox hides, so the resolved
 * `sys.executable` is used, preferring the distribution's `/usr/bin/python3`.
 */
import { execFileSync } from 'node:child_process'
import { accessSync, constants, realpathSync } from 'node:fs'
import { SandboxUnavailableError } from './executors/errors.ts'

const CANDIDATES = ['/usr/bin/python3', '/usr/local/bin/python3']

let cached: string | undefined

/**
 * Absolute path of a Python 3 interpreter (symlinks resolved): `RUNSURGE_PYTHON`, else
 * `/usr/bin/python3`, else `/usr/local/bin/python3`, else what `python3` on PATH really runs.
 * Throws {@link SandboxUnavailableError} when there is none.
 */
export function resolvePython (): string {
  if (cached !== undefined) return cached
  const fromEnv = process.env.RUNSURGE_PYTHON
  for (const candidate of [...(fromEnv === undefined ? [] : [fromEnv]), ...CANDIDATES]) {
    try {
      accessSync(candidate, constants.X_OK)
      cached = realpathSync(candidate)
      return cached
    } catch {}
  }
  try {
    const executable = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', timeout: 30_000 }).trim()
    cached = realpathSync(executable)
    return cached
  } catch {
    throw new SandboxUnavailableError('no python3 found: install Debian\'s python3 (npm run setup) or set RUNSURGE_PYTHON')
  }
}

/**
 * Runs the analyzer's memory calibration harness inside a sandbox executor: calibration executes the submitted
 * job on a sample of its input, so it is untrusted code like any task.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Executor, TaskLimits } from './executors/index.ts'
import type { CalibrationRunner } from '../../analyzer/src/index.ts'

/** The harness reads its sample on standard input; executors take files, so a two-line entry redirects it. */
const ENTRY = `import runpy, sys
sys.stdin = open('calibration-input.txt', encoding='utf-8', newline='')
runpy.run_path('harness.py', run_name='__main__')
`

/** A calibration runner that runs the harness under `executor` with `limits` (default 512 MiB, 60 s). */
export function sandboxCalibrationRunner (executor: Executor, limits: Partial<TaskLimits> = {}): CalibrationRunner {
  return async (request, options) => {
    const dir = await mkdtemp(join(tmpdir(), 'runsurge-calibrate-'))
    try {
      await writeFile(join(dir, 'harness.py'), request.harness)
      await writeFile(join(dir, 'calibration-input.txt'), request.input)
      await writeFile(join(dir, 'calibrate.py'), ENTRY)
      const outcome = await executor.run({ id: 'calibration', taskDir: dir, entry: 'calibrate.py', limits: { timeoutMs: 60_000, ...limits } },
        options?.signal === undefined ? {} : { signal: options.signal })
      if (outcome.status !== 'completed') {
        throw new Error(`calibration ended with ${outcome.status}: ${(outcome.error?.message ?? outcome.stderr).trim().slice(-500)}`)
      }
      return outcome.stdout
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
}

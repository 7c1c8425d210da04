/**
 * The machine benchmark: a short fixed Python workload (runtime/benchmark.py) run through the node's
 * own executor, so it measures the interpreter and the box that tasks really get. Billing multiplies a
 * contributor's task seconds by the factor (DESIGN.md, Billing).
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RUNTIME_DIR } from './executors/common.ts'
import type { Executor } from './executors/index.ts'

/**
 * Best round time of the workload on the reference machine (factor 1.0): an x86_64 KVM guest,
 * Debian 12's Python 3.11, measured as the best of 5 rounds.
 */
export const REFERENCE_SECONDS = 0.110

/** Rounds per run; the best one counts, so a busy moment does not penalize the machine. */
const DEFAULT_ROUNDS = 5

/** Result of {@link runBenchmark}. */
export interface BenchmarkResult {
  /** `REFERENCE_SECONDS / bestSeconds`: 2.0 is twice as fast as the reference machine. */
  factor: number
  bestSeconds: number
  rounds: number[]
  referenceSeconds: number
}

/** The benchmark failed to run (its task did not complete). */
export class BenchmarkError extends Error {
  static override name = 'BenchmarkError'
  override name = 'BenchmarkError'
}

/** Options of {@link runBenchmark}. */
export interface BenchmarkOptions {
  signal?: AbortSignal
  rounds?: number
}

/**
 * Runs the fixed benchmark under `executor` and returns the machine factor (rounded to 2 decimals).
 * Takes about a second on the reference machine.
 */
export async function runBenchmark (executor: Executor, options: BenchmarkOptions = {}): Promise<BenchmarkResult> {
  const dir = await mkdtemp(join(tmpdir(), 'runsurge-bench-'))
  try {
    await copyFile(join(RUNTIME_DIR, 'benchmark.py'), join(dir, 'benchmark.py'))
    const outcome = await executor.run({
      id: 'benchmark',
      taskDir: dir,
      entry: 'benchmark.py',
      args: [String(options.rounds ?? DEFAULT_ROUNDS)],
      limits: { timeoutMs: 60_000, memoryBytes: 256 * 1024 ** 2 }
    }, options.signal === undefined ? {} : { signal: options.signal })
    if (outcome.status !== 'completed') {
      throw new BenchmarkError(`the benchmark did not complete (${outcome.status}): ${outcome.error?.message ?? ''}`)
    }
    const { seconds } = JSON.parse(outcome.stdout) as { seconds: number[] }
    const best = Math.min(...seconds)
    if (!Number.isFinite(best) || best <= 0) throw new BenchmarkError(`the benchmark printed no timings: ${outcome.stdout}`)
    return {
      factor: Math.round(REFERENCE_SECONDS / best * 100) / 100,
      bestSeconds: best,
      rounds: seconds,
      referenceSeconds: REFERENCE_SECONDS
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Speedup of a CPU-bound automatic-mode job, side by side in one run: sequential python3; `runsurge run --nodes N`
 * cold (embedded mesh started and torn down, as a user types it); the same job submitted to a mesh already running
 * (warm); Python's multiprocessing.Pool with N processes; and, when Debian's python3-distributed is installed, the
 * same work hand-written for a Dask LocalCluster (cold: cluster start included).
 *
 * Cold runs are repeated more often than the others (`--cold-runs`, default 2 × runs, at least 5): their spread (a
 * cliff hit in some runs only, like the 30 s parking of issue 20) matters as much as their median.
 *
 *   node --import tsx bench/speedup.ts [--nodes N] [--runs R] [--cold-runs C] [--elements E]   → one JSON object on stdout
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { startWarmMesh } from './mesh.ts'
import { median } from '../protocols/src/index.ts'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..')
const BIN = join(ROOT, 'bin', 'runsurge.js')
const PYTHON = '/usr/bin/python3'
const { values } = parseArgs({ options: { nodes: { type: 'string' }, runs: { type: 'string', default: '3' }, 'cold-runs': { type: 'string' }, elements: { type: 'string', default: '40000' }, work: { type: 'string', default: '3000' } } })
const NODES = Number(values.nodes ?? availableParallelism())
const RUNS = Number(values.runs)
const COLD_RUNS = Number(values['cold-runs'] ?? Math.max(5, 2 * RUNS))
const ELEMENTS = Number(values.elements)
/** Loop iterations per element: 3,000 make about 8 s of sequential work, enough that spreading it is worth it. */
const WORK = Number(values.work)

/** The job: a pure, CPU-heavy function mapped over the input, then reduced. */
const JOB = `def heavy(x):
    acc = x
    for i in range(${WORK}):
        acc = (acc * 31 + i) % 1000003
    return acc

def main(data):
    values = [int(line) for line in data]
    scores = [heavy(v) for v in values]
    return {"total": sum(scores), "best": max(scores), "n": len(scores)}
`

const SEQUENTIAL = `import json, sys
sys.path.insert(0, sys.argv[1])
from job import main
with open(sys.argv[2], encoding='utf-8') as f:
    data = f.read().split('\\n')
if data and data[-1] == '':
    data.pop()
print(json.dumps(main(data)))
`

const POOL = `import json, sys
from multiprocessing import Pool
sys.path.insert(0, sys.argv[1])
from job import heavy
if __name__ == '__main__':
    with open(sys.argv[2], encoding='utf-8') as f:
        values = [int(line) for line in f.read().split('\\n') if line]
    with Pool(int(sys.argv[3])) as pool:
        scores = pool.map(heavy, values, chunksize=max(1, len(values) // (4 * int(sys.argv[3]))))
    print(json.dumps({"total": sum(scores), "best": max(scores), "n": len(scores)}))
`

const DASK = `import json, sys
sys.path.insert(0, sys.argv[1])
from job import heavy
from dask.distributed import Client, LocalCluster
if __name__ == '__main__':
    with open(sys.argv[2], encoding='utf-8') as f:
        values = [int(line) for line in f.read().split('\\n') if line]
    n = int(sys.argv[3])
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        size = max(1, len(values) // (4 * n))
        parts = [values[i:i + size] for i in range(0, len(values), size)]
        futures = client.map(lambda part: [heavy(v) for v in part], parts)
        scores = [s for part in client.gather(futures) for s in part]
    print(json.dumps({"total": sum(scores), "best": max(scores), "n": len(scores)}))
`

/** Minimum, median and maximum of a series (ms, rounded). */
function spread (xs: number[]): { min: number, median: number, max: number } | null {
  return xs.length === 0 ? null : { min: Math.round(Math.min(...xs)), median: Math.round(median(xs)), max: Math.round(Math.max(...xs)) }
}

async function timed (fn: () => Promise<string>): Promise<{ ms: number, out: string }> {
  const started = performance.now()
  const out = await fn()
  return { ms: performance.now() - started, out }
}

async function main (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'runsurge-speedup-'))
  await writeFile(join(dir, 'job.py'), JOB)
  await writeFile(join(dir, 'sequential.py'), SEQUENTIAL)
  await writeFile(join(dir, 'pool.py'), POOL)
  await writeFile(join(dir, 'dask_job.py'), DASK)
  const input = join(dir, 'numbers.txt')
  let x = 12345
  const lines: string[] = []
  for (let i = 0; i < ELEMENTS; i++) { x = (x * 1103515245 + 12345) % 2147483648; lines.push(String(x % 1000000)) }
  await writeFile(input, lines.join('\n') + '\n')

  const results: Record<string, number[]> = { sequential: [], pool: [], cold: [], warm: [], dask: [] }
  let expected: string | undefined
  const check = (name: string, out: string): void => {
    const value = JSON.stringify(JSON.parse(out))
    expected ??= value
    if (value !== expected) throw new Error(`${name} gave ${value}, sequential gave ${expected}`)
  }
  const hasDask = await run(PYTHON, ['-c', 'import distributed']).then(() => true, () => false)

  // Warm mesh: a coordinator in this process and N node processes, started once.
  const mesh = await startWarmMesh(dir, NODES)
  let plan: unknown
  const warm = async (): Promise<string> => {
    const { id, result } = await mesh.run(JOB, lines.join('\n') + '\n', 'numbers.txt')
    plan = (await mesh.job(id)).plan
    return result
  }

  const coldRun = async (): Promise<void> => {
    const cold = await timed(async () => (await run(process.execPath, [BIN, 'run', join(dir, 'job.py'), '--input', input, '--nodes', String(NODES), '--json'], { cwd: ROOT, maxBuffer: 1 << 24 })).stdout)
    check('runsurge run (cold)', JSON.stringify((JSON.parse(cold.out) as { result: unknown }).result))
    results.cold?.push(cold.ms)
  }
  for (let r = 0; r < RUNS; r++) {
    const sequential = await timed(async () => (await run(PYTHON, [join(dir, 'sequential.py'), dir, input])).stdout)
    check('sequential', sequential.out)
    results.sequential?.push(sequential.ms)
    const pool = await timed(async () => (await run(PYTHON, [join(dir, 'pool.py'), dir, input, String(NODES)])).stdout)
    check('multiprocessing.Pool', pool.out)
    results.pool?.push(pool.ms)
    const warmRun = await timed(warm)
    check('runsurge (warm)', warmRun.out)
    results.warm?.push(warmRun.ms)
    await coldRun()
    if (hasDask) {
      const dask = await timed(async () => (await run(PYTHON, [join(dir, 'dask_job.py'), dir, input, String(NODES)])).stdout)
      check('Dask LocalCluster', dask.out)
      results.dask?.push(dask.ms)
    }
  }
  await mesh.stop()
  for (let r = RUNS; r < COLD_RUNS; r++) await coldRun()
  await rm(dir, { recursive: true, force: true })

  const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.length > 0 ? Math.round(median(v)) : null])) as Record<string, number | null>
  const ratio = (a: number | null | undefined, b: number | null | undefined): number | null => a == null || b == null ? null : Number((a / b).toFixed(3))
  console.log(JSON.stringify({
    nodes: NODES,
    elements: ELEMENTS,
    work: WORK,
    runs: RUNS,
    coldRuns: COLD_RUNS,
    medianMs: m,
    spreadMs: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, spread(v)])),
    plan,
    dask: hasDask ? 'python3-distributed' : 'not installed (Debian python3-distributed)',
    ratios: {
      coldVsSequential: ratio(m.cold, m.sequential),
      warmVsSequential: ratio(m.warm, m.sequential),
      warmVsPool: ratio(m.warm, m.pool),
      coldVsPool: ratio(m.cold, m.pool),
      coldVsDask: ratio(m.cold, m.dask)
    }
  }))
}

await main()

/**
 * Real Python for the tests and benchmarks: a calibration runner (what the CLI and the nodes provide in production,
 * here unsandboxed: only for the corpus's own programs) and an independent peak-memory measurement of a job on a
 * real input.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CalibrationRunner, InputFormat } from '../analyzer/src/index.ts'

/** Debian's interpreter: fast to start, unlike the pyenv shim on PATH. */
export const PYTHON = '/usr/bin/python3'

/** Runs `python3 -I script` with `input` on stdin; resolves to stdout, rejects on a non-zero exit. */
export async function runPython (script: string, input: string, args: string[] = []): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'analyzer-test-'))
  try {
    const path = join(dir, 'script.py')
    await writeFile(path, script)
    return await new Promise((resolve, reject) => {
      const child = spawn(PYTHON, ['-I', path, ...args], { cwd: dir })
      const out: Buffer[] = []
      const err: Buffer[] = []
      child.stdout.on('data', (b: Buffer) => out.push(b))
      child.stderr.on('data', (b: Buffer) => err.push(b))
      child.on('error', reject)
      child.on('close', code => {
        if (code === 0) resolve(Buffer.concat(out).toString('utf8'))
        else reject(new Error(`python exited with ${code}: ${Buffer.concat(err).toString('utf8')}`))
      })
      child.stdin.on('error', () => {})
      child.stdin.end(input)
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** The calibration runner the analyzer expects. */
export const pythonRunner: CalibrationRunner = async (request) => await runPython(request.harness, request.input)

// Loads each input exactly as the runtime does (DESIGN.md) inside the tracemalloc window, runs main(data),
// and prints the traced peak. Written independently of the analyzer's harness on purpose.
const MEASURE = `
import csv, gc, io, json, sys, tracemalloc
source, fmt = sys.argv[1], sys.argv[2]
namespace = {'__name__': 'job'}
exec(compile(open(source).read(), source, 'exec'), namespace)
main = namespace['main']
peaks = []
for path in sys.argv[3:]:
    text = open(path).read()
    gc.collect()
    tracemalloc.start()
    if fmt == 'json':
        data = json.loads(text)
    elif fmt == 'jsonl':
        data = [json.loads(line) for line in text.splitlines() if line.strip()]
    elif fmt == 'csv':
        data = list(csv.DictReader(io.StringIO(text)))
    else:
        data = text.splitlines()
    result = main(data)
    peaks.append(tracemalloc.get_traced_memory()[1])
    tracemalloc.stop()
    del data, result, text
print(json.dumps(peaks))
`

/** Peak traced memory (bytes) of running `jobPath` on each input file, in one interpreter. */
export async function measurePeaks (jobPath: string, format: InputFormat, inputs: string[]): Promise<number[]> {
  return JSON.parse(await runPython(MEASURE, '', [jobPath, format, ...inputs])) as number[]
}

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createExecutor, parseResultJson, runPythonTask, stringifyResult } from '../src/executors/index.ts'
import type { Executor, PythonTaskInit } from '../src/executors/index.ts'

let executor: Executor
let dir: string

beforeAll(async () => {
  executor = createExecutor({ kind: 'bwrap' })
  dir = await mkdtemp(join(tmpdir(), 'runsurge-runner-test-'))
})

afterAll(async () => {
  await executor.close()
  await rm(dir, { recursive: true, force: true })
})

async function runJob (script: string, init: Partial<PythonTaskInit> = {}): ReturnType<typeof runPythonTask> {
  return await runPythonTask({ executor, script, ...init })
}

const ECHO = 'def main(data):\n    return data\n'

describe.concurrent('the job contract (runtime/runner.py)', () => {
  it('.json input is the parsed value', async () => {
    const outcome = await runJob(ECHO, { input: { name: 'data.json', data: '[1, {"a": [true, null]}, "x"]' } })
    expect(outcome.status).toBe('completed')
    expect(outcome.result).toEqual([1, { a: [true, null] }, 'x'])
  })

  it('.jsonl input is the list of parsed lines (blank lines skipped)', async () => {
    const outcome = await runJob(ECHO, { input: { name: 'data.jsonl', data: '{"a": 1}\n\n[2]\n"three"\n' } })
    expect(outcome.result).toEqual([{ a: 1 }, [2], 'three'])
  })

  it('.csv input is a list of dicts keyed by the header row', async () => {
    const path = join(dir, 'people.csv')
    await writeFile(path, 'name,age\r\nAda,36\r\n"Lovelace, A",37\r\n')
    const outcome = await runJob(ECHO, { input: { path } })
    expect(outcome.result).toEqual([{ name: 'Ada', age: '36' }, { name: 'Lovelace, A', age: '37' }])
  })

  it('a job that rewrites its input never changes the caller\'s file', async () => {
    const path = join(dir, 'precious.txt')
    await writeFile(path, 'original\n')
    const outcome = await runJob('import glob\ndef main(data):\n    for name in glob.glob("input*"):\n        open(name, "w").write("clobbered")\n    return data\n', { input: { path } })
    expect(outcome.result).toEqual(['original'])
    expect(await readFile(path, 'utf8')).toBe('original\n')
  })

  it('any other input is the list of text lines, without line endings', async () => {
    const outcome = await runJob(ECHO, { input: { name: 'notes.txt', data: 'one\r\ntwo\n\nfour' } })
    expect(outcome.result).toEqual(['one', 'two', '', 'four'])
  })

  it('no input is an empty list', async () => {
    const outcome = await runJob(ECHO)
    expect(outcome.result).toEqual([])
  })

  it('results round-trip exactly: big ints, floats, unicode', async () => {
    const outcome = await runJob('def main(data):\n    return {"big": 2**200, "neg": -(10**30), "f": 0.1 + 0.2, "tiny": 5e-324, "huge": 1.7976931348623157e308, "one": 1.0, "s": "é😀", "t": (1, 2)}\n')
    expect(outcome.status).toBe('completed')
    expect(outcome.resultJson).toBe('{"big":1606938044258990275541962092341162602522202993782792835301376,"neg":-1000000000000000000000000000000,"f":0.30000000000000004,"tiny":5e-324,"huge":1.7976931348623157e+308,"one":1.0,"s":"é😀","t":[1,2]}')
    const result = outcome.result as Record<string, unknown>
    expect(result.big).toBe(2n ** 200n)
    expect(result.neg).toBe(-(10n ** 30n))
    expect(result.f).toBe(0.1 + 0.2)
    expect(result.tiny).toBe(5e-324)
    expect(stringifyResult(parseResultJson('[123456789012345678901234567890,1.5]'))).toBe('[123456789012345678901234567890,1.5]')
  })

  it('big ints in the input arrive exactly', async () => {
    const outcome = await runJob('def main(data):\n    return [data[0] + 1, len(str(data[1]))]\n', { input: { name: 'd.json', data: '[123456789012345678901234567890, ' + '9'.repeat(5000) + ']' } })
    expect(outcome.status).toBe('completed')
    expect(outcome.resultJson).toBe('[123456789012345678901234567891,5000]')
  })

  it('manual mode calls process() with the chunk\'s text', async () => {
    const outcome = await runJob('def process(input_data: str) -> dict:\n    return {"lines": input_data.count("\\n"), "text": input_data}\n', { mode: 'manual', input: { name: 'chunk-3', data: 'a,b\n1,2\n' } })
    expect(outcome.result).toEqual({ lines: 2, text: 'a,b\n1,2\n' })
  })

  it('aggregate mode calls aggregate() with the list of task results', async () => {
    const outcome = await runJob('def aggregate(results):\n    return sum(r["n"] for r in results)\n', { mode: 'aggregate', input: { name: 'results.json', data: '[{"n": 1}, {"n": 2}, {"n": 3}]' } })
    expect(outcome.result).toBe(6)
  })

  it('an exception is a runtime_error whose message is the traceback', async () => {
    const outcome = await runJob('def helper(x):\n    return {}[x]\n\ndef main(data):\n    return helper("missing")\n')
    expect(outcome.status).toBe('runtime_error')
    expect(outcome.error?.code).toBe('runtime_error')
    expect(outcome.error?.message).toMatch(/^Traceback/)
    expect(outcome.error?.message).toContain('line 2, in helper')
    expect(outcome.error?.message).toMatch(/KeyError: 'missing'$/)
  })

  it('a huge traceback is capped', async () => {
    const outcome = await runJob('def main(data):\n    raise ValueError("x" * 100000)\n')
    expect(outcome.status).toBe('runtime_error')
    expect(outcome.error?.message.length).toBeLessThanOrEqual(16 * 1024 + 1)
  })

  it('a result that is not JSON (a set, NaN) is a runtime_error that says so', async () => {
    const set = await runJob('def main(data):\n    return {1, 2}\n')
    expect(set.status).toBe('runtime_error')
    expect(set.error?.message).toContain('not JSON-serializable')
    const nan = await runJob('def main(data):\n    return float("nan")\n')
    expect(nan.status).toBe('runtime_error')
  })

  it('a script without main() is a runtime_error that says so', async () => {
    const outcome = await runJob('def mian(data):\n    return 1\n')
    expect(outcome.status).toBe('runtime_error')
    expect(outcome.error?.message).toContain('defines no function main()')
  })

  it('sys.exit() in the job is a failure, not a result', async () => {
    const outcome = await runJob('import sys\ndef main(data):\n    sys.exit(0)\n')
    expect(outcome.status).toBe('runtime_error')
    expect(outcome.error?.message).toContain('sys.exit(0)')
  })

  it('warnings on stderr do not fail the job', async () => {
    const outcome = await runJob('import warnings\ndef main(data):\n    warnings.warn("deprecated thing")\n    print("progress")\n    return "ok"\n')
    expect(outcome.status).toBe('completed')
    expect(outcome.result).toBe('ok')
    expect(outcome.stderr).toContain('deprecated thing')
    expect(outcome.stdout).toBe('progress\n')
  })

  it('a forked child cannot report a second result', async () => {
    const outcome = await runJob('import os\ndef main(data):\n    pid = os.fork()\n    if pid == 0:\n        return "child"\n    os.waitpid(pid, 0)\n    return "parent"\n')
    expect(outcome.status).toBe('completed')
    expect(outcome.result).toBe('parent')
  })

  it('MemoryError in the job is memory_limit, with the traceback after the explanation', async () => {
    const outcome = await runJob('def main(data):\n    return bytearray(2 * 1024 ** 3)\n', { limits: { memoryBytes: 128 * 1024 ** 2 } })
    expect(outcome.status).toBe('memory_limit')
    expect(outcome.error?.message).toMatch(/memory/)
    expect(outcome.error?.message).toMatch(/MemoryError$/)
  })
})

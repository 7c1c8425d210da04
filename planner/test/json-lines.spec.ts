/**
 * A `.json` array input rewritten as JSON Lines (planner/src/json-lines.ts): python3 must load exactly the same list from
 * the lines as from the original file — compared by repr, so types, big ints and float text count.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NotAJsonArrayError, jsonArrayToLines } from '../src/json-lines.ts'

const run = promisify(execFile)
const COMPARE = `
import json, sys
sys.set_int_max_str_digits(0)
with open(sys.argv[1], encoding='utf-8') as f:
    whole = json.load(f)
with open(sys.argv[2], encoding='utf-8') as f:
    lines = [json.loads(line) for line in f if line.strip()]
print(json.dumps({'same': repr(whole) == repr(lines), 'count': len(whole)}))
`

let dir: string
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'runsurge-json-lines-')) })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

let files = 0
async function convert (text: string | Buffer): Promise<{ count: number, source: string, target: string }> {
  const source = join(dir, `in-${files}.json`)
  const target = join(dir, `out-${files++}.jsonl`)
  await writeFile(source, text)
  return { count: await jsonArrayToLines(source, target), source, target }
}

async function sameInPython (source: string, target: string): Promise<{ same: boolean, count: number }> {
  const { stdout } = await run('/usr/bin/python3', ['-c', COMPARE, source, target], { maxBuffer: 1 << 24 })
  return JSON.parse(stdout) as { same: boolean, count: number }
}

describe('a JSON array as JSON Lines', () => {
  const cases: Array<[string, string]> = [
    ['scalars of every kind', '[1, -0, 2.50, 1e400, -1E-5, 123456789012345678901234567890, true, false, null, "x", NaN, Infinity, -Infinity]'],
    ['nested arrays and objects, duplicate keys', '[{"a": [1, [2, {"b": []}]], "a": 3}, [], {}, [[[]]]]'],
    ['strings holding brackets, commas, quotes, escapes and unicode', String.raw`["a,b", "]", "[", "{\"}", "back\\slash\\", "\u00e9\ud83d\ude00", "naïve 😀", "tab\tnl\n"]`],
    ['pretty-printed over many lines', '[\n  {\n    "id": 1,\n    "tags": [\n      "x",\n      "y"\n    ]\n  },\n  {\n    "id": 2,\n    "tags": []\n  }\n]\n'],
    ['the empty array', ' [ ] '],
    ['whitespace everywhere JSON allows it', '\r\n\t[ 1 ,\t2\r\n, "a b" ,{ "k" : [ 1 , 2 ] } ]\n\n']
  ]
  for (const [what, text] of cases) {
    it(`${what}: python3 loads the same list`, async () => {
      const { count, source, target } = await convert(text)
      const python = await sameInPython(source, target)
      expect(python.same).toBe(true)
      expect(count).toBe(python.count)
      const lines = (await readFile(target, 'utf8')).split('\n')
      expect(lines.at(-1)).toBe('')
      expect(lines.length - 1).toBe(count)
    })
  }

  it('streams a file of several MiB whose elements cross read boundaries', async () => {
    const elements = Array.from({ length: 40_000 }, (_, i) => i % 3 === 0 ? `{"id": ${i}, "text": "${'é,]'.repeat(i % 50)}"}` : i % 3 === 1 ? `[${i}, ${i / 7}]` : `"${i}"`)
    const { count, source, target } = await convert(`[\n${elements.join(',\n  ')}\n]`)
    expect(count).toBe(40_000)
    expect((await sameInPython(source, target)).same).toBe(true)
  })

  const refused: Array<[string, string | Buffer]> = [
    ['an object at the top level', '{"a": [1, 2]}'],
    ['a scalar at the top level', '42'],
    ['a byte-order mark (python3 refuses it)', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[1]')])],
    ['a trailing comma', '[1, 2,]'],
    ['a leading comma', '[, 1]'],
    ['text after the array', '[1] [2]'],
    ['a raw newline inside a string', '["a\nb"]'],
    ['an array that does not end', '[1, [2, 3]'],
    ['unbalanced brackets', '[1]]']
  ]
  for (const [what, text] of refused) {
    it(`leaves ${what} alone`, async () => {
      await expect(convert(text)).rejects.toBeInstanceOf(NotAJsonArrayError)
    })
  }
})

/**
 * Automatic-mode planner. Every splittable program of the corpus (test/fixtures/auto/) is planned with nodes
 * too small for it, and the plan is run for real with /usr/bin/python3: the input cut into K line-based
 * chunks (csv chunks each with the header), the chunk script's main(data) on each chunk, the aggregator on
 * their JSON outputs, compared with the original main(data) run once (floats within 1e-9 relative).
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { analyze, sampleInput } from '../../analyzer/src/index.ts'
import type { AnalysisReport } from '../../analyzer/src/index.ts'
import { MAX_CHUNKS, PARTIALS_RUNTIME, PlanError, planAuto } from '../src/index.ts'
import type { AutoPlan, PlanInput } from '../src/index.ts'
import { int, lines } from '../../corpus/auto.ts'
import { CORPUS, FIXTURES, FORMATS, MiB, PYTHON, SIZES, aggregatorFits, analyzeFor, execute, forcedPlan, run, source, withWorkDir, workDir } from './helpers/plans.ts'
import type { Program } from './helpers/plans.ts'

withWorkDir()

describe('planAuto on the corpus, run with python3', () => {
  for (const program of CORPUS.filter(p => p.split)) {
    it(`${program.file}: level 3 with small nodes, same result as one sequential run`, async () => {
      const src = await source(program.file)
      await Promise.all(SIZES.map(async (n, i) => {
        const text = program.input(n, 1000 + i)
        const { report, elements } = analyzeFor(src, text, program.ext)
        const { plan, memory } = forcedPlan({ source: src, report, format: FORMATS[program.ext], inputBytes: Buffer.byteLength(text), elements })
        expect(plan.level, plan.reasons.join('\n')).toBe(3)
        expect(plan.chunks).toBeGreaterThanOrEqual(2)
        expect(plan.chunks).toBeLessThanOrEqual(MAX_CHUNKS)
        expect(plan.finalTask.entry).toBe('aggregate')
        expect(plan.fused.length).toBeGreaterThan(0)
        expect(plan.chunkTask?.memoryBytes).toBeLessThanOrEqual(memory)
        const outcome = await execute(`${program.file}-${n}`, src, text, program.ext, plan, i === SIZES.length - 1)
        aggregatorFits(plan, memory, outcome.partialBytes)
        expect(outcome.where, `${program.file} at ${n} elements, ${plan.chunks} chunks:\nsequential ${outcome.sequential}\nsplit      ${outcome.split}`).toBeNull()
        expect(outcome.equal).toBe(true)
      }))
    })
  }

  it('reductions send partial values, not the lists they reduce', async () => {
    const src = await source('04-reductions.py')
    const text = CORPUS[3]?.input(20_000, 7) as string
    const { report, elements } = analyzeFor(src, text, 'jsonl')
    const { plan } = forcedPlan({ source: src, report, format: 'jsonl', inputBytes: Buffer.byteLength(text), elements })
    const outcome = await execute('reductions-size', src, text, 'jsonl', plan, false)
    expect(outcome.equal).toBe(true)
    // A few hundred bytes per chunk, whatever the input size.
    expect(outcome.partialBytes).toBeLessThan(plan.chunks * 400)
  })

  it('splits for speed when several idle nodes have room and the input is large', async () => {
    const src = await source('04-reductions.py')
    const text = CORPUS[3]?.input(30_000, 11) as string
    expect(Buffer.byteLength(text)).toBeGreaterThan(MiB)
    const { report, elements } = analyzeFor(src, text, 'jsonl')
    const plan = planAuto({ source: src, report, format: 'jsonl', inputBytes: Buffer.byteLength(text), elements, nodes: [{ memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }] })
    expect(plan.level).toBe(3)
    expect(plan.chunks).toBe(3)
    expect(plan.reasons.join('\n')).toMatch(/split for speed/)
    const outcome = await execute('speed', src, text, 'jsonl', plan, false)
    expect(outcome.equal).toBe(true)
  })
})

describe('cost model', () => {
  it('splits for speed only when calibrated times say the split finishes sooner', async () => {
    const src = await source('04-reductions.py')
    const text = CORPUS[3]?.input(30_000, 13) as string
    const { report, elements } = analyzeFor(src, text, 'jsonl')
    const timed = (perElement: number): AnalysisReport => ({ ...report, blocks: report.blocks?.map(b => ({ ...b, seconds: { fixed: 0.001, perElement } })) })
    const input = { source: src, format: 'jsonl' as const, inputBytes: Buffer.byteLength(text), elements, nodes: [{ memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }] }
    const slow = planAuto({ ...input, report: timed(1e-4) })
    expect(slow.level).toBe(3)
    expect(slow.reasons.join('\n')).toMatch(/calibrated estimate: ~[\d.]+ s split vs ~[\d.]+ s sequential/)
    const quick = planAuto({ ...input, report: timed(1e-8) })
    expect(quick.level).toBe(1)
    expect(quick.reasons.join('\n')).toMatch(/splitting by data would not be faster/)
  })
})

describe('planAuto keeps level 1', () => {
  const plan = async (file: string, n: number, options: Partial<PlanInput> = {}): Promise<AutoPlan> => {
    const program = CORPUS.find(p => p.file === file) as Program
    const src = await source(file)
    const text = program.input(n, 3)
    const { report, elements } = analyzeFor(src, text, program.ext)
    return planAuto({ source: src, report, format: FORMATS[program.ext], inputBytes: Buffer.byteLength(text), elements, nodes: [{ memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }], ...options })
  }

  it('when the input is small', async () => {
    const p = await plan('04-reductions.py', 2_000)
    expect(p.level).toBe(1)
    expect(p.chunks).toBe(1)
    expect(p.finalTask.entry).toBe('main')
    expect(p.chunkTask).toBeUndefined()
    expect(p.reasons.join('\n')).toMatch(/small/)
  })

  it('when there is only one node and the program fits it', async () => {
    const p = await plan('04-reductions.py', 30_000, { nodes: [{ memoryBytes: 2 ** 32 }] })
    expect(p.level).toBe(1)
    expect(p.reasons.join('\n')).toMatch(/only one node/)
  })

  it('for a .json input, which cannot be cut on line boundaries', async () => {
    const src = await source('04-reductions.py')
    const text = JSON.stringify(Array.from({ length: 30_000 }, (_, i) => ({ id: i, price: i % 7, qty: 1, weight: i % 5 })))
    const sample = sampleInput(text, 'json')
    const report = analyze(src, { mode: 'auto', input: { format: 'json', elements: sample.elements, sample: sample.sample } })
    const p = planAuto({ source: src, report, format: 'json', inputBytes: text.length, elements: sample.elements, nodes: [{ memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }] })
    expect(p.level).toBe(1)
    expect(p.reasons.join('\n')).toMatch(/JSON array/)
  })

  it('for prefix sums, which the analyzer cannot prove element-wise', async () => {
    const p = await plan('11-prefix-sum.py', 30_000)
    expect(p.level).toBe(1)
    expect(p.reasons.join('\n')).toMatch(/not split by data: line 7, the loop that line 5 starts: the loop reads running while accumulating it \(a prefix dependence\)/)
  })

  it('when a later statement reads data itself (a mean broadcast into a map of data whose result is sorted whole)', async () => {
    // 12-mean-center.py returns centered[:5], which a second round computes on the chunks; sorted(centered) needs it all.
    const src = (await source('12-mean-center.py')).replace('"first": centered[:5]', '"median": sorted(centered)[len(centered) // 2]')
    const text = CORPUS.find(p => p.file === '12-mean-center.py')?.input(30_000, 3) as string
    const { report, elements } = analyzeFor(src, text, 'jsonl')
    const p = planAuto({ source: src, report, format: 'jsonl', inputBytes: Buffer.byteLength(text), elements, nodes: [{ memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }] })
    expect(p.level).toBe(1)
    expect(p.reasons.join('\n')).toMatch(/line 8 reads data itself/)
  })

  it('when the job defines a name the generated code needs', async () => {
    const src = 'def aggregate(xs):\n    return sum(xs)\n\n\ndef main(data):\n    total = sum(data)\n    return aggregate([total])\n'
    const text = lines(30_000, 1, r => `${int(r, 0, 9)}`)
    const { report, elements } = analyzeFor(src, text, 'jsonl')
    const p = planAuto({ source: src, report, format: 'jsonl', inputBytes: 2 * MiB, elements, nodes: [{ memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }] })
    expect(p.level).toBe(1)
    expect(p.reasons.join('\n')).toMatch(/aggregate/)
  })

  it('when a reduction goes through a helper of several statements (one returning an expression of reductions splits)', async () => {
    const text = lines(30_000, 1, r => `${int(r, 0, 9)}`)
    const nodes = [{ memoryBytes: 2 ** 32 }, { memoryBytes: 2 ** 32 }]
    const several = 'def largest(xs):\n    ordered = sorted(xs)\n    return ordered[-1]\n\n\ndef main(data):\n    top = largest(data)\n    return top\n'
    const p = planAuto({ source: several, ...analyzeFor(several, text, 'jsonl'), format: 'jsonl', inputBytes: 2 * MiB, nodes })
    expect(p.level).toBe(1)
    expect(p.reasons.join('\n')).toMatch(/call to largest\(\) is not a recognised map or reduction/)
    const one = 'def largest(xs):\n    return max(xs)\n\n\ndef main(data):\n    top = largest(data)\n    return top\n'
    const split = planAuto({ source: one, ...analyzeFor(one, text, 'jsonl'), format: 'jsonl', inputBytes: 2 * MiB, nodes })
    expect(split.level).toBe(3)
    expect(split.sites?.map(x => x.op)).toEqual(['inline'])
    const outcome = await execute('helper-max', one, text, 'jsonl', split, true)
    expect(outcome.where).toBeNull()
  })
})

describe('PlanError', () => {
  it('names the statement and the memory when a program that cannot be split does not fit', async () => {
    const program = CORPUS.find(p => p.file === '11-prefix-sum.py') as Program
    const src = await source(program.file)
    const text = program.input(20_000, 5)
    const { report, elements } = analyzeFor(src, text, 'jsonl')
    let error: unknown
    try {
      planAuto({ source: src, report, format: 'jsonl', inputBytes: Buffer.byteLength(text), elements, nodes: [{ memoryBytes: 17 * MiB }, { memoryBytes: 17 * MiB }] })
    } catch (err) { error = err }
    expect(error).toBeInstanceOf(PlanError)
    const e = error as PlanError
    expect(e.name).toBe('PlanError')
    expect(e.message).toMatch(/^line (5|6|7|8|9|10) \(`.+`\) needs about [\d.]+ MiB at 20,000 elements/)
    expect(e.message).toMatch(/cannot be split/)
    expect(e.bytes).toBeGreaterThan(17 * MiB)
    expect(e.available).toBe(17 * MiB)
  })

  it('names the aggregator statement when the split part fits but the rest needs everything at once', async () => {
    const program = CORPUS.find(p => p.file === '10-opaque-after-chain.py') as Program
    const src = await source(program.file)
    const text = program.input(20_000, 5)
    const { report, elements } = analyzeFor(src, text, 'txt')
    expect(() => planAuto({ source: src, report, format: 'text', inputBytes: Buffer.byteLength(text), elements, nodes: [{ memoryBytes: 18 * MiB }] }))
      .toThrow(/^line 1[6-9] \(`.+`\) needs about [\d.]+ MiB .* in the aggregator/)
  })
})

describe('generated code', () => {
  it('the runtime defines each of its functions and classes once (a second definition would silently replace the first)', () => {
    const names = [...PARTIALS_RUNTIME.matchAll(/^(?:def|class) (\w+)/gm)].map(m => m[1] ?? '')
    expect(names.length).toBeGreaterThan(50)
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([])
  })

  it('round-trips values exactly through the partial-results encoding', async () => {
    const script = [
      'import collections, dataclasses, datetime, decimal, enum, fractions, json, math, sys',
      'sys.set_int_max_str_digits(0)',
      'P = collections.namedtuple("P", "x y")',
      'class Color(enum.Enum):',
      '    RED = 1',
      '@dataclasses.dataclass',
      'class Box:',
      '    w: int',
      '    tags: list',
      'TABLE = {"k": [1, 2]}',
      PARTIALS_RUNTIME,
      'shared = [1, 2]',
      'cycle = []',
      'cycle.append(cycle)',
      'values = [None, True, 7, 2 ** 200, -2 ** 60, 1.5, -0.0, float("nan"), float("inf"), float("-inf"), "x\\ud800y", "héllo",',
      '          (1, (2, 3)), [shared, shared], {(1, 2): "a", 3: [4], None: 1, frozenset({1}): 2}, {1, 2}, frozenset({3}),',
      '          b"\\x00\\xff", bytearray(b"ab"), 3 + 4j, fractions.Fraction(1, 3), decimal.Decimal("-0.00"),',
      '          datetime.datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc), datetime.date(2020, 5, 6),',
      '          datetime.timedelta(days=1, microseconds=5), collections.OrderedDict(a=1), collections.Counter("abca"),',
      '          collections.defaultdict(list, {"a": [1]}), collections.deque([1, 2], maxlen=3), P(1, [2]), Color.RED,',
      '          Box(3, ["t"]), cycle, TABLE["k"], len, Box]',
      'text = json.dumps(_runsurge_partials([values]), allow_nan=False)',
      'back = _runsurge_decode_results([json.loads(text)], 1)[0][0]',
      'same = all(repr(a) == repr(b) and type(a) is type(b) for a, b in zip(values, back)) and len(values) == len(back)',
      'print(json.dumps([same, back[13][0] is back[13][1], back[32][0] is back[32], back[33] is TABLE["k"],',
      '                  math.copysign(1, back[6]), math.isnan(back[7]), back[34] is len, back[35] is Box]))'
    ].join('\n')
    const path = join(workDir(), 'encoding.py')
    await writeFile(path, script)
    const { stdout } = await run(PYTHON, ['-I', path])
    expect(JSON.parse(stdout)).toEqual([true, true, true, true, -1, true, true, true])
  })

  it('combines math.fsum and statistics.fmean/mean/pvariance/pstdev/variance/stdev over chunks exactly as one call, exceptions included', async () => {
    const runtime = join(workDir(), 'partials-statistics.py')
    await writeFile(runtime, PARTIALS_RUNTIME)
    for (const seed of ['3', '4']) {
      const { stdout } = await run(PYTHON, ['-I', new URL('statistics-combine.py', FIXTURES).pathname, runtime, seed])
      expect(stdout.trim()).toBe('0 10500')
    }
  })

  it('combines sorted(xs, key=…, reverse=…)[-k:] over chunks: the same last k, ties resolved as one stable sort', async () => {
    const runtime = join(workDir(), 'partials-sorted-tail.py')
    await writeFile(runtime, PARTIALS_RUNTIME)
    const { stdout } = await run(PYTHON, ['-I', new URL('sorted-tail.py', FIXTURES).pathname, runtime, '5'])
    expect(stdout.trim()).toBe('0')
  })

  it('replays min/max over numbers with nan from a few values per chunk, exactly as one run folds or calls them', async () => {
    const runtime = join(workDir(), 'partials.py')
    await writeFile(runtime, PARTIALS_RUNTIME)
    const { stdout } = await run(PYTHON, ['-I', new URL('nan-replay.py', FIXTURES).pathname, runtime, '7'])
    expect(stdout.trim()).toBe('0')
  })

  it('keeps the user module (line numbers included) and leaves nothing of main but the fused lines', async () => {
    const src = await source('05-accumulators.py')
    const text = CORPUS[4]?.input(8_000, 1) as string
    const { report, elements } = analyzeFor(src, text, 'jsonl')
    const { plan } = forcedPlan({ source: src, report, format: 'jsonl', inputBytes: Buffer.byteLength(text), elements })
    const chunk = plan.chunkTask?.script as string
    const final = plan.finalTask.script
    expect(chunk.split('\n')[0]).toBe(src.split('\n')[0])
    expect(chunk).toContain("    low = _RunsurgeRecorder('min')\n    for r in data:\n        low = min(low, r[\"amount\"])")
    expect(chunk).toContain('    total = _runsurge_NOVALUE')
    expect(final).toContain('    total = _runsurge_fold(_runsurge_parts, ')
    expect(final).toContain("'+', (0.0))")
    expect(final).toMatch(/def aggregate\(_runsurge_results\):[\s\S]*return \{"total": total/)
    expect(final).not.toMatch(/def main\(/)
  })
})

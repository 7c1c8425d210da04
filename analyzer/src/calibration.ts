/**
 * Calibration: measure the job instead of guessing. The analyzer writes a Python harness that loads growing
 * prefixes of a sample of the real input exactly as the runtime would, runs `main(data)` under tracemalloc
 * and a line tracer limited to main's frame, and prints, per top-level statement of main, the traced memory
 * before and after it, its peak, and its time. The analyzer never runs it: the caller does, in its sandbox,
 * through a {@link CalibrationRunner} — the analyzer stays pure.
 */
import { readFileSync } from 'node:fs'
import { CalibrationError } from './errors.ts'
import type { InputFormat, MemoryFunction, StatementMemory } from './memory.ts'

/** Runs a harness with `python3 -I` (or in a sandbox) and resolves to its standard output. */
export type CalibrationRunner = (request: CalibrationRequest, options?: { signal?: AbortSignal }) => Promise<string>

/** What a runner must execute: `harness` as the script, `input` on standard input. */
export interface CalibrationRequest {
  harness: string
  input: string
}

/** One statement's measurements in one run; bytes are absolute traced memory (input included). */
export interface StatementMeasurement {
  before: number
  after: number
  peak: number
  seconds: number
  /** Deep sizes (bytes) of the variables `HarnessOptions.variables` names for this statement, when it ends. */
  variables?: Record<string, number>
}

/** One run of main on a prefix of `n` elements. */
export interface CalibrationRun {
  n: number
  /** Traced memory after loading the input, and the peak while loading. */
  load: { current: number, peak: number }
  /** Indexed by DDG statement id; null when the statement did not run. */
  statements: Array<StatementMeasurement | null>
  /** Peak over the whole run and wall time of main. */
  peak: number
  seconds: number
}

/** The harness's output. */
export interface CalibrationMeasurements {
  version: 1
  python: string
  runs: CalibrationRun[]
  /** Prefixes smaller than the sample on which the job raised (e.g. `max()` of an empty filter). */
  skipped: Array<{ n: number, error: string }>
  /**
   * Locals of main that held, between two of its statements, a value that cannot be copied exactly to another
   * process (a function, a generator, an iterator, an open file, a module…): they must stay in one task.
   */
  unencodable: string[]
}

/** Options of {@link buildHarness}. */
export interface HarnessOptions {
  source: string
  /** `main` (automatic mode). */
  entry: string
  format: InputFormat
  /** [firstLine, lastLine] (1-based) of each top-level statement of the entry, by DDG id. */
  statements: Array<[number, number]>
  /** Prefix sizes to run, ascending. */
  sizes: number[]
  /**
   * Per statement (by DDG id), variables whose own deep size is measured when the statement ends: the values a split
   * run sends one of per chunk (a Counter, a set, lists per key), which the statement's total output would overstate
   * when the statement builds several.
   */
  variables?: Record<number, string[]>
  /**
   * Seconds the measured runs may take, as the warm-up run's pace predicts them: the smallest sizes that fit are run,
   * the larger ones left out; when even the two smallest do not fit, two smaller prefixes that do (at least 4 and 8
   * elements). Unlimited when absent.
   */
  budgetSeconds?: number
  /**
   * How the harness is run: `stdio` (the default) reads the sample on standard input and prints its JSON;
   * `process` defines `process(input_data)` that takes the sample's text and returns the same object, so a node runs
   * it as a manual-mode task (the coordinator's calibration task) and its result is the measurements.
   */
  interface?: 'stdio' | 'process'
}

/**
 * Growth factor applied to measured per-element costs. Lists over-allocate by up to 1/8 and dict/set
 * tables double when 2/3 full, so a prefix measured between two resizes can under-state a larger run; the
 * fits take the steepest slope seen and this margin on top.
 */
export const SLOPE_MARGIN = 1.2
/** Bytes added to every measured fixed cost: allocator and interpreter noise between runs. */
export const FIXED_MARGIN = 64 * 1024

/** Prefix sizes for a sample of `length` elements: four geometric steps ending at the sample's size. */
export function calibrationSizes (length: number): number[] {
  const sizes = [Math.ceil(length / 8), Math.ceil(length / 4), Math.ceil(length / 2), length].filter(n => n > 0)
  return [...new Set(sizes)]
}

/**
 * `_runsurge_deep_size(value)` in Python: what a value holds in memory, each object once. The calibration harness
 * measures accumulators with it, and the partial-results runtime (planner/src/partials/) what decoding a chunk's
 * partials takes.
 */
export const DEEP_SIZE_PYTHON = readFileSync(new URL('./deep-size.py', import.meta.url), 'utf8').trimEnd()

/**
 * The harness's Python after its constants (see {@link buildHarness}): loading prefixes of the sample, measuring
 * main statement by statement, choosing the sizes a budget allows. Generated code, kept as one template.
 */
const HARNESS_BODY = `def split_units(text):
    if FORMAT == 'json':
        return json.loads(text)
    if FORMAT == 'csv':
        return text.splitlines()
    return [line for line in text.splitlines() if FORMAT != 'jsonl' or line.strip()]

def prefix_text(units, k):
    if FORMAT == 'json':
        return json.dumps(units[:k])
    if FORMAT == 'csv':
        return '\\n'.join(units[:k + 1]) + '\\n'
    return '\\n'.join(units[:k]) + '\\n'

def load(text):
    if FORMAT == 'json':
        return json.loads(text)
    if FORMAT == 'jsonl':
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if FORMAT == 'csv':
        return list(csv.DictReader(io.StringIO(text)))
    return text.splitlines()

SCALARS = (type(None), bool, int, float, complex, str, bytes, bytearray)
CONTAINERS = (list, tuple, set, frozenset)
VALUE_MODULES = ('fractions', 'decimal', 'datetime', 'collections', 'enum')
unencodable = set()

def encodable(v, depth=0):
    # What the partial-results encoding copies exactly (planner/src/partials/), checked on up to 20 elements a level.
    t = type(v)
    if t in SCALARS or depth > 4:
        return True
    if isinstance(v, CONTAINERS):
        return all(encodable(x, depth + 1) for x, _ in zip(v, range(20)))
    if isinstance(v, dict):
        if getattr(v, 'default_factory', None) not in (None, list, int, float, str, set, frozenset, dict, tuple, bool, bytes):
            return False
        return all(encodable(k, depth + 1) and encodable(x, depth + 1) for (k, x), _ in zip(v.items(), range(20)))
    module = getattr(t, '__module__', '') or ''
    if module.split('.')[0] in VALUE_MODULES and not callable(v):
        return True
    if module == 'runsurge_job' and not callable(v) and not isinstance(v, type):
        state = getattr(v, '__dict__', None)
        return state is None or all(encodable(x, depth + 1) for x, _ in zip(state.values(), range(20)))
    return False

${DEEP_SIZE_PYTHON}
deep_size = _runsurge_deep_size

def note_locals(frame):
    for name, value in frame.f_locals.items():
        if name not in unencodable and not encodable(value):
            unencodable.add(name)

def measure(entry, units, k):
    stmt_of_line = {}
    for i, (first, last) in enumerate(STATEMENTS):
        for line in range(first, last + 1):
            stmt_of_line.setdefault(line, i)
    count = len(STATEMENTS)
    before = [None] * count
    after = [None] * count
    sizes = [None] * count
    peaks = [0] * count
    seconds = [0.0] * count
    state = [-1, 0.0]
    code = entry.__code__

    def local(frame, event, arg):
        if event != 'line' and event != 'return':
            return local
        current, peak = tracemalloc.get_traced_memory()
        now = time.perf_counter()
        running = state[0]
        if running >= 0 and peak > peaks[running]:
            peaks[running] = peak
        if event == 'return':
            note_locals(frame)
            if running >= 0:
                after[running] = current
                seconds[running] += now - state[1]
                measure_variables(frame, running)
            state[0] = -1
        else:
            i = stmt_of_line.get(frame.f_lineno, -1)
            if i >= 0 and i != running:
                note_locals(frame)
                if running >= 0:
                    after[running] = current
                    seconds[running] += now - state[1]
                    if VARIABLES.get(running):
                        measure_variables(frame, running)
                        now = time.perf_counter()
                if before[i] is None:
                    before[i] = current
                if current > peaks[i]:
                    peaks[i] = current
                state[0] = i
                state[1] = now
        tracemalloc.reset_peak()
        return local

    def measure_variables(frame, i):
        names = VARIABLES.get(i)
        if names:
            f_locals = frame.f_locals
            sizes[i] = {name: deep_size(f_locals[name]) for name in names if name in f_locals}

    def global_trace(frame, event, arg):
        return local if frame.f_code is code else None

    text = prefix_text(units, k)
    gc.collect()
    tracemalloc.start()
    data = load(text)
    load_current, load_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    sys.settrace(global_trace)
    try:
        result = entry(data)
    finally:
        sys.settrace(None)
    elapsed = time.perf_counter() - started
    total_peak = max([load_peak] + peaks)
    tracemalloc.stop()
    n = len(data)
    del result, data
    statements = []
    for i in range(count):
        if before[i] is None:
            statements.append(None)
        else:
            measured = {'before': before[i], 'after': after[i] if after[i] is not None else before[i], 'peak': peaks[i], 'seconds': seconds[i]}
            if sizes[i] is not None:
                measured['variables'] = sizes[i]
            statements.append(measured)
    return {'n': n, 'load': {'current': load_current, 'peak': load_peak}, 'statements': statements, 'peak': total_peak, 'seconds': elapsed}

def time_plain(entry, units, k):
    try:
        data = load(prefix_text(units, k))
        gc.collect()
        started = time.perf_counter()
        entry(data)
        return time.perf_counter() - started
    except Exception:
        return None

def run(text):
    namespace = {'__name__': 'runsurge_job', '__builtins__': __builtins__}
    exec(compile(SOURCE, 'job.py', 'exec'), namespace)
    entry = namespace[ENTRY]
    units = split_units(text)
    total = len(units) - (1 if FORMAT == 'csv' else 0)
    warm = None
    try:
        warm = measure(entry, units, min(16, total))  # warm caches (imports, regex cache, interned names) first
    except Exception:
        pass  # a tiny prefix may lack what the job expects (no odd number for max(odds)); the real runs decide
    sizes = [k for k in SIZES if k <= total]
    if BUDGET is not None and warm is not None and warm['n'] > 0:
        # A traced run and a plain run per size, each at most the traced warm-up's pace per element.
        pace = warm['seconds'] / warm['n']
        chosen = []
        for k in sizes:
            if len(chosen) >= 2 and 2 * pace * (sum(chosen) + k) > BUDGET:
                break
            chosen.append(k)
        if len(chosen) == 2 and 2 * pace * sum(chosen) > BUDGET:
            # Even the two smallest are too slow: two smaller prefixes (k and 2k) that fit, at least 4 and 8 elements.
            k = max(4, int(BUDGET / (6 * pace)))
            chosen = [k, 2 * k] if 2 * k < chosen[1] else chosen
        sizes = chosen
    runs = []
    skipped = []
    for k in sizes:
        try:
            measured = measure(entry, units, k)
            # Tracing and tracemalloc slow the job several times over: the statements' shares of the time come
            # from the traced run, the total from a plain run of the same prefix.
            plain = time_plain(entry, units, k)
            if measured['seconds'] > 0 and plain is not None:
                factor = plain / measured['seconds']
                for statement in measured['statements']:
                    if statement is not None:
                        statement['seconds'] *= factor
                measured['seconds'] = plain
            runs.append(measured)
        except Exception as error:
            sys.settrace(None)
            if tracemalloc.is_tracing():
                tracemalloc.stop()
            # Only the largest prefix must run; smaller ones may fail the same way the warm-up may.
            if k == max(sizes):
                raise
            skipped.append({'n': k, 'error': type(error).__name__ + ': ' + str(error)})
    return {'version': 1, 'python': sys.version.split()[0], 'runs': runs, 'skipped': skipped, 'unencodable': sorted(unencodable)}

def measured(text):
    try:
        return run(text)
    except BaseException as error:
        return {'version': 1, 'error': type(error).__name__ + ': ' + str(error)}`

/** Writes the harness. It reads the sample from standard input and prints one JSON object. */
export function buildHarness (options: HarnessOptions): string {
  const py = (v: unknown): string => JSON.stringify(v)
  return `# RunSurge calibration harness (generated; runs the job on prefixes of a sample of its input)
import csv, gc, io, json, sys, time, tracemalloc

SOURCE = ${py(options.source)}
ENTRY = ${py(options.entry)}
FORMAT = ${py(options.format)}
STATEMENTS = ${py(options.statements)}
SIZES = ${py(options.sizes)}
VARIABLES = {int(k): v for k, v in ${py(options.variables ?? {})}.items()}
BUDGET = ${options.budgetSeconds === undefined ? 'None' : py(options.budgetSeconds)}

${HARNESS_BODY}
${options.interface === 'process'
  ? `
def process(input_data):
    return measured(input_data)
`
  : `
sys.stdout.write(json.dumps(measured(sys.stdin.read())) + '\\n')
`}`
}

/**
 * Parses the harness's output.
 * @throws CalibrationError when it is not the expected JSON or reports an error
 */
export function parseMeasurements (stdout: string, statementCount: number): CalibrationMeasurements {
  const line = stdout.trim().split('\n').at(-1) ?? ''
  let raw: unknown
  try {
    raw = JSON.parse(line)
  } catch {
    throw new CalibrationError(`the calibration harness printed no JSON (last line: ${line.slice(0, 200)})`)
  }
  const r = raw as Record<string, unknown>
  if (typeof r.error === 'string') throw new CalibrationError(`the job failed on the calibration sample: ${r.error}`)
  if (r.version !== 1 || !Array.isArray(r.runs)) throw new CalibrationError('unexpected calibration output')
  const runs = r.runs as CalibrationRun[]
  for (const run of runs) {
    if (typeof run.n !== 'number' || !Array.isArray(run.statements) || run.statements.length !== statementCount) {
      throw new CalibrationError('calibration output does not match the analyzed statements')
    }
  }
  if (runs.length === 0) throw new CalibrationError('the calibration sample is empty')
  const skipped = Array.isArray(r.skipped) ? r.skipped as CalibrationMeasurements['skipped'] : []
  const unencodable = Array.isArray(r.unencodable) ? (r.unencodable as unknown[]).filter((v): v is string => typeof v === 'string') : []
  return { version: 1, python: String(r.python ?? ''), runs, skipped, unencodable }
}

/**
 * Fits `fixed + perElement × n` above every point: the steepest slope between any two runs (never
 * negative), times {@link SLOPE_MARGIN}, and the smallest intercept that keeps every point under the line,
 * plus `fixedMargin` ({@link FIXED_MARGIN} by default; parts that are summed later take 0 and the sum
 * takes the margin once).
 */
export function fitUpper (points: Array<[number, number]>, fixedMargin = FIXED_MARGIN): MemoryFunction {
  const sorted = [...points].sort((a, b) => a[0] - b[0])
  let slope = 0
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const [n1, q1] = sorted[i] as [number, number]
      const [n2, q2] = sorted[j] as [number, number]
      if (n2 > n1) slope = Math.max(slope, (q2 - q1) / (n2 - n1))
    }
  }
  // With one point, assume everything scales with n (safe: no fixed part to hide behind).
  if (sorted.length === 1) {
    const [n, q] = sorted[0] as [number, number]
    slope = n > 0 ? q / n : 0
  }
  const perElement = slope * SLOPE_MARGIN
  let fixed = 0
  for (const [n, q] of sorted) fixed = Math.max(fixed, q - perElement * n)
  return { fixed: Math.ceil(fixed + fixedMargin), perElement: round(perElement) }
}

function round (v: number): number {
  return Math.round(v * 1000) / 1000
}

/** Calibrated per-statement memory (same shape as the static estimate) and the data's memory. */
export function fitStatements (m: CalibrationMeasurements, statementCount: number): { data: MemoryFunction, dataPart: MemoryFunction, load: MemoryFunction, statements: Array<StatementMemory | undefined>, seconds: MemoryFunction[] } {
  const data = fitUpper(m.runs.map(r => [r.n, r.load.current]))
  const dataPart = fitUpper(m.runs.map(r => [r.n, r.load.current]), 0)
  const load = fitUpper(m.runs.map(r => [r.n, r.load.peak]))
  const statements: Array<StatementMemory | undefined> = []
  const seconds: MemoryFunction[] = []
  for (let i = 0; i < statementCount; i++) {
    const points = m.runs.flatMap(r => {
      const s = r.statements[i]
      return s === null || s === undefined ? [] : [{ n: r.n, s }]
    })
    if (points.length === 0) {
      statements.push(undefined)
      seconds.push({ fixed: 0, perElement: 0 })
      continue
    }
    const names = new Set(points.flatMap(p => Object.keys(p.s.variables ?? {})))
    const variables: Record<string, MemoryFunction> = {}
    for (const name of names) {
      const sized = points.flatMap(p => typeof p.s.variables?.[name] === 'number' ? [[p.n, p.s.variables[name]] as [number, number]] : [])
      // Every run must have measured it: a fit through some of them could hide growth.
      if (sized.length === points.length) variables[name] = fitUpper(sized, 0)
    }
    statements.push({
      statement: i,
      output: fitUpper(points.map(p => [p.n, Math.max(0, p.s.after - p.s.before)]), 0),
      working: fitUpper(points.map(p => [p.n, Math.max(0, p.s.peak - p.s.before)]), 0),
      peak: fitUpper(points.map(p => [p.n, p.s.peak])),
      ...(names.size > 0 ? { variables } : {})
    })
    const timeFit = fitTime(points.map(p => [p.n, p.s.seconds]))
    seconds.push(timeFit)
  }
  return { data, dataPart, load, statements, seconds }
}

/** Least-squares line for time (time is a cost estimate, not a safety bound). */
function fitTime (points: Array<[number, number]>): MemoryFunction {
  const n = points.length
  const mx = points.reduce((s, p) => s + p[0], 0) / n
  const my = points.reduce((s, p) => s + p[1], 0) / n
  let num = 0
  let den = 0
  for (const [x, y] of points) {
    num += (x - mx) * (y - my)
    den += (x - mx) ** 2
  }
  const slope = den === 0 ? (mx === 0 ? 0 : my / mx) : Math.max(0, num / den)
  return { fixed: Number(Math.max(0, my - slope * mx).toPrecision(4)), perElement: Number(slope.toPrecision(4)) }
}

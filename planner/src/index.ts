/**
 * Automatic-mode planner: prepares an automatic job (its input read as the runtime loads it, analyzed, measured,
 * planned: prepare.ts) and decides how a plain `main(data)` job runs on the mesh, and generates the Python for
 * it. Pure: source, analysis report, input size and the nodes' free memory in; a plan out.
 *
 * - **Level 1** — the whole program on one node, when its estimated peak fits and splitting would not help
 *   (small input, one node, calibrated times saying it would not be faster), or when it cannot be split
 *   exactly (a `.json` input, a first statement the analyzer could not prove element-wise, a later statement
 *   that reads `data` itself, …).
 * - **Level 2** — main cut into parts (segments.ts) that run as separate tasks, receiving the values they read from
 *   the parts that computed them: for memory, when the whole does not fit and cannot be split by data; for time,
 *   when calibrated times say that independent parts running at the same time finish sooner than one run.
 * - **Level 3** — the leading chain of `map`/`reduce` blocks over `data` is fused into one chunk task, run on
 *   K line-based chunks of the input; each chunk sends partial values (lists, dicts, partial accumulators),
 *   encoded exactly; one aggregator task combines them in chunk order and runs the rest of `main`. K is the
 *   smallest count whose chunk fits the largest node, at least one chunk per node when splitting for speed.
 *
 * @example
 * ```ts
 * const report = analyze(source, { mode: 'auto', input: { format: 'jsonl', elements, sample } })
 * const plan = planAuto({ source, report, format: 'jsonl', inputBytes, elements, nodes: [{ memoryBytes: 64 << 20 }] })
 * if (plan.level === 3) runChunks(plan.chunkTask, plan.chunks).then(results => runFinal(plan.finalTask, results))
 * ```
 */
export { planAuto } from './plan.ts'
export { PlanError, planView, runtimeBytes, SMALL_INPUT_BYTES, SMALL_INPUT_ELEMENTS, MIN_CHUNK_ELEMENTS, MAX_CHUNKS, ASSUMED_INPUT_BYTES_PER_ELEMENT } from './plan-types.ts'
export type { AutoPlan, PlanInput, PlannedTask, PlanView, SiteView, TaskSizing } from './plan-types.ts'
export { PARTIALS_RUNTIME, scriptForChunk } from './codegen.ts'
export { SEGMENT_FUNCTION } from './segments.ts'
export type { Segment } from './segments.ts'
export { PYTHON_OVERHEAD_BYTES, CHUNK_SKEW, DECODED_BYTES_PER_PARTIAL_BYTE, PARTIAL_TEXT_BYTES_PER_BYTE, REST_BYTES_PER_PARTIAL_BYTE, ENCODING_FACTOR, TASK_STARTUP_SECONDS, TRANSFER_BYTES_PER_SECOND, sequentialBytes } from './cost.ts'
export { formatBytes } from '../../protocols/src/units.ts'
export { NotAJsonArrayError, jsonArrayToLines } from './json-lines.ts'
export { analyzerFormat, asJsonLines, countElements, plannerFormat, readSample } from './input-files.ts'
export type { PlannerFormat } from './input-files.ts'
export { analysisOptions, describeInput, inspectInput, prepareAutoJob } from './prepare.ts'
export type { AutoInput, Measurement, PrepareAutoJobOptions, PreparedAutoJob } from './prepare.ts'

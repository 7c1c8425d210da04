/**
 * The sandbox side of a node, without the mesh: executors (bubblewrap, SSH, none), Python tasks in them, the
 * containment self-test, the calibration runner and the speed benchmark. The CLI's `sandbox`, `self-test` and
 * `analyze` use this entry: it loads no libp2p, so they start as fast as Python does.
 */
export * from './executors/index.ts'
export { PROBE_NAMES, processesMentioning, runProbe, runSelfTest } from './self-test.ts'
export type { ProbeName, ProbeResult, SelfTestOptions, SelfTestReport } from './self-test.ts'
export { sandboxCalibrationRunner } from './calibration.ts'
export { BenchmarkError, REFERENCE_SECONDS, runBenchmark } from './benchmark.ts'
export type { BenchmarkOptions, BenchmarkResult } from './benchmark.ts'

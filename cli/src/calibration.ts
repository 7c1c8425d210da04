/**
 * The calibration runner a coordinator started from the CLI uses for automatic jobs: the analyzer's harness runs the
 * submitted job on a sample of its input, so it runs in bubblewrap like any task. Without bubblewrap, none (the
 * coordinator plans on static estimates and says so).
 */
import { sandboxCalibrationRunner } from '../../node/src/sandbox.ts'
import { createExecutor } from '../../node/src/sandbox.ts'
import type { CalibrationRunner } from '../../analyzer/src/index.ts'
import type { Logger } from 'pino'

/** Each calibration run may take this long and this much memory. */
const LIMITS = { timeoutMs: 20_000, memoryBytes: 512 * 1024 * 1024 }

export function localCalibrationRunner (logger: Logger): CalibrationRunner | undefined {
  try {
    return sandboxCalibrationRunner(createExecutor({ kind: 'bwrap', log: (message: string) => { logger.warn(message) } }), LIMITS)
  } catch (err: any) {
    logger.warn({ err: err?.message }, 'no sandbox for calibration: automatic jobs are planned on static memory estimates, without timings')
    return undefined
  }
}

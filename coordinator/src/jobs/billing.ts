/**
 * Billing (report §2.3, appendix C.1.7): a contributor earns unit rate × seconds × machine factor × average memory
 * in GB for each task their node completed; the submitter pays 1.2 × the job's sum; the platform keeps the rest.
 * Amounts are integers in micro-units of the currency.
 */
import type { JobCost } from './records.ts'

/** Default unit rate: micro-units per second of one GB on a reference machine (factor 1.0). */
export const DEFAULT_UNIT_RATE = 1_000

/** The submitter pays this multiple of what the contributors earn. */
export const PRICE_FACTOR = 1.2

/** GB as billed: 10^9 bytes. */
export const BYTES_PER_GB = 1e9

/** One task's earning in micro-units, rounded to the nearest unit. */
export function taskEarning (unitRate: number, wallMs: number, machineFactor: number, avgMemoryBytes: number): number {
  return Math.round(unitRate * (wallMs / 1000) * machineFactor * (avgMemoryBytes / BYTES_PER_GB))
}

/** A job's cost from its tasks' earnings. */
export function jobCost (unitRate: number, earnings: number[]): JobCost {
  const contributors = earnings.reduce((sum, amount) => sum + amount, 0)
  // Integer arithmetic: 1.2 × n = 6n / 5, rounded half up.
  const price = Math.floor((contributors * 6 + 2) / 5)
  return { contributors, price, platform: price - contributors, unitRate }
}

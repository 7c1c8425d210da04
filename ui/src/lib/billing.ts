/**
 * The billing formula as the guide explains it (DESIGN.md, report §2.3): a task earns unit rate × seconds ×
 * machine factor × average memory in GB; the submitter pays 1.2 × the contributors' sum. It mirrors the
 * coordinator's billing (a test holds them equal) so the worked example is computed, not typed in.
 */

export const DEFAULT_UNIT_RATE = 1_000
export const BYTES_PER_GB = 1e9

export function taskEarning (unitRate: number, wallMs: number, machineFactor: number, avgMemoryBytes: number): number {
  return Math.round(unitRate * (wallMs / 1000) * machineFactor * (avgMemoryBytes / BYTES_PER_GB))
}

/** What the submitter pays for contributors' earnings summing to `contributors`: 1.2 ×, rounded half up. */
export function jobPrice (contributors: number): number {
  return Math.floor((contributors * 6 + 2) / 5)
}

export interface ExampleTask { node: string, factor: number, seconds: number, memoryGb: number, earning: number }

/** The guide's worked example: a manual job of three tasks on two machines. */
export function workedExample (unitRate = DEFAULT_UNIT_RATE): { tasks: ExampleTask[], contributors: number, price: number, platform: number } {
  const tasks = [
    { node: 'A', factor: 1.25, seconds: 12, memoryGb: 0.5 },
    { node: 'A', factor: 1.25, seconds: 10, memoryGb: 0.5 },
    { node: 'B', factor: 0.8, seconds: 15, memoryGb: 0.4 }
  ].map(task => ({ ...task, earning: taskEarning(unitRate, task.seconds * 1000, task.factor, task.memoryGb * BYTES_PER_GB) }))
  const contributors = tasks.reduce((sum, task) => sum + task.earning, 0)
  const price = jobPrice(contributors)
  return { tasks, contributors, price, platform: price - contributors }
}

/**
 * Sizes and figures as every part of RunSurge reads and writes them: one `parseSize` (the CLI's flags, a node's
 * limits, the UI's form), one `formatBytes` (plans, errors, logs, the UI) and one `median` (placement, benchmarks).
 * Pure and dependency-free, so the UI bundles it too.
 */

/** Binary multipliers by unit letter: memory limits are binary in the kernel, and so is every size here. */
const MULTIPLIERS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']

/** A text that is not a positive size. */
export class InvalidSizeError extends RangeError {
  override name = 'InvalidSizeError'
}

/**
 * Parses `512M`, `1.5G`, `64k`, `2GiB`, `2GB`, `100b` or `1048576` (bytes) into whole bytes; every unit is binary.
 * @throws InvalidSizeError when `text` is not a positive size
 */
export function parseSize (text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text)
  if (match === null) throw new InvalidSizeError(`"${text}" is not a size: write e.g. 512M, 4G or a number of bytes`)
  const bytes = Math.round(Number(match[1]) * (MULTIPLIERS[(match[2] ?? '').toLowerCase()] ?? 1))
  if (!Number.isFinite(bytes) || bytes <= 0) throw new InvalidSizeError(`"${text}" is not a positive size`)
  return bytes
}

export interface FormatBytesOptions {
  /**
   * Significant digits (the UI's 512 B, 1.50 KiB, 12.3 MiB); by default one decimal above bytes (512 B, 1.5 KiB,
   * 12.3 MiB), as plans, errors and logs write them.
   */
  significant?: number
  /** What a non-finite value (no limit) reads as (default `unlimited`). */
  infinite?: string
}

/** Bytes in binary units: `536870912` → `512.0 MiB`. */
export function formatBytes (bytes: number, options: FormatBytesOptions = {}): string {
  if (!Number.isFinite(bytes)) return options.infinite ?? 'unlimited'
  const sign = bytes < 0 ? '-' : ''
  let value = Math.abs(bytes)
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  if (unit === 0) return `${sign}${Math.round(value)} B`
  const { significant } = options
  if (significant === undefined) return `${sign}${value.toFixed(1)} ${UNITS[unit] ?? ''}`
  const digits = (v: number): number => Math.max(0, significant - 1 - Math.max(0, Math.floor(Math.log10(v))))
  // 1023.7 KiB rounds to "1024 KiB": say 1.00 MiB instead.
  if (Number(value.toFixed(digits(value))) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return `${sign}${value.toFixed(digits(value))} ${UNITS[unit] ?? ''}`
}

/** The middle value (the upper one of an even count); 0 for none. */
export function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

/**
 * How the UI writes numbers: money (the API counts integer micro-units of the currency), bytes, durations,
 * counts and times. Pure functions, one locale (the app's text is English), so what a test reads is what a user reads.
 */
import { formatBytes as formatSize, parseSize as parseBytes } from '../../../protocols/src/units.ts'

export const LOCALE = 'en-US'
export const CURRENCY = 'USD'
export const MICRO_PER_UNIT = 1_000_000

const counts = new Intl.NumberFormat(LOCALE)

/** A count with digit grouping: 12,345. */
export function formatNumber (value: number): string {
  return counts.format(value)
}

/**
 * An amount of micro-units as currency. Task earnings are often fractions of a cent, so small amounts keep the
 * digits that make them non-zero (up to the micro-unit): $0.000015, $0.0123, $12.35.
 */
export function formatMoney (micro: number): string {
  const units = micro / MICRO_PER_UNIT
  const abs = Math.abs(micro)
  const digits = abs === 0 || abs >= MICRO_PER_UNIT ? 2 : abs >= 10_000 ? 4 : 6
  return new Intl.NumberFormat(LOCALE, { style: 'currency', currency: CURRENCY, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(units)
}

/** Bytes in binary units with three significant digits: 512 B, 1.50 KiB, 12.3 MiB, 1.00 GiB. */
export function formatBytes (bytes: number): string {
  return formatSize(bytes, { significant: 3, infinite: '–' })
}

/** A duration: 420 ms, 4.2 s, 3 min 05 s, 2 h 03 min. */
export function formatDuration (ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`
  const seconds = Math.floor(ms / 1000)
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, '0')} s`
  const hours = Math.floor(minutes / 60)
  return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`
}

const dateTimes = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short' })

/** A moment (ms since the epoch) in the reader's time zone. */
export function formatDateTime (ms: number): string {
  return dateTimes.format(new Date(ms))
}

/** A machine factor: ×1.25 (1.0 is the reference machine). */
export function formatFactor (factor: number): string {
  return `×${factor.toFixed(2)}`
}

/** A share as a percentage: 0.423 → 42%. */
export function formatPercent (ratio: number): string {
  return `${Math.round(ratio * 100)}%`
}

/** Parses a size the way the CLI does: 512M, 1.5G, 64MiB, 1000 (bytes). Undefined when it is not a positive size. */
export function parseSize (text: string): number | undefined {
  try {
    return parseBytes(text)
  } catch {
    return undefined
  }
}

/** A task as people read it: `main #3`, or its entry alone for the one task of its kind outside the plan (`calibrate`). */
export function taskName (task: { entry: string, index: number }): string {
  return task.index < 0 ? task.entry : `${task.entry} #${task.index}`
}

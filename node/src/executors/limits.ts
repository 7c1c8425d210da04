import { InvalidSizeError } from './errors.ts'

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }

/**
 * Parses `512M`, `1.5G`, `64k`, `1024` (bytes) or `2GiB`/`2GB` — all binary units, as memory
 * limits are in the kernel.
 */
export function parseSize (text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text)
  if (match === null) throw new InvalidSizeError(`not a size: "${text}" (try 512M or 2G)`)
  const value = Number(match[1]) * (UNITS[(match[2] ?? '').toLowerCase()] ?? 1)
  if (!Number.isFinite(value) || value <= 0) throw new InvalidSizeError(`not a positive size: "${text}"`)
  return Math.round(value)
}

/** `536870912` → `512.0 MiB`. */
export function formatSize (bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`
}

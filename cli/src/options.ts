/** Parsing of command-line values shared by the subcommands. */
import { InvalidArgumentError } from 'commander'
import { parseSize as parseBytes } from '../../protocols/src/units.ts'

/** Parses a size such as `512M`, `4G`, `1.5GiB` or `1048576` into bytes (binary units), as a command-line value. */
export function parseSize (text: string): number {
  try {
    return parseBytes(text)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
}

/** Parses `HOST:PORT` (IPv6 in brackets) for listening. */
export function parseHostPort (text: string): { host: string, port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text)
  const port = Number(match?.[3])
  if (match == null || port > 65535) throw new InvalidArgumentError(`"${text}" is not HOST:PORT, e.g. 127.0.0.1:8080`)
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port }
}

/** Parses a positive number of milliseconds. */
export function parseMs (text: string): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError(`"${text}" is not a positive number of milliseconds`)
  return value
}

const DURATION_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 }

/** Parses a duration such as `10m`, `30s`, `1h`, `500ms` or a number of milliseconds; 0 is allowed. */
export function parseDuration (text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/.exec(text)
  const unit = DURATION_UNITS[match?.[2] ?? '']
  if (match?.[1] === undefined || unit === undefined) {
    throw new InvalidArgumentError(`"${text}" is not a duration: write e.g. 10m, 30s, 1h or a number of milliseconds`)
  }
  return Math.round(Number(match[1]) * unit)
}

/** Parses a whole number of at least 1. */
export function parseCount (text: string): number {
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`"${text}" is not a whole number of at least 1`)
  return value
}

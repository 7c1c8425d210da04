import { pino } from 'pino'
import type { Logger } from 'pino'

/** Structured logs (JSON lines) on standard error, so standard output stays for results. */
export function createLogger (name: string, level = process.env.RUNSURGE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level }, pino.destination(2))
}

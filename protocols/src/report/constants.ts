import { protocolId } from '../constants.ts'

export const PROTOCOL_NAME = 'report'
export const PROTOCOL_VERSION = '1.0.0'
export const PROTOCOL = protocolId(PROTOCOL_NAME, PROTOCOL_VERSION)

/** Outcome, metrics, output CIDs and a capped error message (tracebacks are capped at 64 KiB by the node). */
export const MAX_MESSAGE_SIZE = 1024 * 1024

/** The coordinator only records the report. */
export const TIMEOUT = 10_000

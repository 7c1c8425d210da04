import { protocolId } from '../constants.ts'

export const PROTOCOL_NAME = 'heartbeat'
export const PROTOCOL_VERSION = '1.0.0'
export const PROTOCOL = protocolId(PROTOCOL_NAME, PROTOCOL_VERSION)

/** Room for the ids of a few hundred running tasks. */
export const MAX_MESSAGE_SIZE = 65_536

/** A heartbeat that takes longer than an interval is useless; the next one follows. */
export const TIMEOUT = 5_000

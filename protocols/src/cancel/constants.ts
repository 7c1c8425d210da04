import { protocolId } from '../constants.ts'

export const PROTOCOL_NAME = 'cancel'
export const PROTOCOL_VERSION = '1.0.0'
export const PROTOCOL = protocolId(PROTOCOL_NAME, PROTOCOL_VERSION)

/** A task id and a short reason. */
export const MAX_MESSAGE_SIZE = 4096

/** Cancelling only signals the running task. */
export const TIMEOUT = 10_000

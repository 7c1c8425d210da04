import { protocolId } from '../constants.ts'

export const PROTOCOL_NAME = 'assign'
export const PROTOCOL_VERSION = '1.0.0'
export const PROTOCOL = protocolId(PROTOCOL_NAME, PROTOCOL_VERSION)

/** The script travels inline (the analyzer caps sources well below this); input data never does, only CIDs. */
export const MAX_MESSAGE_SIZE = 16 * 1024 * 1024

/** Accepting a task is quick: the node only checks it and queues it. */
export const TIMEOUT = 30_000

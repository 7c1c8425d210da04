import { protocolId } from '../constants.ts'

export const PROTOCOL_NAME = 'register'
export const PROTOCOL_VERSION = '1.0.0'
export const PROTOCOL = protocolId(PROTOCOL_NAME, PROTOCOL_VERSION)

/** A registration is a token and a few numbers; 4 KiB leaves room and refuses junk early. */
export const MAX_MESSAGE_SIZE = 4096

/** Registration answers at once unless the coordinator is overloaded. */
export const TIMEOUT = 10_000

/**
 * `/runsurge/heartbeat/1.0.0`: a node tells the coordinator every few seconds that it is alive and what it is doing.
 *
 * @module
 */
import { rpc } from '../rpc.ts'
import { MAX_MESSAGE_SIZE, PROTOCOL, TIMEOUT } from './constants.ts'
import { HeartbeatRequest, HeartbeatResponse } from './pb/heartbeat.ts'
import type { RpcComponents, RpcDefinition, RpcInit, RpcService } from '../rpc.ts'

export { HeartbeatRequest, HeartbeatResponse } from './pb/heartbeat.ts'
export { MAX_MESSAGE_SIZE as HEARTBEAT_MAX_MESSAGE_SIZE, PROTOCOL as HEARTBEAT_PROTOCOL } from './constants.ts'

/** The wire definition of the heartbeat protocol. */
export const heartbeatDefinition: RpcDefinition<HeartbeatRequest, HeartbeatResponse> = {
  protocol: PROTOCOL,
  request: HeartbeatRequest,
  response: HeartbeatResponse,
  maxMessageSize: MAX_MESSAGE_SIZE,
  timeout: TIMEOUT,
  ok: HeartbeatResponse.Status.OK,
  refused: HeartbeatResponse.Status.UNKNOWN_NODE,
  failed: HeartbeatResponse.Status.ERROR,
  removed: HeartbeatResponse.Status.REMOVED,
  // Callers send request after request on streams they keep open (see RpcDefinition.reuseStreams): idempotent.
  reuseStreams: true
}

/** Options of the heartbeat service; see {@link RpcInit}. Pass `handler` on the side that answers. */
export type HeartbeatInit = RpcInit<HeartbeatRequest, HeartbeatResponse>

/** The heartbeat service: `call` sends a request; a `handler` in the init answers them. */
export type HeartbeatService = RpcService<HeartbeatRequest, HeartbeatResponse>

/** Creates the heartbeat service for a libp2p node's `services`. */
export function heartbeatService (init: HeartbeatInit = {}): (components: RpcComponents) => HeartbeatService {
  return rpc(heartbeatDefinition, init)
}

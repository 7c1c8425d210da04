/**
 * `/runsurge/assign/1.0.0`: the coordinator pushes a task to a node. A node accepts it only from its coordinator.
 *
 * @module
 */
import { rpc } from '../rpc.ts'
import { MAX_MESSAGE_SIZE, PROTOCOL, TIMEOUT } from './constants.ts'
import { AssignRequest, AssignResponse } from './pb/assign.ts'
import type { RpcComponents, RpcDefinition, RpcInit, RpcService } from '../rpc.ts'

export { AssignRequest, AssignResponse } from './pb/assign.ts'
export { MAX_MESSAGE_SIZE as ASSIGN_MAX_MESSAGE_SIZE, PROTOCOL as ASSIGN_PROTOCOL } from './constants.ts'

/** The wire definition of the assign protocol. */
export const assignDefinition: RpcDefinition<AssignRequest, AssignResponse> = {
  protocol: PROTOCOL,
  request: AssignRequest,
  response: AssignResponse,
  maxMessageSize: MAX_MESSAGE_SIZE,
  timeout: TIMEOUT,
  ok: AssignResponse.Status.ACCEPTED,
  refused: AssignResponse.Status.REFUSED,
  failed: AssignResponse.Status.ERROR,
  busy: AssignResponse.Status.BUSY,
  // Callers send request after request on streams they keep open (see RpcDefinition.reuseStreams): idempotent.
  reuseStreams: true
}

/** Options of the assign service; see {@link RpcInit}. Pass `handler` on the side that answers. */
export type AssignInit = RpcInit<AssignRequest, AssignResponse>

/** The assign service: `call` sends a request; a `handler` in the init answers them. */
export type AssignService = RpcService<AssignRequest, AssignResponse>

/** Creates the assign service for a libp2p node's `services`. */
export function assignService (init: AssignInit = {}): (components: RpcComponents) => AssignService {
  return rpc(assignDefinition, init)
}

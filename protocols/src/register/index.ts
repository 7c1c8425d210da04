/**
 * `/runsurge/register/1.0.0`: a node enrolls with the coordinator using an enrollment token and states what it offers.
 *
 * @module
 */
import { rpc } from '../rpc.ts'
import { MAX_MESSAGE_SIZE, PROTOCOL, TIMEOUT } from './constants.ts'
import { RegisterRequest, RegisterResponse } from './pb/register.ts'
import type { RpcComponents, RpcDefinition, RpcInit, RpcService } from '../rpc.ts'

export { RegisterRequest, RegisterResponse } from './pb/register.ts'
export { MAX_MESSAGE_SIZE as REGISTER_MAX_MESSAGE_SIZE, PROTOCOL as REGISTER_PROTOCOL, TIMEOUT as REGISTER_TIMEOUT } from './constants.ts'

/** The wire definition of the register protocol. */
export const registerDefinition: RpcDefinition<RegisterRequest, RegisterResponse> = {
  protocol: PROTOCOL,
  request: RegisterRequest,
  response: RegisterResponse,
  maxMessageSize: MAX_MESSAGE_SIZE,
  timeout: TIMEOUT,
  ok: RegisterResponse.Status.OK,
  refused: RegisterResponse.Status.REFUSED,
  failed: RegisterResponse.Status.ERROR,
  removed: RegisterResponse.Status.REMOVED
}

/** Options of the register service; see {@link RpcInit}. Pass `handler` on the side that answers. */
export type RegisterInit = RpcInit<RegisterRequest, RegisterResponse>

/** The register service: `call` sends a request; a `handler` in the init answers them. */
export type RegisterService = RpcService<RegisterRequest, RegisterResponse>

/** Creates the register service for a libp2p node's `services`. */
export function registerService (init: RegisterInit = {}): (components: RpcComponents) => RegisterService {
  return rpc(registerDefinition, init)
}

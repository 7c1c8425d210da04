/**
 * The RunSurge wire: protocol ids, protobuf codecs and services for the control protocols, the chunk exchange
 * (data plane), and the libp2p host factory shared by the coordinator and the nodes.
 *
 * @module
 */
export { createHost, DHT_PROTOCOL } from './host.ts'
export type { BaseServices, HostInit } from './host.ts'
export { meshServices } from './services.ts'
export type { MeshServices, MeshServicesInit } from './services.ts'
export { TASK_FAILURE_CODES, isTaskFailureCode } from './task-failures.ts'
export type { TaskFailureCode } from './task-failures.ts'
export { PROTOCOL_PREFIX, protocolId } from './constants.ts'
export { InvalidSizeError, formatBytes, median, parseSize } from './units.ts'
export type { FormatBytesOptions } from './units.ts'
export { BusyError, RefusedError, RemoteError, RemovedError, InvalidMessageError, MeshJoinError } from './errors.ts'
export { loadOrCreateIdentity, createSwarmKey, readSwarmKey, randomToken } from './identity.ts'
export { rpc, anySignal } from './rpc.ts'
export type { RpcService, RpcInit, RpcDefinition, RpcComponents, RequestContext, StatusResponse } from './rpc.ts'
export * from './register/index.ts'
export * from './heartbeat/index.ts'
export * from './assign/index.ts'
export * from './report/index.ts'
export * from './cancel/index.ts'
export * from './chunk/index.ts'

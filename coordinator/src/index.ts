/**
 * The coordinator: HTTP API for people, libp2p for nodes, LevelDB for state.
 *
 * @module
 */
export { startCoordinator } from './server.ts'
export type { Coordinator, CoordinatorInfo, CoordinatorOptions } from './server.ts'
export { NodeRegistry, DEFAULT_LIVENESS } from './nodes/registry.ts'
export type { LivenessOptions, NodeSession } from './nodes/registry.ts'
export {
  SnapshotError, SnapshotSchedule, Store, StoreDamagedError, StoreIOError, StoreLockedError, restoreSnapshot, tokenKey, verifySnapshot, writeSnapshot
} from './store/index.ts'
export type { RestoreReport, SnapshotInfo } from './store/index.ts'
export { JobStore } from './jobs/records.ts'
export type { JobRecord, TaskRecord } from './jobs/records.ts'
export { rejectionOf } from './jobs/intake.ts'
export { DEFAULT_TASK_MEMORY } from './jobs/policy.ts'

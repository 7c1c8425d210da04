/**
 * The contributor's node.
 *
 * @module
 */
export { createWorker } from './worker.ts'
export type { Worker, WorkerInit, WorkerServices, RunTask, RunTaskContext, TaskResult } from './worker.ts'
export { RegistrationError } from './errors.ts'
export { sandboxTasks } from './tasks.ts'
export type { SandboxTasksInit } from './tasks.ts'
export * from './sandbox.ts'

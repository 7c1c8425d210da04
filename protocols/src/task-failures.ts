/**
 * How a task can fail, as a node reports it (`ReportRequest.errorCode`) and the coordinator reads it: the executors
 * on a node end every failed task with exactly one of these codes, and the coordinator decides from it whether to
 * retry, where, and whether the job fails. Written once here so that both sides agree.
 */

/**
 * Every way a task can fail. When several limits are near at once, the node's `executors/outcome.ts` decides which
 * one stopped the task (its precedence is documented there and in docs/sandbox.md).
 */
export const TASK_FAILURE_CODES = [
  /** The job raised (the traceback is kept, capped) or exited non-zero. */
  'runtime_error',
  /** Address-space rlimit hit (MemoryError), or the tree's memory (shared pages counted once) went over the limit. */
  'memory_limit',
  /** Wall-clock timeout, or the CPU-seconds rlimit. */
  'time_limit',
  /** The process/thread limit stopped the task (fork bomb, too many threads). */
  'process_limit',
  /** A file, the task directory (bytes or entries), the files to copy back, or stdout/stderr grew past its limit. */
  'output_limit',
  /** The sandbox itself failed (not the job's fault): missing bwrap, SSH down, bad task spec. */
  'sandbox_error'
] as const

/** One of {@link TASK_FAILURE_CODES}. */
export type TaskFailureCode = typeof TASK_FAILURE_CODES[number]

/** Whether `code` (an error code off the wire) is one of {@link TASK_FAILURE_CODES}. */
export function isTaskFailureCode (code: string): code is TaskFailureCode {
  return (TASK_FAILURE_CODES as readonly string[]).includes(code)
}

/** Errors of the sandbox executors, identified by `name`. */

/**
 * Names each error after its class, once for all of them: the static `name` each class declares survives
 * minification, and an instance's `name` is what callers compare.
 */
class ExecutorError extends Error {
  constructor (message?: string) {
    super(message)
    this.name = new.target.name
  }
}

/** The requested sandbox cannot run here (no bwrap, no user namespaces, no Python). */
export class SandboxUnavailableError extends ExecutorError {
  static override name = 'SandboxUnavailableError'
}

/** The `none` executor was requested without the explicit unsafe opt-in. */
export class UnsafeSandboxError extends ExecutorError {
  static override name = 'UnsafeSandboxError'

  constructor (message = 'refusing to run tasks without a sandbox: pass --unsafe-no-sandbox (unsafe: true) only on a trusted lab mesh') {
    super(message)
  }
}

/** The SSH executor could not reach, authenticate to or use its box. */
export class SshExecutorError extends ExecutorError {
  static override name = 'SshExecutorError'
}

/** A task spec the executor cannot run (entry outside the task directory, task directory too big…). */
export class InvalidTaskError extends ExecutorError {
  static override name = 'InvalidTaskError'
}

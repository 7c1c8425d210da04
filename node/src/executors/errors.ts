/** Errors of the sandbox executors, identified by `name`. */

/** The requested sandbox cannot run here (no bwrap, no user namespaces, no Python). */
export class SandboxUnavailableError extends Error {
  static override name = 'SandboxUnavailableError'
  override name = 'SandboxUnavailableError'
}

/** The `none` executor was requested without the explicit unsafe opt-in. */
export class UnsafeSandboxError extends Error {
  static override name = 'UnsafeSandboxError'
  override name = 'UnsafeSandboxError'

  constructor (message = 'refusing to run tasks without a sandbox: pass --unsafe-no-sandbox (unsafe: true) only on a trusted lab mesh') {
    super(message)
  }
}

/** The SSH executor could not reach, authenticate to or use its box. */
export class SshExecutorError extends Error {
  static override name = 'SshExecutorError'
  override name = 'SshExecutorError'
}

/** A task spec the executor cannot run (entry outside the task directory, task directory too big…). */
export class InvalidTaskError extends Error {
  static override name = 'InvalidTaskError'
  override name = 'InvalidTaskError'
}

/** A size string such as `512M` that does not parse. */
export class InvalidSizeError extends Error {
  static override name = 'InvalidSizeError'
  override name = 'InvalidSizeError'
}

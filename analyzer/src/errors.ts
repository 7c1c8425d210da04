/**
 * Typed errors of the analyzer. A job the analyzer refuses is not a crash: `analyze()` turns every
 * {@link SourceRejectedError} into a `rejected` report, so callers (CLI, coordinator) map `code` to an exit
 * status or an HTTP response without parsing messages.
 */

/** Why a job was refused; stable strings, part of the CLI's `--json` output and of the HTTP API. */
export type RejectionCode =
  | 'EMPTY_SOURCE'
  | 'BINARY_SOURCE'
  | 'SOURCE_TOO_LARGE'
  | 'SYNTAX_ERROR'
  | 'SECURITY_VIOLATION'
  | 'TEMPLATE_VIOLATION'

/** Base class: the source cannot be accepted. `line` is 1-based when the problem has a place. */
export class SourceRejectedError extends Error {
  override name = 'SourceRejectedError'
  readonly code: RejectionCode
  readonly line: number | undefined

  constructor (code: RejectionCode, message: string, line?: number) {
    super(message)
    this.code = code
    this.line = line
  }
}

/** The file is empty or holds only whitespace. */
export class EmptySourceError extends SourceRejectedError {
  override name = 'EmptySourceError'
  constructor (message = 'the file is empty: a job must define main(data)') {
    super('EMPTY_SOURCE', message)
  }
}

/** The file holds NUL bytes or is not valid UTF-8, so it is not Python source. */
export class BinarySourceError extends SourceRejectedError {
  override name = 'BinarySourceError'
  constructor (message: string, line?: number) {
    super('BINARY_SOURCE', message, line)
  }
}

/** The file is larger than the analyzer accepts (see `MAX_SOURCE_BYTES`). */
export class SourceTooLargeError extends SourceRejectedError {
  override name = 'SourceTooLargeError'
  constructor (message: string) {
    super('SOURCE_TOO_LARGE', message)
  }
}

/** The file is not valid Python 3. */
export class PythonSyntaxError extends SourceRejectedError {
  override name = 'PythonSyntaxError'
  readonly column: number | undefined
  constructor (message: string, line: number, column?: number) {
    super('SYNTAX_ERROR', message, line)
    this.column = column
  }
}

/** A rule file under `rules/` is malformed: a bug in the analyzer's own configuration, not in the job. */
export class InvalidRuleError extends Error {
  override name = 'InvalidRuleError'
}

/** The calibration harness printed something the analyzer cannot interpret. */
export class CalibrationError extends Error {
  override name = 'CalibrationError'
}

/**
 * `runsurge sandbox JOB.py`: runs one Python job exactly as a node runs a task (same executor, same
 * runtime, same limits; no scanner) and prints `{"status","result","error","metrics"}`. Also the
 * home of the executor options (`--sandbox`, `--ssh`, `--ssh-key`, `--unsafe-no-sandbox`) that
 * `runsurge node` shares.
 */
import { readFile } from 'node:fs/promises'
import { Option } from 'commander'
import { createExecutor, formatBytes, parseSize, parseSshTarget, runPythonTask, stringifyResult } from '../../../node/src/sandbox.ts'
import type { Executor, ExecutorConfig, PythonTaskMode, PythonTaskOutcome } from '../../../node/src/sandbox.ts'
import type { Command } from 'commander'

/** The executor options as commander parses them. */
export interface SandboxCliOptions {
  sandbox?: string
  ssh?: string
  sshKey?: string
  sshFingerprint?: string
  unsafeNoSandbox?: boolean
}

interface SandboxCommandOptions extends SandboxCliOptions {
  input?: string
  mode: string
  function?: string
  memory: string
  timeout: string
  json?: boolean
}

/** A command line that cannot run (exit 2). */
export class UsageError extends Error {
  static override name = 'UsageError'
  override name = 'UsageError'
}

/** Adds `--sandbox`, `--ssh`, `--ssh-key`, `--ssh-fingerprint`, `--unsafe-no-sandbox` to a command. */
export function addSandboxOptions (command: Command): Command {
  return command
    .addOption(new Option('--sandbox <kind>', 'where tasks run').choices(['bwrap', 'ssh', 'none']).default('bwrap'))
    .option('--ssh <target>', 'with --sandbox ssh: the guest VM or box, user@host[:port]')
    .option('--ssh-key <file>', 'with --sandbox ssh: private key file')
    .option('--ssh-fingerprint <fp>', 'with --sandbox ssh: expected host key (SHA256:…, from ssh-keygen -lf)')
    .option('--unsafe-no-sandbox', 'run tasks WITHOUT isolation (trusted lab meshes only)')
}

/** Turns the executor options into an executor config; throws {@link UsageError} on contradictions. */
export function executorConfigFromOptions (options: SandboxCliOptions): ExecutorConfig {
  const kind = options.unsafeNoSandbox === true ? 'none' : (options.sandbox ?? 'bwrap')
  switch (kind) {
    case 'bwrap':
      return { kind: 'bwrap' }
    case 'none':
      if (options.unsafeNoSandbox !== true) throw new UsageError('--sandbox none needs --unsafe-no-sandbox: tasks would run with full access to this machine')
      return { kind: 'none', unsafe: true }
    case 'ssh': {
      if (options.ssh === undefined || options.sshKey === undefined) throw new UsageError('--sandbox ssh needs --ssh user@host[:port] and --ssh-key FILE')
      let target
      try {
        target = parseSshTarget(options.ssh)
      } catch (err: any) {
        throw new UsageError(err.message)
      }
      return {
        kind: 'ssh',
        ...target,
        privateKeyPath: options.sshKey,
        ...(options.sshFingerprint === undefined ? {} : { hostFingerprint: options.sshFingerprint })
      }
    }
    default:
      throw new UsageError(`unknown sandbox "${kind}": use bwrap, ssh or none`)
  }
}

/** Where the command writes. */
export interface CommandIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
}

const defaultIo: CommandIo = {
  stdout: (text) => { process.stdout.write(text) },
  stderr: (text) => { process.stderr.write(text) }
}

/** The `--json` document, with the result spliced in exactly as Python wrote it. */
export function outcomeJson (outcome: PythonTaskOutcome): string {
  const result = outcome.resultJson ?? 'null'
  const error = outcome.error === undefined ? null : { code: outcome.error.code, message: outcome.error.message }
  return `{"status":${JSON.stringify(outcome.status)},"result":${result},"error":${JSON.stringify(error)},"metrics":${JSON.stringify(outcome.metrics)}}`
}

/**
 * Runs the command; resolves to the exit code: 0 completed, 1 any task failure, 2 unusable command
 * line (bad size, missing file, no unsafe opt-in).
 */
export async function runSandboxCommand (job: string, options: SandboxCommandOptions, io: CommandIo = defaultIo, signal?: AbortSignal): Promise<number> {
  let executor: Executor | undefined
  try {
    const memoryBytes = parseSizeOption(options.memory)
    const timeoutSeconds = Number(options.timeout)
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError(`--timeout must be a positive number of seconds, not "${options.timeout}"`)
    if (!['auto', 'manual', 'aggregate'].includes(options.mode)) throw new UsageError(`--mode must be auto, manual or aggregate, not "${options.mode}"`)
    const script = await readFile(job, 'utf8').catch(() => { throw new UsageError(`cannot read ${job}`) })
    if (options.input !== undefined) await readFile(options.input).catch(() => { throw new UsageError(`cannot read --input ${options.input ?? ''}`) })
    executor = createExecutor({
      ...executorConfigFromOptions(options),
      log: (message: string) => { io.stderr(`${message}\n`) }
    })
    const outcome = await runPythonTask({
      executor,
      script,
      ...(options.input === undefined ? {} : { input: { path: options.input } }),
      mode: options.mode as PythonTaskMode,
      ...(options.function === undefined ? {} : { function: options.function }),
      limits: { memoryBytes, timeoutMs: Math.round(timeoutSeconds * 1000) }
    }, signal === undefined ? {} : { signal })
    if (options.json === true) {
      io.stdout(outcomeJson(outcome) + '\n')
    } else {
      printHuman(outcome, io)
    }
    return outcome.status === 'completed' ? 0 : 1
  } catch (err: any) {
    if (err?.name === 'AbortError') throw err
    const usage = err instanceof UsageError || err?.name === 'UnsafeSandboxError' || err?.name === 'InvalidSizeError'
    const code = usage ? 'usage' : 'sandbox_error'
    if (options.json === true) {
      io.stdout(JSON.stringify({ status: usage ? 'rejected' : 'sandbox_error', result: null, error: { code, message: err.message }, metrics: null }) + '\n')
    } else {
      io.stderr(`runsurge sandbox: ${err.message as string}\n`)
    }
    return usage ? 2 : 1
  } finally {
    await executor?.close()
  }
}

function parseSizeOption (text: string): number {
  try {
    return parseSize(text)
  } catch (err: any) {
    throw new UsageError(`--memory: ${err.message as string}`)
  }
}

function printHuman (outcome: PythonTaskOutcome, io: CommandIo): void {
  const m = outcome.metrics
  io.stdout(`status: ${outcome.status}\n`)
  if (outcome.status === 'completed') io.stdout(`result: ${stringifyResult(outcome.result, 2)}\n`)
  if (outcome.error !== undefined) io.stdout(`error (${outcome.error.code}):\n${outcome.error.message}\n`)
  io.stdout(`wall ${m.wallMs} ms, cpu ${m.cpuMs} ms, peak memory ${formatBytes(m.peakMemoryBytes)}, average ${formatBytes(m.avgMemoryBytes)}, processes ${m.peakProcesses}\n`)
  if (outcome.stdout.trim() !== '') io.stdout(`--- stdout (tail) ---\n${outcome.stdout.trimEnd()}\n`)
}

export function register (program: Command): void {
  const command = program.command('sandbox')
    .description('run one Python job (main(data)) exactly as a node runs a task, without the scanner; prints status, result, error and metrics')
    .argument('<job>', 'the Python file (defines main(data), or process(text) with --mode manual)')
    .option('--input <file>', 'input data: .json, .jsonl, .csv or text lines')
    .addOption(new Option('--mode <mode>', 'job contract').choices(['auto', 'manual', 'aggregate']).default('auto'))
    .option('--function <name>', 'function to call (default main / process / aggregate by mode)')
    .option('--memory <size>', 'memory limit, e.g. 512M or 2G', '512M')
    .option('--timeout <seconds>', 'wall-clock limit in seconds', '60')
    .option('--json', 'print {"status","result","error","metrics"} as JSON')
  addSandboxOptions(command)
    .action(async (job: string, options: SandboxCommandOptions) => {
      process.exitCode = await runSandboxCommand(job, options)
    })
}

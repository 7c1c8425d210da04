/**
 * The self-test behind `runsurge node --self-test` (wired in node.ts): builds the executor from the
 * node's sandbox options, runs every probe and prints what holds.
 */
import { createExecutor } from '../../../node/src/sandbox.ts'
import { runSelfTest } from '../../../node/src/sandbox.ts'
import { executorConfigFromOptions } from './sandbox.ts'
import type { Executor } from '../../../node/src/sandbox.ts'
import type { CommandIo, SandboxCliOptions } from './sandbox.ts'

const defaultIo: CommandIo = {
  stdout: (text) => { process.stdout.write(text) },
  stderr: (text) => { process.stderr.write(text) }
}

/**
 * Runs the self-test; resolves to the exit code: 0 when every probe holds, 1 otherwise, 2 when the
 * sandbox options are unusable. With `json`, prints the {@link runSelfTest} report as JSON.
 */
export async function runSelfTestCommand (options: SandboxCliOptions & { json?: boolean }, io: CommandIo = defaultIo, signal?: AbortSignal): Promise<number> {
  let executor: Executor | undefined
  try {
    executor = createExecutor({ ...executorConfigFromOptions(options), log: (message: string) => { io.stderr(`${message}\n`) } })
    if (options.json !== true) io.stdout(`runsurge self-test: ${executor.describe()}\n`)
    const report = await runSelfTest(executor, {
      ...(signal === undefined ? {} : { signal }),
      onProgress: (probe) => {
        if (options.json !== true) io.stdout(`${probe.holds ? 'HOLDS' : 'FAILS'}  ${probe.property}\n       ${probe.detail}\n`)
      }
    })
    if (options.json === true) io.stdout(JSON.stringify(report) + '\n')
    else io.stdout(report.holds ? 'every property holds\n' : 'SOME PROPERTIES DO NOT HOLD: do not run untrusted tasks on this node\n')
    return report.holds ? 0 : 1
  } catch (err: any) {
    if (err?.name === 'AbortError') throw err
    io.stderr(`runsurge self-test: ${err.message as string}\n`)
    return err?.name === 'UsageError' || err?.name === 'UnsafeSandboxError' ? 2 : 1
  } finally {
    await executor?.close()
  }
}

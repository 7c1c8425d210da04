/**
 * The `runsurge` command: argument parsing and wiring only. Each subcommand lives in `commands/<name>.ts`
 * and exports `register(program)`. Only the module of the command being run is loaded (a node process does not
 * load the coordinator or the analyzer); help loads them all.
 */
import { Command } from 'commander'

const COMMANDS: Record<string, () => Promise<{ register: (program: Command) => void }>> = {
  run: async () => await import('./commands/run.ts'),
  submit: async () => await import('./commands/jobs.ts'),
  status: async () => await import('./commands/jobs.ts'),
  result: async () => await import('./commands/jobs.ts'),
  coordinator: async () => await import('./commands/coordinator.ts'),
  node: async () => await import('./commands/node.ts'),
  lab: async () => await import('./commands/lab.ts'),
  keygen: async () => await import('./commands/keygen.ts'),
  analyze: async () => await import('./commands/analyze.ts'),
  sandbox: async () => await import('./commands/sandbox.ts')
}

const program = new Command()
  .name('runsurge')
  .description('Run plain Python on a mesh of sandboxed machines.')
  .showHelpAfterError()
  // Options after a subcommand belong to it (`coordinator backup --data X` is backup's --data, not the server's).
  .enablePositionalOptions()

const requested = process.argv[2]
const loaders = requested !== undefined && requested in COMMANDS ? [COMMANDS[requested]] : Object.values(COMMANDS)
const registered = new Set<unknown>()
for (const load of loaders) {
  const module = await load!()
  if (registered.has(module)) continue
  registered.add(module)
  module.register(program)
}

await program.parseAsync(process.argv)

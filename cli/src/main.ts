/**
 * The `runsurge` command: argument parsing and wiring only. Each subcommand lives in `commands/<name>.ts`
 * and exports `register(program)`. Only the module of the command being run is loaded (a node process does not
 * load the coordinator or the analyzer); the overview (`runsurge --help`) loads none: it is drawn from
 * `commands/index.ts`, which a test keeps equal to what the modules register.
 */
import { Command } from 'commander'
import { COMMANDS, registerSummaries } from './commands/index.ts'

const program = new Command()
  .name('runsurge')
  .description('Run plain Python on a mesh of sandboxed machines.')
  .showHelpAfterError()
  // Options after a subcommand belong to it (`coordinator backup --data X` is backup's --data, not the server's).
  .enablePositionalOptions()

const argv = [...process.argv]
// `runsurge help run` is `runsurge run --help`.
if (argv[2] === 'help' && argv[3] !== undefined && argv[3] in COMMANDS) argv.splice(2, 2, argv[3], '--help')
const requested = COMMANDS[argv[2] ?? '']
if (requested === undefined) registerSummaries(program)
else (await requested.load()).register(program)

await program.parseAsync(argv)

/**
 * `runsurge lab` (what `npm start` runs): a lab mesh in a box. Builds the web UI when its sources changed, starts a
 * coordinator (state in ./.runsurge, HTTP on 127.0.0.1:8080 or $PORT) and three `runsurge node` processes exactly as
 * contributors start them, creates a demo account that owns those nodes, prints its credentials, and stops it all on
 * Ctrl-C. Restarting keeps the state: the same account, nodes and jobs.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { InvalidArgumentError } from 'commander'
import { startCoordinator, tokenKey } from '../../../coordinator/src/index.ts'
import { createExecutor } from '../../../node/src/sandbox.ts'
import { loadOrCreateIdentity, randomToken } from '../../../protocols/src/index.ts'
import { buildUi } from '../../../ui/build.ts'
import { createLogger } from '../log.ts'
import { NODE_TOKEN_ENV } from '../node-access.ts'
import { sandboxArgs, waitForNodes } from '../mesh.ts'
import { parseHostPort, parseSize } from '../options.ts'
import { benchmarkCacheFile, machineFactor } from './node.ts'
import { addSandboxOptions, executorConfigFromOptions } from './sandbox.ts'
import type { Coordinator } from '../../../coordinator/src/index.ts'
import type { SandboxCliOptions } from './sandbox.ts'
import type { ChildProcess } from 'node:child_process'
import type { Command } from 'commander'
import type { Logger } from 'pino'

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'runsurge.js')
const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples')
/** How long the nodes may take to join (ms): the first start of a machine measures its factor. */
const JOIN_TIMEOUT = 120_000
/** A node gets this long to stop after SIGTERM before it is killed (ms). */
const STOP_GRACE = 5_000
const DEMO_NAME = 'demo'

interface LabFlags extends SandboxCliOptions {
  data: string
  http: { host: string, port: number }
  nodes: number
  nodeMemory: number
  build: boolean
}

/** What the lab keeps between starts, beside the coordinator's own state (0600). */
interface LabState {
  name: string
  password: string
  enrollToken: string
}

interface NodeProcess { child: ChildProcess, stderr: string[], index: number }

function count (value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new InvalidArgumentError('a whole number from 0 to 64')
  return n
}

function defaultHttp (): { host: string, port: number } {
  const port = Number(process.env.PORT ?? 8080)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`PORT=${process.env.PORT ?? ''} is not a port`)
  return { host: '127.0.0.1', port }
}

export function register (program: Command): void {
  const command = program.command('lab')
    .description('a lab mesh in a box: coordinator + web UI, three nodes and a demo account; Ctrl-C stops it all')
    .option('--data <dir>', 'state directory (coordinator, nodes, demo account)', '.runsurge')
    .option('--http <host:port>', 'where the web UI and API listen (default 127.0.0.1:8080, or $PORT)', parseHostPort, defaultHttp())
    .option('--nodes <n>', 'node processes to start', count, 3)
    .option('--node-memory <size>', 'memory each node offers to tasks', parseSize, 1024 ** 3)
    .option('--no-build', 'serve ui/dist as it is, without rebuilding the web UI')
  addSandboxOptions(command)
    .action(async (flags: LabFlags) => {
      try {
        await runLab(flags)
      } catch (err: any) {
        process.stderr.write(`runsurge lab: ${String(err?.message ?? err)}\n`)
        process.exit(1)
      }
    })
}

async function runLab (flags: LabFlags): Promise<void> {
  const logger = createLogger('lab', process.env.RUNSURGE_LOG_LEVEL ?? 'warn')
  const data = resolve(flags.data)
  await mkdir(data, { recursive: true, mode: 0o700 })
  if (flags.build) await buildWebUi()
  const benchmarkFile = await measureMachine(flags, logger)
  const coordinator = await startLabCoordinator(data, flags, logger)
  const nodes: NodeProcess[] = []
  let stopping = false
  const stop = async (): Promise<void> => {
    stopping = true
    await Promise.all(nodes.map(async ({ child }) => { await stopNode(child) }))
    await coordinator.close()
  }
  const unlisten = stopOnSignals(stop, logger)
  try {
    const demo = await demoAccount(coordinator, join(data, 'lab.json'), logger)
    await startLabNodes({ coordinator, data, flags, benchmarkFile, token: demo.enrollToken, stopping: () => stopping }, nodes)
    const url = coordinator.info.http
    say('')
    say('RunSurge lab mesh is up')
    say(`  web UI        ${url}`)
    say(`  demo account  ${demo.name} / ${demo.password}   (its nodes and earnings are on the Nodes page)`)
    say(`  nodes         ${nodes.length} × runsurge node, ${Math.round(flags.nodeMemory / 1024 ** 2)} MiB each, state in ${near(join(data, 'node-*'))}`)
    say(`  examples      ${near(EXAMPLES)}/ (see its README): submit them from the UI`)
    say(`  API           ${url}/docs`)
    say('Ctrl-C stops everything.')
  } catch (err) {
    unlisten()
    await stop()
    throw err
  }
}

function say (line: string): void {
  process.stdout.write(`${line}\n`)
}

/** A path as short as it can be told from here: relative when it is below the working directory. */
function near (path: string): string {
  const relativePath = relative(process.cwd(), path)
  return relativePath === '' ? '.' : relativePath.startsWith('..') ? path : relativePath
}

/** Rebuilds the web UI when its sources changed; a failed build leaves the API running. */
async function buildWebUi (): Promise<void> {
  say('runsurge lab: checking the web UI build…')
  try {
    const { built, ms } = await buildUi()
    if (built) say(`runsurge lab: built the web UI into ui/dist in ${(ms / 1000).toFixed(1)} s`)
  } catch (err: any) {
    say(`runsurge lab: the web UI could not be built (${String(err?.message ?? err)}); the API still runs, and the page at / says how to build it`)
  }
}

/** Measures the machine factor once, before the nodes start, so they share it; returns the file that keeps it. */
async function measureMachine (flags: LabFlags, logger: Logger): Promise<string> {
  const executor = createExecutor({ ...executorConfigFromOptions(flags), log: (message: string) => { logger.warn(message) } })
  const benchmarkFile = benchmarkCacheFile()
  try {
    say(`runsurge lab: machine factor ${await machineFactor(executor, benchmarkFile, logger)} (tasks run in: ${executor.describe()})`)
  } finally {
    await executor.close()
  }
  return benchmarkFile
}

async function startLabCoordinator (data: string, flags: LabFlags, logger: Logger): Promise<Coordinator> {
  try {
    return await startCoordinator({ dataDir: join(data, 'coordinator'), httpHost: flags.http.host, httpPort: flags.http.port, logger })
  } catch (err: any) {
    if (err?.code === 'EADDRINUSE') throw new Error(`${flags.http.host}:${flags.http.port} is in use: stop what listens there, or start with PORT=8081 npm start`)
    throw err
  }
}

/** SIGTERM, then SIGKILL if the node has not exited after `STOP_GRACE`. */
async function stopNode (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE)
  await exited
  clearTimeout(timer)
}

/** Ctrl-C (or SIGTERM) stops the lab and exits; a second one exits at once. Returns what removes the listeners. */
function stopOnSignals (stop: () => Promise<void>, logger: Logger): () => void {
  let signals = 0
  const onSignal = (): void => {
    // A second Ctrl-C does not wait for the nodes.
    if (++signals > 1) process.exit(130)
    say('\nrunsurge lab: stopping the nodes and the coordinator…')
    stop().then(() => { say('runsurge lab: stopped'); process.exit(0) }, (err: unknown) => {
      logger.error({ err }, 'the lab did not stop cleanly')
      process.exit(1)
    })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

interface LabNodesInit {
  coordinator: Coordinator
  data: string
  flags: LabFlags
  benchmarkFile: string
  /** The demo account's enrollment token. */
  token: string
  stopping: () => boolean
}

/**
 * Starts the lab's nodes (into `nodes`, as they start, so that a failure stops those already running) and waits until
 * they joined. A lab node removed on the Nodes page stays out, as any removed node does, until it is allowed again there.
 */
async function startLabNodes (init: LabNodesInit, nodes: NodeProcess[]): Promise<void> {
  const { coordinator, data, flags } = init
  const address = coordinator.info.multiaddrs[0]
  if (address === undefined) throw new Error('the coordinator has no libp2p address for the nodes')
  const removed: number[] = []
  for (let i = 0; i < flags.nodes; i++) {
    const peer = peerIdFromPrivateKey(await loadOrCreateIdentity(join(data, `node-${i}`, 'peer.key')))
    const record = coordinator.registry.refused(peer.toString())
    if (record === undefined) continue
    removed.push(i)
    say(`runsurge lab: node ${i} (${record.id}) was removed on the Nodes page: not started; "Allow again" there and restart, or delete ${join(data, `node-${i}`)} to enroll it as a new node`)
  }
  const joined = waitForNodes(coordinator, flags.nodes - removed.length, JOIN_TIMEOUT)
  for (let i = 0; i < flags.nodes; i++) {
    if (removed.includes(i)) continue
    nodes.push(startNode(i, address, init.token, join(data, `node-${i}`), flags, init.benchmarkFile, init.stopping))
  }
  await Promise.race([joined, ...nodes.map(async ({ child, stderr, index }) => {
    const [code] = await once(child, 'exit') as [number | null]
    throw new Error(`node ${index} exited (${String(code)}) before joining: ${stderr.join('').trim().slice(-1500)}`)
  })])
}

/** Starts one node process as a contributor would; reports if it dies while the lab runs. */
function startNode (index: number, coordinator: string, token: string, dataDir: string, flags: LabFlags, benchmarkFile: string, stopping: () => boolean): NodeProcess {
  // The token goes in the environment, which only this user can read; a command line is visible to all (ps).
  const child = spawn(process.execPath, [
    BIN, 'node', '--coordinator', coordinator, '--data', dataDir,
    '--memory', String(flags.nodeMemory), '--benchmark-file', benchmarkFile, ...sandboxArgs(flags)
  ], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, [NODE_TOKEN_ENV]: token, RUNSURGE_LOG_LEVEL: process.env.RUNSURGE_LOG_LEVEL ?? 'warn' } })
  const stderr: string[] = []
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr.push(text)
    if (stderr.length > 50) stderr.shift()
  })
  child.on('exit', (code, signal) => {
    if (!stopping()) say(`runsurge lab: node ${index} exited (${signal ?? String(code)}): ${stderr.join('').trim().slice(-800)}`)
  })
  return { child, stderr, index }
}

/**
 * The demo account and the enrollment token its nodes use, made through the HTTP API as a person would, and kept in
 * `lab.json` so a restart signs in with the same password. Made anew when the coordinator's state no longer knows them.
 */
async function demoAccount (coordinator: Coordinator, file: string, logger: Logger): Promise<LabState> {
  const api = async (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>, cookie?: string): Promise<{ status: number, body: any, cookie?: string }> => {
    const response = await coordinator.app.inject({ method, url, ...(payload !== undefined ? { payload } : {}), ...(cookie !== undefined ? { headers: { cookie } } : {}) })
    const session = response.cookies.find(c => c.name === 'runsurge_session')
    return { status: response.statusCode, body: response.body === '' ? undefined : response.json(), ...(session !== undefined ? { cookie: `${session.name}=${session.value}` } : {}) }
  }
  const enrollmentToken = async (cookie: string | undefined): Promise<string> => {
    const enroll = await api('POST', '/api/nodes/enroll', { label: 'lab nodes' }, cookie)
    if (enroll.status !== 201) throw new Error(`no enrollment token for the demo account: ${String(enroll.body?.message)}`)
    return enroll.body.token
  }
  // Anything unreadable or incomplete is as good as no file: a new demo account is made below.
  const saved = await readFile(file, 'utf8').then(text => JSON.parse(text) as Partial<LabState> | null, () => null)
  const known = typeof saved?.name === 'string' && typeof saved.password === 'string' ? { name: saved.name, password: saved.password } : undefined
  const login = known === undefined ? undefined : await api('POST', '/api/auth/login', known)
  if (known !== undefined && login?.status === 200) {
    const token = typeof saved?.enrollToken === 'string' ? await coordinator.store.tokens.get(tokenKey(saved.enrollToken)) : undefined
    if (token?.kind === 'enroll' && token.account === login.body.account.id) return { ...known, enrollToken: saved?.enrollToken as string }
    // The lab's token was revoked on the Nodes page: the same account, a new token for the nodes.
    const state: LabState = { ...known, enrollToken: await enrollmentToken(login.cookie) }
    await writeLabState(file, state)
    return state
  }
  const password = randomToken(12)
  let name = DEMO_NAME
  let registered = await api('POST', '/api/auth/register', { name, password })
  if (registered.status === 409) {
    // The state holds a demo account whose password was lost with lab.json: make another.
    name = `${DEMO_NAME}-${Date.now().toString(36)}`
    registered = await api('POST', '/api/auth/register', { name, password })
  }
  if (registered.status !== 201) throw new Error(`the demo account could not be created: ${String(registered.body?.message)}`)
  const session = await api('POST', '/api/auth/login', { name, password })
  const state: LabState = { name, password, enrollToken: await enrollmentToken(session.cookie) }
  await writeLabState(file, state)
  logger.info({ account: registered.body.account.id }, 'demo account created')
  return state
}

/** Writes lab.json readable by its owner only, atomically. */
async function writeLabState (file: string, state: LabState): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 })
  await rename(temporary, file)
}

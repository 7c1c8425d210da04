/**
 * What `runsurge node` needs to join a mesh: the coordinator's multiaddr and an enrollment token, from the command
 * line, a `coordinator.json`, a token file or the environment. The token never has to be on the command line, where
 * every user of the machine can read it (`ps`, /proc/PID/cmdline); a file or the environment is readable by the
 * node's user only.
 */
import { readFile, stat } from 'node:fs/promises'
import { multiaddr } from '@multiformats/multiaddr'

/** The environment variable `runsurge node` reads its enrollment token from. */
export const NODE_TOKEN_ENV = 'RUNSURGE_NODE_TOKEN'

/** The node's command line or one of its files is wrong: the message names what and says what to do (exit 2). */
export class NodeUsageError extends Error {
  override name = 'NodeUsageError'
}

export interface NodeAccessOptions {
  /** `--coordinator`: a multiaddr ending in `/p2p/<peer id>`, or the path of a `coordinator.json`. */
  coordinator?: string
  /** `--token`: the token itself (deprecated: visible to every user of the machine). */
  token?: string
  /** `--token-file`: a file holding the token. */
  tokenFile?: string
  /** The process environment (`RUNSURGE_NODE_TOKEN`). */
  env?: NodeJS.ProcessEnv
}

export interface NodeAccess {
  coordinator: string
  token: string
  /** Said to the operator before the node starts (a token on the command line, a token file others can read). */
  warnings: string[]
}

/**
 * Resolves where the coordinator is and which enrollment token to use. The token comes from `--token-file`, else
 * `--token`, else `RUNSURGE_NODE_TOKEN`, else the `nodeToken` of the coordinator.json given as `--coordinator`.
 * Raises `NodeUsageError` for anything missing, unreadable or malformed.
 */
export async function resolveNodeAccess (options: NodeAccessOptions): Promise<NodeAccess> {
  const warnings: string[] = []
  if (options.coordinator === undefined || options.coordinator === '') {
    throw new NodeUsageError('--coordinator is required: the multiaddr the coordinator printed (…/p2p/<peer id>), or its coordinator.json')
  }
  if (options.token !== undefined && options.tokenFile !== undefined) {
    throw new NodeUsageError('give the enrollment token one way: --token-file FILE or RUNSURGE_NODE_TOKEN, not also --token')
  }
  let coordinator = options.coordinator
  let fileToken: string | undefined
  if (isCoordinatorFile(coordinator)) {
    const info = await readCoordinatorFile(coordinator)
    coordinator = info.multiaddr
    fileToken = info.nodeToken
  }
  let token: string | undefined
  if (options.tokenFile !== undefined) {
    token = await readTokenFile(options.tokenFile, warnings)
  } else if (options.token !== undefined) {
    warnings.push(`--token puts the enrollment token on the command line, where every user of this machine can read it (ps); use --token-file FILE or ${NODE_TOKEN_ENV} instead`)
    token = checkToken(options.token, '--token')
  } else {
    const env = options.env?.[NODE_TOKEN_ENV]
    token = env !== undefined && env !== '' ? checkToken(env, NODE_TOKEN_ENV) : fileToken
  }
  if (token === undefined) {
    throw new NodeUsageError(`no enrollment token: put the one from "add a node" on the coordinator in a file (--token-file FILE) or in ${NODE_TOKEN_ENV}`)
  }
  return { coordinator, token, warnings }
}

/** A multiaddr starts with a protocol (`/ip4/…`, `/dns/…`); anything that does not parse as one is taken for a file. */
function isCoordinatorFile (value: string): boolean {
  if (value.endsWith('.json')) return true
  try {
    multiaddr(value)
    return false
  } catch {
    return true
  }
}

/** Reads the `coordinator.json` a coordinator writes into its data directory: its first multiaddr, and its node token. */
export async function readCoordinatorFile (path: string): Promise<{ multiaddr: string, nodeToken?: string }> {
  const what = 'give the coordinator.json the coordinator wrote into its data directory, or its multiaddr (…/p2p/<peer id>)'
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err: any) {
    throw new NodeUsageError(`--coordinator ${path}: ${fileProblem(err)}; ${what}`)
  }
  let info: unknown
  try {
    info = JSON.parse(text)
  } catch (err: any) {
    throw new NodeUsageError(`--coordinator ${path} is not JSON (${String(err?.message ?? err)}); ${what}`)
  }
  const multiaddrs = typeof info === 'object' && info !== null ? (info as Record<string, unknown>).multiaddrs : undefined
  if (!Array.isArray(multiaddrs) || multiaddrs.length === 0 || typeof multiaddrs[0] !== 'string' || multiaddrs[0] === '') {
    throw new NodeUsageError(`--coordinator ${path} has no "multiaddrs" (a list of the coordinator's addresses); ${what}`)
  }
  const nodeToken = (info as Record<string, unknown>).nodeToken
  return { multiaddr: multiaddrs[0], ...(typeof nodeToken === 'string' && nodeToken !== '' ? { nodeToken } : {}) }
}

async function readTokenFile (path: string, warnings: string[]): Promise<string> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err: any) {
    throw new NodeUsageError(`--token-file ${path}: ${fileProblem(err)}; put the enrollment token from "add a node" in it`)
  }
  const token = checkToken(text.trim(), `--token-file ${path}`)
  // The point of a file is that only the node's user reads it.
  const { mode } = await stat(path)
  if ((mode & 0o077) !== 0) warnings.push(`--token-file ${path} can be read by other users of this machine: chmod 600 ${path}`)
  return token
}

/** A token is one word of printable characters; a blank, or several words, is a mistake to report now. */
function checkToken (token: string, source: string): string {
  if (token === '') throw new NodeUsageError(`${source} is empty: put the enrollment token from "add a node" in it`)
  if (!/^[\x21-\x7e]+$/.test(token)) throw new NodeUsageError(`${source} must hold the enrollment token alone: one word, no spaces or line breaks inside`)
  return token
}

function fileProblem (err: any): string {
  switch (err?.code) {
    case 'ENOENT': return 'no such file'
    case 'EACCES': case 'EPERM': return 'permission denied (this user cannot read it)'
    case 'EISDIR': return 'is a directory, not a file'
    default: return `cannot be read (${String(err?.message ?? err)})`
  }
}

import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { generateKey } from '@libp2p/pnet'
import { MeshJoinError } from './errors.ts'
import type { PrivateKey } from '@libp2p/interface'

/**
 * Loads the peer's Ed25519 key from `path`, creating it (mode 0600) on first start, so that a coordinator's or
 * node's peer id survives restarts.
 */
export async function loadOrCreateIdentity (path: string): Promise<PrivateKey> {
  try {
    return privateKeyFromProtobuf(await readFile(path))
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw new Error(`cannot read the peer key ${path}: ${String(err?.message ?? err)}`)
  }
  const key = await generateKeyPair('Ed25519')
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  return key
}

/** Creates the contents of a swarm key file (the go-ipfs/libp2p pnet format, `/key/swarm/psk/1.0.0/`). */
export function createSwarmKey (): Uint8Array {
  const key = new Uint8Array(95)
  generateKey(key)
  return key
}

const SWARM_KEY = /^\/key\/swarm\/psk\/1\.0\.0\/\r?\n\/base16\/\r?\n[0-9a-fA-F]{64}\s*$/

/** Reads and checks a swarm key file, with an error that says what is wrong with it. */
export async function readSwarmKey (path: string): Promise<Uint8Array> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err: any) {
    throw new MeshJoinError(`cannot read the swarm key ${path}: ${String(err?.message ?? err)}`)
  }
  if (!SWARM_KEY.test(bytes.toString('utf8'))) {
    throw new MeshJoinError(`${path} is not a swarm key: create one with \`runsurge keygen\``)
  }
  return bytes
}

/** A random token of `bytes` bytes, URL-safe. */
export function randomToken (bytes = 24): string {
  return randomBytes(bytes).toString('base64url')
}

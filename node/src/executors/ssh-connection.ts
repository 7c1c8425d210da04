/**
 * The SSH link to a task box: where to connect (`user@host:port`), connecting with a pinned (or logged) host key,
 * and running commands over the connection — collected with a timeout, or streamed line by line.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { AbortError } from '@libp2p/interface'
import { Client } from 'ssh2'
import { armDeadline } from './deadline.ts'
import { SshExecutorError } from './errors.ts'
import type { ClientChannel } from 'ssh2'

/** Where to connect. */
export interface SshTarget {
  username: string
  host: string
  port: number
}

/** How to reach and authenticate to the box. */
export interface SshConnectInit extends SshTarget {
  /** Private key (OpenSSH format), or `privateKeyPath`. */
  privateKey?: string | Buffer
  privateKeyPath?: string
  passphrase?: string
  /**
   * The box's host key fingerprint as `ssh-keygen -lf` prints it (`SHA256:…`). Without it any key is
   * accepted and its fingerprint logged — pin it on anything but a private network.
   */
  hostFingerprint?: string
}

/** Parses `user@host:port` (port optional, default 22; `[::1]:2222` for IPv6). */
export function parseSshTarget (text: string): SshTarget {
  const match = /^([^@\s]+)@(\[[^\]]+\]|[^:\s]+)(?::(\d+))?$/.exec(text.trim())
  if (match === null) throw new SshExecutorError(`not an SSH target: "${text}" (expected user@host or user@host:port)`)
  return {
    username: match[1] as string,
    host: (match[2] as string).replace(/^\[|\]$/g, ''),
    port: match[3] === undefined ? 22 : Number(match[3])
  }
}

/** Quotes one word for a POSIX shell. */
export function shellQuote (word: string): string {
  return `'${word.replace(/'/g, "'\\''")}'`
}

/** What a remote command printed, and how it exited. */
export interface ExecResult { code: number | null, stdout: string, stderr: string }

/** Options of {@link connectSsh}. */
export interface ConnectOptions {
  /** Connect/handshake timeout. */
  timeoutMs: number
  log: (message: string) => void
  signal?: AbortSignal
}

/**
 * Opens an authenticated connection, ready for commands. Errors after that are logged: ssh2 may emit more than
 * one, and the connection's users see it close.
 */
export async function connectSsh (init: SshConnectInit, options: ConnectOptions): Promise<Client> {
  const { signal, log } = options
  const privateKey = init.privateKey ?? (init.privateKeyPath === undefined ? undefined : await readFile(init.privateKeyPath))
  if (privateKey === undefined) throw new SshExecutorError('the SSH executor needs a private key (--ssh-key FILE)')
  const client = new Client()
  let ready = false
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => { client.end(); reject(new AbortError('ssh connect aborted')) }
    signal?.addEventListener('abort', onAbort, { once: true })
    client.once('ready', () => { ready = true; signal?.removeEventListener('abort', onAbort); resolve() })
    // One listener for the connection's whole life: ssh2 may emit more than one error.
    client.on('error', (err) => {
      if (ready) { log(`connection error: ${err.message}`); return }
      signal?.removeEventListener('abort', onAbort)
      reject(new SshExecutorError(`cannot connect to ${init.username}@${init.host}:${init.port}: ${err.message}`))
    })
    client.connect({
      host: init.host,
      port: init.port,
      username: init.username,
      privateKey,
      ...(init.passphrase === undefined ? {} : { passphrase: init.passphrase }),
      readyTimeout: options.timeoutMs,
      keepaliveInterval: 5_000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        const fingerprint = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`
        if (init.hostFingerprint === undefined) {
          log(`accepting host key ${fingerprint} of ${init.host} unverified; pin it with hostFingerprint`)
          return true
        }
        return fingerprint === init.hostFingerprint
      }
    })
  })
  // Without TCP_NODELAY every small SFTP request waits for the previous reply's delayed ACK (40 ms on
  // Linux): fetching small files back took ~180 ms each on loopback; with it, ~3 ms.
  client.setNoDelay(true)
  return client
}

/** Runs one command, collecting its output; every call has a timeout. */
export async function execRemote (client: Client, command: string, timeoutMs: number, signal?: AbortSignal): Promise<ExecResult> {
  return await new Promise<ExecResult>((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err !== undefined) { reject(new SshExecutorError(`remote command failed to start: ${err.message}`)); return }
      let stdout = ''
      let stderr = ''
      const timer = armDeadline(timeoutMs, () => { channel.close(); reject(new SshExecutorError(`remote command timed out after ${timeoutMs} ms`)) })
      const onAbort = (): void => { channel.close(); reject(new AbortError('aborted')) }
      signal?.addEventListener('abort', onAbort, { once: true })
      channel.on('data', (d: Buffer) => { stdout += d.toString('utf8') })
      channel.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8') })
      channel.once('close', (code: number | null) => {
        timer.clear()
        signal?.removeEventListener('abort', onAbort)
        resolve({ code: code ?? null, stdout, stderr })
      })
    })
  })
}

/**
 * Runs a command and hands each line of its stdout to `onLine` until it ends (a line `onLine` throws on is
 * skipped); what it wrote to stderr is logged.
 */
export async function streamRemote (client: Client, command: string, onLine: (line: string) => void, log: (message: string) => void): Promise<void> {
  const channel = await new Promise<ClientChannel>((resolve, reject) => {
    client.exec(command, (err, ch) => { if (err !== undefined) reject(new SshExecutorError(`remote monitor failed to start: ${err.message}`)); else resolve(ch) })
  })
  let buffer = ''
  let stderr = ''
  await new Promise<void>((resolve) => {
    channel.on('data', (d: Buffer) => {
      buffer += d.toString('utf8')
      let newline = buffer.indexOf('\n')
      while (newline >= 0) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + 1)
        if (line.trim() !== '') {
          try { onLine(line) } catch {}
        }
        newline = buffer.indexOf('\n')
      }
    })
    channel.stderr.on('data', (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString('utf8') })
    channel.once('close', () => { resolve() })
  })
  if (stderr.trim() !== '') log(`remote monitor: ${stderr.trim()}`)
}

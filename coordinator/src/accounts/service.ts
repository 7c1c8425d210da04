/**
 * Accounts, their passwords, browser sessions and tokens. Pure logic over the store; `plugins/auth.ts` decorates
 * the app with it and the routes in `routes/api/{auth,tokens}` only translate HTTP to these calls.
 *
 * Secrets (session cookies, API and enrollment tokens) are random and stored by their SHA-256 only, so a copy of the
 * database does not let anybody in; passwords are stored as argon2id hashes.
 */
import { randomUUID } from 'node:crypto'
import { hash, verify } from '@node-rs/argon2'
import { randomToken } from '../../../protocols/src/index.ts'
import { tokenKey } from '../store/index.ts'
import type { Account, Store, TokenRecord } from '../store/index.ts'
import type { Algorithm } from '@node-rs/argon2'

export interface AccountServiceOptions {
  /** How long a browser session lasts (ms). Default 7 days. */
  sessionTtl?: number
  now?: () => number
  /** Turns a password into the stored hash. Default argon2id; tests pass a fast one to line up concurrent calls. */
  hashPassword?: (password: string) => Promise<string>
}

export const DEFAULT_SESSION_TTL = 7 * 24 * 60 * 60 * 1000

/** What the API shows of an account: never its password hash. */
export interface AccountView {
  id: string
  name: string
  role: Account['role']
}

export interface TokenView {
  /** The first 12 hex digits of the token's hash: enough to name it, useless to log in with. */
  id: string
  kind: TokenRecord['kind']
  label: string
  createdAt: number
}

/** Thrown by `register` when the name (compared case-insensitively) belongs to an account already. */
export class AccountNameTakenError extends Error {
  override name = 'AccountNameTakenError'
  constructor (accountName: string) {
    super(`the name "${accountName}" is taken: choose another one`)
  }
}

// `Algorithm.Argon2id`: an ambient const enum cannot be read under `isolatedModules`, its value is fixed by argon2.
const ARGON2ID = 2 as Algorithm
// OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane); the PHC string records them, so raising them later keeps
// old hashes verifiable.
const ARGON2_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 }
const TOKEN_ID_LENGTH = 12
const SESSION_TOKEN_BYTES = 32

export function accountView (account: Account): AccountView {
  return { id: account.id, name: account.name, role: account.role }
}

export class AccountService {
  private readonly store: Store
  private readonly sessionTtl: number
  private readonly now: () => number
  private readonly hashPassword: (password: string) => Promise<string>
  /** Registrations run one at a time, so two requests for the same name cannot both pass the uniqueness check. */
  private registering: Promise<unknown> = Promise.resolve()
  /** A hash of no password, verified when the name is unknown so both failures take the same time. */
  private dummyHash: string | undefined

  constructor (store: Store, options: AccountServiceOptions = {}) {
    this.store = store
    this.sessionTtl = options.sessionTtl ?? DEFAULT_SESSION_TTL
    this.now = options.now ?? Date.now
    this.hashPassword = options.hashPassword ?? (async password => await hash(password, ARGON2_OPTIONS))
  }

  get sessionTtlMs (): number {
    return this.sessionTtl
  }

  /** Indexes the names of accounts created before the index existed (the bootstrap admin) and drops expired sessions. */
  async start (): Promise<void> {
    this.dummyHash = await hash(randomToken(), ARGON2_OPTIONS)
    for await (const account of this.store.accounts.values()) {
      const key = account.name.toLowerCase()
      if (await this.store.accountNames.get(key) === undefined) await this.store.accountNames.put(key, account.id)
    }
    const now = this.now()
    for await (const [key, session] of this.store.sessions.entries()) {
      if (session.expiresAt <= now) await this.store.sessions.del(key)
    }
  }

  async register (name: string, password: string): Promise<Account> {
    const passwordHash = await this.hashPassword(password)
    const run = this.registering.then(async () => {
      const key = name.toLowerCase()
      if (await this.store.accountNames.get(key) !== undefined) throw new AccountNameTakenError(name)
      const account: Account = { id: `acct-${randomUUID()}`, name, role: 'user', createdAt: this.now(), passwordHash }
      await this.store.batch([this.store.accounts.putOp(account.id, account), this.store.accountNames.putOp(key, account.id)])
      return account
    })
    this.registering = run.catch(() => {})
    return await run
  }

  /** The account if the password is its own; `undefined` alike for an unknown name, no password, or a wrong one. */
  async login (name: string, password: string): Promise<Account | undefined> {
    const id = await this.store.accountNames.get(name.toLowerCase())
    const account = id === undefined ? undefined : await this.store.accounts.get(id)
    if (account?.passwordHash === undefined) {
      this.dummyHash ??= await hash(randomToken(), ARGON2_OPTIONS)
      await verify(this.dummyHash, password)
      return undefined
    }
    return await verify(account.passwordHash, password) ? account : undefined
  }

  async createSession (accountId: string): Promise<{ token: string, expiresAt: number }> {
    const token = randomToken(SESSION_TOKEN_BYTES)
    const createdAt = this.now()
    const expiresAt = createdAt + this.sessionTtl
    await this.store.sessions.put(tokenKey(token), { account: accountId, createdAt, expiresAt })
    return { token, expiresAt }
  }

  async sessionAccount (token: string): Promise<Account | undefined> {
    const key = tokenKey(token)
    const session = await this.store.sessions.get(key)
    if (session === undefined) return undefined
    if (session.expiresAt <= this.now()) {
      await this.store.sessions.del(key)
      return undefined
    }
    return await this.store.accounts.get(session.account)
  }

  async deleteSession (token: string): Promise<void> {
    await this.store.sessions.del(tokenKey(token))
  }

  /** The account of an API token; enrollment tokens only enroll nodes and open nothing here. */
  async apiTokenAccount (token: string): Promise<Account | undefined> {
    const record = await this.store.tokens.get(tokenKey(token))
    return record?.kind === 'api' ? await this.store.accounts.get(record.account) : undefined
  }

  /** Creates a token of `accountId`; its text is returned once and never stored. */
  async createToken (accountId: string, kind: TokenRecord['kind'], label: string): Promise<TokenView & { token: string }> {
    const token = randomToken()
    const key = tokenKey(token)
    const record: TokenRecord = { kind, account: accountId, createdAt: this.now(), label }
    await this.store.tokens.put(key, record)
    return { token, ...tokenView(key, record) }
  }

  async listTokens (accountId: string): Promise<TokenView[]> {
    const tokens = []
    for await (const [key, record] of this.store.tokens.entries()) {
      if (record.account === accountId) tokens.push(tokenView(key, record))
    }
    return tokens.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
  }

  /** The caller's token with this id, and its key (`tokenKey` of its text); undefined if the caller has none. */
  async findToken (accountId: string, id: string): Promise<(TokenView & { key: string }) | undefined> {
    if (!/^[0-9a-f]{12}$/.test(id)) return undefined
    // Keys are hex, so every key starting with `id` sorts between `id` and `id` followed by 'g'.
    for await (const [key, record] of this.store.tokens.entries({ gte: id, lt: `${id}g` })) {
      if (record.account === accountId) return { key, ...tokenView(key, record) }
    }
    return undefined
  }

  /**
   * Revokes the caller's token with this id; `false` if the caller has none (whoever else might). An enrollment
   * token's nodes are not touched here: `NodeRegistry.revokeEnrollment` revokes it with them.
   */
  async revokeToken (accountId: string, id: string): Promise<boolean> {
    const token = await this.findToken(accountId, id)
    if (token === undefined) return false
    await this.store.tokens.del(token.key)
    return true
  }
}

/** The id a token is shown and named by: the first hex digits of its key. */
export function tokenId (key: string): string {
  return key.slice(0, TOKEN_ID_LENGTH)
}

function tokenView (key: string, record: TokenRecord): TokenView {
  return { id: tokenId(key), kind: record.kind, label: record.label, createdAt: record.createdAt }
}

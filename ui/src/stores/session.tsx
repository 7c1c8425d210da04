/**
 * Who is signed in: a store made by `createSessionStore()` and handed down through context (solid-realworld's
 * shape). `account()` is undefined while the first answer is on its way, null when nobody is signed in.
 */
import { createContext, createResource, useContext } from 'solid-js'
import type { ParentProps } from 'solid-js'
import * as auth from '../api/auth.ts'
import { isUnauthorized } from '../api/client.ts'
import type { Account } from '../api/types.ts'

export interface SessionStore {
  account(): Account | null | undefined
  /** True once the first answer came, signed in or not. */
  ready(): boolean
  signedIn(): boolean
  login(name: string, password: string): Promise<Account>
  register(name: string, password: string): Promise<Account>
  logout(): Promise<void>
}

export function createSessionStore (): SessionStore {
  const [account, { mutate }] = createResource<Account | null>(async () => {
    try {
      return await auth.currentAccount()
    } catch (err) {
      if (isUnauthorized(err)) return null
      throw err
    }
  })
  const current = (): Account | null | undefined => account.error !== undefined ? null : account()
  return {
    account: current,
    ready: () => account.state === 'ready' || account.state === 'errored',
    signedIn: () => current() != null,
    login: async (name, password) => {
      const signedIn = await auth.login(name, password)
      mutate(signedIn)
      return signedIn
    },
    register: async (name, password) => {
      await auth.register(name, password)
      const signedIn = await auth.login(name, password)
      mutate(signedIn)
      return signedIn
    },
    logout: async () => {
      await auth.logout()
      mutate(null)
    }
  }
}

const SessionContext = createContext<SessionStore>()

export function SessionProvider (props: ParentProps<{ store?: SessionStore }>) {
  const store = props.store ?? createSessionStore()
  return <SessionContext.Provider value={store}>{props.children}</SessionContext.Provider>
}

export function useSession (): SessionStore {
  const store = useContext(SessionContext)
  if (store === undefined) throw new Error('useSession() outside <SessionProvider>')
  return store
}

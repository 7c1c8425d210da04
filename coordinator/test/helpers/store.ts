/**
 * Stores on a real LevelDB, one in a fresh temporary directory for each test of the calling describe block, closed
 * after the test whether it passed or not (LevelDB holds its lock until then).
 */
import { afterEach, beforeEach } from 'vitest'
import { Store } from '../../src/store/index.ts'
import { tempDir } from '../../../test/helpers/index.ts'
import type { Account } from '../../src/store/index.ts'

/** An account record as the store tests write it. */
export const account = (id: string): Account => ({ id, name: id, role: 'user', createdAt: 1 })

export interface StorePerTest {
  /** This test's directory. */
  readonly path: string
  /** The store this test opened, if any: closed after the test. */
  store: Store | undefined
}

/** A fresh directory for each test; whatever store the test leaves in `store` is closed after it. */
export function storePerTest (): StorePerTest {
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined
  const scope: StorePerTest = {
    get path () {
      if (dir === undefined) throw new Error('the test\'s directory exists from its beforeEach hook on')
      return dir.path
    },
    store: undefined
  }
  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => {
    await scope.store?.close()
    scope.store = undefined
    await dir?.remove()
  })
  return scope
}

/** As `storePerTest`, with the store opened in the directory before each test. */
export function openStorePerTest (): { readonly path: string, readonly store: Store } {
  const scope = storePerTest()
  beforeEach(async () => { scope.store = await Store.open(scope.path) })
  return {
    get path () { return scope.path },
    get store () {
      if (scope.store === undefined) throw new Error('the store is opened in the beforeEach hook')
      return scope.store
    }
  }
}

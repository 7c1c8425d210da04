import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['{protocols,node,coordinator,analyzer,cli}/test/**/*.spec.ts', 'test/**/*.spec.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks'
        }
      }
    ]
  }
})

import solid from 'vite-plugin-solid'
import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['{protocols,node,coordinator,planner,analyzer,cli}/test/**/*.spec.ts', 'test/**/*.spec.ts'],
          exclude: [...configDefaults.exclude, 'test/ui/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks'
        }
      },
      {
        // The UI's components and their logic, in jsdom (no coordinator, no browser).
        plugins: [solid()],
        test: {
          name: 'ui',
          environment: 'jsdom',
          include: ['ui/test/**/*.spec.{ts,tsx}']
        }
      },
      {
        // The real UI in headless Chromium against a real coordinator and node processes; builds the UI first.
        test: {
          name: 'browser',
          environment: 'node',
          include: ['test/ui/**/*.spec.ts'],
          globalSetup: ['test/ui/build-ui.ts'],
          testTimeout: 90_000,
          hookTimeout: 120_000,
          pool: 'forks'
        }
      }
    ]
  }
})

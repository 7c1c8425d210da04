/**
 * The browser tests' global setup: builds the web UI with Vite into ui/dist, as `npm start` does, so the
 * coordinator serves what the sources say (CI runs only `npm ci && npm test`).
 */
import { buildUi } from '../../ui/build.ts'

export default async function setup (): Promise<void> {
  await buildUi({ force: true })
}

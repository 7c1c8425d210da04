// `npx vite ui` (dev server with the API proxied to 127.0.0.1:8080) and `npx vite build ui` use the app's config.
import { defineConfig } from 'vite'
import { uiConfig } from './build.ts'

const { configFile: _ignored, ...config } = uiConfig({ logLevel: 'info' })

export default defineConfig(config)

import { Show, createResource } from 'solid-js'
import { stats } from '../api/billing.ts'
import { onEvery } from '../lib/clock.ts'
import { formatNumber } from '../lib/format.ts'
import { Money } from './money.tsx'
import { StatCard } from './stat-card.tsx'

/** How often the landing page refreshes its figures (ms). */
const STATS_REFRESH_MS = 5_000

/** The mesh's figures as they change: nodes, jobs, and what contributors earned. */
export function MeshStats () {
  const [figures, { refetch }] = createResource(stats)
  onEvery(STATS_REFRESH_MS, () => { Promise.resolve(refetch()).catch(() => {}) })
  // Keep the last figures on screen while a refresh is in flight: only the first load shows placeholders.
  const loading = (): boolean => figures.latest === undefined && figures.error === undefined
  return (
    <section aria-labelledby='stats-title' class='section'>
      <h2 id='stats-title'>The mesh right now</h2>
      <Show when={figures.error !== undefined}>
        <p class='notice notice--error' role='alert'>The figures cannot be loaded: {String((figures.error as Error | undefined)?.message ?? figures.error)}</p>
      </Show>
      <dl class='stats' aria-live='polite'>
        <StatCard label='Active nodes' loading={loading()} value={formatNumber(figures.latest?.activeNodes ?? 0)} />
        <StatCard label='Running jobs' loading={loading()} value={formatNumber(figures.latest?.runningJobs ?? 0)} />
        <StatCard label='Completed jobs' loading={loading()} value={formatNumber(figures.latest?.completedJobs ?? 0)} />
        <StatCard label='Lifetime earnings' loading={loading()} value={<Money micro={figures.latest?.lifetimeEarnings ?? 0} />} hint='paid to contributors' />
      </dl>
    </section>
  )
}

import { AddNode } from '../components/add-node.tsx'
import { Card } from '../components/card.tsx'
import { EnrollmentTokens } from '../components/enrollment-tokens.tsx'
import { ErrorNotice } from '../components/error-notice.tsx'
import { LoadedList } from '../components/loaded-list.tsx'
import { Money } from '../components/money.tsx'
import { NodeRow } from '../components/node-row.tsx'
import { PageTitle } from '../components/page-title.tsx'
import { ScrollTable } from '../components/scroll-table.tsx'
import { signinRequired } from '../components/signin-required.tsx'
import { StatCard } from '../components/stat-card.tsx'
import { createNodesStore } from '../stores/nodes.ts'

export default signinRequired('your nodes', NodesDashboard)

const COLUMNS = [
  'Node', 'Status', { numeric: 'Machine factor' }, { numeric: 'CPUs' }, { numeric: 'Memory offered' }, { numeric: 'Load per core' },
  { numeric: 'Running' }, { numeric: 'Tasks completed' }, { numeric: 'Earnings' }, 'Last seen'
]

const NO_EARNINGS = { tasks: 0, total: 0, pending: 0, paid: 0 }

function NodesDashboard () {
  const store = createNodesStore()
  const alive = (): number => (store.nodes.latest ?? []).filter(node => node.status === 'alive').length
  const kept = (): number => (store.nodes.latest ?? []).filter(node => node.status !== 'removed').length
  const earned = (): { pending: number, paid: number } | undefined => store.earned.latest
  return (
    <>
      <PageTitle title='Your nodes' />
      <h1>Your nodes</h1>
      <dl class='stats stats--compact'>
        <StatCard label='Nodes alive' loading={store.nodes.latest === undefined} value={`${alive()} of ${kept()}`} />
        <StatCard label='Earned in all' loading={earned() === undefined} value={<Money micro={(earned()?.pending ?? 0) + (earned()?.paid ?? 0)} />} />
        <StatCard label='Pending' loading={earned() === undefined} value={<Money micro={earned()?.pending ?? 0} />} hint='until the submitters pay' />
        <StatCard label='Paid' loading={earned() === undefined} value={<Money micro={earned()?.paid ?? 0} />} />
      </dl>

      <AddNode onCreated={() => { store.refetchTokens() }} />

      <ErrorNotice error={store.failed()} title='That did not work' />
      <p class='notice notice--ok' role='status' aria-live='polite'>{store.done() ?? ''}</p>

      <Card name='nodes' title='Machines'>
        <ErrorNotice error={store.nodes.error} title='Your nodes cannot be loaded' />
        <LoadedList
          items={store.nodes.latest}
          loading={<p role='status'>Loading your nodes…</p>}
          empty={<p>No node yet: add one above, then start it on the machine you lend.</p>}
        >
          {(nodes) => (
            <ScrollTable label='Your nodes' class='nodes' columns={COLUMNS} rows={nodes()}>
              {(node) => (
                <NodeRow
                  node={node}
                  earnings={store.perNode().get(node.id) ?? NO_EARNINGS}
                  busy={store.busy() === node.id}
                  onRemove={() => { store.remove(node) }}
                  onReadmit={() => { store.readmit(node) }}
                />
              )}
            </ScrollTable>
          )}
        </LoadedList>
      </Card>

      <EnrollmentTokens tokens={store.tokens.latest} error={store.tokens.error} nodes={store.nodes.latest ?? []} busy={store.busy()} onRevoke={(token) => { store.revoke(token) }} />
    </>
  )
}

import { For, Show, createMemo, createResource, createSignal, createUniqueId, onCleanup } from 'solid-js'
import { earnings as loadEarnings } from '../api/billing.ts'
import { enrollNode, listNodes, meshInfo, readmitNode, removeNode } from '../api/nodes.ts'
import { listTokens, revokeToken } from '../api/tokens.ts'
import type { CreatedToken, NodeInfo, TokenInfo } from '../api/types.ts'
import { ConfirmButton } from '../components/confirm-button.tsx'
import { CopyButton } from '../components/copy-button.tsx'
import { EnrollmentTokens } from '../components/enrollment-tokens.tsx'
import { ErrorNotice } from '../components/error-notice.tsx'
import { Money } from '../components/money.tsx'
import { PageTitle } from '../components/page-title.tsx'
import { SigninRequired } from '../components/signin-required.tsx'
import { StatCard } from '../components/stat-card.tsx'
import { StatusBadge } from '../components/status-badge.tsx'
import { formatBytes, formatDateTime, formatFactor, formatNumber, formatPercent } from '../lib/format.ts'
import { earningsByNode, enrollmentTokens, nodeCommand, pickMultiaddr, removalReason, shortNodeId } from '../lib/nodes.ts'

/** Nodes heartbeat every 5 s: the page refreshes as often. */
const REFRESH_MS = 5_000

export default function Nodes () {
  return (
    <SigninRequired what='your nodes'>
      <NodesDashboard />
    </SigninRequired>
  )
}

function NodesDashboard () {
  const [nodes, { refetch: refetchNodes }] = createResource(listNodes)
  const [earned, { refetch: refetchEarnings }] = createResource(loadEarnings)
  const [tokens, { refetch: refetchTokens }] = createResource(async () => enrollmentTokens(await listTokens()))
  // Tokens too: a node that joins appears under the token it joined with.
  const timer = setInterval(() => {
    Promise.all([refetchNodes(), refetchEarnings(), refetchTokens()]).catch(() => {})
  }, REFRESH_MS)
  onCleanup(() => { clearInterval(timer) })
  const perNode = createMemo(() => earningsByNode(earned.latest?.earnings ?? []))
  const alive = (): number => (nodes.latest ?? []).filter(node => node.status === 'alive').length
  const kept = (): number => (nodes.latest ?? []).filter(node => node.status !== 'removed').length

  // Removing, allowing again and revoking: one at a time, each said when done (or why not).
  const [busy, setBusy] = createSignal<string>()
  const [done, setDone] = createSignal<string>()
  const [failed, setFailed] = createSignal<unknown>()
  const act = async (id: string, work: () => Promise<unknown>, message: string): Promise<void> => {
    setBusy(id)
    setFailed(undefined)
    setDone(undefined)
    try {
      await work()
      setDone(message)
    } catch (err) {
      setFailed(err)
    } finally {
      setBusy(undefined)
    }
    // Either way the lists show what the coordinator has now; they say so themselves if they cannot be loaded.
    await Promise.all([refetchNodes(), refetchTokens()]).catch(() => {})
  }
  const remove = (node: NodeInfo): void => {
    act(node.id, async () => { await removeNode(node.id) }, `Removed node ${shortNodeId(node.id)}: it was disconnected, its tasks go to your other nodes, and it is refused from now on.`).catch(() => {})
  }
  const readmit = (node: NodeInfo): void => {
    act(node.id, async () => await readmitNode(node.id), `Node ${shortNodeId(node.id)} may enroll again: start it with a valid enrollment token of yours.`).catch(() => {})
  }
  const revoke = (token: TokenInfo): void => {
    const count = (token.nodes ?? []).filter(id => nodes.latest?.find(node => node.id === id)?.status !== 'removed').length
    const message = `Revoked token “${token.label}”${count > 0 ? `: its ${count === 1 ? 'node was' : `${count} nodes were`} removed` : ''}.`
    act(token.id, async () => { await revokeToken(token.id) }, message).catch(() => {})
  }
  return (
    <>
      <PageTitle title='Your nodes' />
      <h1>Your nodes</h1>
      <dl class='stats stats--compact'>
        <StatCard label='Nodes alive' loading={nodes.latest === undefined} value={`${alive()} of ${kept()}`} />
        <StatCard label='Earned in all' loading={earned.latest === undefined} value={<Money micro={(earned.latest?.pending ?? 0) + (earned.latest?.paid ?? 0)} />} />
        <StatCard label='Pending' loading={earned.latest === undefined} value={<Money micro={earned.latest?.pending ?? 0} />} hint='until the submitters pay' />
        <StatCard label='Paid' loading={earned.latest === undefined} value={<Money micro={earned.latest?.paid ?? 0} />} />
      </dl>

      <AddNode onCreated={() => { Promise.resolve(refetchTokens()).catch(() => {}) }} />

      <ErrorNotice error={failed()} title='That did not work' />
      <p class='notice notice--ok' role='status' aria-live='polite'>{done() ?? ''}</p>

      <section class='card' aria-labelledby='nodes-title'>
        <h2 id='nodes-title'>Machines</h2>
        <ErrorNotice error={nodes.error} title='Your nodes cannot be loaded' />
        <Show when={nodes.latest} fallback={<p role='status'>Loading your nodes…</p>}>
          {(list) => (
            <Show when={list().length > 0} fallback={<p>No node yet: add one above, then start it on the machine you lend.</p>}>
              <div class='table-scroll' role='region' aria-label='Your nodes' tabindex='0'>
                <table class='table nodes'>
                  <thead>
                    <tr>
                      <th scope='col'>Node</th><th scope='col'>Status</th><th scope='col' class='num'>Machine factor</th>
                      <th scope='col' class='num'>CPUs</th><th scope='col' class='num'>Memory offered</th><th scope='col' class='num'>Load per core</th>
                      <th scope='col' class='num'>Running</th><th scope='col' class='num'>Tasks completed</th><th scope='col' class='num'>Earnings</th><th scope='col'>Last seen</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={list()}>
                      {(node) => {
                        const stats = (): { tasks: number, total: number, pending: number, paid: number } => perNode().get(node.id) ?? { tasks: 0, total: 0, pending: 0, paid: 0 }
                        return (
                          <tr data-node={node.id} data-status={node.status}>
                            <th scope='row'><code class='nowrap' title={`${node.id} · peer ${node.peerId}`}>{shortNodeId(node.id)}</code><span class='muted small block'>v{node.version}</span></th>
                            <td>
                              <StatusBadge status={node.status} />
                              <Show when={node.status === 'removed'}><span class='muted small block'>{removalReason(node)}</span></Show>
                              {/* In the status cell: the table is as wide as a laptop screen already. */}
                              <div class='node-action'>
                                <Show
                                  when={node.status === 'removed'}
                                  fallback={
                                    <ConfirmButton
                                      label='Remove'
                                      name={`Remove node ${shortNodeId(node.id)}`}
                                      question='Disconnect it and refuse it from now on?'
                                      confirmLabel='Yes, remove'
                                      busy={busy() === node.id}
                                      onConfirm={() => { remove(node) }}
                                    />
                                  }
                                >
                                  <button
                                    type='button'
                                    class='button button--small button--quiet'
                                    disabled={busy() === node.id}
                                    aria-label={`Allow node ${shortNodeId(node.id)} again`}
                                    onClick={() => { readmit(node) }}
                                  >
                                    Allow again
                                  </button>
                                </Show>
                              </div>
                            </td>
                            <td class='num'>{formatFactor(node.benchmark)}</td>
                            <td class='num'>{node.cpus}</td>
                            <td class='num'>{formatBytes(node.memoryBytes)}</td>
                            <td class='num'>{node.status === 'alive' ? formatPercent(node.cpuLoad) : '–'}</td>
                            <td class='num'>{node.runningTasks.length}</td>
                            <td class='num' data-testid='node-tasks'>{formatNumber(stats().tasks)}</td>
                            <td class='num' data-testid='node-earnings'>
                              <Money micro={stats().total} />
                              <Show when={stats().pending > 0}><span class='muted small block'><Money micro={stats().pending} /> pending</span></Show>
                            </td>
                            <td class='small'>{formatDateTime(node.lastSeen)}</td>
                          </tr>
                        )
                      }}
                    </For>
                  </tbody>
                </table>
              </div>
            </Show>
          )}
        </Show>
      </section>

      <EnrollmentTokens tokens={tokens.latest} error={tokens.error} nodes={nodes.latest ?? []} busy={busy()} onRevoke={revoke} />
    </>
  )
}

function AddNode (props: { onCreated: () => void }) {
  const id = createUniqueId()
  const [label, setLabel] = createSignal('my-machine')
  const [created, setCreated] = createSignal<{ token: CreatedToken, command: string }>()
  const [error, setError] = createSignal<unknown>()
  const [busy, setBusy] = createSignal(false)
  const add = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const name = label().trim() === '' ? 'node' : label().trim()
      const [token, mesh] = await Promise.all([enrollNode(name), meshInfo()])
      const address = pickMultiaddr(mesh.multiaddrs)
      if (address === undefined) throw new Error('the coordinator has no mesh address to give nodes')
      setCreated({ token, command: nodeCommand(address, token.token, name) })
      props.onCreated()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  return (
    <section class='card' aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Add a node</h2>
      <p>Each machine you lend runs a node. It needs Node.js 22+, python3 and bubblewrap, and a clone of RunSurge (<code>npm ci</code>).</p>
      <form class='inline-form' onSubmit={(event) => { add(event).catch(() => {}) }}>
        <div class='field'>
          <label for={`${id}-label`}>Label</label>
          <input id={`${id}-label`} name='label' maxLength={64} required value={label()} onInput={(event) => setLabel(event.currentTarget.value)} />
        </div>
        <button type='submit' class='button' disabled={busy()}>Create an enrollment token</button>
      </form>
      <ErrorNotice error={error()} title='No token was created' />
      <Show when={created()}>
        {(made) => (
          <div class='enroll' role='region' aria-label='New enrollment token'>
            <p>
              Token <strong>{made().token.label}</strong> (<code>{made().token.id}</code>) — shown this once. Revoking it (below)
              removes every node that joined with it.
            </p>
            <div class='field'>
              <label for={`${id}-token`}>Enrollment token</label>
              <div class='copyable'>
                <input id={`${id}-token`} class='mono' readOnly value={made().token.token} onFocus={(event) => event.currentTarget.select()} />
                <CopyButton text={made().token.token} label='Copy token' />
              </div>
            </div>
            <div class='field'>
              <label for={`${id}-command`}>Run this on the machine</label>
              <div class='copyable'>
                <textarea id={`${id}-command`} class='mono command' readOnly rows='3' value={made().command} onFocus={(event) => event.currentTarget.select()} />
                <CopyButton text={made().command} label='Copy command' />
              </div>
              <small class='field__help'>
                The token rides in the environment, where only your user can read it, not on the command line, which every
                user of the machine can see. Add <code>--memory 4G</code> to choose the memory it offers. The node measures
                its machine factor once, then joins the mesh and appears in the list below.
              </small>
            </div>
          </div>
        )}
      </Show>
    </section>
  )
}

import { For, Show } from 'solid-js'
import type { NodeInfo, TokenInfo } from '../api/types.ts'
import { formatDateTime } from '../lib/format.ts'
import { shortNodeId } from '../lib/nodes.ts'
import { Card } from './card.tsx'
import { ConfirmButton } from './confirm-button.tsx'
import { ErrorNotice } from './error-notice.tsx'
import { LoadedList } from './loaded-list.tsx'
import { ScrollTable } from './scroll-table.tsx'
import { StatusBadge } from './status-badge.tsx'

/** The account's enrollment tokens, each with the nodes that joined with it, and a way to revoke one. */
export function EnrollmentTokens (props: {
  tokens: TokenInfo[] | undefined
  error: unknown
  /** The account's nodes, for the status of each token's nodes. */
  nodes: readonly NodeInfo[]
  /** The id of the token being revoked now. */
  busy: string | undefined
  onRevoke: (token: TokenInfo) => void
}) {
  const status = (id: string): string => props.nodes.find(node => node.id === id)?.status ?? 'dead'
  const question = (token: TokenInfo): string => {
    const nodes = token.nodes?.filter(id => status(id) !== 'removed').length ?? 0
    return nodes === 0 ? 'Revoke it?' : `Revoke it and remove its ${nodes === 1 ? 'node' : `${nodes} nodes`}?`
  }
  return (
    <Card name='tokens' title='Enrollment tokens'>
      <p>
        A node joins with a token and stays tied to it: revoking a token removes its nodes at once (their tasks go to
        other nodes, and they are refused from then on), and it enrolls nothing more.
      </p>
      <ErrorNotice error={props.error} title='Your tokens cannot be loaded' />
      <LoadedList
        items={props.tokens}
        loading={<Show when={props.error === undefined}><p role='status'>Loading your tokens…</p></Show>}
        empty={<p>No enrollment token: create one above.</p>}
      >
        {(tokens) => (
          <ScrollTable label='Your enrollment tokens' class='tokens' columns={['Token', 'Created', 'Nodes', { hidden: 'Actions' }]} rows={tokens()}>
            {(token) => (
              <tr data-token={token.id}>
                <th scope='row'>{token.label}<span class='muted small block'><code>{token.id}</code></span></th>
                <td class='small'>{formatDateTime(token.createdAt)}</td>
                <td>
                  <Show when={(token.nodes ?? []).length > 0} fallback={<span class='muted'>none yet</span>}>
                    <ul class='token-nodes'>
                      <For each={token.nodes}>
                        {(id) => <li><code title={id}>{shortNodeId(id)}</code> <StatusBadge status={status(id)} /></li>}
                      </For>
                    </ul>
                  </Show>
                </td>
                <td>
                  <ConfirmButton
                    label='Revoke'
                    name={`Revoke token ${token.label}`}
                    question={question(token)}
                    confirmLabel='Yes, revoke'
                    busy={props.busy === token.id}
                    onConfirm={() => { props.onRevoke(token) }}
                  />
                </td>
              </tr>
            )}
          </ScrollTable>
        )}
      </LoadedList>
    </Card>
  )
}

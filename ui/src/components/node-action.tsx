import { Show } from 'solid-js'
import type { NodeInfo } from '../api/types.ts'
import { shortNodeId } from '../lib/nodes.ts'
import { ConfirmButton } from './confirm-button.tsx'

/** What can be done to a node: remove it (once asked to confirm), or allow a removed one again. */
export function NodeAction (props: { node: NodeInfo, busy: boolean, onRemove: () => void, onReadmit: () => void }) {
  return (
    <div class='node-action'>
      <Show
        when={props.node.status === 'removed'}
        fallback={
          <ConfirmButton
            label='Remove'
            name={`Remove node ${shortNodeId(props.node.id)}`}
            question='Disconnect it and refuse it from now on?'
            confirmLabel='Yes, remove'
            busy={props.busy}
            onConfirm={() => { props.onRemove() }}
          />
        }
      >
        <button
          type='button'
          class='button button--small button--quiet'
          disabled={props.busy}
          aria-label={`Allow node ${shortNodeId(props.node.id)} again`}
          onClick={() => { props.onReadmit() }}
        >
          Allow again
        </button>
      </Show>
    </div>
  )
}

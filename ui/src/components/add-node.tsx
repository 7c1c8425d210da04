import { Show, createSignal, createUniqueId } from 'solid-js'
import { enrollNode, meshInfo } from '../api/nodes.ts'
import type { CreatedToken } from '../api/types.ts'
import { nodeCommand, pickMultiaddr } from '../lib/nodes.ts'
import { Card } from './card.tsx'
import { ErrorNotice } from './error-notice.tsx'
import { InputField } from './input-field.tsx'
import { NewEnrollment } from './new-enrollment.tsx'

/** Creates an enrollment token for a machine to lend, and shows the command that starts its node. */
export function AddNode (props: { onCreated: () => void }) {
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
    <Card name={id} title='Add a node'>
      <p>Each machine you lend runs a node. It needs Node.js 22+, python3 and bubblewrap, and a clone of RunSurge (<code>npm ci</code>).</p>
      <form class='inline-form' onSubmit={(event) => { add(event).catch(() => {}) }}>
        <InputField id={`${id}-label`} label='Label' name='label' maxLength={64} required value={label()} onInput={(event) => setLabel(event.currentTarget.value)} />
        <button type='submit' class='button' disabled={busy()}>Create an enrollment token</button>
      </form>
      <ErrorNotice error={error()} title='No token was created' />
      <Show when={created()}>{(made) => <NewEnrollment id={id} token={made().token} command={made().command} />}</Show>
    </Card>
  )
}

import type { CreatedToken } from '../api/types.ts'
import { CopyButton } from './copy-button.tsx'

/** A token just created, shown this once, with the command that starts a node with it. */
export function NewEnrollment (props: { id: string, token: CreatedToken, command: string }) {
  return (
    <div class='enroll' role='region' aria-label='New enrollment token'>
      <p>
        Token <strong>{props.token.label}</strong> (<code>{props.token.id}</code>) — shown this once. Revoking it (below)
        removes every node that joined with it.
      </p>
      <div class='field'>
        <label for={`${props.id}-token`}>Enrollment token</label>
        <div class='copyable'>
          <input id={`${props.id}-token`} class='mono' readOnly value={props.token.token} onFocus={(event) => event.currentTarget.select()} />
          <CopyButton text={props.token.token} label='Copy token' />
        </div>
      </div>
      <div class='field'>
        <label for={`${props.id}-command`}>Run this on the machine</label>
        <div class='copyable'>
          <textarea id={`${props.id}-command`} class='mono command' readOnly rows='3' value={props.command} onFocus={(event) => event.currentTarget.select()} />
          <CopyButton text={props.command} label='Copy command' />
        </div>
        <small class='field__help'>
          The token rides in the environment, where only your user can read it, not on the command line, which every
          user of the machine can see. Add <code>--memory 4G</code> to choose the memory it offers. The node measures
          its machine factor once, then joins the mesh and appears in the list below.
        </small>
      </div>
    </div>
  )
}

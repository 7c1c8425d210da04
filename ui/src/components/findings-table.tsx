import { Show } from 'solid-js'
import { isBlocking } from '../lib/findings.ts'
import type { LineFinding } from '../lib/findings.ts'
import { ScrollTable } from './scroll-table.tsx'

/** A stored job's findings (the coordinator keeps no source to show them against): line, rule, severity, message. */
export function FindingsTable (props: { findings: LineFinding[] }) {
  return (
    <Show when={props.findings.length > 0} fallback={<p>No findings.</p>}>
      <ScrollTable label='Findings' columns={['Line', 'Severity', 'Rule', 'Message']} rows={props.findings}>
        {(finding) => (
          <tr data-line={finding.line}>
            <td class='num'>{finding.line}</td>
            <td><span class={`badge badge--${isBlocking(finding.severity) ? 'failed' : 'queued'}`}>{(finding.severity ?? 'error').toLowerCase()}</span></td>
            <td><code>{finding.rule}</code></td>
            <td>{finding.message}</td>
          </tr>
        )}
      </ScrollTable>
    </Show>
  )
}

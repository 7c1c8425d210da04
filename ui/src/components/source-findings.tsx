import { For, Match, Show, Switch, createMemo } from 'solid-js'
import { findingsSummary, isBlocking, sourceLines, sourceSegments } from '../lib/findings.ts'
import type { LineFinding } from '../lib/findings.ts'

export interface SourceError { code: string, message: string, line?: number }

/**
 * A Python file with the analyzer's findings under the lines they concern. Long files fold to the flagged lines
 * and their context. A rejection with a line but no finding (a syntax error) is shown on its line as well.
 */
export function SourceFindings (props: { source: string, findings: LineFinding[], error?: SourceError | undefined, fileName: string }) {
  const all = createMemo<LineFinding[]>(() => {
    const error = props.error
    if (error?.line === undefined || props.findings.some(f => f.line === error.line)) return props.findings
    return [...props.findings, { rule: error.code, message: error.message, line: error.line, severity: 'ERROR' }]
  })
  const view = createMemo(() => sourceLines(props.source, all()))
  const segments = createMemo(() => sourceSegments(view().lines))
  return (
    <figure class='source'>
      <figcaption class='source__caption'>
        <code>{props.fileName}</code> — <span data-testid='findings-summary'>{findingsSummary(all())}</span>
      </figcaption>
      <Show when={props.error !== undefined && props.error.line === undefined}>
        <p class='notice notice--error' role='alert'>{props.error?.code}: {props.error?.message}</p>
      </Show>
      <div class='source__scroll' role='region' aria-label={`${props.fileName} with its findings`} tabindex='0'>
        <ol class='source__lines'>
          <For each={segments()}>
            {(segment) => (
              <Switch>
                <Match when={segment.kind === 'gap' && segment}>
                  {(gap) => <li class='source__gap'>⋯ lines {gap().from}–{gap().to} not shown ({gap().count})</li>}
                </Match>
                <Match when={segment.kind === 'lines' && segment}>
                  {(run) => (
                    <For each={run().lines}>
                      {(line) => (
                        <li
                          class='source__line'
                          classList={{ [`source__line--${(line.severity ?? '').toLowerCase()}`]: line.severity !== undefined }}
                          data-line={line.number}
                        >
                          <span class='source__number'><span class='visually-hidden'>line </span>{line.number}</span>
                          <code class='source__code'>{line.text === '' ? ' ' : line.text}</code>
                          <For each={line.findings}>
                            {(finding) => (
                              <div
                                class={`finding finding--${(finding.severity ?? 'error').toLowerCase()}`}
                                role='note'
                                data-rule={finding.rule}
                              >
                                <span class='finding__severity'>{isBlocking(finding.severity) ? 'blocks' : (finding.severity ?? '').toLowerCase()}</span>
                                <span class='finding__where'>line {finding.line}{finding.column !== undefined ? `:${finding.column}` : ''}</span>
                                <span class='finding__message'>{finding.message}</span>
                                <code class='finding__rule'>{finding.rule}</code>
                                <Show when={finding.note}>{(note) => <span class='finding__note'>{note()}</span>}</Show>
                              </div>
                            )}
                          </For>
                        </li>
                      )}
                    </For>
                  )}
                </Match>
              </Switch>
            )}
          </For>
        </ol>
      </div>
      <Show when={view().unplaced.length > 0}>
        <ul class='findings-unplaced'>
          <For each={view().unplaced}>{(finding) => <li>{finding.rule}: {finding.message}</li>}</For>
        </ul>
      </Show>
    </figure>
  )
}

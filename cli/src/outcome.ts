/**
 * How a finished job is printed, the same for `run`, `submit --wait` and `result`:
 * `--json` gives `{"status":"completed","result":…,"plan":…,"cost":…,"metrics":…}` with the result spliced in
 * exactly as Python wrote it (big integers and floats untouched); a failure exits 1 with
 * `{"status":"failed","error":{"code","message"}}`; a rejection exits 2 with `{"status":"rejected","error":{…}}`.
 */
import type { JobView } from './client.ts'

export interface Printed {
  stdout: string
  exitCode: number
}

export function renderOutcome (job: JobView, resultText: string | undefined, json: boolean): Printed {
  if (job.status === 'completed') {
    const result = resultText ?? 'null'
    if (json) {
      const text = `{"id":${JSON.stringify(job.id)},"status":"completed","result":${result},"plan":${JSON.stringify(job.plan)},` +
        `"cost":${JSON.stringify(job.cost ?? {})},"metrics":${JSON.stringify(job.metrics ?? {})}}`
      return { stdout: text + '\n', exitCode: 0 }
    }
    return { stdout: result + '\n', exitCode: 0 }
  }
  const error = job.error ?? { code: job.status, message: `the job is ${job.status}` }
  if (job.status === 'rejected') {
    const body = { id: job.id, status: 'rejected', error: { code: error.code, message: error.message, line: error.line ?? null }, findings: job.findings }
    return { stdout: json ? JSON.stringify(body) + '\n' : humanRejection(job), exitCode: 2 }
  }
  const status = job.status === 'cancelled' ? 'cancelled' : 'failed'
  const body = { id: job.id, status, error: { code: error.code, message: error.message } }
  return { stdout: json ? JSON.stringify(body) + '\n' : `job ${job.id} ${status}: ${error.code}: ${error.message}\n`, exitCode: 1 }
}

function humanRejection (job: JobView): string {
  const lines = [`job rejected: ${job.error?.code ?? ''}: ${job.error?.message ?? ''}${job.error?.line !== undefined ? ` (line ${job.error.line})` : ''}`]
  for (const finding of job.findings) lines.push(`  line ${finding.line}: ${finding.rule}: ${finding.message}`)
  return lines.join('\n') + '\n'
}

/** A one-line progress bar for a terminal (standard error), redrawn in place. */
export function progressLine (job: JobView, width = 24): string {
  const { total, completed, running, failed } = job.progress
  const filled = total === 0 ? 0 : Math.round(width * completed / total)
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${completed}/${total} tasks` +
    `${running > 0 ? `, ${running} running` : ''}${failed > 0 ? `, ${failed} failed` : ''} — ${job.status}`
}

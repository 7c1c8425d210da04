/**
 * The analyzer's verdict on a job before it is submitted (the submit page asks as the user picks files): scanner
 * and template findings with their lines, the static memory estimate, the blocks of `main`, and a cost estimate.
 * Nothing is stored and nothing runs.
 */
import { Buffer } from 'node:buffer'
import { analyze, evaluate, sampleInput } from '../../../../../analyzer/src/index.ts'
import { isBlocking } from '../../../../../analyzer/src/index.ts'
import { DEFAULT_UNIT_RATE, jobCost, taskEarning } from '../../../jobs/billing.ts'
import { DEFAULT_TASK_MEMORY } from '../../../jobs/policy.ts'
import { AnalyzeBody, AnalyzeReply, MAX_ANALYZE_SAMPLE } from '../../../schemas/analyze.ts'
import { strictValidator } from '../../validation.ts'
import { failures } from '../../replies.ts'
import type { AnalysisReport, InputFormat } from '../../../../../analyzer/src/index.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Static } from 'typebox'

export interface AnalyzeRoutesOptions {
  /** Billing unit rate used for the cost estimate (micro-units per second × GB). Default: billing's default. */
  unitRate?: number
}

/**
 * The cost estimate cannot know how long a job runs before it ran; it assumes a task start-up (sandbox, python3,
 * loading the input) and a processing speed on a reference machine (factor 1.0), and says so in `basis`.
 */
export const ASSUMED_TASK_STARTUP_MS = 1_000
export const ASSUMED_BYTES_PER_SECOND = 16 * 1024 * 1024
/** The Python interpreter and the task runtime, beside what the job's own values take (the analyzer counts those). */
export const ASSUMED_INTERPRETER_BYTES = 16 * 1024 * 1024
/** Without a sample of the input, one element (a line, a record) is assumed to be this many bytes of text. */
export const ASSUMED_ELEMENT_TEXT_BYTES = 64

// A source of 1 MiB may double in size once escaped in JSON; the sample adds its own 256 KiB.
const BODY_LIMIT = 2 * 1024 * 1024 + 2 * MAX_ANALYZE_SAMPLE + 64 * 1024

type Body = Static<typeof AnalyzeBody>
type Reply = Static<typeof AnalyzeReply>

const analyzeRoutes: FastifyPluginAsyncTypebox<AnalyzeRoutesOptions> = async (app, options) => {
  app.setValidatorCompiler(strictValidator)
  const unitRate = options.unitRate ?? DEFAULT_UNIT_RATE

  app.post('/', {
    onRequest: app.authenticate,
    bodyLimit: BODY_LIMIT,
    schema: {
      tags: ['jobs'],
      summary: 'Analyze a job before submitting it: findings, memory and cost estimates',
      description: 'Runs the scanner, the template checks and the static memory estimate on `source`. With `inputBytes` ' +
        '(and a `sample` of the input) the memory is evaluated at the input\'s size and a cost is estimated, assuming ' +
        `${ASSUMED_TASK_STARTUP_MS} ms of start-up per task and ${ASSUMED_BYTES_PER_SECOND / 1024 / 1024} MiB/s of input on a reference machine.`,
      body: AnalyzeBody,
      response: { 200: AnalyzeReply, ...failures(400, 401, 413) }
    }
  }, async (request) => analyzeJob(request.body, unitRate))
}

/** The reply of POST /api/analyze for one request body. */
export function analyzeJob (body: Body, unitRate: number = DEFAULT_UNIT_RATE): Reply {
  const format: InputFormat = body.format === undefined || body.format === 'text' ? 'lines' : body.format
  const input = body.inputBytes !== undefined ? inputShape(body.inputBytes, format, body.sample) : undefined
  const report = analyze(body.source, {
    mode: body.mode,
    input: { format, ...(input?.elements !== undefined ? { elements: input.elements } : {}), ...(input?.sample !== undefined ? { sample: input.sample } : {}) }
  })
  const reply: Reply = {
    status: report.status,
    mode: report.mode,
    ...(report.error !== undefined ? { error: { code: report.error.code, message: report.error.message, ...(report.error.line !== undefined ? { line: report.error.line } : {}) } } : {}),
    findings: report.findings.map(f => ({
      rule: f.ruleId,
      category: f.category,
      message: f.message,
      ...(f.note !== undefined ? { note: f.note } : {}),
      severity: f.severity,
      blocking: isBlocking(f.severity),
      line: f.line,
      column: f.column,
      endLine: f.endLine,
      endColumn: f.endColumn
    })),
    source: { bytes: report.source.bytes, lines: report.source.lines }
  }
  if (report.status === 'rejected') return reply
  if (report.memory !== undefined) {
    const { basis, data, peak, elements, peakBytes } = report.memory
    reply.memory = { basis, format: body.format ?? 'text', data, peak, ...(elements !== undefined ? { elements, peakBytes: peakBytes ?? evaluate(peak, elements) } : {}) }
  }
  if (report.blocks !== undefined) {
    reply.blocks = report.blocks.map(block => ({
      id: block.id,
      startLine: block.startLine,
      endLine: block.endLine,
      class: block.class,
      ...(block.combine !== undefined ? { combine: block.combine } : {}),
      level: block.level,
      dependsOn: block.dependsOn.map(d => d.block),
      reason: block.reason
    }))
  }
  reply.estimate = estimate(report, body, input?.elements, unitRate)
  return reply
}

/** Elements of the input and a sample of them: counted from the sample, scaled to the whole size. */
function inputShape (bytes: number, format: InputFormat, sampleText: string | undefined): { elements: number, sample?: unknown[] } {
  const guess = { elements: Math.ceil(bytes / ASSUMED_ELEMENT_TEXT_BYTES) }
  if (sampleText === undefined || sampleText === '') return guess
  const sampleBytes = Buffer.byteLength(sampleText)
  const whole = sampleBytes >= bytes
  // A sample cut mid-line: only whole lines count. A cut JSON array cannot be parsed at all.
  const text = whole ? sampleText : sampleText.slice(0, sampleText.lastIndexOf('\n') + 1)
  if (text === '' || (format === 'json' && !whole)) return guess
  try {
    const { elements, sample } = sampleInput(text, format)
    if (elements === 0) return guess
    return { elements: whole ? elements : Math.ceil(elements * bytes / Buffer.byteLength(text)), sample }
  } catch {
    return guess
  }
}

function estimate (report: AnalysisReport, body: Body, elements: number | undefined, unitRate: number): Reply['estimate'] {
  const inputBytes = body.inputBytes ?? 0
  const manual = report.mode === 'manual'
  const tasks = manual ? (body.tasks ?? 1) : 1
  const taskMemoryBytes = manual
    ? (body.taskMemory ?? DEFAULT_TASK_MEMORY)
    : ASSUMED_INTERPRETER_BYTES + (report.memory?.peakBytes ?? evaluate(report.memory?.peak ?? { fixed: 0, perElement: 0 }, elements ?? 0))
  const taskWallMs = Math.round(ASSUMED_TASK_STARTUP_MS + (inputBytes / tasks) / ASSUMED_BYTES_PER_SECOND * 1000)
  const earnings = Array.from({ length: tasks }, () => taskEarning(unitRate, taskWallMs, 1, taskMemoryBytes))
  const cost = jobCost(unitRate, earnings)
  const basis = manual
    ? `${tasks} task${tasks > 1 ? 's' : ''} holding ${taskMemoryBytes} bytes each for the whole run`
    : `one task (plan level 1) holding the analyzer's static peak${elements !== undefined ? ` at ${elements} input elements` : ''} ` +
      `and ${ASSUMED_INTERPRETER_BYTES / 1024 / 1024} MiB for the Python interpreter for the whole run`
  return {
    ...(elements !== undefined ? { elements } : {}),
    tasks,
    taskMemoryBytes,
    taskWallMs,
    machineFactor: 1,
    unitRate,
    contributors: cost.contributors,
    price: cost.price,
    platform: cost.platform,
    basis: `${basis}; each task assumed to take ${ASSUMED_TASK_STARTUP_MS / 1000} s to start plus ` +
      `${ASSUMED_BYTES_PER_SECOND / 1024 / 1024} MiB/s of input on a reference machine (factor 1.0). ` +
      'What is billed is measured: real seconds, average memory and the machine factor of the nodes that ran it.'
  }
}

export default analyzeRoutes

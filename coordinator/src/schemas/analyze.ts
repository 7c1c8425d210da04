import { Type } from 'typebox'

/** Python source accepted for analysis: the analyzer's own limit (1 MiB), counted in bytes by the route. */
export const MAX_ANALYZE_SOURCE = 1024 * 1024

/** Input text sent along to size the input's elements: its first lines are enough. */
export const MAX_ANALYZE_SAMPLE = 256 * 1024

export const AnalyzeBody = Type.Object({
  source: Type.String({ maxLength: MAX_ANALYZE_SOURCE, description: 'the job\'s Python source, at most 1 MiB' }),
  mode: Type.Union([Type.Literal('auto'), Type.Literal('manual')], {
    description: '"auto": the file defines main(data); "manual" (also grouped jobs): it defines process(input_data)'
  }),
  inputBytes: Type.Optional(Type.Integer({ minimum: 0, description: 'size of the input file in bytes, for the memory and cost estimate' })),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('jsonl'), Type.Literal('csv'), Type.Literal('text')], {
    description: 'how the runtime loads the input: json, jsonl, csv or text (one element per line)'
  })),
  sample: Type.Optional(Type.String({ maxLength: MAX_ANALYZE_SAMPLE, description: 'the beginning of the input file (at most 256 KiB), to size its elements' })),
  tasks: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'manual jobs: number of tasks' })),
  taskMemory: Type.Optional(Type.Integer({ minimum: 0, description: 'manual jobs: memory per task in bytes' }))
}, { additionalProperties: false })

export const AnalyzeFinding = Type.Object({
  rule: Type.String(),
  category: Type.String(),
  message: Type.String(),
  note: Type.Optional(Type.String()),
  severity: Type.Union([Type.Literal('INFO'), Type.Literal('WARNING'), Type.Literal('ERROR'), Type.Literal('CRITICAL')]),
  /** Blocking findings (ERROR, CRITICAL) reject the job. */
  blocking: Type.Boolean(),
  line: Type.Integer(),
  column: Type.Optional(Type.Integer()),
  endLine: Type.Optional(Type.Integer()),
  endColumn: Type.Optional(Type.Integer())
})

/** `bytes(n) = fixed + perElement × n`, n the number of input elements. */
export const MemoryFunction = Type.Object({ fixed: Type.Number(), perElement: Type.Number() })

export const AnalyzeBlock = Type.Object({
  id: Type.Integer(),
  startLine: Type.Integer(),
  endLine: Type.Integer(),
  class: Type.String(),
  combine: Type.Optional(Type.String()),
  level: Type.Integer(),
  dependsOn: Type.Array(Type.Integer()),
  reason: Type.String()
})

export const AnalyzeEstimate = Type.Object({
  /** Input elements the estimate assumes (from the sample, or from the size at an assumed element length). */
  elements: Type.Optional(Type.Integer()),
  tasks: Type.Integer(),
  /** Memory of each task (bytes): the analyzer's peak (auto) or the stated memory per task (manual). */
  taskMemoryBytes: Type.Integer(),
  /** Assumed wall time of each task (ms) on a reference machine (factor 1.0). */
  taskWallMs: Type.Integer(),
  machineFactor: Type.Number(),
  unitRate: Type.Number(),
  /** What the contributors would earn, what the submitter would pay, and the platform's share (micro-units). */
  contributors: Type.Integer(),
  price: Type.Integer(),
  platform: Type.Integer(),
  /** The assumptions behind the figures, in words. */
  basis: Type.String()
})

export const AnalyzeReply = Type.Object({
  status: Type.Union([Type.Literal('accepted'), Type.Literal('rejected')]),
  mode: Type.String(),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String(), line: Type.Optional(Type.Integer()) })),
  findings: Type.Array(AnalyzeFinding),
  source: Type.Object({ bytes: Type.Integer(), lines: Type.Integer() }),
  memory: Type.Optional(Type.Object({
    basis: Type.String(),
    format: Type.String(),
    data: MemoryFunction,
    peak: MemoryFunction,
    elements: Type.Optional(Type.Integer()),
    peakBytes: Type.Optional(Type.Integer())
  })),
  blocks: Type.Optional(Type.Array(AnalyzeBlock)),
  estimate: Type.Optional(AnalyzeEstimate)
})

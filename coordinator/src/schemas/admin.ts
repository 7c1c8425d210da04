import { Type } from 'typebox'

/** A snapshot of the coordinator's database, written on the coordinator's disk. */
export const SnapshotView = Type.Object({
  path: Type.String({ description: 'absolute path of the snapshot file on the coordinator\'s machine' }),
  createdAt: Type.String({ description: 'ISO 8601' }),
  commit: Type.Integer({ description: 'the database\'s commit counter in the copied view' }),
  records: Type.Integer(),
  buckets: Type.Record(Type.String(), Type.Integer(), { description: 'records per bucket: accounts, tokens, jobs, tasks…' })
})

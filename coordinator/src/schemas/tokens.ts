import { Type } from 'typebox'

export const TokenId = Type.String({ pattern: '^[0-9a-f]{12}$', description: 'the first 12 hex digits of the token\'s SHA-256' })

export const TokenKind = Type.Union([Type.Literal('api'), Type.Literal('enroll')], {
  description: '"api": the CLI and scripts use it as a Bearer token; "enroll": nodes join the mesh with it'
})

export const TokenLabel = Type.String({ minLength: 1, maxLength: 64, description: 'what the token is for, to recognize it later' })

export const TokenView = Type.Object({
  id: TokenId,
  kind: TokenKind,
  label: Type.String(),
  createdAt: Type.Integer(),
  nodes: Type.Optional(Type.Array(Type.String(), { description: 'enrollment tokens: the ids of the nodes that registered with it (revoking it removes them)' }))
})

export const TokenList = Type.Object({ tokens: Type.Array(TokenView) })

/** A new token: `token` is its text, shown this once only. */
export const CreatedToken = Type.Object({
  token: Type.String(),
  id: TokenId,
  kind: TokenKind,
  label: Type.String(),
  createdAt: Type.Integer()
})

export const CreateTokenBody = Type.Object({ label: TokenLabel })

export const EnrollBody = Type.Object({ label: Type.Optional(TokenLabel) })

export const TokenParams = Type.Object({ id: TokenId })

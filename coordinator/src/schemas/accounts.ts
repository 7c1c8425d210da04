import { Type } from 'typebox'

export const AccountName = Type.String({
  minLength: 3,
  maxLength: 64,
  pattern: '^[a-zA-Z0-9_.-]+$',
  description: '3 to 64 letters, digits, "_", "." or "-"; unique regardless of case'
})

// The upper bound only keeps a request from making argon2 chew on megabytes.
export const Password = Type.String({ minLength: 8, maxLength: 1024, description: 'at least 8 characters' })

export const AccountView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal('admin'), Type.Literal('user')])
})

export const AccountReply = Type.Object({ account: AccountView })

export const RegisterBody = Type.Object({ name: AccountName, password: Password })

// Login does not repeat registration's rules: a name or password that could never exist simply does not match.
export const LoginBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.String({ minLength: 1, maxLength: 1024 })
})

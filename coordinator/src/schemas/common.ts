import { Type } from 'typebox'

/** Every error answer of the API: a message that says what to do, never a stack trace. */
export const ErrorReply = Type.Object({
  error: Type.String(),
  message: Type.String()
})

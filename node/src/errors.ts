/** The node could not register with its coordinator (refused token, or the coordinator failed). */
export class RegistrationError extends Error {
  override name = 'RegistrationError'
}

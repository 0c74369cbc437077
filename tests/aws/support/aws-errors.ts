// Errors shaped like the ones Node's HTTP stack throws when a connection fails: plain Errors with
// a Node error code (for the failures no endpoint on loopback can produce).

export function networkError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

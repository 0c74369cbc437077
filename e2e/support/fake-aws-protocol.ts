// What the fake AWS's operations share: a request body, an AWS error as the SDK parses it, and
// AWS's NextToken paging.

export type Body = Record<string, unknown>;

/** An AWS error answer: `type` becomes __type and x-amzn-errortype, the SDK's exception name. */
export class AwsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export function page<T>(all: T[], body: Body, max: number): { items: T[]; NextToken?: string } {
  const start = typeof body.NextToken === 'string' ? Number(Buffer.from(body.NextToken, 'base64').toString('utf8')) || 0 : 0;
  const size = Math.min(typeof body.MaxResults === 'number' && body.MaxResults > 0 ? body.MaxResults : max, max);
  const items = all.slice(start, start + size);
  return start + size < all.length ? { items, NextToken: Buffer.from(String(start + size)).toString('base64') } : { items };
}

/** A string field of the body, or undefined; a present non-string is the SerializationException AWS sends. */
export function optionalString(body: Body, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsFault('SerializationException', `${field} must be a string.`);
  return value;
}

/** A required string field; Parameter Store says ValidationException, Secrets Manager InvalidParameterException. */
export function requiredString(body: Body, field: string, faultType = 'ValidationException'): string {
  const value = optionalString(body, field);
  if (value === undefined) throw new AwsFault(faultType, `1 validation error detected: Value null at '${field[0]!.toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must not be null`);
  return value;
}

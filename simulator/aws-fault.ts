// An AWS error answer as the simulator throws it inside an operation: `type` becomes __type and
// x-amzn-errortype (the SDK's exception name), `status` the HTTP status.

export class AwsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

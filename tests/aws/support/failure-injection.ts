/** What both AWS fakes share: answer a command by name, or throw the error a test injected for it. */
export class FailureInjection {
  /** Errors to throw instead of answering, by command name (e.g. "DescribeParameters"); tests set them. */
  readonly failures = new Map<string, () => Error>();

  failWith(command: string, error: () => Error): void {
    this.failures.set(command, error);
  }

  private answer<T>(command: string, run: () => T): T {
    const failure = this.failures.get(command);
    if (failure) throw failure();
    return run();
  }

  /** Answers a command by name, or throws the error a test injected for it. */
  handle<T>(command: string, run: () => T): Promise<T> {
    return Promise.resolve().then(() => this.answer(command, run));
  }
}

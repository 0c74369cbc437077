import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';

// Real SDK v3 clients pointed at a simulated AWS endpoint, each keeping a log of the commands it
// sent (name and input, and the error AWS answered with), so a test can check exactly what an
// adapter asked AWS for. Nothing is mocked: every command goes over the AWS JSON 1.1 protocol.

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example-secret' };

export interface SentCommand {
  /** The command's class name, e.g. "DescribeParametersCommand". */
  command: string;
  input: Record<string, unknown>;
  /** What AWS answered instead of a result: its error name and its own message. */
  error?: { name: string; message: string };
}

export interface CommandLog {
  readonly sent: SentCommand[];
  /** The inputs of every command of one kind, in order. */
  inputsOf(command: string): Record<string, unknown>[];
  clear(): void;
}

type Handler = (args: { input: object }) => Promise<unknown>;
/** The part of a client's middleware stack this needs (both clients' stacks have it). */
interface Stack {
  add(middleware: (next: Handler, context: { commandName?: string }) => Handler, options: { step: 'initialize'; name: string }): void;
}

function recordInto<C extends SSMClient | SecretsManagerClient>(client: C): C & { log: CommandLog } {
  const sent: SentCommand[] = [];
  (client.middlewareStack as unknown as Stack).add(
    (next, context) => async (args) => {
      const entry: SentCommand = { command: String(context.commandName), input: structuredClone(args.input as Record<string, unknown>) };
      sent.push(entry);
      try {
        return await next(args);
      } catch (error) {
        const e = error as { name?: unknown; message?: unknown };
        entry.error = { name: String(e.name ?? ''), message: String(e.message ?? '') };
        throw error;
      }
    },
    { step: 'initialize', name: 'testCommandLog' },
  );
  const log: CommandLog = {
    sent,
    inputsOf: (command) => sent.filter((s) => s.command === command).map((s) => s.input),
    clear: () => void sent.splice(0),
  };
  return Object.assign(client, { log });
}

export interface ClientOptions {
  region: string;
  /** Default 1: an error reaches the test as AWS sent it, not retried. */
  maxAttempts?: number;
  requestTimeoutMs?: number;
  /** Credentials that cannot be had: the provider throws this (nothing is sent). */
  credentialsError?: () => Error;
  /**
   * A failure of the connection itself (what Node's HTTP stack throws), for the few cases no AWS
   * endpoint can produce on loopback (a connect timeout to a far address): the request handler
   * rejects with it, and the SDK's own middleware (retries, error handling) sees it as usual.
   */
  transportError?: () => Error;
}

function config(endpoint: string, options: ClientOptions) {
  const { credentialsError, transportError } = options;
  return {
    endpoint,
    region: options.region,
    credentials: credentialsError ? () => Promise.reject(credentialsError()) : TEST_CREDENTIALS,
    maxAttempts: options.maxAttempts ?? 1,
    ...(transportError
      ? { requestHandler: { handle: () => Promise.reject(transportError()), updateHttpClientConfig: () => {}, httpHandlerConfigs: () => ({}) } }
      : options.requestTimeoutMs !== undefined
        ? { requestHandler: { requestTimeout: options.requestTimeoutMs, throwOnRequestTimeout: true } }
        : {}),
  };
}

export function recordedSsmClient(endpoint: string, options: ClientOptions): SSMClient & { log: CommandLog } {
  return recordInto(new SSMClient(config(endpoint, options)));
}

export function recordedSecretsManagerClient(endpoint: string, options: ClientOptions): SecretsManagerClient & { log: CommandLog } {
  return recordInto(new SecretsManagerClient(config(endpoint, options)));
}

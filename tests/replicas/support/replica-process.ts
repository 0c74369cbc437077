import { spawn, type ChildProcess } from 'node:child_process';

// Starts tests/replicas/support/replica.ts as a separate OS process and talks to it.

export interface ReplicaProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Calls an op of the replica; rejects with its error. */
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  /** Every event the replica reported so far ('ready', 'lead', 'lose'). */
  readonly events: string[];
  /** Resolves once the replica has reported `event` `times` times in all. */
  eventSeen(event: string, times?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  stop(): Promise<void>;
}

export function startReplica(name: string, env: Record<string, string>): ReplicaProcess {
  const child = spawn(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'tests/replicas/support/replica.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, ...env, REPLICA: name, LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const events: string[] = [];
  const eventWaiters: (() => void)[] = [];
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (!line.startsWith('@@ ')) continue;
      const message = JSON.parse(line.slice(3)) as { id?: number; ok?: boolean; result?: unknown; error?: string; event?: string };
      if (message.event) {
        events.push(message.event);
        for (const wake of eventWaiters.splice(0)) wake();
      } else if (message.id !== undefined) {
        const call = pending.get(message.id);
        pending.delete(message.id);
        if (message.ok) call?.resolve(message.result);
        else call?.reject(new Error(`replica ${name}: ${message.error}`));
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const call of pending.values()) call.reject(new Error(`replica ${name} exited (${code ?? signal}): ${stderr}`));
      pending.clear();
      for (const wake of eventWaiters.splice(0)) wake();
      resolve({ code, signal, stderr });
    }),
  );
  let nextId = 0;
  const eventSeen = async (event: string, times = 1) => {
    while (events.filter((e) => e === event).length < times) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`replica ${name} exited before "${event}": ${stderr}`);
      await new Promise<void>((resolve) => eventWaiters.push(resolve));
    }
  };
  return {
    name,
    child,
    events,
    eventSeen,
    exited,
    call<T>(op: string, args: Record<string, unknown> = {}) {
      const id = ++nextId;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.stdin!.write(`${JSON.stringify({ id, op, args })}\n`);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end();
      await exited;
    },
  };
}

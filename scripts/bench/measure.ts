// Small measuring helpers shared by the benchmarks: percentiles, timed loops, a process's peak RSS.
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Runs fn `warmup` times unmeasured, then `runs` times, and returns each run's milliseconds. */
export async function timeRuns(runs: number, fn: (i: number) => Promise<unknown>, warmup = 10): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn(i);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn(i);
    samples.push(performance.now() - start);
  }
  return samples;
}

/** Peak resident set (VmHWM) of a process, in MB; 0 when it is gone. */
export function peakRssMb(pid: number | 'self' = 'self'): number {
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Math.round(Number(hwm ?? 0) / 1024);
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) a process has used so far (Linux /proc, 100 ticks a second); 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are the 14th and 15th fields of the whole line (the 12th and 13th after the name).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The pids of a process's descendants (Linux /proc), so a server that forks is measured whole. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const child of children.get(p) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}


/** The machine a run was on, as the README's benchmark sections name it. */
export function machineDescription(): string {
  return `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** A positive number (or 0 with `zero`) given on the command line after `flag`, else `fallback`. */
export function argNumber(args: readonly string[], flag: string, fallback: number, { zero = false } = {}): number {
  const raw = args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : NaN;
  return Number.isFinite(raw) && (raw > 0 || (zero && raw === 0)) ? raw : fallback;
}

/**
 * What a benchmark started, stopped in reverse order by cleanUp (at the end, on failure, on Ctrl-C):
 * a failing step is logged and the rest still run.
 */
export function cleanupStack(log: (line: string) => void): { cleanups: (() => unknown)[]; cleanUp: () => Promise<void> } {
  const cleanups: (() => unknown)[] = [];
  const cleanUp = async () => {
    while (cleanups.length) {
      try {
        await cleanups.pop()!();
      } catch (error) {
        log(`cleaning up: ${(error as Error).message}`);
      }
    }
  };
  return { cleanups, cleanUp };
}

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(__dirname, '..', '..');

export interface SimulatorProcess {
  child: ChildProcessWithoutNullStreams;
  /** The first stdout line (`SIMULATOR_URL=…` when it started). */
  firstLine: Promise<string>;
  exit: Promise<{ code: number | null; stderr: string; stdout: string }>;
}

/** simulator/main.ts started as a launcher starts it (a pipe on stdin), its output collected. */
export function runSimulatorMain(args: string[]): SimulatorProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'simulator/main.ts', ...args], { cwd: ROOT, stdio: 'pipe' });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const lines = createInterface({ input: child.stdout });
  const firstLine = new Promise<string>((resolve) => lines.once('line', resolve));
  lines.on('line', (line) => (stdout += `${line}\n`));
  const exit = new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr, stdout })));
  return { child, firstLine, exit };
}

#!/usr/bin/env node
// npm start: builds the app when there is no build or the sources are newer than it, then serves
// it with `next start` (PORT sets the port, default 3000). With DEMO_DATA=1 (and not DEMO_AWS=0) it
// also runs the demo's simulated AWS organisation beside the server, and stops it with the server.
import { spawn } from 'node:child_process';
import { DemoConfigError, demoAwsWanted, launchDemoAws, stopSimulator } from './demo-aws.mjs';
import { buildIfNeeded, nextBin, root, serverNodeArgs } from './next-server.mjs';

let nodeArgs;
try {
  nodeArgs = serverNodeArgs();
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
const status = buildIfNeeded();
if (status !== 0) process.exit(status);

let demo = null;
if (demoAwsWanted()) {
  try {
    demo = await launchDemoAws({ root });
  } catch (error) {
    if (!(error instanceof DemoConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
process.on('exit', () => {
  stopSimulator(demo?.child);
  stopSimulator(demo?.vaultChild);
});

const server = spawn(process.execPath, [...nodeArgs, nextBin, 'start', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...demo?.serverEnv },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

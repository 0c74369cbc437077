import { startFakeAws } from './fake-aws-server';

// Runs the fake AWS for the browser tests (a webServer in playwright.config.ts):
//   node --import tsx e2e/support/fake-aws-main.ts <port>
// Its timing starts from FAKE_AWS_LATENCY_MS and FAKE_AWS_ROTATION_DELAY_MS when set (else the
// defaults: no latency, rotations finishing after 1.5 s); tests change it with POST /__control.
const port = Number(process.argv[2] ?? 0);
const fromEnv = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined);

startFakeAws({ port, latencyMs: fromEnv('FAKE_AWS_LATENCY_MS'), rotationDelayMs: fromEnv('FAKE_AWS_ROTATION_DELAY_MS') }).then(
  (fake) => {
    const { latencyMs, rotationDelayMs } = fake.settings();
    console.log(`fake AWS listening on ${fake.url} (latency ${latencyMs} ms, rotation ${rotationDelayMs} ms)`);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void fake.close().then(() => process.exit(0)));
  },
  (error: unknown) => {
    console.error(`fake AWS could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);

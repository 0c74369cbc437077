import { startFakeAws } from './fake-aws-server';

// Runs the fake AWS for the browser tests (a webServer in playwright.config.ts):
//   node --import tsx e2e/support/fake-aws-main.ts <port>
const port = Number(process.argv[2] ?? 0);
startFakeAws({ port }).then(
  (fake) => {
    console.log(`fake AWS listening on ${fake.url}`);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void fake.close().then(() => process.exit(0)));
  },
  (error: unknown) => {
    console.error(`fake AWS could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);

// node --import tsx scripts/throwaway-postgres-cli.ts
// Starts a throwaway PostgreSQL (scripts/throwaway-postgres.ts), prints its superuser URL on one
// line of standard output, and keeps it until SIGTERM, SIGINT or the end of standard input, then
// stops it and removes its folder. scripts/test.sh runs one for the whole test run; reading from a
// pipe the shell holds means the server also goes when the shell dies without running its trap.
import { startThrowawayPostgres } from './throwaway-postgres';

async function main(): Promise<void> {
  // Standard output carries the URL only: anything the start-up says (apt-get) goes to stderr.
  console.log = console.error;
  const server = await startThrowawayPostgres();
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    server.stop();
    process.exit(code);
  };
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  process.on('SIGHUP', () => stop(0));
  process.stdin.on('end', () => stop(0));
  process.stdin.on('close', () => stop(0));
  process.stdin.on('error', () => stop(0));
  process.stdin.resume(); // reading is what notices the end of input
  process.stdout.write(`${server.adminUrl}\n`);
  console.error(`throwaway PostgreSQL on ${server.host}:${server.port} (stops on SIGTERM, SIGINT or end of input)`);
}

main().catch((error: unknown) => {
  console.error(`Cannot start a throwaway PostgreSQL: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

// Waits until every URL given answers as Playwright's webServer.url check counts a server up (any
// status below 404), then prints `ready` and exits, or with --stay stays up until ended. The browser
// tests' servers start together, each after what it needs (`… wait-for-urls-main.ts SIM_URL && node
// scripts/start.mjs`), and the last entry of webServer waits here (--stay) for all of them.
// --failed-file: a file the servers' commands append their names to when they exit: its existence ends the wait.
//   node --import tsx e2e/support/wait-for-urls-main.ts [--stay] [--timeout-ms N] [--failed-file PATH] URL...
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';

const Args = z.object({ stay: z.boolean(), timeoutMs: z.number().int().positive(), failedFile: z.string().min(1).optional(), urls: z.array(z.url()).min(1) });

function parseArgs(argv: string[]) {
  let timeoutMs = 240_000;
  let stay = false;
  let failedFile: string | undefined;
  const urls: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--timeout-ms') timeoutMs = Number(argv[++i]);
    else if (argv[i] === '--stay') stay = true;
    else if (argv[i] === '--failed-file') failedFile = argv[++i];
    else urls.push(argv[i]!);
  }
  return Args.parse({ stay, timeoutMs, failedFile, urls });
}

async function isUp(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    return response.status < 404;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const { stay, timeoutMs, failedFile, urls } = parseArgs(process.argv.slice(2));
  const deadline = Date.now() + timeoutMs;
  const waiting = new Set(urls);
  while (waiting.size > 0) {
    if (failedFile && existsSync(failedFile)) {
      console.error(`Exited before they were up: ${readFileSync(failedFile, 'utf8').trim().split('\n').join(', ')}`);
      process.exit(1);
    }
    if (Date.now() > deadline) {
      console.error(`Not up after ${timeoutMs} ms: ${[...waiting].join(', ')}`);
      process.exit(1);
    }
    for (const url of [...waiting]) if (await isUp(url)) waiting.delete(url);
    if (waiting.size > 0) await sleep(100);
  }
  console.log(`ready: ${urls.length} server(s) up`);
  // Playwright reads that line from a webServer entry that must not exit (an early exit fails the run).
  if (stay) setInterval(() => undefined, 1 << 30);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(2);
});

// The browser tests' first web server: builds the app once when it has no build or the sources are
// newer than it (as `npm start` would), says so on stdout, and then stays up until Playwright ends it.
// The servers after it start together, so none of them may build: this runs first, alone.
import { buildIfNeeded } from '../../scripts/next-server.mjs';

const status = buildIfNeeded();
if (status !== 0) process.exit(status);
console.log('build ready');
// Exiting now would race Playwright reading the line above (an early exit fails the run).
setInterval(() => undefined, 1 << 30);

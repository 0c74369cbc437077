// The image's HEALTHCHECK (the slim base has no curl): exit 0 when GET /api/health on this container
// answers 200 within 4 seconds, 1 otherwise, saying why (`docker inspect` shows it).
const url = `http://127.0.0.1:${process.env.PORT || '3000'}/api/health`;

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(4000), headers: { accept: 'application/json' } });
  if (response.ok) process.exit(0);
  // The 503 body names the reason (a store that did not open); it never holds a value.
  const body = await response.text().catch(() => '');
  console.error(`${url} answered ${response.status}: ${body.slice(0, 500)}`);
} catch (error) {
  console.error(`${url} did not answer: ${error instanceof Error ? (error.cause?.code ?? error.message) : String(error)}`);
}
process.exit(1);

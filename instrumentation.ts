// Opens the stores when the server starts (see lib/startup.ts).
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs') await (await import('./lib/startup')).openStoresOrExit();
}

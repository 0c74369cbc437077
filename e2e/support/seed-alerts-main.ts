// Seeds the 'alerts' browser-test server's alerts store through the app's own API, as the overdue
// condition would after a sync: the three items of e2e/support/alerts-e2e.ts become overdue under
// the configured rule (the server's delivery worker then sends them; a silence set before covers
// one). Run as a separate process with the react-server condition and the server's environment:
//   node --conditions=react-server --import tsx e2e/support/seed-alerts-main.ts BASE_URL
import { ALERTS_RULE, DEAD_ITEM, DELIVERED_ITEM, SILENCED_ITEM } from './alerts-e2e';

const [baseUrl] = process.argv.slice(2);
if (!baseUrl || !process.env.DATA_DIR || !process.env.CONFIG_FILE) throw new Error('usage: DATA_DIR=… CONFIG_FILE=… seed-alerts-main.ts BASE_URL');

async function main(): Promise<void> {
  const { recordEventConditions, closeAlertsDb } = await import('@/lib/alerts/alerts');
  const subjects = [DELIVERED_ITEM, DEAD_ITEM, SILENCED_ITEM].map((name) => ({ storeId: 'local', name, url: `${baseUrl}/items/local${name}`, status: 'overdue' }));
  const recorded = await recordEventConditions('overdue', subjects);
  if (!recorded.has(ALERTS_RULE)) throw new Error(`rule ${ALERTS_RULE} is not configured`);
  await closeAlertsDb();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

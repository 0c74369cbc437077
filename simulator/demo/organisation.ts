import { seededRandom } from '../../lib/random/seeded-random';
import type { SimulatedAccountSpec } from '../simulated-organisation';
import { castOf, changersOf, routineActivity } from './activity';
import { DAY_MS, parametersOf, secretsOf, type Env } from './catalogue';
import { demoCompute } from './compute';
import { idGenerator } from './records';
import { prodStories, stagingStories } from './stories';
import { trailFiles } from './trail-files';
import accountsFile from './accounts.json';

// The demo's simulated AWS organisation: two accounts, prod (us-east-1) and staging (eu-west-1),
// each with a few thousand parameters and a hundred or more secrets under team paths, 90 days of
// CloudTrail for LookupEvents and the 90 days before that as trail files in S3, the stories of
// stories.ts, and the task definitions and functions of compute.ts that read the items. Deterministic for a given `now`; built in a fraction of a second.

export interface DemoAccount extends SimulatedAccountSpec {
  /** How the dashboard labels the account's stores. */
  label: string;
}

/**
 * The two accounts and the dashboard's keys for them (accounts.json, which the launcher reads too):
 * the keys only route requests inside the simulator and are written to the demo's own credentials
 * file, never the user's. Not in any real key's format.
 */
export const DEMO_ACCOUNTS: readonly { alias: Env; account: string; region: string; label: string; accessKeyId: string; secretAccessKey: string; trailBucket: string }[] = accountsFile.accounts.map((a) => {
  if (a.alias !== 'prod' && a.alias !== 'staging') throw new Error(`accounts.json: unknown alias ${a.alias}`);
  return { ...a, alias: a.alias };
});

/** LookupEvents keeps 90 days; the trail bucket has everything delivered, back this far. */
const LOOKUP_DAYS = 90;
const TRAIL_DAYS = 180;

/** Feature flags per service: the bulk of the parameters. */
const FLAGS_PER_SERVICE: Record<Env, number> = { prod: 50, staging: 16 };

function demoAccount(spec: (typeof DEMO_ACCOUNTS)[number], now: number): DemoAccount {
  const env = spec.alias;
  const { account, region } = spec;
  const r = seededRandom(env === 'prod' ? 0x5eed_0001 : 0x5eed_0002);
  const cast = castOf(account, env);
  const base = { env, account, region, now, changers: changersOf(cast), r };
  const catalogue = parametersOf(base, FLAGS_PER_SERVICE[env]);
  const plans = secretsOf(base);
  const lookupCtx = { account, region, nextId: idGenerator(`${account}-lookup`) };
  const stories = env === 'prod' ? prodStories(lookupCtx, cast, now, r) : stagingStories(lookupCtx, now, r);
  const secrets = [...plans, ...stories.secrets];

  const activity = { env, cast, catalogue, secrets: plans, r };
  const recent = routineActivity({ ...activity, ctx: lookupCtx, from: now - LOOKUP_DAYS * DAY_MS, to: now });
  const older = routineActivity({ ...activity, ctx: { account, region, nextId: idGenerator(`${account}-trail`) }, from: now - TRAIL_DAYS * DAY_MS, to: now - LOOKUP_DAYS * DAY_MS });
  const other = DEMO_ACCOUNTS.find((a) => a.alias !== env)!;
  const compute = demoCompute(env, account, region, other, now);
  const { trailBucket } = spec;
  const events = [...recent, ...stories.events].filter((e) => Date.parse(e.eventTime!) <= now);
  return {
    alias: env,
    label: spec.label,
    account,
    region,
    accessKeyId: spec.accessKeyId,
    secretAccessKey: spec.secretAccessKey,
    principalArn: `arn:aws:sts::${account}:assumed-role/secrets-dashboard/dashboard`,
    parameters: [...catalogue.parameters, ...stories.parameters],
    secrets: [...secrets.map((s) => s.input), ...compute.secrets],
    taskDefinitions: compute.taskDefinitions,
    functions: compute.functions,
    events,
    trailBucket,
    // As on AWS, the trail holds the last 90 days too (the same events, so the dashboard stores each once):
    // the S3 source fills the timeline in seconds while LookupEvents walks at its 2 calls a second.
    trailObjects: trailFiles(trailBucket, account, region, [...older, ...events], now),
  };
}

export function demoOrganisation(now: number): DemoAccount[] {
  return DEMO_ACCOUNTS.map((spec) => demoAccount(spec, now));
}

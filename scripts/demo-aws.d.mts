import type { ChildProcess } from 'node:child_process';
import type { DemoAlertReceiver } from './demo-alerts.mjs';
import type { DemoVaultTraffic } from './demo-vault-traffic.mjs';

export interface DemoAccountEntry {
  alias: 'prod' | 'staging';
  account: string;
  region: string;
  label: string;
  accessKeyId: string;
  secretAccessKey: string;
  trailBucket: string;
}
export declare const ACCOUNTS_FILE: string;
export declare function demoIds(accounts: readonly DemoAccountEntry[]): { stores: string[]; audit: string[] };
export declare function readDemoAccounts(file?: string): DemoAccountEntry[];
export declare function demoAwsWanted(env?: Record<string, string | undefined>): boolean;
export declare class DemoConfigError extends Error {}
export declare function credentialsText(accounts: readonly DemoAccountEntry[]): string;
export declare function profileOf(account: DemoAccountEntry): string;
export declare function mergeDemoConfig(options: {
  userText: string | null;
  userPath: string | null;
  accounts: readonly DemoAccountEntry[];
  endpoint: string;
  credentialsFile: string;
  /** The demo's `alerts:` section (scripts/demo-alerts.mjs demoAlertsSection), added when the user's file has none. */
  alerts?: Record<string, unknown> | null;
  /** The demo Vault (store sim-vault, its token in DEMO_VAULT_TOKEN; audit source sim-vault-audit reading auditFile), added when given. */
  vault?: { address: string; auditFile: string } | null;
}): { text: string; storeIds: string[]; auditIds: string[] };
export declare const DEMO_VAULT_STORE: 'sim-vault';
export declare const DEMO_VAULT_TOKEN_ENV: 'DEMO_VAULT_TOKEN';
export declare const DEMO_VAULT_AUDIT: 'sim-vault-audit';
export declare function demoVaultWanted(env?: Record<string, string | undefined>): boolean;
export declare function demoEpoch(dir: string, now: number): number;
export declare function freePort(wanted?: number): Promise<number>;
export declare function demoPort(dir: string, name?: string): Promise<number>;
export declare function startSimulator(options: {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  timeoutMs?: number;
  log?: (message: string) => void;
  /** What is started and which stores depend on it, for its messages (default the simulated AWS). */
  what?: string;
  stores?: string;
}): Promise<{ child: ChildProcess; up: boolean }>;
export declare function stopSimulator(child: ChildProcess | null | undefined): void;
export declare function launchDemoAws(options: {
  root: string;
  env?: Record<string, string | undefined>;
  log?: (message: string) => void;
  simulatorCommand?: { command: string; args: (port: number, epoch: number) => string[] };
  /** The demo Vault's simulator; by default simulator/main.ts --vault, and none when simulatorCommand is given without it. */
  vaultSimulatorCommand?: { command: string; args: (port: number, token: string, auditFile: string) => string[] };
  /** The demo Vault's clients' calls once it is up (default scripts/demo-vault-traffic.mjs's makeDemoVaultTraffic). */
  vaultTraffic?: (address: string) => Promise<DemoVaultTraffic>;
  timeoutMs?: number;
  now?: number;
  /** Starts the alerts' receiver (default scripts/demo-alerts.mjs's); null: no demo alerts. */
  alertReceiver?: ((options: { log?: (message: string) => void }) => Promise<DemoAlertReceiver>) | null;
}): Promise<{
  child: ChildProcess | null;
  vaultChild: ChildProcess | null;
  receiver: DemoAlertReceiver | null;
  endpoint: string;
  epoch: number;
  configFile: string;
  credentialsFile: string;
  serverEnv: { CONFIG_FILE: string; SIMULATED_AWS_STORES: string; DEMO_VAULT_TOKEN?: string; CLOUDTRAIL_SYNC_INTERVAL_MINUTES: string; DEMO_ALERTS_WEBHOOK_URL?: string; DEMO_ALERTS_WEBHOOK_SECRET?: string };
}>;

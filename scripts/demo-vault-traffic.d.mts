export interface DemoVaultTraffic {
  /** The secrets (paths under the mount secret/) the clients read. */
  reads: string[];
  /** The secrets a client was refused. */
  refused: string[];
}
export declare const DEMO_VAULT_CLIENTS: {
  approle: { roleName: string; policy: string; allowed: string; reads: string[] };
  token: { displayName: string; policy: string; allowed: string; denied: string; reads: string[]; refused: string };
};
export declare function makeDemoVaultTraffic(address: string): Promise<DemoVaultTraffic>;

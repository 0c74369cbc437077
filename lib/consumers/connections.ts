import { createHash } from 'node:crypto';
import type { StoreConfig } from '@/lib/config/stores';
import type { AwsConnection } from '@/lib/stores/aws-clients';

// The AWS connections the consumer scan reads workloads through: the configured AWS stores grouped
// by endpoint, credentials and region, so two stores of one account and region (its Parameter Store
// and its Secrets Manager) are one scan. The key is a digest, so nothing about the credentials (a
// profile, a role, an external id) is stored with the scan's results.

export type ReferencedStoreKind = 'ssm' | 'secretsmanager';

export interface ConsumerConnection {
  /** Stable across restarts for the same connection settings. */
  key: string;
  region: string;
  connection: AwsConnection;
  /** The configured stores reached through it. */
  stores: { id: string; kind: ReferencedStoreKind }[];
}

export function connectionKeyOf(connection: AwsConnection): string {
  const parts = [connection.endpoint ?? '', connection.profile ?? '', connection.credentialsFile ?? '', connection.roleArn ?? '', connection.externalId ?? '', connection.region];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24);
}

/** Each distinct connection of the configured AWS stores, in configuration order. */
export function consumerConnections(configs: readonly StoreConfig[]): ConsumerConnection[] {
  const byKey = new Map<string, ConsumerConnection>();
  for (const config of configs) {
    if (config.kind === 'local' || config.kind === 'vault') continue;
    const connection: AwsConnection = {
      region: config.region,
      ...(config.profile ? { profile: config.profile } : {}),
      ...(config.credentialsFile ? { credentialsFile: config.credentialsFile } : {}),
      ...(config.roleArn ? { roleArn: config.roleArn } : {}),
      ...(config.externalId ? { externalId: config.externalId } : {}),
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    };
    const key = connectionKeyOf(connection);
    const found = byKey.get(key);
    if (found) found.stores.push({ id: config.id, kind: config.kind });
    else byKey.set(key, { key, region: config.region, connection, stores: [{ id: config.id, kind: config.kind }] });
  }
  return [...byKey.values()];
}

import { ACCOUNT, HISTORY_SENTINEL, KMS_DENIED_PARAMETER, REGION, parameters, secrets } from '../../../e2e/support/aws-fixtures';
import { startSimulatedAws, type SimulatedAws, type SimulatedAwsOptions } from '@/simulator/simulated-aws';

// The project's simulated AWS holding the browser tests' data set (e2e/support/aws-fixtures.ts),
// started in-process on a free loopback port, as the browser tests' simulator runs it: every
// history entry carrying HISTORY_SENTINEL, the KMS-denied parameter denied, no latency, AWS's quotas.

export function startBrowserDataAws(options: Pick<SimulatedAwsOptions, 'rotationDelayMs' | 'recordCalls' | 'latencyMs'> = {}): Promise<SimulatedAws> {
  return startSimulatedAws({
    account: ACCOUNT,
    region: REGION,
    latencyMs: 0,
    historyValue: HISTORY_SENTINEL,
    denyHistory: [KMS_DENIED_PARAMETER],
    ...options,
    extraParameters: parameters,
    extraSecrets: secrets,
  });
}

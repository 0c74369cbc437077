import type { ConsumerKind, PlainSightVariable } from './consumers-db';
import type { RaisedRow, StoreEvaluation } from './findings-db';
import { WORKLOAD_STORE_ID, type WorkloadControlId } from './types';

// Secrets in plain sight as findings: one per workload (a Lambda function, an ECS task definition
// revision) whose environment holds values that look like secrets, named by the workload's ARN,
// with the variables' NAMES and the detectors that tripped. The values themselves were dropped by
// the scan; nothing here could carry one.

const CONTROL_OF: Record<ConsumerKind, WorkloadControlId> = { 'lambda-function': 'plaintext-in-lambda', 'ecs-task-definition': 'plaintext-in-ecs' };
const MAX_NAMED = 20;

/** "AWS_ACCESS_KEY_ID (aws-access-key-id)", with its container for ECS. */
const describeVariable = (v: PlainSightVariable) => `${v.container ? `${v.container}: ` : ''}${v.variable} (${v.detector})`;

export function evaluateWorkloads(plain: readonly PlainSightVariable[], inputs: { now: Date; signature: string }): StoreEvaluation {
  const started = performance.now();
  const byResource = new Map<string, PlainSightVariable[]>();
  for (const v of plain) {
    const list = byResource.get(v.resourceArn);
    if (list) list.push(v);
    else byResource.set(v.resourceArn, [v]);
  }
  const raised: RaisedRow[] = [];
  for (const [arn, variables] of byResource) {
    const first = variables[0]!;
    const named = variables.slice(0, MAX_NAMED).map(describeVariable);
    const what = first.resourceKind === 'lambda-function' ? 'Lambda function' : 'ECS task definition';
    raised.push({
      itemName: arn,
      control: CONTROL_OF[first.resourceKind],
      kind: first.resourceKind,
      arn,
      account: first.account,
      owner: null,
      evidence: {
        summary: `${variables.length === 1 ? `The environment variable ${named[0]} of ${what} ${first.resourceName} looks` : `${variables.length} environment variables of ${what} ${first.resourceName} look`} like a secret${
          variables.length === 1 ? '' : `: ${named.join(', ')}`
        }.`,
        dates: { seenAt: variables.reduce((a, v) => (v.seenAt > a ? v.seenAt : a), first.seenAt) },
        facts: {
          resource: first.resourceName,
          region: first.region,
          variables: [...new Set(variables.map((v) => v.variable))].join(', '),
          detectors: [...new Set(variables.map((v) => v.detector))].sort().join(', '),
          ...(first.container !== null ? { containers: [...new Set(variables.map((v) => v.container ?? ''))].join(', ') } : {}),
        },
      },
    });
  }
  return {
    storeId: WORKLOAD_STORE_ID,
    evaluatedAt: inputs.now.toISOString(),
    inputs: inputs.signature,
    items: byResource.size,
    durationMs: performance.now() - started,
    raised,
  };
}

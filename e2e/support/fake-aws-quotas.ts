// AWS's default request quotas for the calls that read and write values, as token buckets per fake
// instance: a bucket holds a second's worth of calls and refills continuously; a call that finds it
// empty is answered with ThrottlingException. Browsing calls are not limited here (the scale
// simulator in simulator covers those quotas).

/** Calls per second, per quota; operations sharing a quota share its bucket. */
export const DEFAULT_QUOTAS = {
  'ssm:PutParameter': 3,
  'ssm:GetParameter+GetParameters': 40,
  'secretsmanager:PutSecretValue': 50,
  'secretsmanager:RotateSecret': 50,
  'secretsmanager:GetSecretValue': 10_000,
} as const;
export type QuotaName = keyof typeof DEFAULT_QUOTAS;

const QUOTA_OF: Record<string, QuotaName> = {
  'ssm:PutParameter': 'ssm:PutParameter',
  'ssm:GetParameter': 'ssm:GetParameter+GetParameters',
  'ssm:GetParameters': 'ssm:GetParameter+GetParameters',
  'secretsmanager:PutSecretValue': 'secretsmanager:PutSecretValue',
  'secretsmanager:RotateSecret': 'secretsmanager:RotateSecret',
  'secretsmanager:GetSecretValue': 'secretsmanager:GetSecretValue',
};

class TokenBucket {
  private tokens: number;
  private last = performance.now();

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class Quotas {
  private buckets = new Map<QuotaName, TokenBucket>();

  constructor(private readonly rates: Record<QuotaName, number>) {
    this.reset();
  }

  reset(): void {
    this.buckets = new Map(Object.entries(this.rates).map(([name, rate]) => [name as QuotaName, new TokenBucket(rate)]));
  }

  /** False when the call is over its quota (it must be throttled). */
  admit(service: string, operation: string): boolean {
    const quota = QUOTA_OF[`${service}:${operation}`];
    return quota === undefined || this.buckets.get(quota)!.take();
  }
}

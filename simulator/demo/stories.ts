import type { CloudTrailRecord } from '@/lib/cloudtrail/types';
import type { ParameterInput, SecretInput } from '../simulated-aws';
import { rotationCalls, type Cast } from './activity';
import { DAY_MS, demoValue, rotationLambdaArn, TEAMS, type Draw, type SecretPlan, type Team } from './catalogue';
import { ciRole } from './principals';
import { record, type Call, type RecordContext } from './records';

// The demo's stories, the things a reviewer, a lead and an on-call engineer look for:
//  - a role that started reading the production database password a few days ago (a new reader);
//  - a CI role denied again and again on a staging secret;
//  - secrets no one has read in months;
//  - a person who read a secret's value in the middle of the night;
//  - one rotation that keeps failing (AWSPENDING left behind);
//  - a job that still reads the previous version (AWSPREVIOUS) weeks after a rotation;
//  - what a security review finds beyond those: a password kept as a plain String, parameters
//    nobody has read, a rotation schedule that passed, resource policies open to anyone, to another
//    account, and one that does not parse.
// Each story is its items (added to the account's parameters and secrets) and its CloudTrail events.

const HOUR_MS = 3_600_000;
const team = (name: string): Team => TEAMS.find((t) => t.team === name)!;
const iso = (ms: number) => new Date(ms).toISOString();

/** What the stories are about, for the tests and the README. */
export const STORIES = {
  newReader: {
    account: '111111111111',
    secret: 'prod/payments/db-password',
    role: 'arn:aws:iam::111111111111:role/data-platform-etl',
    /** Within the dashboard's new-reader window (7 days): the role first read it this many days ago. */
    startedDaysAgo: 5,
    regularReaders: ['arn:aws:iam::111111111111:role/payments-api', 'arn:aws:iam::111111111111:role/payments-ledger'],
  },
  deniedCi: {
    account: '222222222222',
    secret: 'staging/checkout/stripe-webhook-secret',
    role: 'arn:aws:iam::222222222222:role/ci-integration-tests',
    days: 21,
    perDay: 6,
  },
  unread: {
    account: '111111111111',
    secrets: ['prod/data-platform/legacy-redshift-password', 'prod/search/elasticsearch-admin-password'],
  },
  nightReveal: {
    account: '111111111111',
    secret: 'prod/identity/jwt-signing-key',
    person: 'maria.lopez@example.com',
    daysAgo: 9,
    /** UTC time of day. */
    at: '02:47',
  },
  failingRotation: {
    account: '111111111111',
    secret: 'prod/identity/ldap-bind-password',
    pendingHoursAgo: 3,
  },
  /** A reporting job pinned to AWSPREVIOUS during a migration: it still reads the value before the last rotation. */
  oldVersionReader: {
    account: '111111111111',
    secret: 'prod/checkout/orders-db-password',
    role: 'arn:aws:iam::111111111111:role/checkout-tax',
    regularReader: 'arn:aws:iam::111111111111:role/checkout-cart',
    rotatedDaysAgo: 18,
  },
  /** Under /legacy/, which no service reads: the review's findings that the stories above do not show. */
  review: {
    account: '111111111111',
    plainPassword: '/legacy/billing/sftp-password',
    unreadParameter: '/legacy/billing/archive-bucket',
    missedRotation: 'prod/legacy/invoice-signing-key',
    openPolicy: 'prod/partners/feed-api-token',
    partnerAccount: '333333333333',
    brokenPolicy: 'prod/partners/shared-token',
  },
} as const;

export interface StoryPart {
  parameters: ParameterInput[];
  secrets: SecretPlan[];
  events: CloudTrailRecord[];
}

function plan(teamName: string, service: string | null, input: SecretInput): SecretPlan {
  const t = team(teamName);
  return {
    team: t,
    service,
    readBy: 'people',
    input: { DeletedDate: null, ...input, Tags: input.Tags ?? [{ Key: 'owner', Value: t.owner }, { Key: 'team', Value: t.team }] },
  };
}

export function prodStories(ctx: RecordContext, cast: Cast, now: number, r: Draw): StoryPart {
  const { account, region } = ctx;
  const calls: Call[] = [];
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const secrets: SecretPlan[] = [];

  // The production database password: read by the payments services for months, rotated every
  // 30 days, and since a few days also by data-platform's ETL role.
  const { newReader } = STORIES;
  const lastRotated = now - 9 * DAY_MS - 4 * HOUR_MS;
  const dbPassword = plan('payments', 'api', {
    Name: newReader.secret,
    Description: 'Primary PostgreSQL password of the payments database (rotated monthly)',
    SecretString: JSON.stringify({ username: 'payments_app', password: demoValue(r) }),
    RotationEnabled: true,
    RotationDays: 30,
    RotationLambdaARN: rotationLambdaArn(account, region, 'payments'),
    LastRotatedDate: iso(lastRotated),
    LastChangedDate: iso(lastRotated),
    CreatedDate: iso(now - 610 * DAY_MS),
    LastAccessedDate: iso(today),
    VersionCount: 14,
  });
  secrets.push(dbPassword);
  for (let day = today - 89 * DAY_MS; day <= today; day += DAY_MS) {
    for (const [i, service] of ['api', 'ledger'].entries()) {
      const at = day + (3 + i * 7) * HOUR_MS + Math.floor(r() * HOUR_MS);
      if (at < now) calls.push({ at, by: cast.services.get(`payments/${service}`)!, session: `ecs-task-${i}${Math.round(day / DAY_MS) % 1000}`, eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', readOnly: true, requestParameters: { secretId: newReader.secret } });
    }
  }
  for (let at = lastRotated; at > now - 90 * DAY_MS; at -= 30 * DAY_MS) calls.push(...rotationCalls(cast, dbPassword, at));
  const etl = cast.services.get('data-platform/etl')!;
  for (let day = today - newReader.startedDaysAgo * DAY_MS; day <= today; day += DAY_MS) {
    for (const hour of [1, 7, 13, 19]) {
      const at = day + hour * HOUR_MS + Math.floor(r() * 20 * 60_000);
      if (at < now) calls.push({ at, by: etl, session: `glue-job-nightly-export-${Math.round(day / DAY_MS) % 1000}`, eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', readOnly: true, requestParameters: { secretId: newReader.secret } });
    }
  }

  // The checkout orders database password, rotated monthly: the cart reads the current value; the tax
  // job was pinned to AWSPREVIOUS during a migration and still asks for it, weeks after the rotation.
  const { oldVersionReader } = STORIES;
  const ordersRotated = today - oldVersionReader.rotatedDaysAgo * DAY_MS + 2 * HOUR_MS;
  const ordersPassword = plan('checkout', 'cart', {
    Name: oldVersionReader.secret,
    Description: 'Password of the checkout orders database (rotated monthly)',
    SecretString: JSON.stringify({ username: 'checkout_app', password: demoValue(r) }),
    RotationEnabled: true,
    RotationDays: 30,
    RotationLambdaARN: rotationLambdaArn(account, region, 'checkout'),
    LastRotatedDate: iso(ordersRotated),
    LastChangedDate: iso(ordersRotated),
    CreatedDate: iso(now - 420 * DAY_MS),
    LastAccessedDate: iso(today),
    VersionCount: 8,
  });
  secrets.push(ordersPassword);
  for (let at = ordersRotated; at > now - 90 * DAY_MS; at -= 30 * DAY_MS) calls.push(...rotationCalls(cast, ordersPassword, at));
  const cart = cast.services.get('checkout/cart')!;
  const tax = cast.services.get('checkout/tax')!;
  for (let day = today - 60 * DAY_MS; day <= today; day += DAY_MS) {
    const n = Math.round(day / DAY_MS) % 1000;
    calls.push(
      { at: day + 6 * HOUR_MS + Math.floor(r() * HOUR_MS), by: cart, session: `ecs-task-${n}`, eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', readOnly: true, requestParameters: { secretId: oldVersionReader.secret } },
      { at: day + 4 * HOUR_MS + Math.floor(r() * HOUR_MS), by: tax, session: `tax-report-${n}`, eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', readOnly: true, requestParameters: { secretId: oldVersionReader.secret, versionStage: 'AWSPREVIOUS' } },
    );
  }

  // Secrets no one has read in months (AWS's LastAccessedDate says so; no event in 90 days).
  const [redshift, elastic] = STORIES.unread.secrets;
  secrets.push(
    plan('data-platform', 'warehouse-loader', {
      Name: redshift,
      Description: 'Password of the old Redshift cluster (migrated to Snowflake)',
      SecretString: demoValue(r),
      RotationEnabled: false,
      LastChangedDate: iso(now - 410 * DAY_MS),
      CreatedDate: iso(now - 800 * DAY_MS),
      LastAccessedDate: iso(today - 163 * DAY_MS),
      VersionCount: 3,
    }),
    plan('search', 'indexer', {
      Name: elastic,
      Description: 'Admin password of the self-managed Elasticsearch cluster',
      SecretString: demoValue(r),
      RotationEnabled: false,
      LastChangedDate: iso(now - 260 * DAY_MS),
      CreatedDate: iso(now - 260 * DAY_MS),
      LastAccessedDate: iso(today - 128 * DAY_MS),
      VersionCount: 1,
      Tags: [{ Key: 'service', Value: 'indexer' }],
    }),
  );

  // A secret's value read at night by a person, from a laptop.
  const { nightReveal } = STORIES;
  const person = cast.people.find((p) => p.email === nightReveal.person)!;
  const [hh, mm] = nightReveal.at.split(':').map(Number) as [number, number];
  const nightAt = today - nightReveal.daysAgo * DAY_MS + hh * HOUR_MS + mm * 60_000;
  secrets.push(
    plan('identity', 'auth', {
      Name: nightReveal.secret,
      Description: 'Private key that signs the identity service\'s JWTs',
      SecretString: demoValue(r),
      RotationEnabled: false,
      LastChangedDate: iso(now - 61 * DAY_MS),
      CreatedDate: iso(now - 500 * DAY_MS),
      LastAccessedDate: iso(today),
      VersionCount: 4,
    }),
  );
  calls.push(
    { at: nightAt - 95_000, by: person.principal, session: person.email, eventSource: 'secretsmanager.amazonaws.com', eventName: 'DescribeSecret', readOnly: true, requestParameters: { secretId: nightReveal.secret } },
    { at: nightAt, by: { ...person.principal, sourceIp: '203.0.113.77' }, session: person.email, eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', readOnly: true, requestParameters: { secretId: nightReveal.secret } },
  );
  const authRole = cast.services.get('identity/auth')!;
  for (let day = today - 89 * DAY_MS; day <= today; day += 3 * DAY_MS)
    calls.push({ at: day + 11 * HOUR_MS, by: authRole, session: `ecs-task-${Math.round(day / DAY_MS) % 1000}`, eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', readOnly: true, requestParameters: { secretId: nightReveal.secret } });

  // The one rotation that keeps failing: the function put AWSPENDING and never finished.
  const { failingRotation } = STORIES;
  const pendingSince = now - failingRotation.pendingHoursAgo * HOUR_MS;
  const ldap = plan('identity', 'sso-bridge', {
    Name: failingRotation.secret,
    Description: 'Bind password the SSO bridge uses against the corporate LDAP',
    SecretString: demoValue(r),
    RotationEnabled: true,
    RotationDays: 30,
    RotationLambdaARN: rotationLambdaArn(account, region, 'identity'),
    // Its schedule came round when the failing attempt started.
    LastRotatedDate: iso(pendingSince - 30 * DAY_MS),
    LastChangedDate: iso(pendingSince - 30 * DAY_MS),
    CreatedDate: iso(now - 400 * DAY_MS),
    LastAccessedDate: iso(today),
    VersionCount: 6,
    RotationFails: true,
    PendingSince: iso(pendingSince),
  });
  secrets.push(ldap);
  calls.push(...rotationCalls(cast, ldap, pendingSince - 30 * DAY_MS), ...rotationCalls(cast, ldap, pendingSince - 60 * DAY_MS));
  // This time the last step never came: AWSPENDING stays.
  calls.push(...rotationCalls(cast, ldap, pendingSince).slice(0, 3));

  const review = reviewStory(account, region, now, r);
  secrets.push(...review.secrets);
  return { parameters: review.parameters, secrets, events: calls.filter((c) => c.at < now).map((c) => record(ctx, c)) };
}

/** The review's findings: items under /legacy/ and /partners/ that nothing reads or that policies open up. */
function reviewStory(account: string, region: string, now: number, r: Draw): { parameters: ParameterInput[]; secrets: SecretPlan[] } {
  const { review } = STORIES;
  const legacyOwner = [{ Key: 'owner', Value: 'finance-it' }, { Key: 'team', Value: 'legacy' }];
  const parameters: ParameterInput[] = [
    // A password kept as a plain String, untouched for 200 days (advanced tier: it costs money too).
    { Name: review.plainPassword, Type: 'String', Value: demoValue(r), Version: 3, LastModifiedDate: iso(now - 200 * DAY_MS), Tier: 'Advanced', Description: 'SFTP password of the old invoice archive', Tags: legacyOwner },
    // Nobody's parameter: no owner tag, never changed, never read.
    { Name: review.unreadParameter, Type: 'String', Value: 'billing-archive-2019', Version: 1, LastModifiedDate: iso(now - 300 * DAY_MS), Description: null, Tags: [{ Key: 'service', Value: 'billing' }] },
  ];
  const partnerPolicy = {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'PartnerFeed', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${review.partnerAccount}:role/feed-reader` }, Action: 'secretsmanager:GetSecretValue', Resource: '*' },
      { Sid: 'TemporaryDebug', Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*' },
    ],
  };
  const secrets = [
    // Rotation every 30 days, last done 41 days ago: the schedule passed 11 days ago.
    plan('platform', null, {
      Name: review.missedRotation,
      Description: 'Key that signs invoice PDFs',
      SecretString: demoValue(r),
      RotationEnabled: true,
      RotationDays: 30,
      RotationLambdaARN: rotationLambdaArn(account, region, 'platform'),
      LastRotatedDate: iso(now - 41 * DAY_MS),
      LastChangedDate: iso(now - 41 * DAY_MS),
      CreatedDate: iso(now - 700 * DAY_MS),
      LastAccessedDate: iso(now - DAY_MS),
      VersionCount: 9,
      Tags: legacyOwner,
    }),
    // A partner's feed token: shared with the partner's account, and opened to anyone while debugging.
    plan('platform', null, {
      Name: review.openPolicy,
      Description: 'Token the partner feed uses to pull orders',
      SecretString: demoValue(r),
      RotationEnabled: false,
      LastChangedDate: iso(now - 20 * DAY_MS),
      CreatedDate: iso(now - 20 * DAY_MS),
      LastAccessedDate: iso(now - DAY_MS),
      VersionCount: 1,
      ResourcePolicy: JSON.stringify(partnerPolicy),
    }),
    // A policy someone wrote by hand: valid JSON, not an IAM policy ("Statements").
    plan('platform', null, {
      Name: review.brokenPolicy,
      Description: 'Token shared with the partner integration team',
      SecretString: demoValue(r),
      RotationEnabled: false,
      LastChangedDate: iso(now - 15 * DAY_MS),
      CreatedDate: iso(now - 15 * DAY_MS),
      LastAccessedDate: iso(now - 2 * DAY_MS),
      VersionCount: 1,
      ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statements: partnerPolicy.Statement }),
    }),
  ];
  return { parameters, secrets };
}

export function stagingStories(ctx: RecordContext, now: number, r: Draw): StoryPart {
  const { deniedCi } = STORIES;
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const secrets = [
    plan('checkout', 'web', {
      Name: deniedCi.secret,
      Description: 'Signing secret of the payment provider\'s webhooks (staging)',
      SecretString: demoValue(r),
      RotationEnabled: false,
      LastChangedDate: iso(now - 45 * DAY_MS),
      CreatedDate: iso(now - 300 * DAY_MS),
      LastAccessedDate: iso(today - 2 * DAY_MS),
      VersionCount: 2,
    }),
  ];
  const ci = ciRole(ctx.account, 'ci-integration-tests');
  const calls: Call[] = [];
  for (let day = today - deniedCi.days * DAY_MS; day <= today; day += DAY_MS) {
    for (let i = 0; i < deniedCi.perDay; i++) {
      const at = day + 9 * HOUR_MS + Math.floor(r() * 9 * HOUR_MS);
      const session = `gh-run-${Math.round(day / DAY_MS) % 10_000}${i}`;
      if (at >= now) continue;
      calls.push({
        at,
        by: ci,
        session,
        eventSource: 'secretsmanager.amazonaws.com',
        eventName: 'GetSecretValue',
        readOnly: true,
        requestParameters: { secretId: deniedCi.secret },
        errorCode: 'AccessDenied',
        errorMessage: `User: ${ci.identity(session).arn} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${deniedCi.secret} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
      });
    }
  }
  return { parameters: [], secrets, events: calls.map((c) => record(ctx, c)) };
}

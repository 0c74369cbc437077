import { describe, expect, it } from 'vitest';
import {
  ASFF_CLOSE,
  ASFF_OPEN,
  asffDocument,
  asffEntry,
  csvCell,
  FINDING_CSV_COLUMNS,
  findingCsvHeader,
  findingCsvRow,
  toAsff,
  UNKNOWN_ACCOUNT,
  type AsffOptions,
  type ExportableFinding,
} from '@/lib/findings/export-formats';

// The findings exports as pure functions: CSV cells a spreadsheet never runs as formulas, and
// AWS Security Finding Format documents in the shape BatchImportFindings takes.

function finding(over: Partial<ExportableFinding> = {}): ExportableFinding {
  return {
    storeId: 'prod-params',
    itemName: '/prod/payments/db-password',
    control: 'not-read-recently',
    controlTitle: 'Not read for the allowed number of days',
    severity: 'medium',
    status: 'open',
    kind: 'SecureString',
    arn: null,
    account: '111122223333',
    owner: 'team-payments',
    firstSeenAt: '2026-10-01T00:00:00.000Z',
    lastSeenAt: '2026-11-30T12:00:00.000Z',
    resolvedAt: null,
    evidence: { summary: 'Not read in 120 days; the limit is 90 days.', dates: { lastReadAt: '2026-08-02T00:00:00.000Z' } },
    remediation: 'Confirm on the Used by panel that nothing references it, then delete it.',
    suppression: null,
    href: '/items/prod-params/prod/payments/db-password',
    ...over,
  };
}

const OPTIONS: AsffOptions = {
  stores: new Map([
    ['prod-params', { kind: 'ssm', region: 'eu-west-1' }],
    ['prod-secrets', { kind: 'secretsmanager', region: 'us-east-2' }],
    ['local', { kind: 'local', region: null }],
    ['vault-apps', { kind: 'vault', region: null, vault: { mount: 'kv', prefix: 'apps/prod/' } }],
  ]),
};

/** RFC 4180 parse of one line (enough for the rows written here: quoted cells may hold commas and quotes). */
function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let cell = '';
      i++;
      for (;;) {
        if (line[i] === '"' && line[i + 1] === '"') (cell += '"'), (i += 2);
        else if (line[i] === '"') break;
        else cell += line[i++];
      }
      cells.push(cell);
      i += 2;
    } else {
      const end = line.indexOf(',', i);
      cells.push(line.slice(i, end === -1 ? line.length : end));
      i = end === -1 ? line.length + 1 : end + 1;
    }
  }
  return cells;
}

describe('CSV', () => {
  it('writes the columns in order, one CRLF-terminated row per finding', () => {
    expect(findingCsvHeader()).toBe('severity,control,control_title,status,store,item,account,owner,first_seen,last_seen,resolved_at,summary\r\n');
    const row = findingCsvRow(finding());
    expect(row.endsWith('\r\n')).toBe(true);
    expect(parseCsvLine(row.slice(0, -2))).toEqual([
      'medium',
      'not-read-recently',
      'Not read for the allowed number of days',
      'open',
      'prod-params',
      '/prod/payments/db-password',
      '111122223333',
      'team-payments',
      '2026-10-01T00:00:00.000Z',
      '2026-11-30T12:00:00.000Z',
      '',
      'Not read in 120 days; the limit is 90 days.',
    ]);
    expect(parseCsvLine(findingCsvHeader().trim())).toEqual([...FINDING_CSV_COLUMNS]);
  });

  it.each([
    ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
    ['+1+2', "'+1+2"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\rcmd', `"'\rcmd"`],
  ])('puts an apostrophe before a cell a spreadsheet would run: %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('quotes commas, quotes and line breaks, and leaves plain text and empty cells alone', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('/prod/a-b=c')).toBe('/prod/a-b=c');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(42)).toBe('42');
  });

  it('guards every column a tag or CloudTrail can fill: owner, item, summary', () => {
    const row = findingCsvRow(finding({ owner: '=cmd|"/c calc"!A1', itemName: '-evil', evidence: { summary: '@boom, really' } }));
    const cells = parseCsvLine(row.slice(0, -2));
    expect(cells[5]).toBe("'-evil");
    expect(cells[7]).toBe(`'=cmd|"/c calc"!A1`);
    expect(cells[11]).toBe("'@boom, really");
  });
});

describe('ASFF', () => {
  it('maps an open Parameter Store finding to the BatchImportFindings shape', () => {
    const asff = toAsff(finding(), OPTIONS);
    expect(asff).toMatchObject({
      SchemaVersion: '2018-10-08',
      ProductArn: 'arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default',
      GeneratorId: 'not-read-recently',
      AwsAccountId: '111122223333',
      Types: ['Software and Configuration Checks/AWS Security Best Practices'],
      CreatedAt: '2026-10-01T00:00:00.000Z',
      UpdatedAt: '2026-11-30T12:00:00.000Z',
      FirstObservedAt: '2026-10-01T00:00:00.000Z',
      Severity: { Label: 'MEDIUM' },
      Title: 'Not read for the allowed number of days',
      Description: 'Not read in 120 days; the limit is 90 days.',
      Remediation: { Recommendation: { Text: 'Confirm on the Used by panel that nothing references it, then delete it.' } },
      Resources: [{ Type: 'AwsSsmParameter', Id: 'arn:aws:ssm:eu-west-1:111122223333:parameter/prod/payments/db-password', Region: 'eu-west-1' }],
      Workflow: { Status: 'NEW' },
      RecordState: 'ACTIVE',
      Compliance: { Status: 'FAILED' },
    });
    expect(asff.Id).toBe('secrets-dashboard/prod-params/not-read-recently/prod/payments/db-password');
    // The dashboard's own controls link to /findings, which Security Hub cannot open: no Url then.
    expect(asff.Remediation.Recommendation.Url).toBeUndefined();
    // Every timestamp is ISO 8601, as ASFF requires.
    for (const t of [asff.CreatedAt, asff.UpdatedAt, asff.FirstObservedAt, asff.LastObservedAt]) expect(new Date(t).toISOString()).toBe(t);
  });

  it('links the Security Hub, Prowler or AWS Config page of a control that has one', () => {
    const asff = toAsff(finding({ storeId: 'prod-secrets', control: 'sm-rotation-enabled', controlTitle: 'Automatic rotation is not enabled', kind: 'secret' }), OPTIONS);
    expect(asff.Remediation.Recommendation.Url).toMatch(/^https:\/\//);
    expect(asff.Resources[0]).toMatchObject({ Type: 'AwsSecretsManagerSecret', Region: 'us-east-2' });
    // A secret's ARN has AWS's random suffix: without the inventory's ARN the resource is store:name.
    expect(asff.Resources[0]!.Id).toBe('prod-secrets:/prod/payments/db-password');
    const withArn = toAsff(
      finding({ storeId: 'prod-secrets', control: 'sm-rotation-enabled', arn: 'arn:aws:secretsmanager:us-east-2:111122223333:secret:prod/payments/db-password-AbCdEf' }),
      OPTIONS,
    );
    expect(withArn.Resources[0]!.Id).toBe('arn:aws:secretsmanager:us-east-2:111122223333:secret:prod/payments/db-password-AbCdEf');
  });

  it('maps severities to their labels', () => {
    for (const [severity, label] of [
      ['critical', 'CRITICAL'],
      ['high', 'HIGH'],
      ['medium', 'MEDIUM'],
      ['low', 'LOW'],
      ['informational', 'INFORMATIONAL'],
    ] as const)
      expect(toAsff(finding({ severity }), OPTIONS).Severity.Label).toBe(label);
  });

  it('marks suppressed findings SUPPRESSED and resolved ones RESOLVED, ARCHIVED and PASSED', () => {
    const suppressed = toAsff(
      finding({ status: 'suppressed', suppression: { id: 3, reason: 'accepted until migration', expiresAt: '2027-01-01T00:00:00.000Z', createdBy: 'a@example.com', createdAt: '2026-11-01T00:00:00.000Z' } }),
      OPTIONS,
    );
    expect(suppressed).toMatchObject({ Workflow: { Status: 'SUPPRESSED' }, RecordState: 'ACTIVE', Compliance: { Status: 'FAILED' } });
    expect(suppressed.ProductFields['secrets-dashboard/suppression-reason']).toBe('accepted until migration');
    const resolved = toAsff(finding({ status: 'resolved', resolvedAt: '2026-12-01T00:00:00.000Z' }), OPTIONS);
    expect(resolved).toMatchObject({ Workflow: { Status: 'RESOLVED' }, RecordState: 'ARCHIVED', Compliance: { Status: 'PASSED' }, UpdatedAt: '2026-12-01T00:00:00.000Z' });
  });

  it('names a Vault item by store and name with its KV v2 paths: no ARN, no region, the placeholder account', () => {
    const asff = toAsff(
      finding({ storeId: 'vault-apps', itemName: '/payments/db', kind: 'secret', account: null, control: 'vault-current-version-deleted', controlTitle: 'The current version is deleted', severity: 'low' }),
      OPTIONS,
    );
    expect(asff.AwsAccountId).toBe(UNKNOWN_ACCOUNT);
    expect(asff.Resources).toEqual([
      { Type: 'Other', Id: 'vault-apps:/payments/db', Details: { Other: { VaultMount: 'kv', VaultDataPath: 'kv/data/apps/prod/payments/db', VaultMetadataPath: 'kv/metadata/apps/prod/payments/db' } } },
    ]);
    expect(asff.GeneratorId).toBe('vault-current-version-deleted');
    // The remediation link is HashiCorp's documentation, not a made-up AWS page.
    expect(asff.Remediation.Recommendation.Url).toMatch(/^https:\/\/developer\.hashicorp\.com\/vault\//);
    expect(JSON.stringify(asff)).not.toMatch(/arn:aws:(ssm|secretsmanager|kms)/);
    // A control asked of AWS and Vault items links each to its own documentation.
    const owner = { control: 'no-owner', controlTitle: 'No owner tag', severity: 'low', owner: null } as const;
    expect(toAsff(finding({ ...owner, storeId: 'vault-apps', itemName: '/payments/db', kind: 'secret', account: null }), OPTIONS).Remediation.Recommendation.Url).toBe(
      'https://developer.hashicorp.com/vault/docs/secrets/kv/kv-v2/cookbook/custom-metadata',
    );
    expect(toAsff(finding(owner), OPTIONS).Remediation.Recommendation.Url).toMatch(/^https:\/\/docs\.aws\.amazon\.com\/securityhub\//);
  });

  it('uses the placeholder account and an Other resource for the built-in store', () => {
    const asff = toAsff(finding({ storeId: 'local', account: null, control: 'no-owner', controlTitle: 'No owner tag' }), { ...OPTIONS, defaultRegion: 'ap-south-1' });
    expect(asff.AwsAccountId).toBe(UNKNOWN_ACCOUNT);
    expect(asff.ProductArn).toBe(`arn:aws:securityhub:ap-south-1:${UNKNOWN_ACCOUNT}:product/${UNKNOWN_ACCOUNT}/default`);
    expect(asff.Resources).toEqual([{ Type: 'Other', Id: 'local:/prod/payments/db-password' }]);
    // A Parameter Store item whose account is not known is not given a made-up ARN either.
    expect(toAsff(finding({ account: null }), OPTIONS).Resources[0]!.Id).toBe('prod-params:/prod/payments/db-password');
  });

  it('keeps within ASFF limits: Title 256, Description 1024, Recommendation 512 characters', () => {
    const long = 'x'.repeat(5000);
    const asff = toAsff(finding({ controlTitle: long, remediation: long, evidence: { summary: long } }), OPTIONS);
    expect(asff.Title.length).toBe(256);
    expect(asff.Description.length).toBe(1024);
    expect(asff.Remediation.Recommendation.Text.length).toBe(512);
  });

  it('streams a document that parses to the same findings as asffDocument', () => {
    const findings = [finding(), finding({ control: 'no-owner', controlTitle: 'No owner tag', severity: 'low' })];
    const text = ASFF_OPEN + findings.map((f, i) => asffEntry(f, OPTIONS, i === 0)).join('') + ASFF_CLOSE;
    expect(JSON.parse(text)).toEqual(asffDocument(findings, OPTIONS));
    expect(JSON.parse(ASFF_OPEN + ASFF_CLOSE)).toEqual({ Findings: [] });
  });
});

import { describe, expect, it, vi } from 'vitest';
import { ruleFingerprint, type ExpectedEncryption } from '../../../shared/config/expectedEncryption';
import { validatePipelineConfig } from '../../../shared/config/pipelineConfig';
import type { Rule } from '../../../shared/config/rule';
import { buildRuleIndex } from '../../../shared/config/ruleIndex';
import { auditLocations, auditTranscripts, jobNameOfOutput, type AuditDependencies } from '../../../shared/verify/auditTranscripts';
import type { VerdictRecord } from '../../../shared/verify/verdictLedger';
import type { HeadResult } from '../../../shared/verify/verifyJob';
import { keyArn } from '../../support/fixtures';

const config = validatePipelineConfig(
  {
    defaults: { languageCode: 'en-US' },
    rules: [
      { prefix: 'calls/', kmsKey: 'alias/calls' },
      { prefix: 'hr/', kmsKey: 'alias/hr' },
      { prefix: 'legal/', kmsKey: 'alias/legal', output: { prefix: 'transcripts/legal/' } },
    ],
  },
  { region: 'us-east-1' },
);
const [calls, hr, legal] = config.rules as [Rule, Rule, Rule];
const DEMANDS = new Map<Rule, ExpectedEncryption>([
  [calls, { serverSideEncryption: 'aws:kms', kmsKeyArn: keyArn('calls'), source: 'rule' }],
  [hr, { serverSideEncryption: 'aws:kms', kmsKeyArn: keyArn('hr'), source: 'rule' }],
  [legal, { serverSideEncryption: 'aws:kms', kmsKeyArn: keyArn('legal'), source: 'rule' }],
]);
const kms = (name: string): HeadResult => ({ found: true, serverSideEncryption: 'aws:kms', kmsKeyArn: keyArn(name) });
const record = (sourceKey: string): VerdictRecord => ({ state: 'published', claimedAt: '', detail: { jobName: 'x', source: { bucket: 'in', key: sourceKey, version: null } } as never });

function world() {
  const objects: Record<string, HeadResult | Error> = {
    'transcripts/tkp.t.a.json': kms('calls'),
    'transcripts/tkp.t.b.json': kms('calls'),
    'transcripts/legal/tkp.t.c.json': { found: true, serverSideEncryption: 'AES256' },
    'transcripts/tkp.t.d.json': kms('hr'),
    'transcripts/tkp.t.e.json': new Error('HeadObject on s3://out/transcripts/tkp.t.e.json was denied'),
    'transcripts/tkp.t.f.json': { found: false },
    'transcripts/.write_access_check_file.temp': kms('calls'),
  };
  const deps: AuditDependencies = {
    listObjects: async function* (bucket, prefix) {
      for (const key of Object.keys(objects).sort()) if (bucket === 'out' && key.startsWith(prefix)) yield { key, lastModified: new Date('2026-06-01') };
    },
    headObject: vi.fn(async ({ key }) => {
      const found = objects[key];
      if (found instanceof Error) throw found;
      return found as HeadResult;
    }),
    ruleMarkers: async function* () {
      yield { ledgerId: 'tkp.t.a', ruleFingerprint: ruleFingerprint(calls) };
      yield { ledgerId: 'tkp.t.e', ruleFingerprint: ruleFingerprint(calls) };
      yield { ledgerId: 'tkp.t.f', ruleFingerprint: ruleFingerprint(hr) };
    },
    readVerdict: vi.fn(async (ledgerId: string) => ({ 'tkp.t.b': record('hr/b.wav'), 'tkp.t.c': record('legal/c.wav') })[ledgerId]),
    demand: vi.fn(async (rule: Rule) => DEMANDS.get(rule) as ExpectedEncryption),
  };
  return deps;
}
const scope = { rules: config.rules, ruleIndex: buildRuleIndex(config.rules), transcriptBucket: 'out', jobNamePrefix: 'tkp.t.', concurrency: 4 };

describe('auditTranscripts', () => {
  it('judges every transcript against its rule\'s demand today and sums them up per rule', async () => {
    const deps = world();
    const report = await auditTranscripts(deps, scope);
    expect(report.summary).toEqual([
      { rule: 'calls/', objects: 2, compliant: 1, wrongKey: 0, noKms: 0, unreadable: 1, deleted: 0 },
      { rule: 'hr/', objects: 2, compliant: 0, wrongKey: 1, noKms: 0, unreadable: 0, deleted: 1 },
      { rule: 'legal/', objects: 1, compliant: 0, wrongKey: 0, noKms: 1, unreadable: 0, deleted: 0 },
      { rule: '(no ledger record) s3://out/transcripts/', objects: 1, compliant: 1, wrongKey: 0, noKms: 0, unreadable: 0, deleted: 0 },
    ]);
    expect(report.totals).toEqual({ objects: 6, compliant: 2, wrongKey: 1, noKms: 1, unreadable: 1, deleted: 1 });
  });

  it('maps a shared location through the rule markers, reading a verdict record only where no marker maps the transcript', async () => {
    const deps = world();
    const report = await auditTranscripts(deps, scope);
    expect(vi.mocked(deps.readVerdict).mock.calls.map(([job]) => job).sort()).toEqual(['tkp.t.b', 'tkp.t.c', 'tkp.t.d']);
    expect(report.recordsRead).toBe(3);
  });

  it('lists each finding with its source, what it is and what was demanded', async () => {
    const report = await auditTranscripts(world(), scope);
    const byUri = Object.fromEntries(report.findings.map((f) => [f.uri, f]));
    expect(byUri['s3://out/transcripts/tkp.t.b.json']).toMatchObject({
      status: 'wrong-key',
      rulePrefix: 'hr/',
      source: 's3://in/hr/b.wav',
      kmsKeyArn: keyArn('calls'),
      expected: `aws:kms ${keyArn('hr')}`,
      problem: `s3://out/transcripts/tkp.t.b.json is encrypted under ${keyArn('calls')}, expected ${keyArn('hr')}`,
    });
    expect(byUri['s3://out/transcripts/legal/tkp.t.c.json']).toMatchObject({ status: 'no-kms', rulePrefix: 'legal/', source: 's3://in/legal/c.wav' });
    expect(byUri['s3://out/transcripts/tkp.t.e.json']).toMatchObject({ status: 'unreadable', problem: expect.stringContaining('was denied') });
    expect(byUri['s3://out/transcripts/tkp.t.f.json']).toMatchObject({ status: 'deleted', problem: 'deleted during the audit (listed, then not found)' });
    expect(Object.keys(byUri)).toHaveLength(4);
  });

  it('goes on when a rule\'s key cannot be described, reporting its transcripts as not judged', async () => {
    const deps = { ...world(), demand: vi.fn(async (rule: Rule) => (rule === legal ? Promise.reject(new Error('rules[2] (prefix "legal/"): kmsKey alias/legal was not found')) : (DEMANDS.get(rule) as ExpectedEncryption))) };
    const report = await auditTranscripts(deps, scope);
    expect(report.totals.objects).toBe(6);
    expect(report.findings.find((f) => f.rulePrefix === 'legal/')).toMatchObject({ status: 'unreadable', expected: 'unknown', problem: 'cannot be judged: rules[2] (prefix "legal/"): kmsKey alias/legal was not found' });
  });

  it('narrows by --prefix and --since', async () => {
    const narrowed = await auditTranscripts(world(), { ...scope, prefix: 'transcripts/legal/' });
    expect(narrowed.totals.objects).toBe(1);
    const none = await auditTranscripts(world(), { ...scope, since: new Date('2026-07-01') });
    expect(none.totals.objects).toBe(0);
  });

  it('streams: at most `concurrency` HEADs in flight, and the listing read only as fast as they finish', async () => {
    let listed = 0;
    let done = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    let maxAhead = 0;
    const deps: AuditDependencies = {
      ...world(),
      listObjects: async function* () {
        for (let i = 0; i < 3000; i++) {
          listed++;
          yield { key: `transcripts/legal/tkp.t.${i}.json` };
        }
      },
      headObject: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        maxAhead = Math.max(maxAhead, listed - done);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        done++;
        return kms('legal');
      },
    };
    const report = await auditTranscripts(deps, { ...scope, prefix: 'transcripts/legal/', concurrency: 8 });
    expect(report.totals).toMatchObject({ objects: 3000, compliant: 3000 });
    expect(report.findings).toEqual([]);
    expect(maxInFlight).toBe(8);
    expect(maxAhead).toBeLessThanOrEqual(8);
  });
});

describe('auditLocations and jobNameOfOutput', () => {
  it('lists a location once even when a rule writes under another rule\'s location', () => {
    expect(auditLocations({ rules: config.rules, transcriptBucket: 'out' })).toEqual([{ bucket: 'out', key: 'transcripts/' }]);
    expect(auditLocations({ rules: config.rules, transcriptBucket: 'out', prefix: 'transcripts/legal/2026' })).toEqual([{ bucket: 'out', key: 'transcripts/legal/2026' }]);
    expect(auditLocations({ rules: config.rules, transcriptBucket: 'out', prefix: 'elsewhere/' })).toEqual([]);
  });

  it('reads the job name from the transcript, redacted transcript, subtitle and redacted audio keys', () => {
    expect(jobNameOfOutput('transcripts/tkp.t.a.json', 'transcripts/')).toBe('tkp.t.a');
    expect(jobNameOfOutput('transcripts/redacted-tkp.t.a.wav', 'transcripts/')).toBe('tkp.t.a');
    expect(jobNameOfOutput('transcripts/redacted-tkp.t.a.flac', 'transcripts/')).toBe('tkp.t.a');
    expect(jobNameOfOutput('transcripts/tkp.t.a.txt', 'transcripts/')).toBeUndefined();
    expect(jobNameOfOutput('transcripts/redacted-tkp.t.a.json', 'transcripts/')).toBe('tkp.t.a');
    expect(jobNameOfOutput('transcripts/tkp.t.a.vtt', 'transcripts/')).toBe('tkp.t.a');
    expect(jobNameOfOutput('transcripts/legal/tkp.t.a.json', 'transcripts/')).toBeUndefined();
  });
});

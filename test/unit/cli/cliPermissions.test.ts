import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CALL_ACTIONS, COMMAND_CALLS, DATA_ACTIONS, policyFor, type CliCommand, type PermissionScope } from '../../../shared/cli/cliPermissions';
import { partitionOf } from '../../../shared/cli/cliAws';
import { validatePipelineConfig } from '../../../shared/config/pipelineConfig';

const source = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
const folder = (path: string) =>
  readdirSync(new URL(`../../../${path}/`, import.meta.url))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => source(`${path}/${file}`));
/** One top-level function of a module, from its declaration to its closing brace. */
function functionIn(path: string, name: string): string {
  const text = source(path);
  const start = text.search(new RegExp(`\\nexport (async )?function\\*? ?${name}\\(|\\n(async )?function\\*? ?${name}\\(`));
  expect(start, `${name} in ${path}`).toBeGreaterThan(0);
  return text.slice(start, text.indexOf('\n}\n', start));
}
const callsIn = (texts: string[]) => new Set(texts.flatMap((text) => [...text.matchAll(/new (\w+Command)\(/g)].map((match) => match[1] as string)));

/**
 * Where each command's AWS calls are made: its own modules, the stack lookup and caller identity
 * (cliAws.ts), and, of the adapters it shares with other commands (cliAdapters.ts), the functions
 * it uses.
 */
const adapters = (...names: string[]) => names.map((name) => functionIn('shared/cli/cliAdapters.ts', name));
const SOURCES: Record<CliCommand, () => string[]> = {
  check: () => [...folder('shared/cli/check'), source('shared/cli/cliAws.ts'), source('shared/start/keyProbeAdapters.ts'), ...adapters('createDemandSources')],
  audit: () => [source('shared/cli/auditCommand.ts'), source('shared/cli/cliAws.ts'), ...adapters('createAuditAdapters', 'createDemandSources', 'listObjects', 'headObject')],
  explain: () => [source('shared/cli/explainCommand.ts'), source('shared/cli/cliAws.ts'), ...adapters('createDemandSources', 'describeMediaEncryption')],
  backfill: () => [source('shared/cli/backfillCommand.ts'), source('shared/cli/cliAws.ts'), ...adapters('createBackfillAdapters', 'listObjects', 'listCurrentVersions')],
  redrive: () => [...folder('shared/cli/redrive'), source('shared/cli/cliAws.ts')],
};

describe('the permissions each tkp command needs', () => {
  for (const command of Object.keys(SOURCES) as CliCommand[]) {
    it(`${command}: name every AWS call its code makes, and no call it does not make`, () => {
      const made = callsIn(SOURCES[command]());
      expect([...made].filter((call) => !COMMAND_CALLS[command].includes(call))).toEqual([]);
      expect(COMMAND_CALLS[command].filter((call) => !made.has(call))).toEqual([]);
    });
  }

  it('name an IAM action for every call, each used by some command', () => {
    const used = new Set(Object.values(COMMAND_CALLS).flat());
    expect(Object.keys(CALL_ACTIONS).filter((call) => !used.has(call))).toEqual([]);
    expect([...used].filter((call) => !(call in CALL_ACTIONS))).toEqual([]);
  });

  it('print as one policy per command with each action once, sorted, that README names', () => {
    const readme = source('README.md');
    const check = policyFor('check', scope()).Statement[0];
    expect(check).toMatchObject({ Sid: 'TkpCheckMetadata', Effect: 'Allow', Resource: '*' });
    expect(check?.Action).toHaveLength(28);
    expect(check?.Action).toEqual([...(check?.Action ?? [])].sort());
    expect(policyFor('backfill', scope()).Statement[0]?.Action).toEqual(['cloudformation:DescribeStacks', 's3:GetBucketVersioning']);
    for (const command of Object.keys(COMMAND_CALLS) as CliCommand[]) {
      const actions = policyFor(command, scope()).Statement.flatMap((statement) => statement.Action);
      expect(actions.filter((action) => !readme.includes(`\`${action}\``)), command).toEqual([]);
    }
  });
});

const DEMO = JSON.parse(source('pipeline.config.json'));
/** The demo config, in us-east-1, stage prod, nothing named. */
function scope(overrides: Partial<PermissionScope> = {}, raw: unknown = DEMO): PermissionScope {
  return { config: validatePipelineConfig(raw, { region: overrides.region ?? 'us-east-1' }), stage: 'prod', region: 'us-east-1', service: 'transcribe-kms-pipeline', ...overrides };
}
const statementsOf = (command: CliCommand, s: PermissionScope) => policyFor(command, s).Statement;
const resourcesOf = (command: CliCommand, s: PermissionScope, action: string) =>
  statementsOf(command, s)
    .filter((statement) => statement.Action.includes(action))
    .flatMap((statement) => [statement.Resource].flat());

describe('the data each tkp command reaches, in its printed policy', () => {
  for (const command of Object.keys(COMMAND_CALLS) as CliCommand[]) {
    it(`${command}: grants every action its calls need, data actions on named resources only, each Sid once`, () => {
      const statements = statementsOf(command, scope());
      const needed = COMMAND_CALLS[command].map((call) => CALL_ACTIONS[call]).filter((action): action is string => typeof action === 'string');
      const granted = new Set(statements.flatMap((statement) => statement.Action));
      expect(needed.filter((action) => !granted.has(action))).toEqual([]);
      for (const statement of statements) {
        const data = statement.Action.filter((action) => DATA_ACTIONS.has(action));
        if (statement.Resource === '*') expect(data, statement.Sid).toEqual([]);
        else expect([statement.Resource].flat().every((resource) => typeof resource === 'string' && resource !== '*' && resource.startsWith('arn:aws:')), statement.Sid).toBe(true);
      }
      const sids = statements.map((statement) => statement.Sid);
      expect(new Set(sids).size).toBe(sids.length);
    });
  }

  it('audit reads the transcripts under the rules\' output prefixes and the verdict ledger, in the stack\'s transcript bucket, not every object', () => {
    expect(resourcesOf('audit', scope(), 's3:GetObject')).toEqual([
      'arn:aws:s3:::tkp-prod-transcripts-*-us-east-1/transcripts/*',
      'arn:aws:s3:::tkp-prod-transcripts-*-us-east-1/transcripts/legal/*',
      'arn:aws:s3:::tkp-prod-transcripts-*-us-east-1/transcripts/contact-centre/*',
      'arn:aws:s3:::tkp-prod-transcripts-*-us-east-1/verdicts/*',
    ]);
    expect(resourcesOf('audit', scope(), 's3:ListBucket')).toEqual(['arn:aws:s3:::tkp-prod-transcripts-*-us-east-1']);
    // A named bucket, a rule writing to a bucket of its own, and a prefix IAM would read as a wildcard.
    const raw = { ...DEMO, rules: [...DEMO.rules, { prefix: 'ext/', output: { bucket: 'archive-bucket', prefix: 'rec*/' } }] };
    const named = scope({ transcriptBucket: 'my-transcripts' }, raw);
    expect(resourcesOf('audit', named, 's3:GetObject')).toContain('arn:aws:s3:::archive-bucket/rec${*}/*');
    expect(resourcesOf('audit', named, 's3:GetObject')).toContain('arn:aws:s3:::my-transcripts/verdicts/*');
    expect(resourcesOf('audit', named, 's3:ListBucket')).toEqual(['arn:aws:s3:::my-transcripts', 'arn:aws:s3:::archive-bucket']);
  });

  it('explain reads any upload of the input bucket (a key under no rule is asked about too), its versions included, and nothing else', () => {
    expect(statementsOf('explain', scope()).slice(1)).toEqual([
      { Sid: 'TkpExplainUpload', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: ['arn:aws:s3:::tkp-prod-input-*-us-east-1/*'] },
    ]);
    expect(resourcesOf('explain', scope({ inputBucket: 'uploads' }), 's3:GetObjectVersion')).toEqual(['arn:aws:s3:::uploads/*']);
  });

  it('backfill lists the input bucket and sends to the start queue; redrive takes from the two DLQs, sends to the start queue and invokes the verifiers', () => {
    expect(resourcesOf('backfill', scope(), 's3:ListBucketVersions')).toEqual(['arn:aws:s3:::tkp-prod-input-*-us-east-1']);
    expect(resourcesOf('backfill', scope(), 'sqs:SendMessage')).toEqual(['arn:aws:sqs:us-east-1:*:transcribe-kms-pipeline-prod-StartQueue-*']);
    expect(resourcesOf('redrive', scope(), 'sqs:ReceiveMessage')).toEqual([
      'arn:aws:sqs:us-east-1:*:transcribe-kms-pipeline-prod-StartDeadLetterQueue-*',
      'arn:aws:sqs:us-east-1:*:transcribe-kms-pipeline-prod-VerifyDeadLetterQueue-*',
    ]);
    expect(resourcesOf('redrive', scope(), 'lambda:InvokeFunction')).toEqual([
      'arn:aws:lambda:us-east-1:*:function:transcribe-kms-pipeline-prod-verify',
      'arn:aws:lambda:us-east-1:*:function:transcribe-kms-pipeline-prod-sweep',
    ]);
    // Queues named on the command line (or by tkp local --keep) are named exactly.
    const named = scope({ startQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q-start', startDeadLetterQueueUrl: 'http://127.0.0.1:4566/123456789012/q-dlq' });
    expect(resourcesOf('redrive', named, 'sqs:SendMessage')).toEqual(['arn:aws:sqs:us-east-1:123456789012:q-start']);
    expect(resourcesOf('redrive', named, 'sqs:DeleteMessage')[0]).toBe('arn:aws:sqs:us-east-1:123456789012:q-dlq');
  });

  it("refuses to guess a DLQ's name where CloudFormation would shorten it, naming the flag that names it", () => {
    // transcribe-kms-pipeline-<stage>-VerifyDeadLetterQueue-<12+ random> fits SQS's 80 characters up to a 21-character stage.
    const fits = 'a'.repeat(21);
    expect(resourcesOf('redrive', scope({ stage: fits }), 'sqs:ReceiveMessage')[1]).toBe(`arn:aws:sqs:us-east-1:*:transcribe-kms-pipeline-${fits}-VerifyDeadLetterQueue-*`);
    const long = 'a'.repeat(22);
    expect(() => policyFor('redrive', scope({ stage: long }))).toThrow(
      `at stage "${long}" the name CloudFormation gives the VerifyDeadLetterQueue (transcribe-kms-pipeline-${long}-VerifyDeadLetterQueue-…) runs past SQS's 80 characters, ` +
        "which CloudFormation shortens in a way this policy cannot predict; name it with --verify-dlq-url URL (the stack's output VerifyDeadLetterQueueUrl)",
    );
    // One character more and both DLQs' names are too long: one error names both flags.
    expect(() => policyFor('redrive', scope({ stage: `${long}a` }))).toThrow(/the names CloudFormation gives the StartDeadLetterQueue .* and the VerifyDeadLetterQueue .* run past .* name them with --start-dlq-url URL \(the stack's output StartDeadLetterQueueUrl\) and --verify-dlq-url URL/);
    // With the DLQs named, the policy names them; the start queue's generated name still fits and stays a pattern.
    const named = scope({ stage: long, startDeadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/s-dlq', verifyDeadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/v-dlq' });
    expect(resourcesOf('redrive', named, 'sqs:ReceiveMessage')).toEqual(['arn:aws:sqs:us-east-1:123456789012:s-dlq', 'arn:aws:sqs:us-east-1:123456789012:v-dlq']);
    expect(resourcesOf('backfill', scope({ stage: long }), 'sqs:SendMessage')).toEqual([`arn:aws:sqs:us-east-1:*:transcribe-kms-pipeline-${long}-StartQueue-*`]);
  });

  it('check probes the rules\' keys as the stack grants them to the start role, and invokes the preflight function alone', () => {
    const statements = statementsOf('check', scope());
    const probes = statements.filter((statement) => statement.Action.includes('kms:Encrypt'));
    expect(probes.map((statement) => [statement.Resource, statement.Condition])).toEqual([
      [
        [
          'arn:aws:kms:us-east-1:*:key/1234abcd-12ab-34cd-56ef-1234567890ab',
          'arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321',
          'arn:aws:kms:us-east-1:123456789012:key/7c1d1c5e-2f4a-4b6e-9a3d-5e8f0c2b1a47',
        ],
        undefined,
      ],
      [['arn:aws:kms:us-east-1:*:key/*'], { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': ['alias/contact-centre-transcripts', 'alias/legal-transcripts'] } }],
      [['arn:aws:kms:us-east-1:123456789012:key/*'], { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': ['alias/partner-intake'] } }],
      [['arn:aws:kms:us-east-1:222233334444:key/*'], { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': ['alias/acme-transcripts'] } }],
    ]);
    expect(resourcesOf('check', scope(), 'lambda:InvokeFunction')).toEqual(['arn:aws:lambda:us-east-1:*:function:transcribe-kms-pipeline-prod-preflight']);
    expect(resourcesOf('check', scope({ preflightFunction: 'arn:aws:lambda:us-east-1:123456789012:function:pf:live' }), 'lambda:InvokeFunction')).toEqual([
      'arn:aws:lambda:us-east-1:123456789012:function:pf',
    ]);
    // A config without keys probes none, so it grants no key's use.
    const keyless = scope({}, { defaults: { languageCode: 'en-US' }, rules: [{ prefix: 'a/' }] });
    expect(statementsOf('check', keyless).flatMap((statement) => statement.Action)).not.toContain('kms:Encrypt');
  });

  it('names the partition and region the stack is in, or any region when none is known', () => {
    expect(partitionOf('cn-north-1')).toBe('aws-cn');
    expect(partitionOf('us-gov-west-1')).toBe('aws-us-gov');
    expect(partitionOf(undefined)).toBe('aws');
    const keyless = { defaults: { languageCode: 'en-US' }, rules: [{ prefix: 'a/' }] };
    expect(resourcesOf('backfill', scope({ region: 'cn-north-1' }, keyless), 'sqs:SendMessage')).toEqual(['arn:aws-cn:sqs:cn-north-1:*:transcribe-kms-pipeline-prod-StartQueue-*']);
    expect(resourcesOf('backfill', scope({ region: undefined }, keyless), 's3:ListBucket')).toEqual(['arn:aws:s3:::tkp-prod-input-*-*']);
  });
});

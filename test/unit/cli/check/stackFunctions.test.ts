import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stackFunctionsRow, type DeployedFunctions, type FunctionFacts } from '../../../../shared/cli/check/stackFunctions';
import { FUNCTION_ENVIRONMENT_NAMES, FUNCTION_SETTING_NAMES } from '../../../../shared/stack/stackNames';

const role = (name: string) => `arn:aws:iam::123456789012:role/tkp-dev-us-east-1-${name}`;
const dlq = 'arn:aws:sqs:us-east-1:123456789012:tkp-dev-VerifyDeadLetterQueue';
const startQueue = 'arn:aws:sqs:us-east-1:123456789012:tkp-dev-StartQueue';
const deployed: DeployedFunctions = { roleArn: role, verifyDeadLetterQueueArn: dlq, startQueueArn: startQueue, environment: { STAGE: 'dev', INPUT_BUCKET: 'tkp-dev-input', OUTCOME_BUS_NAME: 'tkp-dev-outcomes' } };

/** The five functions as the stack deploys them. */
function asDeployed(): FunctionFacts[] {
  const base = (id: FunctionFacts['id'], roleName: string): FunctionFacts => ({
    id,
    name: `tkp-dev-${id}`,
    found: true,
    role: role(roleName),
    handler: `functions/${id}.handler`,
    environment: { POWERTOOLS_SERVICE_NAME: 'transcribe-kms-pipeline', STAGE: 'dev', INPUT_BUCKET: 'tkp-dev-input', OUTCOME_BUS_NAME: 'tkp-dev-outcomes' },
    layers: [],
  });
  return [
    { ...base('start', 'start'), triggers: [{ uuid: 'u-1', source: startQueue, state: 'Enabled' }] },
    base('preflight', 'start'),
    { ...base('verify', 'verify'), onFailure: dlq },
    { ...base('sweep', 'sweep'), onFailure: dlq },
    base('bucketNotifications', 'notifications'),
  ];
}
const changed = (id: FunctionFacts['id'], change: Partial<FunctionFacts>) => asDeployed().map((fn) => (fn.id === id ? { ...fn, ...change } : fn));
const PUT_BACK = 'put them back as the stack defines them, which a redeploy does not do (README: "Putting back what changed outside a deploy")';

describe('stackFunctionsRow', () => {
  it('passes the functions as the stack deploys them', () => {
    expect(stackFunctionsRow(asDeployed(), deployed)).toEqual({
      rule: '(stack)',
      check: 'stack functions',
      ok: true,
      detail: 'all 5 run as deployed (role, handler, environment, no layers), with their triggers, invoke permissions and failure destinations: tkp-dev-start, tkp-dev-preflight, tkp-dev-verify, tkp-dev-sweep, tkp-dev-bucketNotifications',
    });
  });

  it('fails a verifier that EventBridge may no longer invoke for one of its rules, judged by the resource policy Lambda returns', () => {
    const rule = (name: string) => ({ name, arn: `arn:aws:events:us-east-1:123456789012:rule/${name}` });
    const invokedBy = { account: '123456789012', rules: { verify: [rule('tkp-dev-verify-rule-1'), rule('tkp-dev-verify-rule-2')], sweep: [rule('tkp-dev-sweep-schedule')] } };
    // As GetPolicy returns what serverless.yml grants: one statement per rule, its ARN under ArnLike.
    const grant = (fn: string, ruleArn: string) => ({
      Sid: ruleArn.split('/').pop(),
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: `arn:aws:lambda:us-east-1:123456789012:function:${fn}`,
      Condition: { ArnLike: { 'AWS:SourceArn': ruleArn } },
    });
    const withPolicies = (verifyRules: string[]) =>
      asDeployed().map((fn) =>
        fn.id === 'verify' || fn.id === 'sweep'
          ? { ...fn, arn: `arn:aws:lambda:us-east-1:123456789012:function:${fn.name}`, invokers: (fn.id === 'verify' ? verifyRules : ['tkp-dev-sweep-schedule']).map((name) => grant(fn.name, rule(name).arn)) }
          : fn,
      );
    expect(stackFunctionsRow(withPolicies(['tkp-dev-verify-rule-1', 'tkp-dev-verify-rule-2']), { ...deployed, invokedBy }).ok).toBe(true);
    expect(stackFunctionsRow(withPolicies(['tkp-dev-verify-rule-1']), { ...deployed, invokedBy }).detail).toBe(
      'EventBridge may not invoke tkp-dev-verify for the rule tkp-dev-verify-rule-2, so its completion events fail into the verify DLQ ' +
        '(aws lambda add-permission --function-name tkp-dev-verify --statement-id tkp-dev-verify-rule-2 --action lambda:InvokeFunction --principal events.amazonaws.com --source-arn arn:aws:events:us-east-1:123456789012:rule/tkp-dev-verify-rule-2); ' +
        `${PUT_BACK}. Until then a verdict may not be the verifier's own: tkp audit --since the time they changed judges the transcripts themselves`,
    );
  });

  it('fails a verifier pointed elsewhere by an environment variable, running other code, or running as another role, naming each and what to do', () => {
    const row = stackFunctionsRow(changed('verify', { environment: { STAGE: 'dev', AWS_ENDPOINT_URL_KMS: 'https://kms.example.net', NODE_OPTIONS: '--require /opt/x.js' } }), deployed);
    expect(row).toEqual({
      rule: '(stack)',
      check: 'stack functions',
      ok: false,
      detail:
        `tkp-dev-verify has environment variable(s) the stack neither sets nor reads: AWS_ENDPOINT_URL_KMS, NODE_OPTIONS; ${PUT_BACK}. ` +
        "Until then a verdict may not be the verifier's own: tkp audit --since the time they changed judges the transcripts themselves",
    });
    // A variable the stack sets, set to another value: the verdicts would go to a bus no consumer listens on.
    expect(stackFunctionsRow(changed('verify', { environment: { STAGE: 'dev', OUTCOME_BUS_NAME: 'somewhere-else' } }), deployed).detail).toMatch(
      /^tkp-dev-verify has OUTCOME_BUS_NAME="somewhere-else" \(the stack's: "tkp-dev-outcomes"\); /,
    );
    // The same value spelled otherwise is the same, where the caller says so.
    const lenient = { ...deployed, sameValue: (name: string, actual: string, expected: string) => name === 'INPUT_BUCKET' || actual === expected };
    expect(stackFunctionsRow(changed('verify', { environment: { INPUT_BUCKET: 'other' } }), lenient).ok).toBe(true);
    expect(stackFunctionsRow(changed('verify', { layers: ['arn:aws:lambda:us-east-1:999988887777:layer:x:1'] }), deployed).detail).toMatch(
      /^tkp-dev-verify has layer\(s\) the stack does not add, whose code runs in it: arn:aws:lambda:us-east-1:999988887777:layer:x:1; /,
    );
    expect(stackFunctionsRow(changed('sweep', { handler: 'other.handler' }), deployed).detail).toMatch(/^tkp-dev-sweep runs the handler other\.handler, not functions\/sweep\.handler; /);
    // The preflight function shares the start role; the verifier's must be its own.
    expect(stackFunctionsRow(changed('verify', { role: role('start') }), deployed).detail).toMatch(
      /^tkp-dev-verify runs as arn:aws:iam::123456789012:role\/tkp-dev-us-east-1-start, not arn:aws:iam::123456789012:role\/tkp-dev-us-east-1-verify; /,
    );
    expect(stackFunctionsRow(changed('bucketNotifications', { found: false }), deployed).detail).toMatch(/^tkp-dev-bucketNotifications does not exist; /);
  });

  it('takes a setting the code reads, which a deploy may add to tune it, as the stack\'s own', () => {
    expect(stackFunctionsRow(changed('verify', { environment: { STAGE: 'dev', KEY_CACHE_TTL_SECONDS: '60', RULE_CHANGE_GRACE_SECONDS: '300' } }), deployed).ok).toBe(true);
    // Every name the settings module reads is one the row knows, so tuning never reads as tampering.
    const read = [...readFileSync(new URL('../../../../shared/config/settings.ts', import.meta.url), 'utf8').matchAll(/'([A-Z][A-Z0-9_]+)'/g)].map(([, name]) => name as string);
    const known = new Set<string>(['AWS_REGION', ...FUNCTION_ENVIRONMENT_NAMES, ...FUNCTION_SETTING_NAMES]);
    expect(read.length).toBeGreaterThan(10);
    expect(read.filter((name) => !known.has(name))).toEqual([]);
  });

  it('fails a function stopped (a reserved concurrency of 0, its trigger off or gone) and a verifier that drops its failures', () => {
    expect(stackFunctionsRow(changed('verify', { reservedConcurrency: 0 }), deployed).detail).toMatch(
      /^tkp-dev-verify has a reserved concurrency of 0, so it never runs \(aws lambda delete-function-concurrency --function-name tkp-dev-verify\); /,
    );
    expect(stackFunctionsRow(changed('verify', { reservedConcurrency: 5 }), deployed).ok).toBe(true);
    expect(stackFunctionsRow(changed('start', { triggers: [{ uuid: 'u-1', source: startQueue, state: 'Disabled' }] }), deployed).detail).toMatch(
      /^tkp-dev-start's trigger from the start queue is Disabled, so no upload reaches it \(aws lambda update-event-source-mapping --uuid u-1 --enabled\); /,
    );
    expect(stackFunctionsRow(changed('start', { triggers: [] }), deployed).detail).toMatch(new RegExp(`^tkp-dev-start has no trigger from the start queue ${startQueue}, so no upload reaches it; `));
    expect(stackFunctionsRow(changed('sweep', { onFailure: null }), deployed).detail).toMatch(/^tkp-dev-sweep has no on-failure destination, so a failed verification is dropped instead of dead-lettered; /);
    expect(stackFunctionsRow(changed('verify', { onFailure: 'arn:aws:sqs:us-east-1:123456789012:elsewhere' }), deployed).detail).toMatch(
      new RegExp(`^tkp-dev-verify sends a failed invocation to arn:aws:sqs:us-east-1:123456789012:elsewhere, not the verify DLQ ${dlq}; `),
    );
    // Without the queues' ARNs, only what can be told without them is judged.
    expect(stackFunctionsRow(changed('verify', { onFailure: 'arn:aws:sqs:us-east-1:123456789012:elsewhere' }), { roleArn: role }).ok).toBe(true);
  });

  it('says which permissions it needs when Lambda refuses', () => {
    expect(stackFunctionsRow({ error: 'AccessDeniedException: no' }, deployed)).toMatchObject({
      ok: false,
      detail:
        "the stack's functions cannot be read (AccessDeniedException: no); the caller needs lambda:GetFunctionConfiguration, lambda:GetFunctionConcurrency, " +
        'lambda:GetFunctionEventInvokeConfig, lambda:ListEventSourceMappings and lambda:GetPolicy to tell whether they run as deployed',
    });
  });
});

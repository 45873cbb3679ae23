import { describe, expect, it } from 'vitest';
import { deployedCodeOf, functionCodeRow } from '../../../../shared/cli/check/functionCode';
import type { FunctionFacts } from '../../../../shared/cli/check/stackFunctions';
import type { FunctionId } from '../../../../shared/stack/stackNames';

const IDS: FunctionId[] = ['start', 'preflight', 'verify', 'sweep', 'bucketNotifications'];
const functions = IDS.map((id) => ({ id, name: `tkp-dev-${id}` }));
const hash = (id: string) => Buffer.from(`code of ${id}`).toString('base64');
const STACK = 'transcribe-kms-pipeline-dev';

/** A template as `serverless deploy` writes it: one version per function, named by a Ref to the function's logical ID. */
const serverlessTemplate = JSON.stringify({
  Resources: {
    ...Object.fromEntries(
      IDS.map((id) => [
        `${id[0]?.toUpperCase()}${id.slice(1)}LambdaVersionAbC123`,
        { Type: 'AWS::Lambda::Version', DeletionPolicy: 'Retain', Properties: { FunctionName: { Ref: `${id[0]?.toUpperCase()}${id.slice(1)}LambdaFunction` }, CodeSha256: hash(id) } },
      ]),
    ),
    VerifyLambdaFunction: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'tkp-dev-verify' } },
    // Another function's version, of no function of the stack's: not taken for one.
    OtherLambdaVersionX: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'OtherLambdaFunction' }, CodeSha256: 'other' } },
  },
});

const running = (code: (id: FunctionId) => string | undefined): FunctionFacts[] =>
  functions.map(({ id, name }) => ({ id, name, found: true, ...(code(id) !== undefined && { codeSha256: code(id) as string }) }));

describe('deployedCodeOf', () => {
  it('reads each function\'s code hash from its version, named by a Ref as serverless writes it', () => {
    expect(deployedCodeOf(STACK, serverlessTemplate, functions)).toEqual({ stackName: STACK, codeSha256: Object.fromEntries(IDS.map((id) => [id, hash(id)])) });
  });

  it('reads a version that names its function by name', () => {
    const template = JSON.stringify({ Resources: { V: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: 'tkp-dev-sweep', CodeSha256: 'abc=' } } } });
    expect(deployedCodeOf(STACK, template, functions).codeSha256).toEqual({ sweep: 'abc=' });
  });

  it('refuses a template that is not JSON, which serverless never writes', () => {
    expect(() => deployedCodeOf(STACK, 'Resources:\n  V: {}', functions)).toThrow(`the template of stack ${STACK} is not JSON, so it is not one that serverless deploy wrote`);
  });
});

describe('functionCodeRow', () => {
  const deployed = deployedCodeOf(STACK, serverlessTemplate, functions);

  it('passes functions that run the code the last deploy published', () => {
    expect(functionCodeRow(running(hash), deployed, 'dev')).toEqual({
      rule: '(stack)',
      check: 'function code',
      ok: true,
      detail: `5 run the code the last deploy published (CodeSha256 as ${STACK}'s template records it)`,
    });
  });

  it('fails a verifier whose code was replaced, naming both hashes, how to put it back and what to trust meanwhile', () => {
    const row = functionCodeRow(running((id) => (id === 'verify' ? 'c3dhcHBlZA==' : hash(id))), deployed, 'dev');
    expect(row.ok).toBe(false);
    expect(row.detail).toBe(
      `tkp-dev-verify runs code with CodeSha256 c3dhcHBlZA==, not the ${hash('verify')} the last deploy published, so its verdicts may not be the verifier's own ` +
        '(npx serverless deploy function --function verify --stage dev, from the commit that was deployed). ' +
        'A redeploy of the stack does not put code back, since its template did not change (README: "Putting back what changed outside a deploy"). ' +
        'Until then trust no verdict without tkp audit --since the time the code changed, which judges the transcripts themselves',
    );
  });

  it('names the start function\'s risk, and a function the template records no version of', () => {
    const partial = { stackName: STACK, codeSha256: { start: hash('start'), verify: hash('verify') } };
    const row = functionCodeRow(running((id) => (id === 'start' ? 'b3RoZXI=' : hash(id))), partial, 'prod');
    expect(row.ok).toBe(false);
    expect(row.detail).toContain('tkp-dev-start runs code with CodeSha256 b3RoZXI=, not the ' + hash('start') + ' the last deploy published, so jobs may be started under other keys or not at all');
    expect(row.detail).toContain('--function start --stage prod');
    expect(row.detail).toContain(`; not compared, since ${STACK}'s template records no version of them: tkp-dev-preflight, tkp-dev-sweep, tkp-dev-bucketNotifications.`);
    expect(functionCodeRow(running(hash), partial, 'prod')).toMatchObject({ ok: true, detail: expect.stringMatching(/^2 run the code .*; not compared, since .*tkp-dev-preflight, tkp-dev-sweep, tkp-dev-bucketNotifications$/) });
  });

  it('says what a swapped preflight function could do', () => {
    const row = functionCodeRow(running((id) => (id === 'preflight' ? 'b3RoZXI=' : hash(id))), deployed, 'dev');
    expect(row.detail).toContain('tkp-dev-preflight runs code with CodeSha256 b3RoZXI=, not the ' + hash('preflight') + ' the last deploy published, so tkp check --deployed may report key proofs it never made');
  });

  it('skips without a deployed stack, and names the permission when the template or functions cannot be read', () => {
    expect(functionCodeRow(running(hash), null, 'dev')).toMatchObject({ ok: true, skipped: true, detail: 'no deployed stack records the functions\' code to compare it with' });
    expect(functionCodeRow(running(hash), { error: 'AccessDenied: no' }, 'dev')).toMatchObject({ ok: false, detail: expect.stringContaining('(AccessDenied: no); the caller needs cloudformation:GetTemplate on the stack') });
    expect(functionCodeRow({ error: 'AccessDenied: no' }, deployed, 'dev')).toMatchObject({ ok: false, detail: expect.stringContaining('the caller needs lambda:GetFunctionConfiguration') });
  });
});

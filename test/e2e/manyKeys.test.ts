import { GetPolicyCommand, GetPolicyVersionCommand, GetRolePolicyCommand, IAMClient, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localEnvironmentExports } from '../local/cli/localCommand';
import { makeWav } from '../local/emulator/mediaProbe';
import { LocalPipeline } from '../local/runtime/localPipeline';
import { LOCAL_CREDENTIALS } from '../local/runtime/provision';
import { roleName } from '../../shared/stack/stackNames';
import { motoAvailable } from '../support/moto';
import { runNode } from '../support/runNode';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/tkp.mjs', import.meta.url));
/** More keys than the verifiers' inline policies hold (their DescribeKey statements list each). */
const KEYS = 90;
const keyId = (i: number) => `${String(i).padStart(8, '0')}-1111-4222-8333-444455556666`;

/**
 * A config with a key per team, large enough that the roles need managed policies beside their
 * inline ones (shared/stack/roleResources.ts): the local mode provisions them as the stack does,
 * every team's upload is still verified, and `tkp check` passes, reading the verifiers' guards
 * from their inline policies.
 */
describe.runIf(motoAvailable('many-keys end-to-end tests'))('a config with a key per team, past a role\'s inline policy', () => {
  let pipeline: LocalPipeline;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tkp-many-keys-'));
    const rules = Array.from({ length: KEYS }, (_, i) => ({ prefix: `team-${i}/`, kmsKey: keyId(i) }));
    const configPath = join(work, 'many.config.json');
    writeFileSync(configPath, JSON.stringify({ defaults: { languageCode: 'en-US' }, rules }));
    pipeline = await LocalPipeline.start({ configPath, timeScale: 50 });
    for (const i of [0, KEYS - 1]) await pipeline.upload(`team-${i}/call.wav`, makeWav(1));
    await pipeline.settle();
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('gives each verifier role a managed policy holding what its inline policy cannot, and keeps its guards inline', async () => {
    const iam = new IAMClient({ region: 'us-east-1', endpoint: pipeline.moto.endpoint, credentials: LOCAL_CREDENTIALS });
    for (const ending of ['verify', 'sweep'] as const) {
      const RoleName = roleName({ service: 'transcribe-kms-pipeline', stage: 'local', region: 'us-east-1' }, ending);
      const { AttachedPolicies = [] } = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName }));
      expect(AttachedPolicies.map((p) => p.PolicyName)).toEqual([`${RoleName}-1`]);
      const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: AttachedPolicies[0]?.PolicyArn }));
      const { PolicyVersion } = await iam.send(new GetPolicyVersionCommand({ PolicyArn: Policy?.Arn, VersionId: Policy?.DefaultVersionId }));
      const inline = decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName, PolicyName: ending }))).PolicyDocument ?? '');
      const managed = decodeURIComponent(PolicyVersion?.Document ?? '');
      // Between them, the two policies name every key; the Deny guards are inline only.
      for (let i = 0; i < KEYS; i += 1) expect(`${inline}${managed}`).toContain(keyId(i));
      expect(JSON.parse(inline).Statement.filter((s: { Effect: string }) => s.Effect === 'Deny')).toHaveLength(2);
      expect(JSON.parse(managed).Statement.filter((s: { Effect: string }) => s.Effect === 'Deny')).toHaveLength(0);
    }
  });

  it('verifies the first and the last team\'s uploads under their own keys', () => {
    for (const i of [0, KEYS - 1]) {
      const verdict = pipeline.outcomes.find((o) => o.detail.source?.key === `team-${i}/call.wav`);
      expect([verdict?.detailType, verdict?.detail.outcome]).toEqual(['Transcript Encryption Verified', 'verified']);
      expect(JSON.stringify(verdict?.detail)).toContain(keyId(i));
    }
  });

  it('passes tkp check, the verifiers\' guards found in their inline policies', async () => {
    const run = await runNode([BIN, 'check', '--json'], { cwd: work, env: { PATH: process.env.PATH ?? '', HOME: work, ...localEnvironmentExports(pipeline) } });
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json.failed).toBe(0);
    expect(json.rows.find((r: { check: string }) => r.check === 'verifier roles')).toMatchObject({ ok: true, detail: expect.stringMatching(/verdicts refused to any code but their function's$/) });
  }, 60_000);
});

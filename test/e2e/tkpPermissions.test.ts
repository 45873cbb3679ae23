import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeWav } from '../local/emulator/mediaProbe';
import { LocalPipeline } from '../local/runtime/localPipeline';
import { motoAvailable } from '../support/moto';
import { useTkpStack } from '../support/tkpStack';

type Policy = { Version: string; Statement: { Sid?: string; Action: string[]; Resource: string | string[] }[] };
type Credentials = { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };

/**
 * Moto's IAM differs from AWS's in two ways the printed policies meet: it asks a permission for
 * sts:GetCallerIdentity, which AWS grants everyone, and it names the SQS batch APIs' actions after
 * the API (sqs:ChangeMessageVisibilityBatch), where IAM authorizes them as the single action. The
 * policy a user is given here is the printed one with those added, nothing else.
 */
function forMoto(policy: Policy): Policy {
  const batch: Record<string, string> = { 'sqs:ChangeMessageVisibility': 'sqs:ChangeMessageVisibilityBatch', 'sqs:SendMessage': 'sqs:SendMessageBatch' };
  const [metadata, ...data] = policy.Statement;
  return {
    ...policy,
    Statement: [
      { ...metadata!, Action: [...metadata!.Action, 'sts:GetCallerIdentity'] },
      ...data.map((statement) => ({ ...statement, Action: [...statement.Action, ...statement.Action.flatMap((action) => (batch[action] ? [batch[action]] : []))] })),
    ],
  };
}

/**
 * The policies `tkp COMMAND --permissions` prints, held by users of the local stack's moto with
 * moto enforcing IAM: what the command needs is granted, and the data it reaches is the stack's
 * own. The CLI talks to moto itself here (not the local mode's gateway, whose forwarding moto's
 * signature check does not accept), and moto checks identity policies against the ARNs of SQS
 * queues and S3 objects; a bucket-level S3 listing fails moto's signature check under enforcement
 * whoever sends it, so the audit's reach is shown object by object.
 */
describe.runIf(motoAvailable('tkp --permissions end-to-end tests'))('the policies tkp --permissions prints, with moto enforcing IAM', () => {
  const { stack, tkp } = useTkpStack();
  let pipeline: LocalPipeline;
  /** The local stack's environment, pointed at moto directly. */
  let atMoto: Record<string, string>;
  let iam: IAMClient;

  beforeAll(async () => {
    ({ pipeline } = stack());
    const gateway = pipeline.gateway.endpoint;
    const { localEnvironmentExports } = await import('../local/cli/localCommand');
    atMoto = Object.fromEntries(Object.entries(localEnvironmentExports(pipeline)).map(([name, value]) => [name, value.replaceAll(gateway, pipeline.moto.endpoint)]));
    iam = new IAMClient({ region: 'us-east-1', endpoint: pipeline.moto.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  });

  const printed = async (args: string[]): Promise<Policy> => {
    const run = await tkp([...args, '--permissions'], atMoto);
    expect(run.code).toBe(0);
    return run.json as Policy;
  };
  let users = 0;
  const userHolding = async (policy: Policy): Promise<Credentials> => {
    const UserName = `tkp-operator-${++users}`;
    await iam.send(new CreateUserCommand({ UserName }));
    await iam.send(new PutUserPolicyCommand({ UserName, PolicyName: 'tkp', PolicyDocument: JSON.stringify(forMoto(policy)) }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName }));
    return { AWS_ACCESS_KEY_ID: AccessKey?.AccessKeyId as string, AWS_SECRET_ACCESS_KEY: AccessKey?.SecretAccessKey as string };
  };
  /** Runs `work` with moto enforcing IAM on every request, and turns it off again whatever happens. */
  const enforcing = async <T>(work: () => Promise<T>): Promise<T> => {
    const reset = (count: string) => fetch(`${pipeline.moto.endpoint}/moto-api/reset-auth`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: count });
    expect((await reset('0')).ok).toBe(true);
    try {
      return await work();
    } finally {
      await reset('inf');
    }
  };

  it('tkp redrive runs as a user holding only its printed policy, and that policy reaches no other queue', async () => {
    await pipeline.retainDeadLetters();
    await pipeline.upload('public/permissions memo.aiff', 'FORM AIFF');
    await pipeline.settle();
    expect(await pipeline.deadLetterDepth('start')).toBe(1);

    const operator = await userHolding(await printed(['redrive']));
    // The policy printed for other queues: the same actions, none of them on this stack's queues.
    const elsewhere = (name: string) => atMoto.TKP_START_QUEUE_URL!.replace(/[^/]+$/, name);
    const stranger = await userHolding(
      await printed(['redrive', '--start-queue-url', elsewhere('other-start'), '--start-dlq-url', elsewhere('other-start-dlq'), '--verify-dlq-url', elsewhere('other-verify-dlq')]),
    );

    const [dry, refused, discard] = await enforcing(async () => [
      await tkp(['redrive', '--dry-run', '--json'], { ...atMoto, ...operator }),
      await tkp(['redrive', '--dry-run'], { ...atMoto, ...stranger }),
      await tkp(['redrive', '--discard', 'UnsupportedRecordingError', '--json'], { ...atMoto, ...operator }),
    ]);
    expect(dry.code).toBe(0);
    expect(dry.json).toMatchObject({ dryRun: true, read: 1, kept: 1, failed: 0 });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^tkp: ReceiveMessage on \S+\/tkp-start-dlq was denied .*the caller needs sqs:ReceiveMessage and sqs:DeleteMessage on that queue/s);
    expect(discard.code).toBe(0);
    expect(discard.json).toMatchObject({ read: 1, discarded: 1, failed: 0 });
    expect(await pipeline.deadLetterDepth('start')).toBe(0);
  });

  it("tkp audit's printed policy reads the transcripts and the verdict ledger, not the recordings", async () => {
    await pipeline.upload('calls/permissions.wav', makeWav(1));
    await pipeline.settle();
    const names = pipeline.stack.names;
    const asLocal = new S3Client({ region: 'us-east-1', endpoint: pipeline.moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const transcript = (await asLocal.send(new ListObjectsV2Command({ Bucket: names.transcriptBucket, Prefix: 'transcripts/' }))).Contents?.find((o) => o.Key?.endsWith('.json'))?.Key;
    const verdict = (await asLocal.send(new ListObjectsV2Command({ Bucket: names.transcriptBucket, Prefix: 'verdicts/' }))).Contents?.find((o) => o.Key?.endsWith('.json'))?.Key;
    expect(transcript).toBeDefined();
    expect(verdict).toBeDefined();

    const auditor = await userHolding(await printed(['audit']));
    const asAuditor = new S3Client({
      region: 'us-east-1',
      endpoint: pipeline.moto.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: auditor.AWS_ACCESS_KEY_ID, secretAccessKey: auditor.AWS_SECRET_ACCESS_KEY },
    });
    const head = (Bucket: string, Key: string) =>
      asAuditor.send(new HeadObjectCommand({ Bucket, Key })).then(
        () => 'read',
        (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode,
      );
    const reached = await enforcing(async () => ({
      transcript: await head(names.transcriptBucket, transcript as string),
      verdict: await head(names.transcriptBucket, verdict as string),
      recording: await head(names.inputBucket, 'calls/permissions.wav'),
    }));
    expect(reached).toEqual({ transcript: 'read', verdict: 'read', recording: 403 });
  });
});

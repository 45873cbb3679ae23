import { describe, expect, it, vi } from 'vitest';
import { jobNameFor } from '../../../shared/aws/jobName';
import { createKeyResolver } from '../../../shared/config/keyResolution';
import { validatePipelineConfig } from '../../../shared/config/pipelineConfig';
import { buildRuleIndex } from '../../../shared/config/ruleIndex';
import { explainUpload, nearMissReason, unreadableMediaReason } from '../../../shared/start/explainUpload';
import { startTranscriptionFor } from '../../../shared/start/startJob';
import { keyArn } from '../../support/fixtures';

const config = validatePipelineConfig(
  {
    defaults: { languageCode: 'en-US' },
    rules: [
      { prefix: 'calls/', kmsKey: 'alias/calls', encryptionContext: { department: 'support' } },
      { prefix: 'calls/Zürich +1/', kmsKey: 'alias/zurich' },
      { prefix: 'public/' },
      { prefix: 'hr/', kmsKey: 'alias/hr' },
    ],
  },
  { region: 'us-east-1' },
);
const ruleIndex = buildRuleIndex(config.rules);
const ARNS: Record<string, string> = { 'alias/calls': keyArn('calls'), 'alias/zurich': keyArn('zurich'), 'alias/hr': keyArn('hr') };
const lookups = () => ({
  transcriptBucket: 'out',
  resolveKey: createKeyResolver(async (keyId) => ({ KeyId: keyId, Arn: ARNS[keyId], AWSAccountId: '123456789012', KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' })),
  bucketDefaultEncryption: vi.fn(async () => ({ serverSideEncryption: 'AES256' as const })),
});
const input = (key: string, object: { size?: number; versionId?: string; eTag?: string } = { size: 100, versionId: 'v1' }) => ({
  key,
  rules: config.rules,
  ruleIndex,
  inputBucket: 'in',
  transcriptBucket: 'out',
  jobNamePrefix: 'tkp.dev.',
  object,
});

describe('explainUpload', () => {
  it.each(['calls/Zürich +1/Anruf 100% #2.wav', 'calls/a+b.wav', 'calls/with space.mp3', 'calls/日本語.flac'])(
    'for %j, explains exactly the request the start function sends',
    async (key) => {
      const explanation = await explainUpload(input(key), lookups());
      let sent: unknown;
      await startTranscriptionFor(
        {
          settings: { jobNamePrefix: 'tkp.dev.', inputBucket: 'in', transcriptBucket: 'out', ruleIndex },
          resolveKey: lookups().resolveKey,
          startJob: async (request) => {
            sent = request.input;
          },
          mediaUriOfJob: async () => undefined,
        },
        { bucket: 'in', key, size: 100, versionId: 'v1' },
      );
      expect(explanation.request).toEqual(sent);
      expect(explanation.jobName).toBe(jobNameFor('tkp.dev.', { bucket: 'in', key, versionId: 'v1' }));
    },
  );

  it('shows the key as S3 events carry it, the winning rule, the rule that lost, and the verifier\'s demand', async () => {
    const explanation = await explainUpload(input('calls/Zürich +1/Anruf 100%.wav'), lookups());
    expect(explanation).toMatchObject({
      eventKey: 'calls/Z%C3%BCrich+%2B1/Anruf+100%25.wav',
      winner: 'calls/Zürich +1/',
      considered: [
        { prefix: 'calls/', wins: false, reason: 'matches, but "calls/Zürich +1/" is longer (the longest prefix wins)' },
        { prefix: 'calls/Zürich +1/', wins: true },
      ],
      unrelatedRules: 2,
      decision: { action: 'transcribe', mediaFormat: 'wav' },
      keyArn: keyArn('zurich'),
      demand: { serverSideEncryption: 'aws:kms', kmsKeyArn: keyArn('zurich'), source: 'rule', output: 's3://out/transcripts/' },
    });
  });

  it('says when a key is skipped, and why', async () => {
    expect((await explainUpload(input('calls/notes.txt'), lookups())).decision).toEqual({ action: 'skip', reason: expect.stringContaining('unsupported extension .txt') });
    expect((await explainUpload(input('calls/empty.wav', { size: 0 }), lookups())).decision).toEqual({ action: 'skip', reason: 'zero-byte object' });
    expect((await explainUpload(input('calls/folder/'), lookups())).decision).toEqual({ action: 'skip', reason: 'folder marker' });
  });

  it('says that a name without an extension is transcribed with no MediaFormat, as the start function sends it', async () => {
    const explanation = await explainUpload(input('calls/4f0c2a9e-77b1-4c35-9d2e-0a1b2c3d4e5f'), lookups());
    expect(explanation.decision).toEqual({ action: 'transcribe' });
    expect(explanation.request).toMatchObject({ Media: { MediaFileUri: expect.stringMatching(/\/calls\/4f0c2a9e-77b1-4c35-9d2e-0a1b2c3d4e5f$/) } });
    expect((explanation.request as { MediaFormat?: string }).MediaFormat).toBeUndefined();
  });

  it('works without credentials, saying what it could not resolve', async () => {
    const explanation = await explainUpload(input('hr/a.wav', {}), undefined);
    expect(explanation.keyArn).toBeNull();
    expect(explanation.request?.OutputEncryptionKMSKeyId).toBe('<the key ARN of alias/hr>');
    expect(explanation.notes.join('\n')).toMatch(/size unknown[\s\S]*version[\s\S]*without credentials, alias\/hr is not resolved[\s\S]*the verifier will demand aws:kms/);
  });

  it('gives a key that spells an accented letter decomposed (NFD, as a Mac may) the rule whose prefix spells it composed, says why, and explains the request the start function sends', async () => {
    const key = 'calls/Zu\u0308rich +1/Anruf.wav';
    const explanation = await explainUpload(input(key), lookups());
    expect(explanation.winner).toBe('calls/Zürich +1/');
    expect(explanation.considered).toEqual([
      { prefix: 'calls/', wins: false, reason: 'matches, but "calls/Zürich +1/" is longer (the longest prefix wins)' },
      { prefix: 'calls/Zürich +1/', wins: true, reason: expect.stringMatching(/^the longest prefix of the key among the rules, once both are composed: .*decomposed, NFD.* name every one, folder by folder$/) },
    ]);
    expect(explanation.keyArn).toBe(keyArn('zurich'));
    let sent: { OutputEncryptionKMSKeyId?: string; Media?: { MediaFileUri?: string } } | undefined;
    await startTranscriptionFor(
      {
        settings: { jobNamePrefix: 'tkp.dev.', inputBucket: 'in', transcriptBucket: 'out', ruleIndex },
        resolveKey: lookups().resolveKey,
        startJob: async (request) => {
          sent = request.input as typeof sent;
        },
        mediaUriOfJob: async () => undefined,
      },
      { bucket: 'in', key, size: 100, versionId: 'v1' },
    );
    expect(explanation.request).toEqual(sent);
    // The key as stored, byte for byte: only the matching composes it.
    expect(sent?.Media?.MediaFileUri).toBe(`s3://in/${key}`);
    expect(sent?.OutputEncryptionKMSKeyId).toBe(keyArn('zurich'));
  });

  it('reports a key no rule matches, with the near misses', async () => {
    const explanation = await explainUpload(input('Calls/a.wav'), lookups());
    expect(explanation.winner).toBeNull();
    expect(explanation.considered).toEqual([{ prefix: 'calls/', wins: false, reason: expect.stringContaining('case-sensitive') }]);
    expect(explanation.request).toBeNull();
  });
});

describe('nearMissReason', () => {
  it('spots the mistakes that make a key miss its rule', () => {
    expect(nearMissReason('/calls/a.wav', 'calls/')).toContain('leading "/"');
    expect(nearMissReason('calls\\2026\\a.wav', 'calls/')).toBe(
      'matches if its "\\" were "/": a Windows tool wrote its path separator into the key, which S3 keeps as a character, so this key is in no folder; upload it again with "/"',
    );
    expect(nearMissReason('calls\\a.wav', 'legal/')).toBeUndefined();
    expect(nearMissReason('calls%2FZ%C3%BCrich+%2B1%2Fa.wav', 'calls/Zürich +1/')).toContain('--from-event');
    expect(nearMissReason('legal/a.wav', 'calls/')).toBeUndefined();
  });
});

describe('unreadableMediaReason', () => {
  it('says nothing for SSE-S3 media or media under an enabled key', () => {
    expect(unreadableMediaReason({ serverSideEncryption: 'AES256' })).toBeUndefined();
    expect(unreadableMediaReason({ serverSideEncryption: 'aws:kms', kmsKey: { id: 'k', arn: keyArn('m'), state: 'Enabled' } })).toBeUndefined();
  });

  it('names the key and its state, the failed job, and what to do', () => {
    expect(unreadableMediaReason({ serverSideEncryption: 'aws:kms', kmsKey: { id: 'k', arn: keyArn('m'), state: 'PendingDeletion' } })).toBe(
      `the media is stored under the KMS key ${keyArn('m')}, which is PendingDeletion: Transcribe cannot read it, so its job would fail (Transcription Failed); cancel the key's deletion and enable it, or upload the media again under a usable key`,
    );
    expect(unreadableMediaReason({ serverSideEncryption: 'aws:kms', kmsKey: { id: 'k', arn: keyArn('m'), state: 'Disabled' } })).toMatch(/which is Disabled: .*; enable the key, or upload/);
    expect(unreadableMediaReason({ serverSideEncryption: 'aws:kms', kmsKey: { id: 'k', arn: keyArn('m'), state: 'PendingImport' } })).toMatch(/which is PendingImport: .*; import the key's material again, or upload/);
    expect(unreadableMediaReason({ serverSideEncryption: 'aws:kms', kmsKey: { id: 'alias/gone', error: 'NotFoundException: no such key' } })).toMatch(/^the media is stored under the KMS key alias\/gone, which cannot be described \(NotFoundException: no such key\): /);
  });

  it('puts the reason among the notes of a transcribed upload, and the media as HeadObject and DescribeKey told it', async () => {
    const media = { serverSideEncryption: 'aws:kms', kmsKey: { id: 'k', arn: keyArn('m'), state: 'Disabled' } };
    const explanation = await explainUpload({ ...input('public/sealed.wav'), media }, lookups());
    expect(explanation.media).toEqual(media);
    expect(explanation.notes).toContain(unreadableMediaReason(media));
    expect((await explainUpload(input('public/open.wav'), lookups())).media).toBeNull();
  });
});

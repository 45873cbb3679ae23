/**
 * `npm run chaos`: the local pipeline under injected faults, with the accounting at the end.
 *
 *   npm run chaos -- [--objects 1000] [--seed 42] [--limit-rate 0.10] [--internal-rate 0.01]
 *                    [--duplicate-rate 0.01] [--lost-rate 0.01] [--time-scale 20]
 *
 * The uploads go under every rule of the demo config, so the three job types mix: transcription,
 * Call Analytics (two-channel audio) and medical (no completion event: the sweeper finds them).
 * Faults: LimitExceededException and InternalFailureException on every Start operation,
 * duplicate S3 notifications and duplicate completion events, lost completion events (the
 * sweeper must find those jobs), a KMS key disabled half-way through the uploads, one
 * transcript deleted before verification, one HeadObject answered with 403, and one medical
 * job deleted before the sweeper reached it (CloudTrail's record of it sends it to the verifier).
 * Exits 1 unless duplicate jobs, duplicate verdicts and unaccounted objects are all 0.
 */
import { DescribeKeyCommand, DisableKeyCommand } from '@aws-sdk/client-kms';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { DeleteMedicalTranscriptionJobCommand, TranscribeClient } from '@aws-sdk/client-transcribe';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { account, accountingHolds, formatAccounting } from '../local/runtime/accounting';
import { makeWav } from '../local/emulator/mediaProbe';
import { MOTO_DEFAULT_ACCOUNT } from '../local/emulator/moto';
import { LocalPipeline } from '../local/runtime/localPipeline';
import { buildRuleIndex, matchRule } from '../../shared/config/ruleIndex';
import { kmsClientFor, LOCAL_CREDENTIALS } from '../local/runtime/provision';
import { seededRandom } from './random';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '42' },
    'limit-rate': { type: 'string', default: '0.10' },
    'internal-rate': { type: 'string', default: '0.01' },
    'duplicate-rate': { type: 'string', default: '0.01' },
    'lost-rate': { type: 'string', default: '0.01' },
    'time-scale': { type: 'string', default: '20' },
  },
});
const objects = Number(values.objects);
const rates = {
  limit: Number(values['limit-rate']),
  internal: Number(values['internal-rate']),
  duplicate: Number(values['duplicate-rate']),
  lost: Number(values['lost-rate']),
};
const random = seededRandom(Number(values.seed));
const injected = { limitExceeded: 0, internalFailure: 0, duplicateNotifications: 0, duplicateCompletionEvents: 0, lostCompletionEvents: 0 };
const DELETED = 'chaos-deleted-transcript';
const FORBIDDEN = 'chaos-forbidden-head';
const DELETED_JOB = 'chaos-deleted-job';
const DISABLED_ALIAS = 'alias/legal-transcripts';

const started = Date.now();
const pipeline = await LocalPipeline.start({
  timeScale: Number(values['time-scale']),
  sweepGraceSeconds: 0,
  faults: {
    startError: () => {
      const roll = random();
      if (roll < rates.limit) return injected.limitExceeded++, 'LimitExceededException';
      if (roll < rates.limit + rates.internal) return injected.internalFailure++, 'InternalFailureException';
      return undefined;
    },
    loseCompletionEvent: () => random() < rates.lost && ++injected.lostCompletionEvents > 0,
    duplicateCompletionEvent: () => random() < rates.duplicate && ++injected.duplicateCompletionEvents > 0,
    deleteTranscript: (_job, mediaUri) => mediaUri.includes(DELETED),
  },
});
pipeline.addFault((request) => (request.method === 'HEAD' && request.path.includes(FORBIDDEN) ? { status: 403, code: 'Forbidden', message: 'chaos: access denied' } : undefined));

try {
  const prefixes = pipeline.config.rules.map((rule) => rule.prefix);
  const keys = Array.from({ length: objects }, (_, i) => `${prefixes[i % prefixes.length]}chaos-${String(i).padStart(5, '0')}.wav`);
  keys[3] = `${prefixes[3 % prefixes.length]}${DELETED}.wav`;
  keys[4] = `${prefixes[4 % prefixes.length]}${FORBIDDEN}.wav`;
  // A medical job, deleted once finished and before the sweeper (its only check) runs.
  const medicalPrefix = pipeline.config.rules.find((rule) => rule.job.jobType === 'medical')?.prefix;
  const deletedJobIndex = keys.findIndex((key, i) => i > 4 && medicalPrefix !== undefined && key.startsWith(medicalPrefix));
  if (deletedJobIndex >= 0) keys[deletedJobIndex] = `${medicalPrefix}${DELETED_JOB}.wav`;
  const mono = makeWav(1);
  const stereo = makeWav(1, { channels: 2 });
  const ruleIndex = buildRuleIndex(pipeline.config.rules);
  const audioFor = (key: string) => (matchRule(ruleIndex, key)?.job.jobType === 'callAnalytics' ? stereo : mono);
  console.log(`chaos: ${objects} uploads over ${prefixes.length} prefixes, seed ${values.seed}, faults ${JSON.stringify(rates)}`);

  let next = 0;
  let disabled = false;
  const uploader = async () => {
    while (next < keys.length) {
      const index = next++;
      const key = keys[index] as string;
      if (!disabled && index >= keys.length / 2) {
        disabled = true;
        const kms = kmsClientFor(pipeline.moto.endpoint, 'us-east-1', MOTO_DEFAULT_ACCOUNT);
        const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: DISABLED_ALIAS }));
        await kms.send(new DisableKeyCommand({ KeyId: KeyMetadata?.KeyId }));
        console.log(`  disabled ${DISABLED_ALIAS} after ${index} uploads`);
      }
      await pipeline.upload(key, audioFor(key));
      if (random() < rates.duplicate) {
        injected.duplicateNotifications++;
        const head = await pipeline.head(pipeline.stack.names.inputBucket, key);
        const body = { Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: pipeline.stack.names.inputBucket }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: head.ContentLength, eTag: head.ETag?.replace(/"/g, ''), versionId: head.VersionId } } }] };
        await pipeline.sqs.send(new SendMessageCommand({ QueueUrl: pipeline.stack.startQueueUrl, MessageBody: JSON.stringify(body) }));
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, uploader));
  console.log(`  uploads done after ${((Date.now() - started) / 1000).toFixed(1)} s; waiting for the pipeline to settle`);
  await pipeline.settle({ timeoutMs: 30 * 60_000 });
  const doomed = pipeline.emulator.jobs().find((job) => job.mediaUri.endsWith(`/${DELETED_JOB}.wav`));
  if (doomed) {
    const transcribe = new TranscribeClient({ region: pipeline.stack.names.region, endpoint: pipeline.emulator.endpoint, credentials: LOCAL_CREDENTIALS });
    await transcribe.send(new DeleteMedicalTranscriptionJobCommand({ MedicalTranscriptionJobName: doomed.name }));
    console.log(`  deleted medical job ${doomed.name} before the sweep`);
    await pipeline.settle({ timeoutMs: 10 * 60_000 });
  }
  console.log('  settled; running the sweeper for lost completion events and for the medical jobs, which have none');
  await pipeline.sweep({ deadLetterOnFailure: true });
  await pipeline.settle({ timeoutMs: 10 * 60_000 });

  const result = account(pipeline, keys);
  const seconds = (Date.now() - started) / 1000;
  console.log(`\ninjected: ${JSON.stringify(injected)}`);
  console.log(`emulator: ${JSON.stringify({ ...pipeline.emulator.stats, startTimes: undefined })}`);
  console.log(`\n${formatAccounting(result)}\n\nfinished in ${seconds.toFixed(1)} s`);
  mkdirSync(resolve('.local'), { recursive: true });
  writeFileSync(resolve('.local/chaos-results.json'), `${JSON.stringify({ options: values, injected, result, seconds }, null, 2)}\n`);
  const holds = accountingHolds(result);
  console.log(holds ? 'Every object is accounted for, once.' : 'THE ACCOUNTING DOES NOT HOLD.');
  process.exitCode = holds ? 0 : 1;
} finally {
  await pipeline.stop();
}

/**
 * What a running job does with S3 and KMS: reads the head of the media and probes it, fails the
 * job as the service would (unreadable, empty, wrong format, too short or too long, one channel
 * for Call Analytics, an unusable key), resolves the output key to its ARN, and writes the
 * write-access probe and every output of the job's type with the requested encryption: the
 * transcript; for Call Analytics with redaction the redacted transcript (and the unredacted one
 * only when asked for both) and, with audio redaction, the redacted audio. Tampering faults
 * write one of them under the wrong key, or no KMS key.
 */
import { DescribeKeyCommand, type KeyMetadata } from '@aws-sdk/client-kms';
import { DeleteObjectCommand, GetBucketEncryptionCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../../../shared/aws/s3Location';
import { AWS_MANAGED_S3_KEY, bucketDefaultOf } from '../../../shared/verify/bucketDefaultEncryption';
import { MEDIA_MAX_DURATION_SECONDS, MEDIA_MIN_DURATION_SECONDS, WRITE_ACCESS_PROBE_NAME } from '../../../shared/aws/transcribeModel';
import { transcriptKeyFor, type EmulatorFaults, type EmulatorOptions, type Job, type JobOutputs, type Later, type OutputKind, type TamperMode, type Timing } from './emulatorModel';
import { formatMatches, makeWav, probeMedia, PROBE_BYTES } from './mediaProbe';

export type JobResult = { outputs: JobOutputs } | { failure: string };

/** The wording is the emulator's: AWS documents that Call Analytics needs two-channel audio, not its FailureReason. */
export const MONO_CALL_FAILURE = 'Call Analytics requires two-channel audio with the agent and the customer on separate channels; this media has 1 channel. Record the call in stereo, or transcribe it with a transcription rule.';

interface OutputObject {
  kind: OutputKind;
  key: string;
  body: () => string | Buffer;
  contentType: string;
}

const OUTPUT_FIELD: Record<OutputKind, keyof JobOutputs> = {
  transcript: 'transcriptUri',
  'redacted-transcript': 'redactedTranscriptUri',
  'redacted-audio': 'redactedMediaUri',
};

export function createOutputWriter(options: EmulatorOptions, timing: Timing, later: Later, faults: () => EmulatorFaults) {
  const probedLocations = new Set<string>();
  let tamperedJob: string | undefined;

  async function readMedia(mediaUri: string): Promise<{ head: Buffer; size: number } | { failure: string }> {
    const media = parseS3Uri(mediaUri);
    if (!media) return { failure: 'The S3 URI that you provided is not valid. Check the URI and try your request again.' };
    try {
      const object = await options.s3.send(new GetObjectCommand({ Bucket: media.bucket, Key: media.key, Range: `bytes=0-${PROBE_BYTES - 1}` }));
      const head = Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
      const unreadable = object.SSEKMSKeyId ? await unusableMediaKey(object.SSEKMSKeyId) : undefined;
      if (unreadable) return { failure: unreadable };
      return { head, size: Number(/\/(\d+)$/.exec(object.ContentRange ?? '')?.[1] ?? object.ContentLength ?? head.length) };
    } catch (error) {
      if ((error as { name?: string }).name === 'InvalidRange') return { failure: 'The media file is empty. Upload a media file that contains audio and try your request again.' };
      return { failure: "The S3 URI that you provided can't be accessed. Make sure that you have read permission and try your request again." };
    }
  }

  /**
   * S3 refuses to read or write an SSE-KMS object whose key cannot be used (disabled, pending
   * deletion, gone); moto reads and writes whatever the key's state, so the emulator asks KMS
   * itself. Undefined for a usable key, else the key and what is wrong with it.
   */
  async function unusableKey(keyId: string): Promise<string | undefined> {
    let metadata: KeyMetadata | undefined;
    try {
      metadata = (await options.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
    } catch {
      metadata = undefined;
    }
    if (metadata?.KeyState === 'Enabled') return undefined;
    return `${metadata?.Arn ?? keyId}, which ${metadata?.KeyState ? `is ${metadata.KeyState}` : "doesn't exist"}`;
  }

  /** Media under a key S3 cannot decrypt with: the service cannot read it. The wording is the emulator's. */
  async function unusableMediaKey(keyId: string): Promise<string | undefined> {
    const unusable = await unusableKey(keyId);
    return unusable && `The S3 URI that you provided can't be accessed: the media is encrypted with the KMS key ${unusable}. Enable the key, or upload the media under a usable key, and try your request again.`;
  }

  /** The customer managed KMS key a write that names none gets in a bucket, as its default says (read at most once a second per bucket). */
  const bucketDefaults = new Map<string, { at: number; keyId: Promise<string | undefined> }>();
  function bucketDefaultKey(bucket: string): Promise<string | undefined> {
    const cached = bucketDefaults.get(bucket);
    if (cached && Date.now() - cached.at < 1000) return cached.keyId;
    const keyId = options.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })).then(
      (answer) => {
        const { keyId: found } = bucketDefaultOf(answer.ServerSideEncryptionConfiguration);
        // The account's AWS managed key (no key named), which AWS creates when first used, is always usable.
        return found === AWS_MANAGED_S3_KEY ? undefined : found;
      },
      () => undefined,
    );
    bucketDefaults.set(bucket, { at: Date.now(), keyId });
    return keyId;
  }

  /** A job that names no key writes under the bucket's default; S3 refuses that write when the default key cannot encrypt. */
  async function unusableBucketDefaultKey(bucket: string): Promise<string | undefined> {
    const keyId = await bucketDefaultKey(bucket);
    const unusable = keyId && (await unusableKey(keyId));
    return unusable && `Amazon Transcribe can't write to s3://${bucket}: the bucket encrypts new objects by default with the KMS key ${unusable}. Enable the key, or change the bucket's default encryption, and try your request again.`;
  }

  async function resolveOutputKey(keyId: string | undefined): Promise<{ keyArn?: string } | { failure: string }> {
    if (keyId === undefined) return {};
    let metadata: KeyMetadata | undefined;
    try {
      metadata = (await options.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
    } catch {
      return { failure: `The KMS key you specified (${keyId}) doesn't exist or Amazon Transcribe doesn't have permission to use it. Check the key and its key policy and try your request again.` };
    }
    if (metadata?.KeyState !== 'Enabled') {
      return { failure: `The KMS key you specified (${metadata?.Arn ?? keyId}) is ${metadata?.KeyState ?? 'not usable'}. Enable the key or specify a different key and try your request again.` };
    }
    if ((metadata.KeySpec ?? 'SYMMETRIC_DEFAULT') !== 'SYMMETRIC_DEFAULT' || (metadata.KeyUsage ?? 'ENCRYPT_DECRYPT') !== 'ENCRYPT_DECRYPT') {
      return { failure: `The KMS key you specified (${metadata.Arn}) isn't a symmetric encryption key. Specify a symmetric encryption key and try your request again.` };
    }
    return { ...(metadata.Arn && { keyArn: metadata.Arn }) };
  }

  /**
   * The encryption headers of a write. Without a key the service sends none, so the bucket's
   * default applies (an SSE-KMS default puts the transcript under the bucket's key).
   */
  function encryption(job: Job, keyArn: string | undefined, tamper?: TamperMode) {
    if (tamper === 'no-kms') return { ServerSideEncryption: 'AES256' as const };
    if (!keyArn && tamper !== 'wrong-key') return {};
    const arn = tamper === 'wrong-key' ? (faults().tamper?.wrongKeyArn ?? `arn:aws:kms:${options.region}:${options.account}:key/00000000-0000-4000-8000-00000000bad0`) : keyArn;
    const context = job.spec.encryptionContext;
    return {
      ServerSideEncryption: 'aws:kms' as const,
      SSEKMSKeyId: arn,
      ...(context && !tamper && { SSEKMSEncryptionContext: Buffer.from(JSON.stringify(context)).toString('base64') }),
    };
  }

  /** Runs one job to its result: its outputs' URIs, or the service's failure reason. */
  async function writeOutputs(job: Job): Promise<JobResult> {
    const spec = job.spec;
    const read = await readMedia(spec.mediaUri);
    if ('failure' in read) return read;
    if (read.size === 0) return { failure: 'The media file is empty. Upload a media file that contains audio and try your request again.' };
    const probe = probeMedia(read.head, read.size);
    if (probe.format === 'unknown' || (spec.mediaFormat !== undefined && !formatMatches(spec.mediaFormat, probe.format))) {
      return { failure: "The media format that you specified doesn't match the detected media format. Check the media format and try your request again." };
    }
    if (probe.durationSeconds !== undefined && probe.durationSeconds < MEDIA_MIN_DURATION_SECONDS) {
      return { failure: 'The audio is too short. Your media file must be at least 500 milliseconds long. Use a longer media file and try again.' };
    }
    if (probe.durationSeconds !== undefined && probe.durationSeconds > MEDIA_MAX_DURATION_SECONDS) {
      return { failure: 'The audio is too long. Your media file must be shorter than 4 hours. Split the media file and try again.' };
    }
    if (spec.needsTwoChannels && probe.channels === 1) return { failure: MONO_CALL_FAILURE };
    await new Promise((resolve) => later(timing.processingSeconds + (probe.durationSeconds ?? 0) * timing.processingPerAudioSecond, () => resolve(undefined)));

    const resolved = await resolveOutputKey(spec.kmsKeyId);
    if ('failure' in resolved) return resolved;
    const bucket = spec.outputBucket;
    const unwritable = resolved.keyArn ? undefined : await unusableBucketDefaultKey(bucket);
    if (unwritable) return { failure: unwritable };
    const key = transcriptKeyFor(job.name, spec.outputKey);
    const folder = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
    const planned = faults().tamper;
    const tamperable = planned && (tamperedJob ?? job.name) === job.name && spec.mediaUri.includes(planned.match);
    const objects = outputObjects(job, key, folder, probe);
    try {
      if (!probedLocations.has(`${bucket}/${folder}`)) {
        await options.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${folder}${WRITE_ACCESS_PROBE_NAME}`, Body: Buffer.alloc(0), ...encryption(job, resolved.keyArn) }));
        probedLocations.add(`${bucket}/${folder}`);
      }
      if (spec.identifyLanguage) job.identifiedLanguage = spec.languageOptions?.[0] ?? 'en-US';
      for (const object of objects) {
        const tamper = tamperable && (planned.output ?? 'transcript') === object.kind ? planned.mode : undefined;
        if (tamper) tamperedJob = job.name;
        await options.s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: object.key, Body: object.body(), ContentType: object.contentType, ...encryption(job, resolved.keyArn, tamper) }),
        );
      }
      if (faults().deleteTranscript?.(job.name, spec.mediaUri)) await options.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: objects[0]?.key ?? key }));
    } catch (error) {
      return { failure: `Amazon Transcribe can't write to s3://${bucket}/${key}: ${(error as Error).name}. Check the bucket policy and the key policy and try your request again.` };
    }
    const uri = (objectKey: string) => `https://s3.${options.region}.amazonaws.com/${bucket}/${objectKey.split('/').map(encodeURIComponent).join('/')}`;
    const outputs: JobOutputs = {};
    for (const object of objects) outputs[OUTPUT_FIELD[object.kind]] = uri(object.key);
    return { outputs };
  }

  /**
   * The objects a job of its type writes. A redacted Call Analytics job writes the redacted
   * transcript, and the unredacted one only for redacted_and_unredacted; with audio redaction, a
   * redacted (here: silent) copy of the call in the media's format beside them.
   */
  function outputObjects(job: Job, key: string, folder: string, probe: ReturnType<typeof probeMedia>): OutputObject[] {
    const document = () => transcriptDocument(job, options.account, probe);
    const transcript: OutputObject = { kind: 'transcript', key, body: document, contentType: 'application/json' };
    const redaction = job.spec.redaction;
    if (!redaction) return [transcript];
    const stem = key.slice(folder.length).replace(/\.json$/, '');
    const objects: OutputObject[] = [{ kind: 'redacted-transcript', key: `${folder}redacted-${stem}.json`, body: document, contentType: 'application/json' }];
    if (redaction.output === 'redacted_and_unredacted') objects.unshift(transcript);
    if (redaction.audio) {
      const seconds = Math.min(probe.durationSeconds ?? 1, 60);
      objects.push({ kind: 'redacted-audio', key: `${folder}redacted-${stem}.wav`, body: () => makeWav(seconds, { channels: 2, frequency: 0 }), contentType: 'audio/wav' });
    }
    return objects;
  }

  return {
    writeOutputs,
    /** The job whose output the tamper fault rewrote, if any has been. */
    tamperedJob: () => tamperedJob,
    /** New faults: the next matching job may be tampered with again. */
    resetTamper: () => {
      tamperedJob = undefined;
    },
  };
}

function transcriptDocument(job: Job, account: string, probe: ReturnType<typeof probeMedia>): string {
  if (job.jobType === 'callAnalytics') return callAnalyticsDocument(job, account, probe);
  const duration = probe.durationSeconds === undefined ? 'a duration the emulator cannot read from this format' : `${probe.durationSeconds.toFixed(2)} s`;
  const text =
    `[transcribe-kms-pipeline local emulator] No speech recognition ran. This transcript stands in for job ${job.name}: ` +
    `${probe.format} media of ${duration}.`;
  return JSON.stringify({
    jobName: job.name,
    accountId: account,
    status: 'COMPLETED',
    results: {
      ...(job.identifiedLanguage && { language_code: job.identifiedLanguage }),
      transcripts: [{ transcript: text }],
      items: [],
    },
  });
}

/** A Call Analytics transcript stands in with the participants of each channel. */
function callAnalyticsDocument(job: Job, account: string, probe: ReturnType<typeof probeMedia>): string {
  const channels = job.request.jobType === 'callAnalytics' ? (job.request.input.ChannelDefinitions ?? []) : [];
  return JSON.stringify({
    JobName: job.name,
    AccountId: account,
    JobStatus: 'COMPLETED',
    Participants: channels.map((channel) => ({ ParticipantRole: channel.ParticipantRole, ChannelId: channel.ChannelId })),
    Transcript: [],
    Comment: `[transcribe-kms-pipeline local emulator] No speech analytics ran: ${probe.format} media of ${probe.channels ?? 'unknown'} channel(s).`,
  });
}

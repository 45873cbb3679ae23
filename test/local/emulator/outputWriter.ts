/**
 * What a running job does with S3 and KMS: reads the head of the media and probes it, fails the
 * job as the service would (unreadable, empty, wrong format, too short or too long, an unusable
 * key), resolves the output key to its ARN, and writes the write-access probe and the transcript
 * with the requested encryption. Tampering faults write under the wrong key, or no KMS key.
 */
import { DescribeKeyCommand, type KeyMetadata } from '@aws-sdk/client-kms';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../../../shared/aws/s3Location';
import { MEDIA_MAX_DURATION_SECONDS, MEDIA_MIN_DURATION_SECONDS, WRITE_ACCESS_PROBE_NAME } from '../../../shared/aws/transcribeModel';
import { transcriptKeyFor, type EmulatorFaults, type EmulatorOptions, type Job, type Later, type TamperMode, type Timing } from './emulatorModel';
import { formatMatches, probeMedia, PROBE_BYTES } from './mediaProbe';

export type JobResult = { transcriptUri: string } | { failure: string };

export function createOutputWriter(options: EmulatorOptions, timing: Timing, later: Later, faults: () => EmulatorFaults) {
  const probedLocations = new Set<string>();
  let tamperedJob: string | undefined;

  async function readMedia(mediaUri: string): Promise<{ head: Buffer; size: number } | { failure: string }> {
    const media = parseS3Uri(mediaUri);
    if (!media) return { failure: 'The S3 URI that you provided is not valid. Check the URI and try your request again.' };
    try {
      const object = await options.s3.send(new GetObjectCommand({ Bucket: media.bucket, Key: media.key, Range: `bytes=0-${PROBE_BYTES - 1}` }));
      const head = Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
      return { head, size: Number(/\/(\d+)$/.exec(object.ContentRange ?? '')?.[1] ?? object.ContentLength ?? head.length) };
    } catch (error) {
      if ((error as { name?: string }).name === 'InvalidRange') return { failure: 'The media file is empty. Upload a media file that contains audio and try your request again.' };
      return { failure: "The S3 URI that you provided can't be accessed. Make sure that you have read permission and try your request again." };
    }
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
    const context = job.request.KMSEncryptionContext;
    return {
      ServerSideEncryption: 'aws:kms' as const,
      SSEKMSKeyId: arn,
      ...(context && !tamper && { SSEKMSEncryptionContext: Buffer.from(JSON.stringify(context)).toString('base64') }),
    };
  }

  /** Runs one job to its result: the transcript's URI, or the service's failure reason. */
  async function writeOutputs(job: Job): Promise<JobResult> {
    const input = job.request;
    const read = await readMedia(input.Media.MediaFileUri);
    if ('failure' in read) return read;
    if (read.size === 0) return { failure: 'The media file is empty. Upload a media file that contains audio and try your request again.' };
    const probe = probeMedia(read.head, read.size);
    if (probe.format === 'unknown' || (input.MediaFormat !== undefined && !formatMatches(input.MediaFormat, probe.format))) {
      return { failure: "The media format that you specified doesn't match the detected media format. Check the media format and try your request again." };
    }
    if (probe.durationSeconds !== undefined && probe.durationSeconds < MEDIA_MIN_DURATION_SECONDS) {
      return { failure: 'The audio is too short. Your media file must be at least 500 milliseconds long. Use a longer media file and try again.' };
    }
    if (probe.durationSeconds !== undefined && probe.durationSeconds > MEDIA_MAX_DURATION_SECONDS) {
      return { failure: 'The audio is too long. Your media file must be shorter than 4 hours. Split the media file and try again.' };
    }
    await new Promise((resolve) => later(timing.processingSeconds + (probe.durationSeconds ?? 0) * timing.processingPerAudioSecond, () => resolve(undefined)));

    const resolved = await resolveOutputKey(input.OutputEncryptionKMSKeyId);
    if ('failure' in resolved) return resolved;
    const bucket = input.OutputBucketName as string;
    const key = transcriptKeyFor(job.name, input.OutputKey);
    const folder = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
    try {
      if (!probedLocations.has(`${bucket}/${folder}`)) {
        await options.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${folder}${WRITE_ACCESS_PROBE_NAME}`, Body: Buffer.alloc(0), ...encryption(job, resolved.keyArn) }));
        probedLocations.add(`${bucket}/${folder}`);
      }
      const planned = faults().tamper;
      const tamper = planned && (tamperedJob ?? job.name) === job.name && input.Media.MediaFileUri.includes(planned.match) ? planned.mode : undefined;
      if (tamper) tamperedJob = job.name;
      if (input.IdentifyLanguage) job.identifiedLanguage = input.LanguageOptions?.[0] ?? 'en-US';
      await options.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: transcriptDocument(job, options.account, probe), ContentType: 'application/json', ...encryption(job, resolved.keyArn, tamper) }),
      );
      if (faults().deleteTranscript?.(job.name, input.Media.MediaFileUri)) await options.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      return { failure: `Amazon Transcribe can't write to s3://${bucket}/${key}: ${(error as Error).name}. Check the bucket policy and the key policy and try your request again.` };
    }
    return { transcriptUri: `https://s3.${options.region}.amazonaws.com/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}` };
  }

  return {
    writeOutputs,
    /** New faults: the next matching job may be tampered with again. */
    resetTamper: () => {
      tamperedJob = undefined;
    },
  };
}

function transcriptDocument(job: Job, account: string, probe: ReturnType<typeof probeMedia>): string {
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

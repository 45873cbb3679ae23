/**
 * AWS clients, each built once per container on first use. Functions import only the getters
 * they call, so the bundler leaves the other SDK clients out of their bundles. Endpoints come
 * from the SDK's own AWS_ENDPOINT_URL(_<SERVICE>) variables, which is how the local mode
 * points the same code at its emulators.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { TranscribeClient } from '@aws-sdk/client-transcribe';

let transcribe: TranscribeClient | undefined;
let transcribeStart: TranscribeClient | undefined;
let s3: S3Client | undefined;
let kms: KMSClient | undefined;
let sqs: SQSClient | undefined;
let eventBridge: EventBridgeClient | undefined;

/**
 * Transcribe answers both a full rate quota and a full concurrent-job quota with
 * LimitExceededException, which the SDK retries as throttling. Five attempts (standard mode,
 * exponential backoff with jitter) ride out a burst of GetTranscriptionJob calls near its 30 TPS
 * quota; what still fails goes back to the queue (start) or to Lambda's retry (verify). Adaptive
 * mode was tried and dropped: its client-side limiter starves the start path when throttling
 * answers are sporadic rather than a steady ceiling.
 */
export function transcribeClient(): TranscribeClient {
  return (transcribe ??= new TranscribeClient({ maxAttempts: 5 }));
}

/**
 * The start function's client: one attempt per send, because every StartTranscriptionJob attempt
 * must pass the start pacer (shared/start/startAdapters.ts), and a quota answer goes back to the
 * queue rather than being retried inside the SDK.
 */
export function transcribeStartClient(): TranscribeClient {
  return (transcribeStart ??= new TranscribeClient({ maxAttempts: 1 }));
}

/**
 * S3 emulators (moto, LocalStack) need path-style addressing, so it is on whenever an endpoint
 * override points the SDK away from AWS, unless S3_FORCE_PATH_STYLE says otherwise.
 */
export function s3ForcePathStyle(env: Record<string, string | undefined> = process.env): boolean {
  const explicit = env.S3_FORCE_PATH_STYLE;
  if (explicit === 'true' || explicit === 'false') return explicit === 'true';
  return Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
}

export function s3Client(): S3Client {
  return (s3 ??= new S3Client({ forcePathStyle: s3ForcePathStyle() }));
}

export function kmsClient(): KMSClient {
  return (kms ??= new KMSClient({}));
}

export function sqsClient(): SQSClient {
  return (sqs ??= new SQSClient({}));
}

export function eventBridgeClient(): EventBridgeClient {
  return (eventBridge ??= new EventBridgeClient({}));
}

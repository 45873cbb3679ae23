/**
 * What a cold invocation costs the AWS SDK alone. A replay floor is a handler's floor (floors.ts)
 * whose handler sends, with the same SDK clients and commands, exactly the requests the packaged
 * handler sent for the bench's event, as the canned responder recorded them. Its first
 * invocation is the SDK's first-call work for those requests (serializers, endpoint rules,
 * signing, Node's HTTP stack) with none of the project's code, so the cold-invocation figure can
 * be read against it: what the handler adds over its load, beside what the same requests alone add.
 */
import { join } from 'node:path';
import type { RecordedRequest } from '../support/invokeBundle';
import { bundleLikeServerless, CLIENTS, floorSource, type FunctionName } from './floors';

/** The X-Amz-Target service of each JSON-protocol client, and the operations a replay may meet. */
const JSON_SERVICES: Record<string, { pkg: string; client: string; operations: string[] }> = {
  Transcribe: {
    pkg: '@aws-sdk/client-transcribe',
    client: 'TranscribeClient',
    operations: [
      'StartTranscriptionJob',
      'StartCallAnalyticsJob',
      'StartMedicalTranscriptionJob',
      'GetTranscriptionJob',
      'GetCallAnalyticsJob',
      'GetMedicalTranscriptionJob',
      'ListTranscriptionJobs',
      'ListCallAnalyticsJobs',
      'ListMedicalTranscriptionJobs',
    ],
  },
  TrentService: { pkg: '@aws-sdk/client-kms', client: 'KMSClient', operations: ['DescribeKey'] },
  AWSEvents: { pkg: '@aws-sdk/client-eventbridge', client: 'EventBridgeClient', operations: ['PutEvents'] },
  AmazonSQS: { pkg: '@aws-sdk/client-sqs', client: 'SQSClient', operations: ['SendMessage', 'ChangeMessageVisibility'] },
};
const S3_OPERATIONS = ['HeadObject', 'PutObject', 'GetObject', 'GetBucketEncryption'];

function replaySource(fn: FunctionName): string {
  const packages = new Set(CLIENTS[fn].map(([pkg]) => pkg));
  const services = Object.entries(JSON_SERVICES).filter(([, service]) => packages.has(service.pkg));
  const s3 = packages.has('@aws-sdk/client-s3');
  const extra = [
    ...services.map(([, service]) => `import { ${service.operations.map((op) => `${op}Command`).join(', ')} } from '${service.pkg}';`),
    ...(s3 ? [`import { ${S3_OPERATIONS.map((op) => `${op}Command`).join(', ')} } from '@aws-sdk/client-s3';`] : []),
    // The handler's S3 client is path-style whenever an endpoint override is set, as here.
    ...(s3 ? [`const s3 = new S3Client({ forcePathStyle: true });`] : []),
    `const byService = {${services.map(([name, service]) => `${name}: [clients.find((c) => c instanceof ${service.client}), {${service.operations.map((op) => `${op}: ${op}Command`).join(', ')}}]`).join(', ')}};`,
    `const answered = (error) => { if (!error || !error.$metadata) throw error; };`,
    `async function send(r) {`,
    `  if (r.target) {`,
    `    const [service, operation] = r.target.split('.');`,
    `    const [client, commands] = byService[service] ?? [];`,
    `    const Command = commands?.[operation];`,
    `    if (!client || !Command) throw new Error('the replay floor cannot send ' + r.target);`,
    `    return client.send(new Command(JSON.parse(r.body || '{}'))).catch(answered);`,
    `  }`,
    ...(s3
      ? [
          `  const url = new URL(r.path, 'http://responder');`,
          `  const [, Bucket, ...rest] = url.pathname.split('/');`,
          `  const Key = decodeURIComponent(rest.join('/'));`,
          `  if (r.method === 'HEAD') return s3.send(new HeadObjectCommand({ Bucket, Key })).catch(answered);`,
          `  if (r.method === 'PUT') return s3.send(new PutObjectCommand({ Bucket, Key, Body: r.body, ContentLength: Buffer.byteLength(r.body), IfNoneMatch: r.ifNoneMatch, IfMatch: r.ifMatch })).catch(answered);`,
          `  if (r.method === 'GET' && url.searchParams.has('encryption')) return s3.send(new GetBucketEncryptionCommand({ Bucket })).catch(answered);`,
          `  if (r.method === 'GET') return s3.send(new GetObjectCommand({ Bucket, Key })).then((o) => o.Body?.transformToString()).catch(answered);`,
        ]
      : []),
    `  throw new Error('the replay floor cannot send ' + r.method + ' ' + r.path);`,
    `}`,
  ];
  return floorSource(fn, { extra, handler: '{ for (const r of event.requests) await send(r); }' });
}

/** Builds the replay floor of one function beside its floor. */
export function buildReplayFloor(root: string, outDir: string, fn: FunctionName): Promise<string> {
  return bundleLikeServerless(root, replaySource(fn), join(outDir, `${fn}.replay.cjs`));
}

/**
 * Below the SDK: the start function's floor whose handler sends one plain `node:http` GET to the
 * endpoint the SDK would use, and reads the answer. Its first event is what Node's own HTTP stack
 * costs a process on its first request (the client request, the socket, the parser), which every
 * SDK client's first call pays too.
 */
export function buildHttpFloor(root: string, outDir: string): Promise<string> {
  const extra = [`import { request } from 'node:http';`];
  const handler = `new Promise((resolve, reject) => { request(process.env.AWS_ENDPOINT_URL + '/', (res) => { res.resume(); res.on('end', resolve); }).on('error', reject).end(); })`;
  return bundleLikeServerless(root, floorSource('start', { extra, handler }), join(outDir, 'start.http.cjs'));
}

/** The requests as a multiset, for checking that a replay sent what the handler sent (order aside: the handler sends some at once). */
export function requestSignature(requests: readonly RecordedRequest[]): string[] {
  return requests.map((r) => r.target ?? `${r.method} ${r.path.replace(/\?.*$/, '')}`).sort();
}

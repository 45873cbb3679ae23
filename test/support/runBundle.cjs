// Runs one packaged handler bundle in a fresh process, as Lambda would:
//   node runBundle.cjs BUNDLE EVENT_JSON   load the bundle and handle one event
//   node runBundle.cjs BUNDLE -            only load the bundle (the baseline of a cold invocation)
// AWS is answered by a minimal canned responder on loopback that records each request, so what
// the bundle sends can be asserted and a timing measures the bundle, not an emulator. Prints one
// JSON line: the handler's result or error (name, message) and the requests.
const http = require('node:http');

const [bundle, eventJson] = process.argv.slice(2);
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const keyArn = `arn:aws:kms:us-east-1:123456789012:key/${KEY_ID}`;
const requests = [];

/** The answer to one request: JSON services by X-Amz-Target, S3 by method and path. */
function answer(req, body) {
  const target = req.headers['x-amz-target'] ?? '';
  const json = (value) => ({ status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(value) });
  if (target === 'TrentService.DescribeKey') {
    return json({ KeyMetadata: { KeyId: KEY_ID, Arn: keyArn, AWSAccountId: '123456789012', KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' } });
  }
  if (target === 'Transcribe.StartTranscriptionJob') return json({ TranscriptionJob: { TranscriptionJobName: JSON.parse(body).TranscriptionJobName, TranscriptionJobStatus: 'QUEUED' } });
  if (target === 'Transcribe.GetTranscriptionJob') {
    const name = JSON.parse(body).TranscriptionJobName;
    return json({
      TranscriptionJob: {
        TranscriptionJobName: name,
        TranscriptionJobStatus: 'COMPLETED',
        CreationTime: Date.now() / 1000 - 60,
        Media: { MediaFileUri: `s3://${process.env.INPUT_BUCKET}/calls/bench.wav` },
        Transcript: { TranscriptFileUri: `https://s3.us-east-1.amazonaws.com/${process.env.TRANSCRIPT_BUCKET}/transcripts/${name}.json` },
        Tags: [
          { Key: 'tkp:expected-sse', Value: 'aws:kms' },
          { Key: 'tkp:expected-kms-key-arn', Value: keyArn },
        ],
      },
    });
  }
  if (target === 'AWSEvents.PutEvents') return json({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  if (target) return json({});
  if (req.method === 'HEAD') {
    return { status: 200, headers: { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': keyArn, 'content-length': '0' }, body: '' };
  }
  if (req.method === 'GET' && req.url.includes('encryption')) {
    return {
      status: 200,
      headers: { 'content-type': 'application/xml' },
      body: '<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>',
    };
  }
  if (req.method === 'GET') return { status: 404, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>NoSuchKey</Code><Message>none</Message></Error>' };
  return { status: 200, headers: { etag: '"e-1"' }, body: '' };
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    requests.push({
      target: req.headers['x-amz-target'] ?? null,
      method: req.method,
      path: req.url,
      body,
      ...(req.headers['if-none-match'] && { ifNoneMatch: req.headers['if-none-match'] }),
      ...(req.headers['if-match'] && { ifMatch: req.headers['if-match'] }),
    });
    const reply = answer(req, body);
    res.writeHead(reply.status, { ...reply.headers, ...(req.method !== 'HEAD' && { 'content-length': Buffer.byteLength(reply.body) }) });
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  });
});

server.listen(0, '127.0.0.1', async () => {
  const endpoint = `http://127.0.0.1:${server.address().port}`;
  process.env.AWS_ENDPOINT_URL = endpoint;
  // The SQS client sends to the queue URL's own host, so queue URLs point at the responder too.
  for (const [name, value] of Object.entries(process.env)) {
    if (value?.startsWith('https://sqs.')) process.env[name] = value.replace(/^https:\/\/[^/]+/, endpoint);
  }
  let outcome;
  try {
    const { handler } = require(bundle);
    if (eventJson === '-') {
      outcome = { loaded: true };
    } else {
      const context = { functionName: 'bundle', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 60_000 };
      outcome = { result: await handler(JSON.parse(eventJson), context) };
    }
  } catch (error) {
    outcome = { error: { name: error?.name, message: error?.message } };
  }
  server.close();
  process.stdout.write(`${JSON.stringify({ ...outcome, requests })}\n`);
  process.exit(0);
});

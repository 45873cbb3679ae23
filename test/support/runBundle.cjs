// Runs one packaged handler bundle in a fresh process, as Lambda would: `node runBundle.cjs BUNDLE EVENT_JSON`.
// AWS is answered by a canned responder on loopback ({} with 200) that records each request,
// so what the bundle would send to AWS can be asserted. Prints one JSON line: the handler's
// result or error (name, message) and the requests.
const http = require('node:http');

const [bundle, eventJson] = process.argv.slice(2);
const requests = [];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    requests.push({ target: req.headers['x-amz-target'] ?? null, path: req.url, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
    res.end('{}');
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
    const context = { functionName: 'bundle', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 60_000 };
    outcome = { result: await handler(JSON.parse(eventJson), context) };
  } catch (error) {
    outcome = { error: { name: error?.name, message: error?.message } };
  }
  server.close();
  process.stdout.write(`${JSON.stringify({ ...outcome, requests })}\n`);
  process.exit(0);
});

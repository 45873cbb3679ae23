import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto, type Moto } from '../local/emulator/moto';
import { LOCAL_CREDENTIALS } from '../local/runtime/provision';
import { motoAvailable } from '../support/moto';
import { MOTO_SEEDING_SERVER, putObjectsInMoto, type SeedObject } from './auditBench';

const BUCKET = 'tkp-bench-seeded';
const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OBJECTS: Omit<SeedObject, 'key'>[] = [
  { bucket: BUCKET, body: '{"jobName":"a"}', encryption: 'aws:kms', kmsKeyId: KEY_ARN },
  { bucket: BUCKET, body: '{"jobName":"b"}', encryption: 'AES256', kmsKeyId: null },
  { bucket: BUCKET, body: '', encryption: null, kmsKeyId: null },
];

/** What a reader of the object sees, less what differs between any two writes (time, request). */
function seen(head: HeadObjectCommandOutput) {
  const { $metadata, LastModified, ...rest } = head;
  expect($metadata.httpStatusCode).toBe(200);
  expect(LastModified).toBeInstanceOf(Date);
  return rest;
}

describe.runIf(motoAvailable("the audit bench's seeding route"))("the audit bench's seeding route (moto_seeding_server.py)", () => {
  let moto: Moto;
  let s3: S3Client;
  beforeAll(async () => {
    moto = await startMoto({ server: MOTO_SEEDING_SERVER });
    s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  afterAll(async () => moto?.stop());

  it('stores objects that read back exactly as the same objects sent by PutObject', async () => {
    for (const [i, object] of OBJECTS.entries()) {
      await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: `put/${i}`,
          Body: object.body,
          ...(object.encryption ? { ServerSideEncryption: object.encryption } : {}),
          ...(object.kmsKeyId ? { SSEKMSKeyId: object.kmsKeyId } : {}),
        }),
      );
    }
    await putObjectsInMoto(moto.endpoint, OBJECTS.map((object, i) => ({ ...object, key: `seeded/${i}` })));
    for (const [i, object] of OBJECTS.entries()) {
      const put = seen(await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `put/${i}` })));
      const seeded = seen(await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `seeded/${i}` })));
      expect(seeded).toEqual(put);
      // moto names no encryption for an object put without any (S3 would say AES256): as PutObject's.
      expect(seeded.ServerSideEncryption).toBe(object.encryption ?? undefined);
      expect(seeded.SSEKMSKeyId).toBe(object.kmsKeyId ?? undefined);
      const body = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `seeded/${i}` }))).Body?.transformToString();
      expect(body).toBe(object.body);
    }
  });

  it('stores every object of a batch larger than one request, where a listing finds them', async () => {
    const many = Array.from({ length: 2500 }, (_, i) => ({ bucket: BUCKET, key: `many/${String(i).padStart(4, '0')}`, body: String(i), encryption: null, kmsKeyId: null }));
    await putObjectsInMoto(moto.endpoint, many);
    let listed = 0;
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'many/', ContinuationToken: token }));
      listed += page.KeyCount ?? 0;
      token = page.NextContinuationToken;
    } while (token);
    expect(listed).toBe(2500);
  });

  it('refuses a batch for a bucket that does not exist, naming the bucket error', async () => {
    await expect(putObjectsInMoto(moto.endpoint, [{ bucket: 'tkp-bench-missing', key: 'k', body: '', encryption: null, kmsKeyId: null }])).rejects.toThrow(/refused a batch \(HTTP 400\).*NoSuchBucket/);
  });
});

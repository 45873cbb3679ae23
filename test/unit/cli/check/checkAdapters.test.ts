import {
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketReplicationCommand,
  GetPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { readBucketExposure } from '../../../../shared/cli/check/checkAdapters';

const awsError = (name: string, status: number) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'eu-west-1' });
const OWNER = '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a';

beforeEach(() => s3Mock.reset());

describe('readBucketExposure', () => {
  it('reads a bucket with none of the settings as facts, not errors, and its ACL grants to anyone but its owner while ACLs are on', async () => {
    s3Mock.on(GetPublicAccessBlockCommand).rejects(awsError('NoSuchPublicAccessBlockConfiguration', 404));
    s3Mock.on(GetBucketOwnershipControlsCommand).rejects(awsError('OwnershipControlsNotFoundError', 404));
    s3Mock.on(GetBucketPolicyCommand).rejects(awsError('NoSuchBucketPolicy', 404));
    s3Mock.on(GetBucketReplicationCommand).rejects(awsError('ReplicationConfigurationNotFoundError', 404));
    s3Mock.on(GetBucketAclCommand).resolves({
      Owner: { ID: OWNER },
      Grants: [
        { Grantee: { Type: 'CanonicalUser', ID: OWNER }, Permission: 'FULL_CONTROL' },
        { Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' }, Permission: 'READ' },
      ],
    });
    expect(await readBucketExposure(s3, 'tkp-dev-input')).toEqual({
      publicAccessBlock: null,
      aclGrants: [{ grantee: 'http://acs.amazonaws.com/groups/global/AllUsers', permission: 'READ' }],
      policy: null,
      replication: [],
    });
    expect(s3Mock.commandCalls(GetBucketAclCommand)[0]?.args[0].input).toEqual({ Bucket: 'tkp-dev-input' });
  });

  it('reads the settings that are on, the policy given to it, the replication rules, and no ACL once ACLs are disabled', async () => {
    s3Mock.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: true } });
    s3Mock.on(GetBucketOwnershipControlsCommand).resolves({ OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } });
    s3Mock.on(GetBucketReplicationCommand).resolves({
      ReplicationConfiguration: {
        Role: 'arn:aws:iam::123456789012:role/r',
        Rules: [{ ID: 'leak', Status: 'Enabled', Destination: { Bucket: 'arn:aws:s3:::elsewhere', Account: '999988887777' } }, { Status: 'Disabled', Destination: { Bucket: 'arn:aws:s3:::dr' } }],
      },
    });
    const statements = [{ Sid: 'A', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }];
    expect(await readBucketExposure(s3, 'tkp-dev-transcripts', Promise.resolve({ statements }))).toEqual({
      publicAccessBlock: ['BlockPublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'],
      objectOwnership: 'BucketOwnerEnforced',
      aclGrants: [],
      policy: statements,
      replication: [
        { id: 'leak', enabled: true, destination: 'arn:aws:s3:::elsewhere', destinationAccount: '999988887777' },
        { enabled: false, destination: 'arn:aws:s3:::dr' },
      ],
    });
    expect(s3Mock.commandCalls(GetBucketAclCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(GetBucketPolicyCommand)).toHaveLength(0);
  });

  it('throws a refusal with the permission it needs named', async () => {
    s3Mock.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: {} });
    s3Mock.on(GetBucketOwnershipControlsCommand).resolves({ OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } });
    s3Mock.on(GetBucketPolicyCommand).resolves({});
    s3Mock.on(GetBucketReplicationCommand).rejects(awsError('AccessDenied', 403));
    await expect(readBucketExposure(s3, 'tkp-dev-input')).rejects.toThrow(/AccessDenied.*\(s3:GetReplicationConfiguration\)$/);
  });
});

import { describe, expect, it } from 'vitest';
import { aliasesByAccount, parseKeyArn, parseKeyReference } from '../../../shared/aws/keyReference';

describe('parseKeyReference', () => {
  it('reads a key ID', () => {
    expect(parseKeyReference('1234abcd-12ab-34cd-56ef-1234567890ab')).toEqual({
      form: 'key-id',
      value: '1234abcd-12ab-34cd-56ef-1234567890ab',
      keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    });
  });

  it('reads a multi-Region key ID', () => {
    expect(parseKeyReference('mrk-1234abcd12ab34cd56ef1234567890ab')?.form).toBe('key-id');
  });

  it('reads an alias name', () => {
    expect(parseKeyReference('alias/legal-transcripts')).toMatchObject({ form: 'alias', aliasName: 'alias/legal-transcripts' });
  });

  it('reads a key ARN with its account and region', () => {
    expect(parseKeyReference('arn:aws:kms:eu-west-1:222233334444:key/1234abcd-12ab-34cd-56ef-1234567890ab')).toMatchObject({
      form: 'key-arn',
      partition: 'aws',
      region: 'eu-west-1',
      account: '222233334444',
      keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    });
  });

  it('reads an alias ARN in another partition', () => {
    expect(parseKeyReference('arn:aws-us-gov:kms:us-gov-west-1:222233334444:alias/acme')).toMatchObject({
      form: 'alias-arn',
      partition: 'aws-us-gov',
      region: 'us-gov-west-1',
      aliasName: 'alias/acme',
    });
  });

  it.each([
    ['an empty string', ''],
    ['an alias without the alias/ prefix', 'legal-transcripts'],
    ['a key ID with upper-case hex', '1234ABCD-12ab-34cd-56ef-1234567890ab'],
    ['a truncated key ID', '1234abcd-12ab-34cd-56ef'],
    ['an ARN of another service', 'arn:aws:s3:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    ['an ARN with a short account', 'arn:aws:kms:us-east-1:1234:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    ['an ARN naming a key by alias path', 'arn:aws:kms:us-east-1:123456789012:key/alias/x'],
    ['an alias with a space', 'alias/legal transcripts'],
  ])('rejects %s', (_label, value) => {
    expect(parseKeyReference(value)).toBeUndefined();
  });

  it('parseKeyArn accepts only key ARNs', () => {
    expect(parseKeyArn('arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab')?.keyId).toBe(
      '1234abcd-12ab-34cd-56ef-1234567890ab',
    );
    expect(parseKeyArn('arn:aws:kms:us-east-1:123456789012:alias/x')).toBeUndefined();
  });
});

describe('aliasesByAccount', () => {
  it('groups aliases by the account they live in, bare names under the caller\'s own, and leaves key IDs and key ARNs out', () => {
    const refs = [
      'alias/zeta',
      'arn:aws:kms:us-east-1:222233334444:alias/acme',
      '1234abcd-12ab-34cd-56ef-1234567890ab',
      'alias/alpha',
      'arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321',
      'alias/zeta',
      'arn:aws:kms:us-east-1:222233334444:alias/acme-2',
    ].map(parseKeyReference);
    expect([...aliasesByAccount([...refs, undefined])]).toEqual([
      [undefined, ['alias/alpha', 'alias/zeta']],
      ['222233334444', ['alias/acme', 'alias/acme-2']],
    ]);
    expect(aliasesByAccount([parseKeyReference('1234abcd-12ab-34cd-56ef-1234567890ab')]).size).toBe(0);
  });
});

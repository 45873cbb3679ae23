import { describe, expect, it } from 'vitest';
import { allowsRequest, deniesRequest, type PolicyStatement } from '../../../../shared/cli/check/policyStatement';

const ROLE = 'arn:aws:iam::123456789012:role/tkp-dev-us-east-1-verify';
const publish = (principal: string, context: Record<string, string | undefined> = {}) => ({ principal, action: 'sns:Publish', resource: 'arn:aws:sns:us-east-1:123456789012:t', context });

describe('allowsRequest', () => {
  it('tells a service principal from an IAM principal: each statement speaks of the one it names, `*` of both', () => {
    const toService: PolicyStatement = { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sns:Publish', Resource: '*' };
    const toRole: PolicyStatement = { Effect: 'Allow', Principal: { AWS: ROLE }, Action: 'sns:Publish', Resource: '*' };
    expect(allowsRequest([toService], publish('events.amazonaws.com'))).toBe(true);
    expect(allowsRequest([toService], publish(ROLE))).toBe(false);
    expect(allowsRequest([toRole], publish('events.amazonaws.com'))).toBe(false);
    expect(allowsRequest([toRole], publish(ROLE))).toBe(true);
    for (const Principal of ['*', { AWS: '*' }]) expect(allowsRequest([{ ...toRole, Principal }], publish('cloudwatch.amazonaws.com'))).toBe(true);
  });

  it('lets a Deny win, and nothing through without an Allow', () => {
    const allow: PolicyStatement = { Effect: 'Allow', Principal: '*', Action: 'sns:*', Resource: '*' };
    const deny: PolicyStatement = { Effect: 'Deny', Principal: '*', NotAction: 'sns:Subscribe', Resource: '*' };
    expect(allowsRequest([allow, deny], publish(ROLE))).toBe(false);
    expect(deniesRequest([allow, deny], publish(ROLE))).toBe(true);
    expect(allowsRequest([], publish(ROLE))).toBe(false);
  });

  it('says which condition it could not evaluate, where the answer turns on it', () => {
    const allow: PolicyStatement = { Sid: 'FromVpc', Effect: 'Allow', Principal: '*', Action: 'sns:Publish', Resource: '*', Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1' } } };
    expect(allowsRequest([allow], publish(ROLE))).toBe('FromVpc uses StringEquals on aws:SourceVpce');
    const deny: PolicyStatement = { ...allow, Sid: 'NotFromVpc', Effect: 'Deny' };
    const plain: PolicyStatement = { Effect: 'Allow', Principal: '*', Action: 'sns:Publish', Resource: '*' };
    expect(allowsRequest([plain, deny], publish(ROLE))).toBe('NotFromVpc uses StringEquals on aws:SourceVpce');
    // An absent key is known absent: the request does not carry it, so StringEquals fails.
    expect(allowsRequest([{ ...allow, Condition: { StringEquals: { 'aws:SourceOwner': '1' } } }], publish('events.amazonaws.com', { 'aws:sourceowner': undefined }))).toBe(false);
  });
});

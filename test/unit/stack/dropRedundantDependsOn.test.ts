import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { dropRedundantDependsOn } = require('../../../shared/stack/dropRedundantDependsOn.cjs') as {
  dropRedundantDependsOn(resources: Record<string, { DependsOn?: string | string[]; Properties?: unknown }>): Record<string, { DependsOn?: string | string[] }>;
};

describe('dropRedundantDependsOn', () => {
  it('drops the DependsOn a GetAtt, Ref or Fn::Sub already enforces, and keeps the rest', () => {
    const resources = dropRedundantDependsOn({
      Fn: { DependsOn: ['FnLogGroup', 'FnRole'], Properties: { Role: { 'Fn::GetAtt': ['FnRole', 'Arn'] } } },
      Mapping: { DependsOn: 'FnRole', Properties: { FunctionName: { Ref: 'Fn' } } },
      Bucket: { DependsOn: ['QueuePolicy'], Properties: { Queue: { 'Fn::Sub': 'arn:${AWS::Partition}:sqs:${Queue.Arn}' } } },
      Policy: { DependsOn: ['Queue'], Properties: { Target: { 'Fn::Sub': ['x-${Name}', { Name: { Ref: 'Queue' } }] } } },
      Dotted: { DependsOn: ['Role'], Properties: { Role: { 'Fn::GetAtt': 'Role.Arn' } } },
      Plain: { Properties: { Name: 'x' } },
    });
    expect(resources.Fn?.DependsOn).toEqual(['FnLogGroup']);
    expect(resources.Mapping?.DependsOn).toBe('FnRole');
    expect(resources.Bucket?.DependsOn).toEqual(['QueuePolicy']);
    expect(resources.Policy).not.toHaveProperty('DependsOn');
    expect(resources.Dotted).not.toHaveProperty('DependsOn');
    expect(resources.Plain).not.toHaveProperty('DependsOn');
  });
});

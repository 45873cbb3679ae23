import { describe, expect, it } from 'vitest';
import { duplicateMemberProblems, duplicateMembers } from '../../../shared/config/duplicateMembers';

describe('duplicateMembers: what JSON.parse drops without a word', () => {
  it('finds a member named twice in one object, at any depth, with the line of each', () => {
    const text = ['{', '  "rules": [', '    { "prefix": "a/" },', '    { "prefix": "hr/", "kmsKey": "alias/hr",', '      "kmsKey": "alias/public" }', '  ],', '  "defaults": { "languageCode": "en-US" },', '  "rules": []', '}'].join('\n');
    expect(duplicateMembers(text)).toEqual([
      { path: 'rules[1].kmsKey', lines: [4, 5] },
      { path: 'rules', lines: [2, 8] },
    ]);
  });

  it('counts a third occurrence, names members that are not identifiers in brackets, and reads escapes as JSON does', () => {
    expect(duplicateMembers('{"a":1,"a":2,"a":3}')).toEqual([{ path: 'a', lines: [1, 1, 1] }]);
    expect(duplicateMembers('{"rules":[{"encryptionContext":{"cost centre":"x","cost\\u0020centre":"y"}}]}')).toEqual([{ path: 'rules[0].encryptionContext["cost centre"]', lines: [1, 1] }]);
  });

  it('takes the same name in sibling objects, in arrays and in string values as it should: not a duplicate', () => {
    const text = JSON.stringify({ rules: [{ prefix: 'a/', kmsKey: 'k' }, { prefix: 'b/', kmsKey: 'k', output: { prefix: '"prefix": ,{' } }], prefix: ['prefix', 'prefix'] }, null, 2);
    expect(duplicateMembers(text)).toEqual([]);
    expect(duplicateMemberProblems(text)).toEqual([]);
  });

  it('says what to change', () => {
    expect(duplicateMemberProblems('{"defaults":{"languageCode":"en-US","languageCode":"de-DE"}}')).toEqual([
      'defaults.languageCode appears 2 times (lines 1, 1); JSON keeps only the last, while a reader sees the first: keep one and delete the others',
    ]);
  });
});

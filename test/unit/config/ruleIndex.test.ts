import { describe, expect, it } from 'vitest';
import { buildRuleIndex, matchRule } from '../../../shared/config/ruleIndex';

const rules = [{ prefix: 'partners/' }, { prefix: 'partners/acme/' }, { prefix: 'calls/' }, { prefix: 'calls' }];
const index = buildRuleIndex(rules);

describe('matchRule', () => {
  it('picks the longest matching prefix', () => {
    expect(matchRule(index, 'partners/acme/q3/call.wav')?.prefix).toBe('partners/acme/');
    expect(matchRule(index, 'partners/globex/call.wav')?.prefix).toBe('partners/');
  });

  it('distinguishes a prefix with and without the slash', () => {
    expect(matchRule(index, 'calls/x.wav')?.prefix).toBe('calls/');
    expect(matchRule(index, 'callsign.wav')?.prefix).toBe('calls');
  });

  it('returns undefined when no rule matches', () => {
    expect(matchRule(index, 'other/x.wav')).toBeUndefined();
    expect(matchRule(index, '')).toBeUndefined();
  });

  it('lets an empty prefix match everything that nothing longer matches', () => {
    const withRoot = buildRuleIndex([{ prefix: '' }, { prefix: 'a/' }]);
    expect(matchRule(withRoot, 'z.wav')?.prefix).toBe('');
    expect(matchRule(withRoot, 'a/z.wav')?.prefix).toBe('a/');
  });

  it('matches keys with non-ASCII characters and astral symbols by code unit', () => {
    const unicode = buildRuleIndex([{ prefix: 'Überprüfung/' }, { prefix: '🎙/' }]);
    expect(matchRule(unicode, 'Überprüfung/café.wav')?.prefix).toBe('Überprüfung/');
    expect(matchRule(unicode, '🎙/x.wav')?.prefix).toBe('🎙/');
    expect(matchRule(unicode, 'Uberprufung/x.wav')).toBeUndefined();
  });

  it('matches a key and a prefix that spell an accented letter differently (composed NFC, decomposed NFD as a Mac may), and nothing else', () => {
    const composed = buildRuleIndex([{ prefix: '' }, { prefix: 'Überprüfung/' }]);
    expect(matchRule(composed, 'U\u0308berpru\u0308fung/café.wav')?.prefix).toBe('Überprüfung/');
    // Partly decomposed, as some tools write.
    expect(matchRule(composed, 'Überpru\u0308fung/x.wav')?.prefix).toBe('Überprüfung/');
    const decomposed = buildRuleIndex([{ prefix: '' }, { prefix: 'U\u0308berpru\u0308fung/' }]);
    expect(matchRule(decomposed, 'Überprüfung/café.wav')?.prefix).toBe('U\u0308berpru\u0308fung/');
    // Compatibility forms are other letters: "ﬁ" is not "fi", and a letter without its accent is another letter.
    expect(matchRule(buildRuleIndex([{ prefix: '' }, { prefix: 'fi/' }]), '\uFB01/x.wav')?.prefix).toBe('');
    expect(matchRule(composed, 'Uberprufung/x.wav')?.prefix).toBe('');
  });

  it('agrees with a linear scan over many rules', () => {
    const many = Array.from({ length: 2000 }, (_, i) => ({ prefix: `tenant-${(i % 500).toString().padStart(4, '0')}/${i >= 500 ? `team-${i}/` : ''}` }));
    const unique = [...new Map(many.map((r) => [r.prefix, r])).values()];
    const big = buildRuleIndex(unique);
    const linear = (key: string) =>
      unique.filter((r) => key.startsWith(r.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
    for (const key of ['tenant-0007/team-507/a.wav', 'tenant-0007/team-9/a.wav', 'tenant-0499/x', 'tenant-9999/x', 'tenant-0001']) {
      expect(matchRule(big, key)).toBe(linear(key));
    }
  });
});

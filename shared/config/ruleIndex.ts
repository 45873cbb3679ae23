interface TrieNode<T> {
  children?: Map<number, TrieNode<T>>;
  rule?: T;
}

export interface RuleIndex<T> {
  readonly root: TrieNode<T>;
}

/**
 * Builds a character trie over the rule prefixes. A lookup walks the key once and stops where
 * no rule continues, so its cost depends on the key, not on how many rules there are.
 *
 * Prefixes and keys are compared in Unicode's composed form (NFC): an upload named on a Mac may
 * spell "Ü" as "U" and a combining diaeresis (NFD), and it belongs under the rule whose prefix
 * looks the same, not under a parent rule with another key. The config refuses two prefixes that
 * are the same once composed, and the stack's notifications and permissions name every spelling
 * (notificationPrefixes.ts).
 */
export function buildRuleIndex<T extends { prefix: string }>(rules: readonly T[]): RuleIndex<T> {
  const root: TrieNode<T> = {};
  for (const rule of rules) {
    let node = root;
    const prefix = rule.prefix.normalize('NFC');
    for (let i = 0; i < prefix.length; i++) {
      const code = prefix.charCodeAt(i);
      node.children ??= new Map();
      let next = node.children.get(code);
      if (!next) {
        next = {};
        node.children.set(code, next);
      }
      node = next;
    }
    node.rule ??= rule;
  }
  return { root };
}

/** The rule with the longest prefix of the (decoded) object key, both composed (NFC), or undefined when none matches. */
export function matchRule<T>(index: RuleIndex<T>, rawKey: string): T | undefined {
  let node: TrieNode<T> | undefined = index.root;
  let best = node.rule;
  const key = rawKey.normalize('NFC');
  for (let i = 0; i < key.length; i++) {
    node = node.children?.get(key.charCodeAt(i));
    if (!node) break;
    if (node.rule) best = node.rule;
  }
  return best;
}

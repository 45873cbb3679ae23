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
 */
export function buildRuleIndex<T extends { prefix: string }>(rules: readonly T[]): RuleIndex<T> {
  const root: TrieNode<T> = {};
  for (const rule of rules) {
    let node = root;
    for (let i = 0; i < rule.prefix.length; i++) {
      const code = rule.prefix.charCodeAt(i);
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

/** The rule with the longest prefix of the (decoded) object key, or undefined when none matches. */
export function matchRule<T>(index: RuleIndex<T>, key: string): T | undefined {
  let node: TrieNode<T> | undefined = index.root;
  let best = node.rule;
  for (let i = 0; i < key.length; i++) {
    node = node.children?.get(key.charCodeAt(i));
    if (!node) break;
    if (node.rule) best = node.rule;
  }
  return best;
}

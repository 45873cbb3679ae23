/** How every message names a rule: by its position in the file and its prefix, which the operator searches for. */
export function describeRule(rule: { index: number; prefix: string }): string {
  return `rules[${rule.index}] (prefix ${JSON.stringify(rule.prefix)})`;
}

/**
 * Timing by ratio. Absolute times on these machines drift by more than 2x from day to day, so
 * every timing is two sides measured in the same run, alternating (A B A B ...), and the figure
 * is the median of the pairwise ratios.
 */
import { spawnSync } from 'node:child_process';

export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Runs each side once per round, in turn, `rounds` times; returns each side's times. */
export function alternate<T extends string>(rounds: number, sides: Record<T, () => number>): Record<T, number[]> {
  const names = Object.keys(sides) as T[];
  const times = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<T, number[]>;
  for (const n of names) sides[n]();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const n of order) times[n].push(sides[n]());
  }
  return times;
}

/** `numerator[i] / denominator[i]`: each round's two sides, measured next to each other. */
function pairwiseRatios(numerator: readonly number[], denominator: readonly number[]): number[] {
  return numerator.map((value, i) => value / (denominator[i] as number));
}

/** The median of `numerator[i] / denominator[i]`. */
export function medianRatio(numerator: readonly number[], denominator: readonly number[]): number {
  return median(pairwiseRatios(numerator, denominator));
}

/** The median of `minuend[i] - subtrahend[i]`: what one side adds to the other, round by round. */
export function medianDifference(minuend: readonly number[], subtrahend: readonly number[]): number {
  return median(minuend.map((value, i) => value - (subtrahend[i] as number)));
}

/** The middle half of the pairwise ratios (first to third quartile): how far one round strays. */
export function ratioSpread(numerator: readonly number[], denominator: readonly number[]): [number, number] {
  const ratios = pairwiseRatios(numerator, denominator).sort((a, b) => a - b);
  const at = (q: number) => ratios[Math.min(ratios.length - 1, Math.max(0, Math.round(q * (ratios.length - 1))))] as number;
  return [at(0.25), at(0.75)];
}

/** Wall time of one fresh node process, in ms. */
export function processMs(args: string[], env: NodeJS.ProcessEnv): number {
  const begin = process.hrtime.bigint();
  const child = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${child.stderr.toString().slice(0, 2000)}`);
  return Number(process.hrtime.bigint() - begin) / 1e6;
}

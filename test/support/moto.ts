import { motoInstalled } from '../local/emulator/moto';

/**
 * Whether the tests that need moto can run. In CI (CI=true) a missing moto is an error, so a
 * broken image cannot pass by skipping; elsewhere the tests are skipped with a loud message.
 */
export function motoAvailable(suite: string): boolean {
  const installed = motoInstalled();
  if (installed.ok) return true;
  if (process.env.CI === 'true') throw new Error(`${suite} needs moto, which is missing in CI: ${installed.detail}`);
  console.warn(`\n!!! SKIPPING ${suite}: moto is not installed (${installed.detail}). Install it: pip install 'moto[server]==5.2.1' !!!\n`);
  return false;
}

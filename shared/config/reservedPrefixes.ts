/**
 * The verdict ledger's folder in the stack's transcript bucket (shared/verify/verdictLedger.ts).
 * It is reserved in the config's own folder because config validation must keep every rule's
 * output out of it, and the stack's bucket policy guards it.
 */
export const VERDICT_PREFIX = 'verdicts/';

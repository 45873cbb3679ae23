#!/usr/bin/env node
// The `tkp` command (package.json "bin"). The CLI is TypeScript, run through tsx's loader, so
// `tkp`, `npm run tkp --` and `npm start` need no build step.
import { register } from 'tsx/esm/api';

register();
await import('./tkp.ts');

#!/usr/bin/env node
// Entry point: run the TypeScript CLI through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

register();
process.env.STAGEGATE_CLI_MAIN = '1';
await import('../src/cli/main.ts');

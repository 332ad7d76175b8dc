#!/usr/bin/env node
// Entry point of a `local` target host process (one per environment and service): runs the
// TypeScript host through tsx's loader (no build step). Usage: stagegate-local-host.js HOST_DIR
import { register } from 'tsx/esm/api';

register();
await import('../src/rollout/local/host-main.ts');

#!/usr/bin/env node
// `npm run demo`: the scripted walk through the pipeline (examples/demo.ts), run through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../examples/demo.ts');

import { parseProject } from './load.ts';
const valid = (await import('node:fs')).readFileSync('/dev/stdin','utf8');
try { await parseProject(valid, { file: 's.yaml', baseDir: '/p', readFile: async () => { throw Object.assign(new Error(), {code:'ENOENT'}); } }); } catch (e) { console.log((e as Error).message); }

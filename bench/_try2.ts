import { runMemoryIdle } from './memory-idle.ts';
console.log(JSON.stringify(await runMemoryIdle({ quick: process.argv.includes('--quick') })));

import { runMemoryArtifact } from './memory-artifact.ts';
console.log(JSON.stringify(await runMemoryArtifact({ quick: process.argv.includes('--quick') })));

import { runAuditAppend } from './audit-append.ts';
console.log(JSON.stringify(await runAuditAppend({ quick: process.argv.includes('--quick') })));

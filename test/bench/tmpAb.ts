import { runAuditBench } from './auditBench';
console.log(JSON.stringify(await runAuditBench('/work/main', 1000, 3, console.log)));
process.exit(0);

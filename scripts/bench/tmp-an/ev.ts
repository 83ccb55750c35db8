import { decideAssignment, decideCreate, decideComplete } from '../../../src/core/decisions.js';
import { eventColumns, storedForm, buildEnvelope } from '../../../src/store/events.js';
import { newTaskInput } from '../../../test/helpers/factories.js';
const at = new Date();
const created = decideCreate(newTaskInput({ title: 'bench 123', requester: 'bench-producer-3', capabilities: ['bench'], context: { bench_i: 123 } }), at);
const match = decideAssignment(created.row, { agent: 'agent-7', score: 1.5, woke: false }, at, 30_000);
const drafts = [...created.events, ...match.events];
const N = 100000;
const time = (label: string, f: () => unknown) => {
  for (let r = 0; r < 3; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) f();
    if (r === 2) console.log(label, (Number(process.hrtime.bigint() - t) / N / 1000).toFixed(2), 'µs');
  }
};
time('eventColumns(2)', () => eventColumns(drafts, at));
const envs = drafts.map((d) => buildEnvelope(d, at));
time('buildEnvelope x2', () => drafts.map((d) => buildEnvelope(d, at)));
time('whole stringify x2', () => envs.map((e) => JSON.stringify(e)));
time('storedForm x2', () => envs.map(storedForm));
time('task stringify x2', () => drafts.map((d) => JSON.stringify(d.task)));
console.log(JSON.stringify(envs[1]).length, storedForm(envs[1]!).length);

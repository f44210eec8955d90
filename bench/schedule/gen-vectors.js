// gen-vectors.js writes later.js ground truth for frequencies, one JSON
// object per line: expr, from, error, next (= schedule.next(10, from)),
// fires (first 5 fires of later.setInterval started at from, run on a
// virtual clock, cut at 2100) and throws.
//
// usage: node gen-vectors.js <input.txt> > out.jsonl
//   input lines: <from ISO time><TAB><expression as a JSON string>
'use strict';
const fs = require('fs');
const later = require('@breejs/later');

const RealDate = Date;
let NOW = 0;
class VirtualDate extends RealDate {
  constructor(...a) { if (a.length === 0) super(NOW); else super(...a); }
  static now() { return NOW; }
}
const END = RealDate.UTC(2100, 0, 1);

function fires(sched, from) {
  const out = [];
  let pending = null;
  const realSetTimeout = global.setTimeout;
  const realClearTimeout = global.clearTimeout;
  global.Date = VirtualDate;
  global.setTimeout = (fn, ms) => { pending = { fn, ms }; return 1; };
  global.clearTimeout = () => { pending = null; };
  try {
    NOW = from;
    later.setInterval(() => out.push(NOW), sched);
    for (let steps = 0; out.length < 5 && pending && steps < 100000; steps++) {
      const { fn, ms } = pending;
      pending = null;
      NOW += ms >= 1 ? ms : 1; // Node runs a timer no sooner than 1 ms
      if (NOW >= END) break;
      fn();
    }
  } finally {
    global.Date = RealDate;
    global.setTimeout = realSetTimeout;
    global.clearTimeout = realClearTimeout;
  }
  return out.filter((t) => t < END).map((t) => new RealDate(t).toISOString());
}

const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean);
for (const line of lines) {
  const tab = line.indexOf('\t');
  const fromISO = line.slice(0, tab);
  const expr = JSON.parse(line.slice(tab + 1));
  const from = RealDate.parse(fromISO);
  const rec = { expr, from: new RealDate(from).toISOString(), error: -1, next: [], fires: [] };
  try {
    const sched = later.parse.text(expr);
    rec.error = sched.error;
    if (sched.error === -1) {
      const s = later.schedule(sched);
      const n = s.next(10, new RealDate(from));
      rec.next = (n ? (Array.isArray(n) ? n : [n]) : []).map((d) => (d ? d.toISOString() : null));
      rec.fires = fires(sched, from);
    }
  } catch (e) {
    rec.throws = e.message;
  }
  process.stdout.write(JSON.stringify(rec) + '\n');
}

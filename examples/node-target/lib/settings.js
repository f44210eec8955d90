'use strict';

// Settings decoding with the rules and wording of the Go SDK's
// Settings.Decode, so that heartbeat reports a Node plugin's bad settings
// exactly as it reports a Go plugin's: every problem at once, one field
// error per setting, keys in sorted order.

class FieldErrors extends Error {
  constructor() {
    super('invalid settings');
    this.list = [];
  }

  add(field, message) {
    this.list.push({ field, message });
  }

  // has reports whether there is an error for field or a setting inside it.
  has(field) {
    return this.list.some((e) => e.field === field || e.field.startsWith(field + '.'));
  }
}

// describeType names what a value must be, as the SDK words it.
const TYPE_WORDS = { string: 'a string', bool: 'true or false', number: 'a number' };

// jsonKind is encoding/json's name of a JSON value's type.
function jsonKind(v) {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'object') return 'object';
  return typeof v; // string, number
}

// truncate cuts s to at most n characters, marking the cut with "…".
function truncate(s, n) {
  const chars = Array.from(s);
  return chars.length <= n ? s : chars.slice(0, n).join('') + '…';
}

const UNIT_NS = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

// parseDuration reads a duration as heartbeat does: a Go duration ("10s",
// "1m30s", "500ms") or a plain decimal number of seconds ("15", "1.5").
// It returns milliseconds, or null when s is not a duration.
function parseDuration(s) {
  s = String(s).trim();
  const unsigned = s.replace(/^[+-]+/, '');
  if (/^[\d.]+$/.test(unsigned) && /\d/.test(unsigned) && unsigned.split('.').length <= 2) {
    const secs = Number(s);
    return Number.isFinite(secs) ? secs * 1000 : null;
  }
  const m = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(s);
  if (!m) {
    return null;
  }
  let ns = 0;
  for (const [, num, unit] of m[2].matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    ns += Number(num) * UNIT_NS[unit];
  }
  return (m[1] === '-' ? -ns : ns) / 1e6;
}

// formatDuration writes milliseconds as Go prints a time.Duration
// (10s, 1m30s, 500ms), for defaults and messages.
function formatDuration(ms) {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3600000);
  const m = Math.floor((ms % 3600000) / 60000);
  const s = (ms % 60000) / 1000;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

// decodeValue checks one setting's value against its type; it returns
// [value, errorMessage].
function decodeValue(spec, raw) {
  switch (spec.type) {
    case 'duration': {
      if (raw === null) return [undefined, null]; // keep the default
      if (typeof raw !== 'string' && typeof raw !== 'number') {
        return [undefined, 'must be a duration such as "10s"'];
      }
      const ms = parseDuration(raw);
      if (ms === null) {
        return [undefined, `${JSON.stringify(truncate(String(raw), 40))} is not a duration; write e.g. "10s", "1m30s" or a number of seconds`];
      }
      return [ms, null];
    }
    case 'string':
    case 'bool':
    case 'number': {
      if (raw === null) return [undefined, null];
      const want = spec.type === 'bool' ? 'boolean' : spec.type;
      if (typeof raw !== want) {
        return [undefined, `must be ${TYPE_WORDS[spec.type]}, not ${jsonKind(raw)}`];
      }
      return [raw, null];
    }
    default:
      throw new Error(`setting ${spec.name}: unsupported type ${spec.type}`);
  }
}

// isMissing: a required setting counts as not given when absent, null or
// a blank string (an unset ${VAR}).
function isMissing(raw) {
  return raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '');
}

// decode reads settingsJSON (a Buffer holding a JSON object) against specs
// (the settings of Info) and returns { values, errors }: values holds every
// setting that decoded (defaults for absent ones); errors is a FieldErrors
// or null. validate(values, errors) adds checks beyond types; errors it
// adds for a setting that already has one are dropped.
function decode(settingsJSON, specs, validate) {
  const errors = new FieldErrors();
  let text = Buffer.isBuffer(settingsJSON) ? settingsJSON.toString('utf8') : String(settingsJSON || '');
  if (text.trim() === '') text = '{}';
  let fields;
  try {
    fields = JSON.parse(text);
  } catch {
    fields = undefined;
  }
  if (fields === null) fields = {};
  if (typeof fields !== 'object' || Array.isArray(fields) || fields === undefined) {
    errors.add('', 'settings must be a mapping of setting names to values');
    return { values: {}, errors };
  }
  const known = specs.map((s) => s.name);
  const values = {};
  for (const spec of specs) {
    if (spec.type === 'duration' && spec.default) values[spec.name] = parseDuration(spec.default);
    else if (spec.default !== undefined && spec.default !== '') values[spec.name] = spec.default;
  }
  for (const name of Object.keys(fields).sort()) {
    const spec = specs.find((s) => s.name === name);
    if (!spec) {
      errors.add(name, `unknown setting; known settings: ${known.join(', ')}`);
      continue;
    }
    const [value, message] = decodeValue(spec, fields[name]);
    if (message) errors.add(name, message);
    else if (value !== undefined) values[name] = value;
  }
  for (const spec of specs) {
    if (spec.required && !errors.has(spec.name) && isMissing(fields[spec.name])) {
      errors.add(spec.name, 'is required');
    }
  }
  if (validate) {
    const before = errors.list.slice();
    const checks = new FieldErrors();
    validate(values, checks);
    for (const e of checks.list) {
      const related = before.some((b) => b.field !== '' && e.field !== '' &&
        (b.field === e.field || b.field.startsWith(e.field + '.') || e.field.startsWith(b.field + '.')));
      if (!related) errors.list.push(e);
    }
  }
  return { values, errors: errors.list.length ? errors : null };
}

module.exports = { decode, parseDuration, formatDuration, truncate, FieldErrors };

'use strict';

// A logger writing hclog's JSON lines to stderr. go-plugin reads the
// plugin's stderr line by line: a JSON object with @level, @message and
// @timestamp becomes a log entry of the host at that level (its other keys
// are key/value pairs); any other line is logged as plain text.

const LEVELS = { trace: 1, debug: 2, info: 3, warn: 4, error: 5, off: 6 };

// The longest string value a log line carries; longer ones are cut.
const MAX_VALUE = 512;

function pad(n, width) {
  return String(n).padStart(width, '0');
}

// hclog's timestamp layout, 2006-01-02T15:04:05.000000Z07:00: go-plugin
// parses exactly six fractional digits.
function timestamp(d) {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}` +
    `.${pad(d.getUTCMilliseconds(), 3)}000Z`;
}

function bound(v) {
  if (typeof v === 'string') {
    return v.length > MAX_VALUE ? v.slice(0, MAX_VALUE) + '…' : v;
  }
  if (v instanceof Error) {
    return bound(v.message);
  }
  return v;
}

class Logger {
  // level: one of trace, debug, info, warn, error, off (the value of
  // HEARTBEAT_PLUGIN_LOG_LEVEL); unknown or empty means info.
  constructor(level, write = (line) => process.stderr.write(line), module = '') {
    this.min = LEVELS[String(level || '').toLowerCase()] || LEVELS.info;
    this.write = write;
    this.module = module;
  }

  log(level, message, fields = {}) {
    if (LEVELS[level] < this.min) {
      return;
    }
    const entry = { '@level': level, '@message': bound(message), '@timestamp': timestamp(new Date()) };
    if (this.module) {
      entry['@module'] = this.module;
    }
    for (const [k, v] of Object.entries(fields)) {
      entry[k] = bound(v);
    }
    this.write(JSON.stringify(entry) + '\n');
  }

  trace(message, fields) { this.log('trace', message, fields); }
  debug(message, fields) { this.log('debug', message, fields); }
  info(message, fields) { this.log('info', message, fields); }
  warn(message, fields) { this.log('warn', message, fields); }
  error(message, fields) { this.log('error', message, fields); }
}

module.exports = { Logger, timestamp };

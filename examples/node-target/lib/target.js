'use strict';

// The webhook-json target: every beat is POSTed to a URL as a JSON object,
// with an optional bearer token. This file knows nothing of gRPC: plugin.js
// maps its results and errors onto the contract.

const { decode, formatDuration, truncate } = require('./settings');

const NAME = 'webhook-json';
const VERSION = require('../package.json').version;

// Kinds of delivery errors, each answered with one gRPC status code (see
// plugin.js): the core decides from it whether to retry.
const Kind = Object.freeze({
  PERMANENT: 'permanent', // INVALID_ARGUMENT, never retried
  NOT_FOUND: 'not_found', // NOT_FOUND, never retried
  RATE_LIMITED: 'rate_limited', // RESOURCE_EXHAUSTED, not before the next beat
  TEMPORARY: 'temporary', // UNAVAILABLE (DEADLINE_EXCEEDED past the deadline), retried
});

class DeliveryError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

const SIGNALS = ['SIGNAL_SUCCESS', 'SIGNAL_START', 'SIGNAL_FAIL', 'SIGNAL_LOG'];

const SETTINGS = [
  { name: 'url', type: 'string', required: true, secret: false, default: '',
    description: 'http:// or https:// URL every beat is POSTed to; its path and query are redacted in logs' },
  { name: 'token', type: 'string', required: false, secret: true, default: '',
    description: 'sent as "Authorization: Bearer <token>"; never logged' },
  { name: 'timeout', type: 'duration', required: false, secret: false, default: '10s',
    description: 'longest wait for an answer (at most 5m), within the core\'s own deadline for the beat' },
];

// The most of an answer's body read for an error message.
const MAX_BODY = 1024;
// The longest timeout: beyond it the core's own deadline for a beat has
// long passed.
const MAX_TIMEOUT_MS = 5 * 60 * 1000;

function info() {
  return {
    name: NAME,
    version: VERSION,
    description: 'POSTs each beat as a JSON object to a URL (example plugin in Node.js)',
    signals: SIGNALS,
    settings: SETTINGS,
  };
}

// redactSecret and redactURL follow the SDK's RedactSecret and RedactURL:
// ping URLs carry credentials in their path and query.
function redactSecret(s) {
  const r = Array.from(s);
  return r.length < 16 ? '…' : '…' + r.slice(-4).join('');
}

function redactURL(raw) {
  let u;
  try {
    u = new URL(raw);
  } catch {
    return redactSecret(raw);
  }
  let out = `${u.protocol}//${u.host}`;
  const path = u.pathname.replace(/\/+$/, '');
  if (path !== '') {
    out += '/' + redactSecret(path.slice(path.lastIndexOf('/') + 1));
  }
  if (u.search !== '') {
    out += '?…';
  }
  return out;
}

function validate(values, errors) {
  if (typeof values.url === 'string' && values.url.trim() !== '') {
    let u = null;
    try {
      u = new URL(values.url);
    } catch {
      // The message must not repeat the URL: it may hold a secret.
      errors.add('url', 'is not a valid URL');
    }
    if (u && u.protocol !== 'http:' && u.protocol !== 'https:') {
      errors.add('url', 'must start with http:// or https://');
    } else if (u && u.hostname === '') {
      errors.add('url', 'has no host name');
    } else if (u && (u.username !== '' || u.password !== '')) {
      errors.add('url', 'must not hold a user name or password; put the credential in token');
    }
  }
  // eslint-disable-next-line no-control-regex
  if (typeof values.token === 'string' && /[\x00-\x1f\x7f]/.test(values.token)) {
    errors.add('token', 'holds a line break or another control character');
  }
  if (typeof values.timeout === 'number' && !(values.timeout > 0)) {
    errors.add('timeout', 'must be positive, e.g. 10s');
  } else if (typeof values.timeout === 'number' && values.timeout > MAX_TIMEOUT_MS) {
    errors.add('timeout', `must be at most ${formatDuration(MAX_TIMEOUT_MS)}`);
  }
}

// configure checks one instance's settings. It returns { instance } or
// { errors: [{ field, message }] }.
function configure(settingsJSON) {
  const { values, errors } = decode(settingsJSON, SETTINGS, validate);
  if (errors) {
    return { errors: errors.list };
  }
  const instance = {
    url: values.url,
    token: values.token || '',
    timeoutMs: values.timeout,
    describe() {
      return `POST ${redactURL(this.url)}${this.token ? ' with a bearer token' : ''}, timeout ${formatDuration(this.timeoutMs)}`;
    },
  };
  return { instance };
}

function timestampToISO(ts) {
  if (!ts) return undefined;
  const ms = Number(ts.seconds) * 1000 + Math.floor((ts.nanos || 0) / 1e6);
  return new Date(ms).toISOString();
}

function durationToSeconds(d) {
  if (!d) return undefined;
  return Number(d.seconds) + (d.nanos || 0) / 1e9;
}

// beatBody is the JSON object POSTed for one beat.
function beatBody(instanceName, req) {
  const body = {
    target: instanceName,
    heartbeat: req.heartbeat,
    signal: String(req.signal).replace(/^SIGNAL_/, '').toLowerCase(),
    sequence: Number(req.sequence),
    attempt: req.attempt,
  };
  const scheduled = timestampToISO(req.scheduled_at);
  if (scheduled) body.scheduled_at = scheduled;
  if (req.message) body.message = req.message;
  if (req.log && req.log.length > 0) body.log = Buffer.from(req.log).toString('utf8');
  if (req.run_id) body.run_id = req.run_id;
  if (req.exit_code !== undefined && req.exit_code !== null) body.exit_code = req.exit_code;
  const latency = durationToSeconds(req.check_latency);
  if (latency !== undefined) body.check_latency_seconds = latency;
  return body;
}

// oneLine makes text from a server safe to put in one log line.
function oneLine(s, n) {
  // eslint-disable-next-line no-control-regex
  return truncate(String(s).replace(/[\x00-\x1f\x7f]+/g, ' ').trim(), n);
}

async function bodySnippet(resp) {
  if (!resp.body) return '';
  const reader = resp.body.getReader();
  const chunks = [];
  let size = 0;
  try {
    while (size < MAX_BODY) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body that breaks off still leaves the status to report.
  } finally {
    reader.cancel().catch(() => {});
  }
  return oneLine(Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8'), 200);
}

// beat delivers one beat. signal is aborted when the core's deadline passes
// or it cancels the call; deadlineMs is that deadline (Infinity: none).
// It resolves to a detail safe to log or rejects with a DeliveryError.
async function beat(instanceName, inst, req, signal) {
  if (!SIGNALS.includes(req.signal)) {
    throw new DeliveryError(Kind.PERMANENT, `the ${NAME} target does not deliver ${req.signal} signals`);
  }
  const where = redactURL(inst.url);
  const headers = {
    'content-type': 'application/json',
    'user-agent': `heartbeat-target-${NAME}/${VERSION}`,
  };
  if (inst.token) {
    headers.authorization = `Bearer ${inst.token}`;
  }
  const timeout = AbortSignal.timeout(inst.timeoutMs);
  let resp;
  try {
    resp = await fetch(inst.url, {
      method: 'POST',
      headers,
      body: JSON.stringify(beatBody(instanceName, req)),
      // A redirect could carry the token to another host: never followed.
      redirect: 'manual',
      signal: AbortSignal.any([signal, timeout]),
    });
  } catch (err) {
    if (signal.aborted) {
      throw new DeliveryError(Kind.TEMPORARY, `${where}: no answer by the deadline of the beat`);
    }
    if (timeout.aborted) {
      throw new DeliveryError(Kind.TEMPORARY, `${where}: no answer within ${formatDuration(inst.timeoutMs)} (see timeout)`);
    }
    // Node's fetch hides the reason in err.cause (ECONNREFUSED, ENOTFOUND, ...).
    const cause = err.cause && (err.cause.code || err.cause.message);
    throw new DeliveryError(Kind.TEMPORARY, `${where}: ${oneLine(cause || err.message, 120)}`);
  }
  const detail = oneLine(`${resp.status} ${resp.statusText}`.trim(), 80);
  if (resp.status >= 200 && resp.status < 300) {
    resp.body?.cancel().catch(() => {});
    return detail;
  }
  const snippet = await bodySnippet(resp);
  const answered = `${where} answered ${detail}${snippet ? ': ' + snippet : ''}`;
  if (resp.status >= 300 && resp.status < 400) {
    throw new DeliveryError(Kind.PERMANENT, `${answered}; redirects are not followed: set url to the final address`);
  }
  if (resp.status === 429) {
    throw new DeliveryError(Kind.RATE_LIMITED, `${answered}; the server asks to slow down: use a less frequent schedule`);
  }
  if (resp.status === 404 || resp.status === 410) {
    throw new DeliveryError(Kind.NOT_FOUND, `${answered}; check the url`);
  }
  if (resp.status === 401 || resp.status === 403) {
    throw new DeliveryError(Kind.PERMANENT, `${answered}; check the token`);
  }
  if (resp.status === 408 || resp.status >= 500) {
    throw new DeliveryError(Kind.TEMPORARY, answered);
  }
  throw new DeliveryError(Kind.PERMANENT, answered);
}

module.exports = { NAME, VERSION, Kind, DeliveryError, info, configure, beat, beatBody, redactURL };

'use strict';

const assert = require('node:assert/strict');
const test = require('node:test');

const { parseDuration } = require('../lib/settings');
const target = require('../lib/target');

const configure = (obj) => target.configure(Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj)));

test('valid settings give an instance with a redacted description', () => {
  const { instance, errors } = configure({ url: 'https://hooks.example.com/beat/5b1c0ffee5b1c0ffee', token: 'sekrit-token-1234', timeout: '5s' });
  assert.equal(errors, undefined);
  assert.equal(instance.timeoutMs, 5000);
  assert.equal(instance.describe(), 'POST https://hooks.example.com/…ffee with a bearer token, timeout 5s');
});

test('every bad setting is reported at once, in the Go SDK\'s words', () => {
  const { errors } = configure({ url: 5, token: true, timeout: 'soon', colour: 'blue' });
  assert.deepEqual(errors, [
    { field: 'colour', message: 'unknown setting; known settings: url, token, timeout' },
    { field: 'timeout', message: '"soon" is not a duration; write e.g. "10s", "1m30s" or a number of seconds' },
    { field: 'token', message: 'must be a string, not bool' },
    { field: 'url', message: 'must be a string, not number' },
  ]);
});

test('missing, blank and malformed settings', () => {
  for (const [settings, want] of [
    ['', [{ field: 'url', message: 'is required' }]],
    ['null', [{ field: 'url', message: 'is required' }]],
    ['[1]', [{ field: '', message: 'settings must be a mapping of setting names to values' }]],
    [{ url: '  ' }, [{ field: 'url', message: 'is required' }]],
    [{ url: 'ftp://x/y' }, [{ field: 'url', message: 'must start with http:// or https://' }]],
    [{ url: 'https://user:pw@x.example/' }, [{ field: 'url', message: 'must not hold a user name or password; put the credential in token' }]],
    [{ url: 'https://x.example/', token: 'a\nb' }, [{ field: 'token', message: 'holds a line break or another control character' }]],
    [{ url: 'https://x.example/', timeout: 0 }, [{ field: 'timeout', message: 'must be positive, e.g. 10s' }]],
    [{ url: 'https://x.example/', timeout: [] }, [{ field: 'timeout', message: 'must be a duration such as "10s"' }]],
    [{ url: 'https://x.example/', timeout: '1h' }, [{ field: 'timeout', message: 'must be at most 5m0s' }]],
  ]) {
    assert.deepEqual(configure(settings).errors, want, JSON.stringify(settings));
  }
});

test('errors never repeat a value', () => {
  const id = '5ec2e7c0-a7a2-4c1d';
  const { errors } = configure({ url: `https://bad host/${id}`, token: `${id}\n`, colour: id });
  assert.equal(errors.length, 3);
  assert.ok(!JSON.stringify(errors).includes(id), JSON.stringify(errors));
});

test('durations read as heartbeat reads them', () => {
  for (const [s, ms] of [['10s', 10000], ['1m30s', 90000], ['500ms', 500], ['15', 15000], ['1.5', 1500], ['0', 0]]) {
    assert.equal(parseDuration(s), ms, s);
  }
  for (const s of ['soon', '--5', '1e3', '10 s', '']) {
    assert.equal(parseDuration(s), null, s);
  }
});

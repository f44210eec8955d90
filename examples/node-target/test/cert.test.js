'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const test = require('node:test');

const { generateCertificate } = require('../lib/cert');

test('the certificate is what go-plugin\'s host accepts', () => {
  const { certPEM, keyPEM, certDER } = generateCertificate();
  const cert = new crypto.X509Certificate(certPEM);
  assert.ok(cert.raw.equals(certDER));
  assert.ok(cert.ca, 'a CA of itself');
  assert.ok(cert.verify(cert.publicKey), 'self-signed');
  assert.equal(cert.checkHost('localhost'), 'localhost');
  assert.deepEqual(cert.keyUsage.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  assert.ok(cert.checkPrivateKey(crypto.createPrivateKey(keyPEM)));
  assert.ok(new Date(cert.validFrom) <= new Date());
  assert.ok(new Date(cert.validTo) > new Date(Date.now() + 365 * 24 * 3600 * 1000));
});

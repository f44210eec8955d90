'use strict';

// The plugin's side of go-plugin's AutoMTLS: a fresh self-signed
// certificate for every process, shaped like the one go-plugin makes
// (mtls.go): an ECDSA key, valid for "localhost", a CA of itself, for
// server and client authentication. Node creates keys and signatures but
// not certificates, so the certificate's DER is written here: a few fixed
// fields, no dependency.

const crypto = require('node:crypto');

// der encodes one DER element: tag, length, contents.
function der(tag, ...parts) {
  const body = Buffer.concat(parts);
  let len;
  if (body.length < 0x80) {
    len = Buffer.from([body.length]);
  } else {
    const bytes = [];
    for (let n = body.length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...parts) => der(0x30, ...parts);
const set = (...parts) => der(0x31, ...parts);

function oid(dotted) {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const bytes = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) bytes.unshift(0x80 | (v & 0x7f));
    out.push(...bytes);
  }
  return der(0x06, Buffer.from(out));
}

// integer encodes a non-negative big-endian number.
function integer(bytes) {
  let b = Buffer.from(bytes);
  while (b.length > 1 && b[0] === 0 && b[1] < 0x80) b = b.subarray(1);
  if (b[0] >= 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return der(0x02, b);
}

// time encodes a date as UTCTime (years before 2050) or GeneralizedTime.
function time(d) {
  const iso = d.toISOString(); // 2026-01-02T03:04:05.678Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  return d.getUTCFullYear() < 2050
    ? der(0x17, Buffer.from(digits.slice(2), 'ascii'))
    : der(0x18, Buffer.from(digits, 'ascii'));
}

function name(cn, org) {
  return seq(
    set(seq(oid('2.5.4.10'), der(0x0c, Buffer.from(org, 'utf8')))),
    set(seq(oid('2.5.4.3'), der(0x0c, Buffer.from(cn, 'utf8')))),
  );
}

function extension(id, critical, value) {
  return critical
    ? seq(oid(id), der(0x01, Buffer.from([0xff])), der(0x04, value))
    : seq(oid(id), der(0x04, value));
}

const ECDSA_WITH_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

// generateCertificate returns the PEM certificate and key for the TLS
// server and the DER certificate for the handshake line.
function generateCertificate(now = new Date()) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const subject = name('localhost', 'heartbeat plugin');
  const serial = crypto.randomBytes(16);
  serial[0] &= 0x7f;
  const tbs = seq(
    der(0xa0, integer([2])), // version 3
    integer(serial),
    ECDSA_WITH_SHA256,
    subject, // issuer: itself
    seq(time(new Date(now.getTime() - 30 * 1000)), time(new Date(now.getTime() + 10 * 365 * 24 * 3600 * 1000))),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, seq(
      // basicConstraints: a CA (of itself), as go-plugin's certificates are.
      extension('2.5.29.19', true, seq(der(0x01, Buffer.from([0xff])))),
      // keyUsage: digitalSignature, keyCertSign.
      extension('2.5.29.15', true, der(0x03, Buffer.from([0x02, 0x84]))),
      // extKeyUsage: serverAuth, clientAuth.
      extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))),
      // subjectAltName: DNS localhost, the name go-plugin's host verifies.
      extension('2.5.29.17', false, seq(der(0x82, Buffer.from('localhost', 'ascii')))),
    )),
  );
  const signature = crypto.sign('sha256', tbs, privateKey);
  const certDER = seq(tbs, ECDSA_WITH_SHA256, der(0x03, Buffer.from([0]), signature));
  const b64 = certDER.toString('base64').replace(/.{64}/g, '$&\n');
  const certPEM = `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
  const keyPEM = privateKey.export({ type: 'pkcs8', format: 'pem' });
  return { certPEM, keyPEM, certDER };
}

module.exports = { generateCertificate };

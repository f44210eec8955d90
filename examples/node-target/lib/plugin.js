'use strict';

// Speaks hashicorp/go-plugin's protocol as a gRPC plugin server, without Go:
// the magic cookie, AutoMTLS, the handshake line on stdout, and the services
// go-plugin's host calls (grpc.health.v1.Health, plugin.GRPCController,
// plugin.GRPCStdio) next to the target contract.

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const { Logger } = require('./log');
const { generateCertificate } = require('./cert');
const target = require('./target');

// The handshake of the heartbeat SDK (plugins/sdk/plugin.go): a host sets
// the cookie in the environment; without it the file was run by hand.
const MAGIC_COOKIE_KEY = 'HEARTBEAT_PLUGIN_MAGIC_COOKIE';
const MAGIC_COOKIE_VALUE = 'f0b4d6a2c1e84e3b9a7d5c3e1f2a4b6c8d0e2f4a6b8c0d2e';
// go-plugin's own protocol version, the first field of the handshake line.
const CORE_PROTOCOL_VERSION = 1;
// The contract version this plugin speaks (target.proto is version 1).
const APP_PROTOCOL_VERSION = 1;
// The core passes its log level so plugins do not write lines it drops.
const LOG_LEVEL_ENV = 'HEARTBEAT_PLUGIN_LOG_LEVEL';
// How often the plugin looks whether the core that started it is gone.
const PARENT_POLL_MS = 250;

const PROTO_DIR = path.join(__dirname, '..', 'proto');

function loadProtos() {
  const def = protoLoader.loadSync(
    ['heartbeat/target/v1/target.proto', 'grpc/health/v1/health.proto', 'plugin/go_plugin.proto'],
    // longs as strings: uint64 sequence numbers stay exact; enums as names.
    { includeDirs: [PROTO_DIR], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true },
  );
  return grpc.loadPackageDefinition(def);
}

function runByHand(argv) {
  const name = path.basename(argv[1] || `heartbeat-target-${target.NAME}`);
  if (['--version', '-version', 'version'].includes(argv[2])) {
    process.stderr.write(`${name} ${target.VERSION}\n`);
    return 0;
  }
  const i = target.info();
  process.stderr.write(`${name} is a heartbeat target plugin (${i.name} ${i.version}): ${i.description}

It is not meant to be run by hand. The heartbeat daemon starts it: put this
file in the plugin directory and use it in the config file, for example

  targets:
    my-target:
      plugin: ${i.name}
      config: { url: "https://example.com/hook" }

Then run "heartbeat plugins" to list the plugins heartbeat can see, and
"heartbeat validate" to check the config.
`);
  return 1;
}

// statusFor maps a delivery error's kind to the contract's status codes.
function statusFor(kind, pastDeadline) {
  switch (kind) {
    case target.Kind.PERMANENT: return grpc.status.INVALID_ARGUMENT;
    case target.Kind.NOT_FOUND: return grpc.status.NOT_FOUND;
    case target.Kind.RATE_LIMITED: return grpc.status.RESOURCE_EXHAUSTED;
    default: return pastDeadline ? grpc.status.DEADLINE_EXCEEDED : grpc.status.UNAVAILABLE;
  }
}

// deadlineMs is the call's deadline in epoch milliseconds, Infinity if none.
function deadlineMs(call) {
  const d = call.getDeadline();
  if (d instanceof Date) return d.getTime();
  return typeof d === 'number' ? d : Infinity;
}

function targetService(logger) {
  const instances = new Map();
  return {
    Info(_call, callback) {
      callback(null, target.info());
    },

    Configure(call, callback) {
      const name = call.request.instance;
      if (!name) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'configure: instance name is empty' });
        return;
      }
      const res = target.configure(call.request.settings_json);
      if (res.errors) {
        // Invalid settings are an answer, not a gRPC error: the core points
        // at their lines in the config file.
        callback(null, { errors: res.errors, description: '' });
        return;
      }
      instances.set(name, res.instance);
      logger.debug('configured', { instance: name, target: res.instance.describe() });
      callback(null, { errors: [], description: res.instance.describe() });
    },

    Beat(call, callback) {
      const req = call.request;
      const inst = instances.get(req.instance);
      if (!inst) {
        callback({
          code: grpc.status.FAILED_PRECONDITION,
          details: `target ${JSON.stringify(req.instance)} is not configured in this plugin process`,
        });
        return;
      }
      const controller = new AbortController();
      const deadline = deadlineMs(call);
      let timer;
      // setTimeout fires at once beyond 2^31-1 ms; such a deadline is none.
      if (Number.isFinite(deadline) && deadline - Date.now() < 2 ** 31 - 1) {
        timer = setTimeout(() => controller.abort(), Math.max(0, deadline - Date.now()));
      }
      call.on('cancelled', () => controller.abort());
      target.beat(req.instance, inst, req, controller.signal).then(
        (detail) => {
          clearTimeout(timer);
          logger.debug('beat delivered', { instance: req.instance, heartbeat: req.heartbeat, detail });
          callback(null, { detail });
        },
        (err) => {
          clearTimeout(timer);
          if (err instanceof target.DeliveryError) {
            callback({ code: statusFor(err.kind, controller.signal.aborted), details: err.message });
            return;
          }
          logger.error('beat failed unexpectedly', { instance: req.instance, error: err });
          callback({ code: grpc.status.INTERNAL, details: `the plugin failed while delivering the beat: ${err.message}` });
        },
      );
    },
  };
}

// listen binds the server to a fresh unix socket in a private directory, as
// go-plugin does (PLUGIN_UNIX_SOCKET_DIR picks the parent directory).
function listen(server, creds) {
  const base = process.env.PLUGIN_UNIX_SOCKET_DIR || os.tmpdir();
  const dir = fs.mkdtempSync(path.join(base, 'plugin'));
  const socket = path.join(dir, 'plugin.sock');
  return new Promise((resolve, reject) => {
    server.bindAsync(`unix:${socket}`, creds, (err) => {
      if (err) {
        fs.rmSync(dir, { recursive: true, force: true });
        reject(err);
        return;
      }
      resolve({ dir, socket });
    });
  });
}

async function serve(argv = process.argv) {
  // The parent is read first thing: read after the handshake, a host that
  // died in between would go unnoticed (the new parent looks like the host).
  const parent = process.ppid;
  if (process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.exit(runByHand(argv));
  }
  const logger = new Logger(process.env[LOG_LEVEL_ENV]);
  // stdout carries the handshake line and nothing else: anything printed
  // with console goes to the log instead.
  for (const m of ['log', 'info', 'debug']) {
    console[m] = (...args) => logger.info(util.format(...args));
  }
  console.warn = (...args) => logger.warn(util.format(...args));
  console.error = (...args) => logger.error(util.format(...args));

  const versions = (process.env.PLUGIN_PROTOCOL_VERSIONS || '').split(',').filter(Boolean);
  if (versions.length > 0 && !versions.includes(String(APP_PROTOCOL_VERSION))) {
    // go-plugin answers with its own version anyway; the host explains.
    logger.warn('the host does not speak this plugin\'s protocol version', { host_versions: versions.join(','), plugin_version: APP_PROTOCOL_VERSION });
  }

  const protos = loadProtos();
  const server = new grpc.Server();
  let socketDir = null;
  let exiting = false;
  const exit = (code) => {
    if (exiting) return;
    exiting = true;
    server.forceShutdown();
    if (socketDir) fs.rmSync(socketDir, { recursive: true, force: true });
    process.exit(code);
  };

  server.addService(protos.heartbeat.target.v1.TargetService.service, targetService(logger));
  server.addService(protos.grpc.health.v1.Health.service, {
    // go-plugin's host pings the service "plugin".
    Check(call, callback) {
      const service = call.request.service;
      if (service !== '' && service !== 'plugin') {
        callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${JSON.stringify(service)}` });
        return;
      }
      callback(null, { status: 'SERVING' });
    },
  });
  server.addService(protos.plugin.GRPCController.service, {
    Shutdown(_call, callback) {
      callback(null, {});
      logger.debug('the host closed the plugin; exiting');
      setTimeout(() => exit(0), 50);
    },
  });
  server.addService(protos.plugin.GRPCStdio.service, {
    StreamStdio(call) {
      // Nothing to forward: the log goes to the real stderr. The stream
      // ends when the host goes away.
      call.on('cancelled', () => call.end());
    },
  });

  // AutoMTLS: the host sends its certificate; the plugin answers with its
  // own, trusts only the host's, and requires it from every connection.
  let creds = grpc.ServerCredentials.createInsecure();
  let serverCert = '';
  const clientCert = process.env.PLUGIN_CLIENT_CERT;
  if (clientCert) {
    let host;
    try {
      host = new crypto.X509Certificate(clientCert);
    } catch (err) {
      logger.error('the host\'s certificate in PLUGIN_CLIENT_CERT cannot be read', { error: err });
      return exit(1);
    }
    const { certPEM, keyPEM, certDER } = generateCertificate();
    creds = grpc.ServerCredentials.createSsl(Buffer.from(host.toString()),
      [{ private_key: Buffer.from(keyPEM), cert_chain: Buffer.from(certPEM) }], true);
    // go-plugin expects the DER certificate in standard base64 without
    // padding (Go's base64.RawStdEncoding): the line cannot hold PEM.
    serverCert = certDER.toString('base64').replace(/=+$/, '');
  }

  let bound;
  try {
    bound = await listen(server, creds);
  } catch (err) {
    logger.error('cannot listen', { error: err });
    return exit(1);
  }
  socketDir = bound.dir;

  let line = [CORE_PROTOCOL_VERSION, APP_PROTOCOL_VERSION, 'unix', bound.socket, 'grpc', serverCert].join('|');
  if (process.env.PLUGIN_MULTIPLEX_GRPC) {
    // This plugin serves no gRPC broker, so it cannot multiplex one.
    line += '|false';
  }
  process.stdout.write(line + '\n');
  logger.debug('plugin address', { network: 'unix', address: bound.socket });

  // The core stops plugins through Shutdown or SIGTERM. If it dies without
  // either (SIGKILL, crash), this process is reparented: exit then too.
  setInterval(() => {
    if (process.ppid !== parent) {
      logger.warn('the heartbeat core that started this plugin is gone; exiting');
      exit(0);
    }
  }, PARENT_POLL_MS).unref();
  process.on('SIGTERM', () => exit(0));
  // Like go-plugin: Ctrl-C in a terminal reaches the whole process group;
  // the host decides when its plugins stop.
  process.on('SIGINT', () => logger.debug('ignoring SIGINT; the host stops this plugin'));
  process.on('uncaughtException', (err) => {
    logger.error('the plugin crashed', { error: err, stack: String(err && err.stack) });
    exit(1);
  });
}

module.exports = { serve, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE };

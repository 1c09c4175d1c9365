'use strict';
// Starts `aipa serve --fixtures` on 127.0.0.1:0 for one test file and offers
// the official SDK clients pointed at it (endpoint host:port, protocol http,
// as spec/wire.md §2.4 prescribes).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const Ecs = require('@alicloud/ecs20140526');
const { $OpenApiUtil } = require('@alicloud/openapi-core');
const RPCClient = require('@alicloud/pop-core');

const TOKEN = 'sdk-fixture-token';
const CREDENTIALS = [
  { AccessKeyId: 'testid', AccessKeySecret: 'testsecret', Status: 'Active', Whitelisted: false },
  { AccessKeyId: 'wl', AccessKeySecret: 'wlsecret', Status: 'Active', Whitelisted: true },
  { AccessKeyId: 'off', AccessKeySecret: 'offsecret', Status: 'Inactive' },
  // STS keys (test_sts.js): one valid until 2100, one expired; and a key of a second account.
  { AccessKeyId: 'STS.sdk', AccessKeySecret: 'stssecret', SecurityToken: 'CAISsdkToken',
    Expiration: '2100-01-01T00:00:00Z' },
  { AccessKeyId: 'STS.sdkold', AccessKeySecret: 'stsoldsecret', SecurityToken: 'CAISsdkOldToken',
    Expiration: '2001-01-01T00:00:00Z' },
  { AccessKeyId: 'other', AccessKeySecret: 'othersecret', OwnerId: '1000000000000002' },
];

function aipaBin() {
  const bin = process.env.AIPA_BIN;
  if (!bin || !fs.existsSync(bin)) {
    throw new Error('AIPA_BIN must name the aipa binary (got ' + bin + ')');
  }
  return bin;
}

// Resolves to { port, stop() } once the first stdout line names the port.
async function startServer(extraArgs = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aipa-sdk-'));
  const creds = path.join(dir, 'credentials.json');
  fs.writeFileSync(creds, JSON.stringify(CREDENTIALS));
  const child = spawn(aipaBin(), ['serve', '--listen', '127.0.0.1:0', '--fixtures',
    '--fixture-token', TOKEN, '--credentials', creds, '--seed', '1', '--log', 'off',
    ...extraArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('aipa serve did not start in 10 s')), 10000);
    child.once('exit', (code) => reject(new Error('aipa serve exited with ' + code)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = /^listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
      if (m) resolve(Number(m[1])); else reject(new Error('unexpected first line: ' + line));
    });
  });
  lines.on('line', () => {}); // keep draining stdout
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) { resolve(child.exitCode); return; }
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', (code) => { clearTimeout(timer); fs.rmSync(dir, { recursive: true, force: true }); resolve(code); });
    child.kill('SIGTERM');
  });
  return { port, stop };
}

async function fixture(port, method, p, body) {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, {
    method,
    headers: { 'X-Aipa-Token': TOKEN, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const json = await res.json();
  if (res.status >= 300) {
    throw new Error(`fixture ${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  }
  return json;
}

function ecsClient(port, opts = {}) {
  return new Ecs.default(new $OpenApiUtil.Config({
    accessKeyId: opts.accessKeyId || 'testid',
    accessKeySecret: opts.accessKeySecret || 'testsecret',
    securityToken: opts.securityToken,
    endpoint: `127.0.0.1:${port}`,
    protocol: 'http',
    signatureAlgorithm: opts.signatureAlgorithm,
    readTimeout: 5000,
    connectTimeout: 5000,
  }));
}

function popClient(port, opts = {}) {
  return new RPCClient({
    accessKeyId: opts.accessKeyId || 'testid',
    accessKeySecret: opts.accessKeySecret || 'testsecret',
    securityToken: opts.securityToken,
    endpoint: `http://127.0.0.1:${port}`,
    apiVersion: '2014-05-26',
    opts: { timeout: 5000 },
  });
}

module.exports = { Ecs, TOKEN, startServer, fixture, ecsClient, popClient };

'use strict';
// Every documented error of AllocatePublicIpAddress (both doc editions' tables)
// and the authentication errors reach the official SDKs as their own error
// objects, with the right Code and HTTP status, through all three clients:
// ecs20140526 V3 (default), ecs20140526 'v2' (RPC V1) and pop-core.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Ecs, startServer, fixture, ecsClient, popClient } = require('./lib/harness');

let srv;
test.before(async () => { srv = await startServer(); });
test.after(async () => { assert.equal(await srv.stop(), 0); });

const WL = { accessKeyId: 'wl', accessKeySecret: 'wlsecret' };

// Each case: the instance state to create (or null: an unknown id), extra
// request parameters, the caller, set-up steps, and the expected Code/status.
const CASES = [
  { code: 'InvalidInstanceId.NotFound', status: 404, state: null },
  { code: 'InstanceLockedForSecurity', status: 403,
    state: { OperationLocks: { LockReason: [{ LockReason: 'security' }] } } },
  { code: 'InstanceExpiredOrInArrears', status: 403,
    state: { OperationLocks: { LockReason: [{ LockReason: 'financial' }] } } },
  { code: 'IncorrectInstanceStatus', status: 403, state: { Status: 'Starting' } },
  { code: 'OperationDenied', status: 400, message: /in VPC/,
    state: { InstanceNetworkType: 'vpc', EipAddress: { IpAddress: '42.112.0.10', AllocationId: 'eip-sdk1' } } },
  { code: 'AllocateIpInvalidInstanceBandwidth', status: 400, state: { InternetMaxBandwidthOut: 0 } },
  { code: 'OperationDenied.CloudboxNotSupport', status: 400, state: { AipaCloudbox: true } },
  { code: 'OperationDenied.DedicatedRegionNotSupported', status: 400, state: { AipaDedicatedRegion: true } },
  { code: 'InsufficientPublicIp', status: 400, state: {}, pool: 0 },
  { code: 'AllocatedAlready', status: 403, edition: '2018-08-02',
    state: { PublicIpAddress: { IpAddress: ['47.96.200.1'] } } },
  { code: 'AllocatedAlready', status: 403, caller: WL, params: { IpAddress: '47.96.200.3' },
    state: { PublicIpAddress: { IpAddress: ['47.96.200.4'] } } },
  { code: 'InvalidIpAddress.Malformed', status: 400, state: {}, caller: WL, params: { IpAddress: 'abc' } },
  { code: 'InvalidIpAddress.Malformed', status: 400, state: {}, params: { IpAddress: '47.96.200.9' } },
  { code: 'InvalidIpAddress.NotPublic', status: 403, state: {}, caller: WL, params: { IpAddress: '10.0.0.1' } },
  { code: 'InvalidIpAddress.NotFound', status: 404, state: {}, caller: WL, params: { IpAddress: '8.8.8.8' } },
  { code: 'IpInUse', status: 403, state: {}, caller: WL, params: { IpAddress: '47.96.200.2' },
    others: [{ PublicIpAddress: { IpAddress: ['47.96.200.2'] } }] },
  { code: 'InvalidVlanId.NotFound', status: 404, state: {}, params: { VlanId: 'vlan-nope' } },
  { code: 'OperationDenied', status: 400, message: /VlanId/, state: {}, params: { VlanId: 'vlan-other' },
    others: [{ VlanAttributes: { VlanId: 'vlan-other' } }] },
  { code: 'AllocateIp.Fail', status: 403, state: { AipaNextAllocateError: 'AllocateIp.Fail' } },
  { code: 'InvalidOperation.AllocateFailed', status: 400,
    state: { AipaNextAllocateError: 'InvalidOperation.AllocateFailed' } },
  { code: 'NAT_PUBLIC_IP_BINDING_FAILED', status: 403,
    state: { AipaNextAllocateError: 'NAT_PUBLIC_IP_BINDING_FAILED' } },
  { code: 'NAT_PUBLIC_IP_ALLOCATE_FAILED', status: 403,
    state: { AipaNextAllocateError: 'NAT_PUBLIC_IP_ALLOCATE_FAILED' } },
  { code: 'InternalError', status: 500, state: { AipaNextAllocateError: 'InternalError' } },
  { code: 'MissingParameter', status: 400, message: /"InstanceId"/, noInstance: true },
];

const CLIENTS = ['ecs-v3', 'ecs-v2', 'pop-get', 'pop-post'];

// Sends AllocatePublicIpAddress through one client; resolves to the thrown error.
async function allocateError(kind, caller, params) {
  try {
    if (kind.startsWith('ecs')) {
      const client = ecsClient(srv.port, { ...caller, signatureAlgorithm: kind === 'ecs-v2' ? 'v2' : undefined });
      const req = new Ecs.AllocatePublicIpAddressRequest({
        instanceId: params.InstanceId, ipAddress: params.IpAddress, vlanId: params.VlanId });
      await client.allocatePublicIpAddress(req);
    } else {
      const client = popClient(srv.port, caller);
      await client.request('AllocatePublicIpAddress', params, { method: kind === 'pop-get' ? 'GET' : 'POST' });
    }
  } catch (e) {
    return e;
  }
  throw new Error('the call succeeded');
}

function checkError(kind, e, c) {
  assert.equal(e.code, c.code, `${kind}: ${e.message}`);
  if (kind.startsWith('ecs')) {
    // openapi-core: 4xx is a ClientError, 5xx a ServerError; the status is kept.
    assert.equal(e.name, c.status >= 500 ? 'ServerError' : 'ClientError');
    assert.equal(e.statusCode, c.status);
    assert.match(e.requestId, /^[0-9A-F-]{36}$/);
    if (c.message) assert.match(e.data.Message, c.message);
  } else {
    // pop-core: an Error named after the Code; the status is on the entry.
    assert.equal(e.name, c.code + 'Error');
    assert.equal(e.entry.response.statusCode, c.status);
    if (c.message) assert.match(e.data.Message, c.message);
  }
}

for (const c of CASES) {
  const label = `${c.code} ${c.status}` + (c.params ? ' ' + JSON.stringify(c.params) : '') +
    (c.edition ? ' ' + c.edition : '');
  test(label, async () => {
    for (const kind of CLIENTS) {
      await fixture(srv.port, 'POST', '/_aipa/reset');
      await fixture(srv.port, 'PUT', '/_aipa/edition', { Edition: c.edition || '2024-12-20' });
      for (const o of c.others || []) await fixture(srv.port, 'POST', '/_aipa/instances', o);
      let id = 'i-sdkdoesnotexist01';
      if (c.state) id = (await fixture(srv.port, 'POST', '/_aipa/instances', c.state)).InstanceId;
      if (c.pool !== undefined) await fixture(srv.port, 'PUT', '/_aipa/pool', { Free: c.pool });
      const params = { ...(c.noInstance ? {} : { InstanceId: id }), ...(c.params || {}) };
      checkError(kind, await allocateError(kind, c.caller, params), c);
    }
    await fixture(srv.port, 'PUT', '/_aipa/edition', { Edition: '2024-12-20' });
  });
}

test('a wrong secret is SignatureDoesNotMatch with the server StringToSign', async () => {
  for (const kind of CLIENTS) {
    const e = await allocateError(kind, { accessKeyId: 'testid', accessKeySecret: 'wrong' },
      { InstanceId: 'i-aipa-running' });
    checkError(kind, e, { code: 'SignatureDoesNotMatch', status: 400,
      message: /^Specified signature is not matched with our calculation\. server string to sign is:/ });
  }
});

test('unknown and inactive access keys', async () => {
  for (const kind of CLIENTS) {
    checkError(kind, await allocateError(kind, { accessKeyId: 'nobody', accessKeySecret: 'x' },
      { InstanceId: 'i-aipa-running' }), { code: 'InvalidAccessKeyId.NotFound', status: 404 });
    checkError(kind, await allocateError(kind, { accessKeyId: 'off', accessKeySecret: 'offsecret' },
      { InstanceId: 'i-aipa-running' }), { code: 'InvalidAccessKeyId.Inactive', status: 400 });
  }
});

test('a replayed SignatureNonce is SignatureNonceUsed (pop-core with a fixed nonce)', async () => {
  for (const method of ['GET', 'POST']) {
    const client = popClient(srv.port);
    const nonce = `sdk-replay-${method}-${Date.now()}`;
    const params = { InstanceId: 'i-aipa-running', SignatureNonce: nonce };
    const first = await client.request('DescribeInstances', { RegionId: 'cn-hangzhou', SignatureNonce: nonce }, { method });
    assert.match(first.RequestId, /^[0-9A-F-]{36}$/);
    let err;
    try { await client.request('AllocatePublicIpAddress', params, { method }); } catch (e) { err = e; }
    assert.ok(err, 'the replay succeeded');
    checkError('pop', err, { code: 'SignatureNonceUsed', status: 400 });
  }
});

test('a stale Timestamp is InvalidTimeStamp.Expired (pop-core with a fixed Timestamp)', async () => {
  for (const method of ['GET', 'POST']) {
    let err;
    try {
      await popClient(srv.port).request('AllocatePublicIpAddress',
        { InstanceId: 'i-aipa-running', Timestamp: '2016-02-23T12:46:24Z' }, { method });
    } catch (e) { err = e; }
    assert.ok(err, 'the stale request succeeded');
    checkError('pop', err, { code: 'InvalidTimeStamp.Expired', status: 400 });
  }
});

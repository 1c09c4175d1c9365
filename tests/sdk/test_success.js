'use strict';
// AllocatePublicIpAddress and DescribeInstances succeed through the official
// SDKs in all four wire shapes: @alicloud/ecs20140526 with its default V3
// signature, the same with signatureAlgorithm 'v2' (RPC V1), and
// @alicloud/pop-core with GET and with POST (form body).
const test = require('node:test');
const assert = require('node:assert/strict');
const { Ecs, startServer, fixture, ecsClient, popClient } = require('./lib/harness');

let srv;
test.before(async () => { srv = await startServer(); });
test.after(async () => { assert.equal(await srv.stop(), 0); });

const UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

async function freshInstance(state = {}) {
  const r = await fixture(srv.port, 'POST', '/_aipa/instances', { Status: 'Running', ...state });
  assert.match(r.InstanceId, /^i-/);
  return r.InstanceId;
}

async function allocateAndDescribe(client) {
  const id = await freshInstance();
  const r = await client.allocatePublicIpAddress(
    new Ecs.AllocatePublicIpAddressRequest({ instanceId: id, ownerAccount: "a b*c~d!'()+/é" }));
  assert.equal(r.statusCode, 200);
  assert.match(r.body.ipAddress, IPV4);
  assert.match(r.body.requestId, UUID);
  assert.equal(r.headers['x-acs-request-id'], r.body.requestId);
  // The same instance again (2024-12-20): the existing address comes back.
  const again = await client.allocatePublicIpAddress(
    new Ecs.AllocatePublicIpAddressRequest({ instanceId: id }));
  assert.equal(again.body.ipAddress, r.body.ipAddress);
  // Effective after a reboot: DescribeInstances lists it.
  await client.rebootInstance(new Ecs.RebootInstanceRequest({ instanceId: id }));
  const d = await client.describeInstances(new Ecs.DescribeInstancesRequest({
    regionId: 'cn-hangzhou', instanceIds: JSON.stringify([id]) }));
  assert.equal(d.statusCode, 200);
  assert.equal(d.body.totalCount, 1);
  const inst = d.body.instances.instance[0];
  assert.equal(inst.instanceId, id);
  assert.equal(inst.status, 'Running');
  assert.deepEqual(inst.publicIpAddress.ipAddress, [r.body.ipAddress]);
}

test('ecs20140526 default (V3 ACS3-HMAC-SHA256)', async () => {
  await allocateAndDescribe(ecsClient(srv.port));
});

test("ecs20140526 with signatureAlgorithm 'v2' (RPC HMAC-SHA1)", async () => {
  await allocateAndDescribe(ecsClient(srv.port, { signatureAlgorithm: 'v2' }));
});

for (const method of ['GET', 'POST']) {
  test(`pop-core RPCClient ${method}`, async () => {
    const client = popClient(srv.port);
    const id = await freshInstance({ Status: 'Stopped', InstanceNetworkType: 'vpc' });
    const r = await client.request('AllocatePublicIpAddress',
      { InstanceId: id, RegionId: 'cn-hangzhou' }, { method });
    assert.match(r.IpAddress, IPV4);
    assert.match(r.RequestId, UUID);
    await client.request('StartInstance', { InstanceId: id }, { method });
    const d = await client.request('DescribeInstances',
      { RegionId: 'cn-hangzhou', InstanceIds: JSON.stringify([id]) }, { method });
    assert.equal(d.TotalCount, 1);
    assert.equal(d.Instances.Instance[0].InstanceId, id);
    assert.deepEqual(d.Instances.Instance[0].PublicIpAddress.IpAddress, [r.IpAddress]);
  });
}

'use strict';
// `aipa serve --throttle`: the official SDKs see a throttled call as their own
// ThrottlingError (ecs20140526, with retryAfter read from x-acs-retry-after)
// or a Throttling.User error (pop-core), and a call after that wait succeeds.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Ecs, startServer, fixture, ecsClient, popClient } = require('./lib/harness');

let srv;
// 0.5 requests per second in bursts of 1: the next token is two seconds away.
test.before(async () => { srv = await startServer(['--throttle', '0.5:1']); });
test.after(async () => { assert.equal(await srv.stop(), 0); });

const describeReq = () => new Ecs.DescribeInstancesRequest({ regionId: 'cn-hangzhou' });

async function thrown(fn) {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('the call succeeded');
}

for (const algo of [undefined, 'v2']) {
  test(`ecs20140526 (${algo || 'V3'}): ThrottlingError with retryAfter, then admitted`, async () => {
    await fixture(srv.port, 'POST', '/_aipa/reset');
    const client = ecsClient(srv.port, { signatureAlgorithm: algo });
    await client.describeInstances(describeReq());
    const e = await thrown(() => client.describeInstances(describeReq()));
    assert.equal(e.name, 'ThrottlingError', e.message);
    assert.equal(e.code, 'Throttling.User');
    assert.equal(e.statusCode, 400);
    assert.ok(e.retryAfter >= 1 && e.retryAfter <= 2001, `retryAfter ${e.retryAfter}`);
    await new Promise((resolve) => setTimeout(resolve, e.retryAfter));
    const ok = await client.describeInstances(describeReq());
    assert.equal(ok.statusCode, 200);
  });
}

test('pop-core: a Throttling.User error', async () => {
  await fixture(srv.port, 'POST', '/_aipa/reset');
  const client = popClient(srv.port);
  await client.request('DescribeInstances', { RegionId: 'cn-hangzhou' }, { method: 'POST' });
  const e = await thrown(() => client.request('DescribeInstances', { RegionId: 'cn-hangzhou' },
    { method: 'POST' }));
  assert.equal(e.code, 'Throttling.User');
  assert.equal(e.name, 'Throttling.UserError');
  assert.equal(e.entry.response.statusCode, 400);
});

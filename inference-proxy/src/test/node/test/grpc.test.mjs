import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { GRPC, PROTO, MODEL } from '../lib/env.mjs';

const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, enums: String, defaults: true });
const pkg = grpc.loadPackageDefinition(def).thunderlink.inference.v1;
const client = new pkg.Inference(GRPC, grpc.credentials.createInsecure());

test('grpc: chat is a stream of typed chunks ending with statistics', async () => {
  const call = client.Chat({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], priority: 'PRIORITY_INTERACTIVE' });
  const chunks = [];
  await new Promise((resolve, reject) => {
    call.on('data', (c) => chunks.push(c));
    call.on('end', resolve);
    call.on('error', reject);
  });
  assert.ok(chunks.length > 2);
  const last = chunks.at(-1);
  assert.equal(last.done, true);
  assert.ok(last.statistics.eval_count > 0);
  assert.match(chunks.map((c) => c.content).join(''), /^This is a simulated reply/);
});

test('grpc: list and scheduler status', async () => {
  const list = await new Promise((res, rej) => client.List({}, (e, r) => (e ? rej(e) : res(r))));
  assert.ok(list.models.some((m) => m.name === MODEL));
  const st = await new Promise((res, rej) => client.SchedulerStatus({}, (e, r) => (e ? rej(e) : res(r))));
  assert.ok(st.loads >= 1);
});

test('grpc: unknown model is NOT_FOUND', async () => {
  const call = client.Generate({ model: 'nope:1b', prompt: 'x' });
  const err = await new Promise((resolve) => {
    call.on('data', () => {});
    call.on('error', resolve);
    call.on('end', () => resolve(null));
  });
  assert.equal(err.code, grpc.status.NOT_FOUND);
});

test('grpc: cancelling a stream stops it', async () => {
  const call = client.Generate({ model: MODEL, prompt: 'x', options_json: JSON.stringify({ num_predict: 90 }) });
  const err = await new Promise((resolve) => {
    call.once('data', () => call.cancel());
    call.on('error', resolve);
    call.on('end', () => resolve(null));
  });
  assert.equal(err.code, grpc.status.CANCELLED);
});

after(() => client.close());

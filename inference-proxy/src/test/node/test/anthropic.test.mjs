import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { URL, MODEL, weatherTool } from '../lib/env.mjs';

const anthropic = new Anthropic({ baseURL: URL, apiKey: 'unused', maxRetries: 0 });
const tools = [{ name: weatherTool.name, description: weatherTool.description, input_schema: weatherTool.schema }];

test('anthropic: message with a system prompt, not streamed', async () => {
  const m = await anthropic.messages.create({
    model: MODEL, max_tokens: 200, system: 'Be brief.', messages: [{ role: 'user', content: 'hello' }],
  });
  assert.equal(m.type, 'message');
  assert.equal(m.role, 'assistant');
  assert.equal(m.stop_reason, 'end_turn');
  assert.equal(m.content[0].type, 'text');
  assert.match(m.content[0].text, /simulated/);
  assert.ok(m.usage.output_tokens > 0);
});

test('anthropic: streamed message, events in order', async () => {
  const stream = anthropic.messages.stream({
    model: MODEL, max_tokens: 200, messages: [{ role: 'user', content: 'hi' }],
  }, { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' } });
  const events = [];
  let text = '';
  stream.on('text', (t) => { text += t; });
  for await (const e of stream) events.push(e.type);
  const final = await stream.finalMessage();
  assert.equal(events[0], 'message_start');
  assert.ok(events.includes('content_block_delta'));
  assert.deepEqual(events.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
  assert.match(text, /^This is a simulated reply/);
  assert.equal(final.stop_reason, 'end_turn');
});

test('anthropic: tool use round trip', async () => {
  const first = await anthropic.messages.create({
    model: MODEL, max_tokens: 200, tools, messages: [{ role: 'user', content: 'weather in Paris?' }],
  });
  assert.equal(first.stop_reason, 'tool_use');
  const use = first.content.find((b) => b.type === 'tool_use');
  assert.equal(use.name, 'get_weather');
  assert.equal(use.input.city, 'simulated');
  const second = await anthropic.messages.create({
    model: MODEL, max_tokens: 200, tools,
    messages: [
      { role: 'user', content: 'weather in Paris?' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny, 21 C' }] },
    ],
  });
  assert.equal(second.stop_reason, 'end_turn');
  assert.equal(second.content[0].type, 'text');
});

test('anthropic: streamed tool use', async () => {
  const stream = anthropic.messages.stream({
    model: MODEL, max_tokens: 200, tools, messages: [{ role: 'user', content: 'weather?' }],
  });
  const final = await stream.finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  assert.equal(final.content.find((b) => b.type === 'tool_use').input.city, 'simulated');
});

test('anthropic: count tokens', async () => {
  const r = await anthropic.messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: 'hello there' }] });
  assert.ok(r.input_tokens > 0);
});

test('anthropic: unknown model is a NotFoundError', async () => {
  await assert.rejects(anthropic.messages.create({ model: 'nope:1b', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e.status === 404 && e.error?.error?.type === 'not_found_error');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { URL, MODEL, EMBED, weatherTool } from '../lib/env.mjs';

const openai = new OpenAI({ baseURL: `${URL}/v1`, apiKey: 'unused', maxRetries: 0 });

test('openai: chat completion, not streamed', async () => {
  const r = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], max_tokens: 4 });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.content, 'This is a simulated');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 4);
});

test('openai: chat completion streamed with usage', async () => {
  const stream = await openai.chat.completions.create({
    model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let usage;
  let finish;
  for await (const chunk of stream) {
    if (chunk.choices.length > 0) {
      text += chunk.choices[0].delta.content ?? '';
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.match(text, /^This is a simulated reply/);
  assert.equal(finish, 'stop');
  assert.ok(usage.completion_tokens > 0 && usage.prompt_tokens > 0);
});

test('openai: tools, completions, models, embeddings', async () => {
  const t = await openai.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: 'weather?' }],
    tools: [{ type: 'function', function: { name: weatherTool.name, description: weatherTool.description, parameters: weatherTool.schema } }],
  });
  assert.equal(t.choices[0].finish_reason, 'tool_calls');
  assert.equal(JSON.parse(t.choices[0].message.tool_calls[0].function.arguments).city, 'simulated');
  const c = await openai.completions.create({ model: MODEL, prompt: 'x', max_tokens: 2 });
  assert.equal(c.choices[0].text, 'This is');
  const models = await openai.models.list();
  const ids = [];
  for await (const m of models) ids.push(m.id);
  assert.ok(ids.includes(MODEL));
  const e = await openai.embeddings.create({ model: EMBED, input: ['a', 'b'] });
  assert.equal(e.data.length, 2);
  assert.ok(e.data[0].embedding.length > 0);
});

test('openai: unknown model is a NotFoundError', async () => {
  await assert.rejects(openai.chat.completions.create({ model: 'nope:1b', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e.status === 404);
});

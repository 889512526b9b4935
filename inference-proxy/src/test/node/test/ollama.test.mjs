import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import { URL, MODEL, EMBED, weatherTool } from '../lib/env.mjs';

const ollama = new Ollama({ host: URL });

test('ollama: chat, not streamed, has final statistics', async () => {
  const r = await ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'hello' }] });
  assert.equal(r.message.role, 'assistant');
  assert.match(r.message.content, /simulated/);
  assert.equal(r.done, true);
  assert.ok(r.eval_count > 0 && r.eval_duration > 0 && r.prompt_eval_count > 0);
  assert.ok(r.total_duration >= r.eval_duration);
  assert.equal(typeof r.load_duration, 'number');
});

test('ollama: chat streamed token by token', async () => {
  const stream = await ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true });
  let text = '';
  let parts = 0;
  let last;
  for await (const part of stream) {
    text += part.message.content;
    parts++;
    last = part;
  }
  assert.ok(parts > 2, `expected several chunks, got ${parts}`);
  assert.equal(last.done, true);
  assert.equal(last.done_reason, 'stop');
  assert.match(text, /^This is a simulated reply/);
});

test('ollama: generate, list, ps, show, embed, version, pull', async () => {
  const g = await ollama.generate({ model: MODEL, prompt: 'why?', options: { num_predict: 3 } });
  assert.equal(g.response, 'This is a');
  assert.equal(g.done_reason, 'length');
  const list = await ollama.list();
  assert.ok(list.models.some((m) => m.name === MODEL));
  const ps = await ollama.ps();
  assert.ok(ps.models.some((m) => m.name === MODEL));
  const show = await ollama.show({ model: MODEL });
  assert.equal(show.details.format, 'gguf');
  const e = await ollama.embed({ model: EMBED, input: ['a', 'b'] });
  assert.equal(e.embeddings.length, 2);
  const v = await ollama.version();
  assert.match(v.version, /^\d+\.\d+\.\d+$/);
  const pull = await ollama.pull({ model: MODEL, stream: true });
  let status;
  for await (const p of pull) status = p.status;
  assert.equal(status, 'success');
});

test('ollama: tool call', async () => {
  const r = await ollama.chat({
    model: MODEL,
    messages: [{ role: 'user', content: 'weather in Paris?' }],
    tools: [{ type: 'function', function: { name: weatherTool.name, description: weatherTool.description, parameters: weatherTool.schema } }],
  });
  assert.equal(r.message.tool_calls[0].function.name, 'get_weather');
  assert.equal(r.message.tool_calls[0].function.arguments.city, 'simulated');
});

test('ollama: unknown model is a ResponseError with status 404', async () => {
  await assert.rejects(ollama.chat({ model: 'nope:1b', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e.status_code === 404 && /not found/.test(e.error));
});

// The customer's own code, with the real Node clients pinned in package-lock.json, against a gateway
// (unblock_dev.gateway.node_calls runs it: tests/clients/test_node_clients.py, make demo).
//
// stdin: {"root": "http://127.0.0.1:PORT", "calls": [{"client": "...", "key": "...", "model": "..."}]}
// stdout: one JSON array, per call {"client", "ok": true, "text", ...} or
//         {"client", "ok": false, "class", "status", "type", "message"}: the error as the customer's code
//         catches it (`class`: the SDK's own error class, e.g. PermissionDeniedError, GatewayInternalServerError).
// Clients: openai.chat, openai.chat.stream, openai.responses, openai.embeddings (the `openai` package);
// ai.generateText, ai.streamText, ai.embedMany, ai.models, ai.credits (`ai` with `@ai-sdk/gateway`);
// ai.openai.responses (`ai` with `@ai-sdk/openai`, which calls /v1/responses).
import OpenAI from 'openai';
import { embedMany, generateText, streamText } from 'ai';
import * as gatewayErrors from '@ai-sdk/gateway';
import { createGateway } from '@ai-sdk/gateway';
import { createOpenAI } from '@ai-sdk/openai';

const GATEWAY_CLASSES = [
  'GatewayAuthenticationError', 'GatewayForbiddenError', 'GatewayRateLimitError', 'GatewayInvalidRequestError',
  'GatewayModelNotFoundError', 'GatewayNotFoundError', 'GatewayInternalServerError', 'GatewayResponseError',
];

function described(client, err) {
  const gatewayClass = GATEWAY_CLASSES.find(name => gatewayErrors[name]?.isInstance?.(err));
  const openaiClass = err instanceof OpenAI.APIError ? err.constructor.name : undefined;
  return {
    client,
    ok: false,
    class: gatewayClass ?? openaiClass ?? err?.name ?? String(err),
    status: err?.statusCode ?? err?.status ?? null,
    type: err?.type ?? err?.error?.type ?? null,
    message: String(err?.message ?? err).replace(/\x1b\[[0-9;]*m/g, '').split('\n')[0],
  };
}

const PROMPT = 'Say hello.';

async function call(root, { client, key, model }) {
  const openai = () => new OpenAI({ baseURL: `${root}/v1`, apiKey: key, maxRetries: 0, timeout: 10000 });
  const gateway = () => createGateway({ baseURL: `${root}/v3/ai`, apiKey: key });
  switch (client) {
    case 'openai.chat': {
      const c = await openai().chat.completions.create({ model, messages: [{ role: 'user', content: PROMPT }] });
      return { text: c.choices[0].message.content, usage: c.usage.total_tokens };
    }
    case 'openai.chat.stream': {
      const stream = await openai().chat.completions.create({
        model, messages: [{ role: 'user', content: PROMPT }], stream: true, stream_options: { include_usage: true },
      });
      let text = '';
      let usage = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        usage = chunk.usage?.total_tokens ?? usage;
      }
      return { text, usage };
    }
    case 'openai.responses': {
      const r = await openai().responses.create({ model, input: PROMPT });
      return { text: r.output_text, usage: r.usage.total_tokens };
    }
    case 'openai.embeddings': {
      const e = await openai().embeddings.create({ model, input: [PROMPT, 'Again.'] });
      return { text: `${e.data.length} embeddings of ${e.data[0].embedding.length}`, usage: e.usage.total_tokens };
    }
    case 'ai.generateText': {
      const r = await generateText({ model: gateway()(model), prompt: PROMPT, maxRetries: 0 });
      return { text: r.text, usage: r.usage.totalTokens, finishReason: r.finishReason };
    }
    case 'ai.streamText': {
      let failure;
      const r = streamText({ model: gateway()(model), prompt: PROMPT, maxRetries: 0, onError: ({ error }) => { failure = error; } });
      let text = '';
      for await (const delta of r.textStream) text += delta;
      if (failure) throw failure;
      return { text, usage: (await r.usage).totalTokens, finishReason: await r.finishReason };
    }
    case 'ai.embedMany': {
      const r = await embedMany({ model: gateway().textEmbeddingModel(model), values: [PROMPT, 'Again.'], maxRetries: 0 });
      return { text: `${r.embeddings.length} embeddings of ${r.embeddings[0].length}`, usage: r.usage.tokens };
    }
    case 'ai.models': {
      const { models } = await gateway().getAvailableModels();
      return { text: models.map(m => m.id).join(' ') };
    }
    case 'ai.credits': {
      const credits = await gateway().getCredits();
      return { text: `balance ${credits.balance}, used ${credits.totalUsed}` };
    }
    case 'ai.openai.responses': {
      const provider = createOpenAI({ baseURL: `${root}/v1`, apiKey: key });
      const r = await generateText({ model: provider(model), prompt: PROMPT, maxRetries: 0 });
      return { text: r.text, usage: r.usage.totalTokens, finishReason: r.finishReason };
    }
    default:
      throw new Error(`unknown client ${client}`);
  }
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { root, calls } = JSON.parse(Buffer.concat(chunks).toString());
const results = [];
for (const c of calls) {
  try {
    results.push({ client: c.client, ok: true, ...(await call(root, c)) });
  } catch (err) {
    results.push(described(c.client, err));
  }
}
process.stdout.write(JSON.stringify(results));

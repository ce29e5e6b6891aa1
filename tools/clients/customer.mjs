// The customer's own code, with the real Node clients pinned in package-lock.json, against a gateway
// (unblock_dev.gateway.node_calls runs it: tests/clients/test_node_clients.py, make demo).
//
// stdin: {"root": "http://127.0.0.1:PORT", "calls": [{"client": "...", "key": "...", "model": "...",
//         "basePath": "/v3/ai" (optional: the AI SDK's base URL path, else its major's default)}]}
// stdout: one JSON array, per call {"client", "ok": true, "text", ...} or
//         {"client", "ok": false, "class", "status", "type", "message"}: the error as the customer's code
//         catches it (`class`: the SDK's own error class, e.g. PermissionDeniedError, GatewayInternalServerError).
// Clients: openai.chat, openai.chat.stream, openai.responses, openai.embeddings (the `openai` package);
// ai.generateText, ai.streamText, ai.embedMany, ai.models, ai.credits (`ai` 6 with `@ai-sdk/gateway` 3.x, on
// /v3/ai); the same five as ai7.* (`ai` 7 with `@ai-sdk/gateway` 4.x, on /v4/ai: its default base URL);
// ai.openai.responses (`ai` with `@ai-sdk/openai`, which calls /v1/responses).
import OpenAI from 'openai';
import * as ai6 from 'ai';
import * as gateway3 from '@ai-sdk/gateway';
import * as ai7 from 'ai-7';
import * as gateway4 from '@ai-sdk/gateway-4';
import { createOpenAI } from '@ai-sdk/openai';

// each current major of the AI SDK with its gateway provider, as a customer on that major installs them
const AI_SDKS = {
  ai: { ai: ai6, gateway: gateway3, path: '/v3/ai', embeddingModel: 'textEmbeddingModel' },
  ai7: { ai: ai7, gateway: gateway4, path: '/v4/ai', embeddingModel: 'embeddingModel' },
};

const GATEWAY_CLASSES = [
  'GatewayAuthenticationError', 'GatewayForbiddenError', 'GatewayRateLimitError', 'GatewayInvalidRequestError',
  'GatewayModelNotFoundError', 'GatewayNotFoundError', 'GatewayAccessPolicyDeniedError', 'GatewayFailedDependencyError',
  'GatewayInternalServerError', 'GatewayResponseError',
];

function described(client, err) {
  const gatewayClass = GATEWAY_CLASSES.find(name => gateway3[name]?.isInstance?.(err) || gateway4[name]?.isInstance?.(err));
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

async function call(root, { client, key, model, basePath }) {
  const openai = () => new OpenAI({ baseURL: `${root}/v1`, apiKey: key, maxRetries: 0, timeout: 10000 });
  const [family, ...rest] = client.split('.');
  if (family in AI_SDKS && client !== 'ai.openai.responses') return aiSdkCall(root, AI_SDKS[family], rest.join('.'), key, model, basePath);
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
    case 'ai.openai.responses': {
      const provider = createOpenAI({ baseURL: `${root}/v1`, apiKey: key });
      const r = await ai6.generateText({ model: provider(model), prompt: PROMPT, maxRetries: 0 });
      return { text: r.text, usage: r.usage.totalTokens, finishReason: r.finishReason };
    }
    default:
      throw new Error(`unknown client ${client}`);
  }
}

async function aiSdkCall(root, sdk, what, key, model, basePath) {
  const { generateText, streamText, embedMany } = sdk.ai;
  const gateway = () => sdk.gateway.createGateway({ baseURL: `${root}${basePath ?? sdk.path}`, apiKey: key });
  switch (what) {
    case 'generateText': {
      const r = await generateText({ model: gateway()(model), prompt: PROMPT, maxRetries: 0 });
      return { text: r.text, usage: r.usage.totalTokens, finishReason: r.finishReason };
    }
    case 'streamText': {
      let failure;
      const r = streamText({ model: gateway()(model), prompt: PROMPT, maxRetries: 0, onError: ({ error }) => { failure = error; } });
      let text = '';
      for await (const delta of r.textStream) text += delta;
      if (failure) throw failure;
      return { text, usage: (await r.usage).totalTokens, finishReason: await r.finishReason };
    }
    case 'embedMany': {
      const r = await embedMany({ model: gateway()[sdk.embeddingModel](model), values: [PROMPT, 'Again.'], maxRetries: 0 });
      return { text: `${r.embeddings.length} embeddings of ${r.embeddings[0].length}`, usage: r.usage.tokens };
    }
    case 'models': {
      const { models } = await gateway().getAvailableModels();
      return { text: models.map(m => m.id).join(' ') };
    }
    case 'credits': {
      const credits = await gateway().getCredits();
      return { text: `balance ${credits.balance}, used ${credits.totalUsed}` };
    }
    default:
      throw new Error(`unknown AI SDK call ${what}`);
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

"""The sandbox gateway's AI SDK surface (/v3/ai and /v4/ai): the protocol of the `@ai-sdk/gateway` provider.

Two majors are current, and both are served (read from their published builds, packages/gateway in the AI
SDK repository; tools/clients pins one of each):
  3.x (with `ai` 6): user agent `ai-sdk/gateway/3.0.238`, default base URL .../v3/ai, specification "3",
      the model list's `specification.specificationVersion` must be the literal "v3";
  4.x (with `ai` 7): user agent `ai-sdk-gateway/4.0.158`, default base URL .../v4/ai, specification "4",
      the model list's `specificationVersion` must be "v4" (zod literal: any other value fails
      `getAvailableModels()` with GatewayResponseError). The model call's body and answer are the same.
The model list (GET /config) carries no specification header, so the version comes from the user agent
(either form), else from the path's /v4/ai, else 3.

What the provider sends:
  POST {baseURL}/language-model  headers `ai-gateway-protocol-version` (0.0.1),
      `ai-language-model-specification-version` (2, 3 or 4 by provider major), `ai-language-model-id`
      (e.g. openai/gpt-4o), `ai-language-model-streaming` ("true"/"false"), `ai-gateway-auth-method`
      ("api-key"/"oidc"), `Authorization: Bearer <key>`; the body is the language model call options
      as JSON: `prompt` (a list of {"role", "content"} with text parts), `maxOutputTokens`, ...
  POST {baseURL}/embedding-model headers `ai-embedding-model-specification-version`, `ai-model-id`; body
      {"values": [...]} -> {"embeddings": [[...]], "usage": {"tokens"}}
  GET  {baseURL}/config          the model list ({"models": [{id, name, specification, modelType, ...}]})
  GET  {origin}/v1/credits       the balance (served by gateway_openai)
`baseURL` defaults to https://ai-gateway.vercel.sh/v3/ai (4.x: /v4/ai); point it at `server.ai_sdk_base_url`.

What it reads back: not streaming, the call result itself as JSON (`content`, `finishReason`,
`usage`, ...); streaming, server-sent events whose `data` is one stream part each (`stream-start`,
`response-metadata`, `text-start`, `text-delta`, `text-end`, `finish`). An error is the gateway's
envelope {"error": {"message", "type"}}, which the provider turns into its error class by `type`
(createGatewayErrorFromResponse): `authentication_error` -> GatewayAuthenticationError,
`rate_limit_exceeded` -> GatewayRateLimitError, `invalid_request_error` -> GatewayInvalidRequestError,
`model_not_found` -> GatewayModelNotFoundError, `forbidden` -> GatewayForbiddenError, and any other
type, such as the real gateway's 403 `access_denied`, -> GatewayInternalServerError keeping the
status (403) and message ("Forbidden."). The sandbox sends what the real gateway sends, so the
customer's code sees exactly what it sees in production.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from unblock_dev.gateway.base import EMBEDDING_MODELS, MODELS, Exchange
from unblock_dev.gateway.openai_api import EMBEDDING_DIMENSIONS, count_tokens, embedding, reply_text, text_of

SURFACE = "ai-sdk"
ROLES = ("system", "user", "assistant", "tool")


# the provider's user agent: `ai-sdk/gateway/3.0.238` (3.x) or `ai-sdk-gateway/4.0.158` (4.x), after the
# runtime's own parts (`ai/7.0.185 runtime/node.js/20`)
PROVIDER_AGENT = re.compile(r"\bai-sdk[/-]gateway/(\d+)\.")


def _spec_version(h: Exchange) -> int:
    """The language model specification the provider speaks: its header, else the provider's major
    version from its user agent (either form), else the base URL's (/v4/ai), else 3."""
    given = h.headers.get("ai-language-model-specification-version") or ""
    if given.isdigit():
        return int(given)
    found = PROVIDER_AGENT.search(h.headers.get("User-Agent") or "")
    if found:
        return max(2, int(found.group(1)))
    return 4 if h.path.startswith("/v4/ai/") else 3


def _usage(spec: int, input_tokens: int, output_tokens: int) -> dict[str, Any]:
    if spec <= 2:
        return {"inputTokens": input_tokens, "outputTokens": output_tokens,
                "totalTokens": input_tokens + output_tokens}
    return {"inputTokens": {"total": input_tokens, "noCache": input_tokens, "cacheRead": 0, "cacheWrite": 0},
            "outputTokens": {"total": output_tokens, "text": output_tokens, "reasoning": 0}}


def _finish_reason(spec: int) -> Any:
    return "stop" if spec <= 2 else {"unified": "stop", "raw": "stop"}


def _prompt_problem(body: Any) -> str | None:
    prompt = body.get("prompt") if isinstance(body, dict) else None
    if not isinstance(prompt, list) or not prompt:
        return "`prompt` must be a non-empty list of messages."
    for message in prompt:
        if not isinstance(message, dict) or message.get("role") not in ROLES or "content" not in message:
            return "Each `prompt` message needs a `role` (system, user, assistant or tool) and `content`."
    return None


def language_model(h: Exchange) -> None:
    body = h.json_body()
    if body is None:
        return
    model_id = (h.headers.get("ai-language-model-id") or "").strip()
    admitted = h.admit(surface=SURFACE, model=model_id or None)
    if admitted is None:
        return
    if not model_id:
        h.send_error_body(400, "invalid_request_error", "Missing header ai-language-model-id.")
        return
    problem = _prompt_problem(body)
    if problem:
        h.send_error_body(400, "invalid_request_error", problem)
        return
    spec = _spec_version(h)
    text = reply_text(admitted.team, model_id)
    input_tokens = count_tokens(text_of(body["prompt"])) or 1
    usage = _usage(spec, input_tokens, count_tokens(text))
    generation_id = f"gen_{uuid.uuid4().hex[:26]}"
    metadata = {"gateway": {"generationId": generation_id, "routing": {"originalModelId": model_id}}}
    if (h.headers.get("ai-language-model-streaming") or "").lower() != "true":
        h.send_json(200, {"content": [{"type": "text", "text": text}], "finishReason": _finish_reason(spec),
                          "usage": usage, "providerMetadata": metadata, "warnings": [],
                          "response": {"id": generation_id, "modelId": model_id}})
        return
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    parts: list[dict[str, Any]] = [
        {"type": "stream-start", "warnings": []},
        {"type": "response-metadata", "id": generation_id, "modelId": model_id, "timestamp": now},
        {"type": "text-start", "id": "0"},
        {"type": "text-delta", "id": "0", "delta": text},
        {"type": "text-end", "id": "0"},
        {"type": "finish", "finishReason": _finish_reason(spec), "usage": usage, "providerMetadata": metadata},
    ]
    h.send_events((None, p) for p in parts)


def embedding_model(h: Exchange) -> None:
    body = h.json_body()
    if body is None:
        return
    model_id = (h.headers.get("ai-model-id") or "").strip()
    admitted = h.admit(surface=SURFACE, model=model_id or None)
    if admitted is None:
        return
    values = body.get("values") if isinstance(body, dict) else None
    if not model_id or not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        h.send_error_body(400, "invalid_request_error", "Send header ai-model-id and `values`: a list of strings.")
        return
    h.send_json(200, {"embeddings": [embedding(v, EMBEDDING_DIMENSIONS) for v in values],
                      "usage": {"tokens": sum(count_tokens(v) for v in values)}, "warnings": []})


def config(h: Exchange) -> None:
    """The gateway's model list, as `gateway.getAvailableModels()` reads it."""
    admitted = h.admit(surface=SURFACE, model=None, subject_to_rules=False)
    if admitted is None:
        return
    version = f"v{max(2, _spec_version(h))}"

    def entry(model_id: str, model_type: str) -> dict[str, Any]:
        provider, _, name = model_id.partition("/")
        return {"id": model_id, "name": name, "description": f"{name} through the unblock sandbox gateway",
                "pricing": {"input": "0.0000025", "output": "0.00001"}, "modelType": model_type,
                "specification": {"specificationVersion": version, "provider": provider, "modelId": model_id}}

    h.send_json(200, {"models": [entry(m, "language") for m in MODELS]
                      + [entry(m, "embedding") for m in EMBEDDING_MODELS]})


BASES = ("/v3/ai", "/v4/ai")  # each major's default base URL; either major may be pointed at either
POST_ROUTES: dict[str, Callable[[Exchange], None]] = {
    f"{base}/{route}": handler for base in BASES
    for route, handler in (("language-model", language_model), ("embedding-model", embedding_model))}
GET_ROUTES: dict[str, Callable[[Exchange], None]] = {f"{base}/config": config for base in BASES}

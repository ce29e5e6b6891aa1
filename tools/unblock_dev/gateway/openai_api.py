"""The sandbox gateway's OpenAI-compatible surface (/v1): what the `openai` SDKs and `@ai-sdk/openai` call.

  POST /v1/chat/completions  a small completion (`stream: true`: `chat.completion.chunk` events; with
                             `stream_options.include_usage` a last chunk carries the usage)
  POST /v1/responses         the Responses API (`@ai-sdk/openai`'s default): a `response` object, or
                             its event stream (`response.created` ... `response.completed`)
  POST /v1/embeddings        deterministic embeddings (`encoding_format` "float" or "base64", the SDKs' default)
  GET  /v1/models            the model list (any known key; not subject to holds)
  GET  /v1/models/{id}       one model (404 `model_not_found` for another id)
  GET  /v1/credits           the team's credit balance (any known key; what `@ai-sdk/gateway` calls too)
Every route asks `GatewayServer.admit` first, so each answers a refusal exactly alike.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import time
import uuid
from collections.abc import Callable
from typing import Any

from unblock.domain.platform_model import Team
from unblock_dev.gateway.base import DEFAULT_MODEL, EMBEDDING_MODELS, MODELS, Exchange

SURFACE = "openai"
EMBEDDING_DIMENSIONS = 16


def reply_text(team: Team, model: str) -> str:
    return f"Hello from the unblock sandbox gateway: team {team.slug or team.team_id} is served by {model}."


def count_tokens(text: str) -> int:
    """A stand-in tokenizer: words (the sandbox bills nothing; clients only check usage is there)."""
    return len(text.split())


def text_of(value: Any) -> str:
    """All the text in a message's content, a Responses `input`, or a prompt part list."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(text_of(v) for v in value)
    if isinstance(value, dict):
        return " ".join(text_of(value[k]) for k in ("text", "content") if k in value)
    return ""


def completion_body(model: str, messages: list[Any], team: Team, now: float) -> dict[str, Any]:
    text = reply_text(team, model)
    prompt_tokens = count_tokens(text_of(messages)) or 1
    completion_tokens = count_tokens(text)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(now), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop",
                     "logprobs": None}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
        "system_fingerprint": "unblock-sandbox",
    }


def _model(body: Any, default: str | None = None) -> str | None:
    model = body.get("model") if isinstance(body, dict) else None
    return model if isinstance(model, str) and model else default


def chat_completions(h: Exchange) -> None:
    body = h.json_body()
    if body is None:
        return
    model = _model(body, DEFAULT_MODEL) or DEFAULT_MODEL
    admitted = h.admit(surface=SURFACE, model=model)
    if admitted is None:
        return
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        h.send_error_body(400, "invalid_request_error", "`messages` must be a non-empty list.")
        return
    completion = completion_body(model, body["messages"], admitted.team, time.time())
    if not body.get("stream"):
        h.send_json(200, completion)
        return
    base = {k: completion[k] for k in ("id", "created", "model", "system_fingerprint")} | {
        "object": "chat.completion.chunk"}
    content = completion["choices"][0]["message"]["content"]
    chunks: list[dict[str, Any]] = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": content},
                              "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        chunks.append({**base, "choices": [], "usage": completion["usage"]})
    h.send_events([*((None, c) for c in chunks), (None, "[DONE]")])


def response_body(model: str, body: dict[str, Any], team: Team, now: float) -> dict[str, Any]:
    """A completed Responses API `response` object with one assistant message."""
    text = reply_text(team, model)
    input_tokens = count_tokens(text_of(body.get("input")) + " " + text_of(body.get("instructions"))) or 1
    output_tokens = count_tokens(text)
    message = {"type": "message", "id": f"msg_{uuid.uuid4().hex[:24]}", "status": "completed", "role": "assistant",
               "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]}
    return {
        "id": f"resp_{uuid.uuid4().hex[:24]}", "object": "response", "created_at": int(now), "status": "completed",
        "error": None, "incomplete_details": None, "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"), "model": model, "output": [message],
        "parallel_tool_calls": True, "previous_response_id": None, "reasoning": {"effort": None, "summary": None},
        "service_tier": "default", "store": bool(body.get("store", True)), "temperature": 1.0,
        "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [], "top_p": 1.0,
        "truncation": "disabled", "user": None, "metadata": {},
        "usage": {"input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": 0},
                  "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
                  "total_tokens": input_tokens + output_tokens},
    }


def responses(h: Exchange) -> None:
    body = h.json_body()
    if body is None:
        return
    model = _model(body, DEFAULT_MODEL) or DEFAULT_MODEL
    admitted = h.admit(surface=SURFACE, model=model)
    if admitted is None:
        return
    given = body.get("input") if isinstance(body, dict) else None
    if not (isinstance(given, str) and given) and not (isinstance(given, list) and given):
        h.send_error_body(400, "invalid_request_error", "`input` must be a non-empty string or list.",
                          param="input")
        return
    assert isinstance(body, dict)
    done = response_body(model, body, admitted.team, time.time())
    if not body.get("stream"):
        h.send_json(200, done)
        return
    message = done["output"][0]
    part = message["content"][0]
    text = part["text"]
    pending = done | {"status": "in_progress", "output": [], "usage": None}
    item_pending = message | {"status": "in_progress", "content": []}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": pending},
        {"type": "response.in_progress", "response": pending},
        {"type": "response.output_item.added", "output_index": 0, "item": item_pending},
        {"type": "response.content_part.added", "item_id": message["id"], "output_index": 0, "content_index": 0,
         "part": part | {"text": ""}},
        {"type": "response.output_text.delta", "item_id": message["id"], "output_index": 0, "content_index": 0,
         "delta": text, "logprobs": []},
        {"type": "response.output_text.done", "item_id": message["id"], "output_index": 0, "content_index": 0,
         "text": text, "logprobs": []},
        {"type": "response.content_part.done", "item_id": message["id"], "output_index": 0, "content_index": 0,
         "part": part},
        {"type": "response.output_item.done", "output_index": 0, "item": message},
        {"type": "response.completed", "response": done},
    ]
    h.send_events((e["type"], e | {"sequence_number": n}) for n, e in enumerate(events))


def embedding(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector for `text` (the same text, the same vector)."""
    seed = hashlib.sha256(text.encode()).digest()
    raw = [(seed[i % len(seed)] ^ (i * 31 & 0xFF)) / 255.0 - 0.5 for i in range(dimensions)]
    norm = sum(v * v for v in raw) ** 0.5 or 1.0
    return [round(v / norm, 6) for v in raw]


def embeddings(h: Exchange) -> None:
    body = h.json_body()
    if body is None:
        return
    model = _model(body, EMBEDDING_MODELS[0]) or EMBEDDING_MODELS[0]
    admitted = h.admit(surface=SURFACE, model=model)
    if admitted is None:
        return
    given = body.get("input") if isinstance(body, dict) else None
    inputs = [given] if isinstance(given, str) else given
    if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) and i for i in inputs):
        h.send_error_body(400, "invalid_request_error", "`input` must be a non-empty string or list of strings.",
                          param="input")
        return
    assert isinstance(body, dict)
    dimensions = body.get("dimensions", EMBEDDING_DIMENSIONS)
    encoding = body.get("encoding_format", "float")
    if not isinstance(dimensions, int) or isinstance(dimensions, bool) or not 1 <= dimensions <= 3072 \
            or encoding not in ("float", "base64"):
        h.send_error_body(400, "invalid_request_error",
                          "`dimensions` must be 1..3072 and `encoding_format` \"float\" or \"base64\".")
        return
    data: list[dict[str, Any]] = []
    for index, text in enumerate(inputs):
        vector = embedding(text, dimensions)
        value: Any = vector if encoding == "float" else base64.b64encode(
            struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": value})
    tokens = sum(count_tokens(t) for t in inputs)
    h.send_json(200, {"object": "list", "data": data, "model": model,
                      "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def _model_entry(model: str, team: Team) -> dict[str, Any]:
    created = int(team.created_at.timestamp()) if team.created_at else 0
    return {"id": model, "object": "model", "created": created, "owned_by": model.split("/", 1)[0]}


def models(h: Exchange) -> None:
    admitted = h.admit(surface=SURFACE, model=None, subject_to_rules=False)
    if admitted is not None:
        h.send_json(200, {"object": "list", "data": [_model_entry(m, admitted.team)
                                                     for m in (*MODELS, *EMBEDDING_MODELS)]})


def model(h: Exchange, model_id: str) -> None:
    admitted = h.admit(surface=SURFACE, model=model_id, subject_to_rules=False)
    if admitted is None:
        return
    if model_id not in (*MODELS, *EMBEDDING_MODELS):
        h.send_error_body(404, "model_not_found", f"The model '{model_id}' does not exist.",
                          param={"modelId": model_id}, code="model_not_found")
        return
    h.send_json(200, _model_entry(model_id, admitted.team))


def credits(h: Exchange) -> None:
    admitted = h.admit(surface=SURFACE, model=None, subject_to_rules=False)
    if admitted is None:
        return
    team = admitted.team
    used = sum(k.budget.used_cents for k in team.keys)
    h.send_json(200, {"balance": f"{(team.billing.credits.balance_cents or 0) / 100:.2f}",
                      "total_used": f"{used / 100:.2f}"})


POST_ROUTES: dict[str, Callable[[Exchange], None]] = {
    "/v1/chat/completions": chat_completions, "/v1/responses": responses, "/v1/embeddings": embeddings,
}
GET_ROUTES: dict[str, Callable[[Exchange], None]] = {"/v1/models": models, "/v1/credits": credits}
GET_PREFIXES: dict[str, Callable[[Exchange, str], None]] = {"/v1/models/": model}

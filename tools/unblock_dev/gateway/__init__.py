"""The sandbox gateway: the sandbox platform's HTTP face, speaking like the AI gateway
(docs/customer-view.md). Modules:
  server      the HTTP server, its plumbing, `GatewayServer.admit` (the one place a customer
              request is admitted or refused, and each refusal recorded) and the operator routes
  openai_api  the OpenAI-compatible surface (/v1)
  ai_sdk      the AI SDK gateway provider's protocol (/v3/ai, /v4/ai: its 3.x and 4.x)
  base        what the surfaces share: models, the error envelope, Refusal/Admitted, Exchange
  command     `unblock gateway` and `sdk_call` (the customer's call through the `openai` package)
"""

from unblock_dev.gateway.base import DEFAULT_MODEL, EMBEDDING_MODELS, MODELS, Admitted, Refusal, error_body
from unblock_dev.gateway.command import (
    ai_sdk_call,
    cmd_gateway,
    describe,
    node_calls,
    node_clients_missing,
    register,
    sdk_call,
    seed_secrets,
    serve_gateway,
)
from unblock_dev.gateway.openai_api import completion_body
from unblock_dev.gateway.server import (
    DEFAULT_PORT,
    GatewayHandler,
    GatewayPlatform,
    GatewayServer,
    GatewayWorkflow,
    make_gateway_server,
    probe_answer,
    start_in_thread,
)

__all__ = [
    "DEFAULT_MODEL", "DEFAULT_PORT", "EMBEDDING_MODELS", "MODELS", "Admitted", "GatewayHandler", "GatewayPlatform",
    "GatewayServer", "GatewayWorkflow", "Refusal", "ai_sdk_call", "cmd_gateway", "completion_body", "describe",
    "error_body", "make_gateway_server", "node_calls", "node_clients_missing", "probe_answer", "register", "sdk_call",
    "seed_secrets", "serve_gateway", "start_in_thread",
]

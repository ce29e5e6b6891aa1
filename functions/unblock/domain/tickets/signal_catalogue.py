"""The signals catalogue (DESIGN.md "What the customer saw: signals"): one entry per code, as data.

Each entry says what in a ticket shows it (`patterns`, regular expressions over the ticket as
`signals.normalize` leaves it: one line, straight quotes, no JSON escaping; and the HTTP
`statuses` the fact extractor reads), what it means (`explanation`, for staff), what the customer
does (`steps`, in their terms: safe for anyone to read, on any channel, since they speak only of
what the customer's own message shows and of the gateway's public rules), and which check
confirms it when the team is known (`confirmed_by`: finding codes).

`needs_team`: the answer depends on the team's state (billing, keys, flags); without a team the
case asks for one. `explains`: the signal alone says why requests fail (a stream that carries an
error does not say which). `suppresses`: codes this one explains better when both match (a key
that never loaded is why the gateway said "Unauthenticated"). `gateway_context`: True only when
the text shows the answer came from the gateway (a provider's refusal passed on), False only when
it does not (a provider answered directly).

The error types and classes are the gateway's and the AI SDK gateway provider's own
(`@ai-sdk/gateway` errors: GatewayAuthenticationError `authentication_error` 401,
GatewayRateLimitError `rate_limit_exceeded` 429, GatewayModelNotFoundError `model_not_found` 404,
GatewayForbiddenError `forbidden` 403, GatewayInternalServerError `internal_server_error` 500;
the gateway's `access_denied`, `customer_verification_required`, `insufficient_funds` 402, and a
free-tier model refusal: 403 `no_providers_available` with "Free tier users do not have access to
this model", `RestrictedModelsError` inside).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SignalSpec:
    code: str
    patterns: tuple[str, ...]
    explanation: str
    steps: str
    confirmed_by: tuple[str, ...] = ()
    statuses: tuple[int, ...] = ()
    needs_team: bool = False
    explains: bool = True
    suppresses: tuple[str, ...] = ()
    gateway_context: bool | None = None


# A provider's own API host: an answer from one of these did not come through the gateway.
PROVIDER_HOSTS = (
    r"api\.openai\.com|api\.anthropic\.com|generativelanguage\.googleapis\.com|api\.mistral\.ai|"
    r"api\.groq\.com|api\.x\.ai|api\.deepseek\.com|api\.cohere\.(?:ai|com)|api\.together\.xyz|"
    r"api\.fireworks\.ai|api\.perplexity\.ai|api\.z\.ai|openrouter\.ai/api|[a-z0-9-]+\.openai\.azure\.com|"
    r"bedrock-runtime\.[a-z0-9-]+\.amazonaws\.com|aiplatform\.googleapis\.com"
)
# What shows that an answer came from the gateway itself.
GATEWAY_CONTEXT = (
    r"ai-gateway\.vercel\.sh|\bGateway[A-Za-z]*Error\b|@ai-sdk/gateway|\"type\": ?\"AI_APICallError\"|"
    r"\bx-vercel-id\b|/v3/ai/language-model"
)

SIGNALS: tuple[SignalSpec, ...] = (
    SignalSpec(
        code="gateway.model_restricted",
        patterns=(
            r"(?i)free[- ]tier users do not have access",
            r"\bRestrictedModelsError\b",
            r"(?i)free credits (?:are )?(?:temporarily )?(?:have )?restricted",
            r"(?i)paid credits continue to have unrestricted access",
            r"(?i)do(?:es)? not have access to this model",
            r"(?i)upgrade to paid credits",
        ),
        explanation="The gateway refused the model for the team's credit tier: free credits do not cover it.",
        steps=("The model you called is not covered by free credits. To keep using it, buy AI Gateway credits "
               "(AI Gateway → Credits in the dashboard): paid credits can call every model. Or switch to a model "
               "that free credits cover; the model list in the dashboard marks which ones."),
        confirmed_by=("billing.free_credits_restricted",),
        suppresses=("gateway.no_providers", "gateway.access_denied"),
    ),
    SignalSpec(
        code="gateway.verification_required",
        patterns=(
            r"\bcustomer_verification_required\b",
            r"(?i)requires? a valid credit card",
            r"(?i)valid (?:credit )?card on file",
        ),
        explanation="The gateway asks a free-tier team to add a verified payment method before it serves requests.",
        steps=("Add a valid credit card in Team Settings → Billing: the gateway needs a card on file before it "
               "serves requests, even on free credits (nothing is charged until you buy credits)."),
        confirmed_by=("billing.no_payment_method",),
        needs_team=True,
        suppresses=("gateway.access_denied",),
    ),
    SignalSpec(
        code="byok.needs_credits",
        patterns=(
            r"(?i)\b(?:byok|bring[- ]your[- ]own[- ]keys?)\b[^.!?]{0,160}?"
            r"(?:insufficient|credits?|\b402\b|balance|funds)",
            r"(?i)(?:insufficient funds|\b402\b|no credits|credits? (?:are|is) (?:at )?\$?0)[^.!?]{0,160}?"
            r"\b(?:byok|bring[- ]your[- ]own[- ]keys?)\b",
        ),
        explanation="Requests with the team's own provider key (BYOK) are refused for lack of gateway credits.",
        steps=("Requests that use your own provider key (bring your own key) still go through the gateway's "
               "credit check: keep a positive AI Gateway credit balance (AI Gateway → Credits, or turn on "
               "auto top-up) and they go through; your provider key stays in the BYOK settings."),
        confirmed_by=("billing.credits_exhausted",),
        suppresses=("gateway.insufficient_funds",),
    ),
    SignalSpec(
        code="gateway.insufficient_funds",
        patterns=(
            r"\binsufficient_funds\b",
            r"(?i)\binsufficient funds\b",
            r"(?i)\bpayment required\b",
            r"(?i)\bcredits?(?: balance)?(?: is| are| at| of| shows?|:)? ?\$ ?0(?:\.0+)?(?![.\d])",
            r"(?i)\$ ?0(?:\.0+)? (?:in )?(?:credits?|balance)\b",
            r"(?i)\bout of credits\b|\bno credits (?:left|remaining)\b",
        ),
        explanation="The team's credit balance is used up (402 insufficient_funds).",
        steps=("Your AI Gateway credit balance is used up: buy credits in AI Gateway → Credits, or turn on "
               "auto top-up so it refills before it reaches zero."),
        confirmed_by=("billing.credits_exhausted",),
        statuses=(402,),
        needs_team=True,
    ),
    SignalSpec(
        code="client.key_not_loaded",
        patterns=(
            r"(?i)no authentication provided",
            r"(?i)\bbearer (?:undefined|null|none)\b",
            r"(?i)\bapi_?key\"?'? ?[:=] ?(?:undefined|null|None)\b",
            r"(?i)\b(?:AI_GATEWAY_API_KEY|VERCEL_OIDC_TOKEN|OPENAI_API_KEY)\b[^.!?]{0,40}?"
            r"\b(?:is |was |comes back |returns? |shows? )?(?:undefined|not set|not defined|missing|empty|blank)\b",
            r"(?i)\b(?:process\.env|os\.environ|import\.meta\.env|Resource)\.?\[?[\"']?[A-Za-z_][A-Za-z0-9_.]{0,80}[\"']?\]?"
            r"[^.!?]{0,30}?\b(?:is |was |comes back |returns? )(?:undefined|None|null|empty)\b",
            r"\bLoadAPIKeyError\b|AI_LoadAPIKeyError",
            r"(?i)the api_key client option must be set",
            r"(?i)api key is missing\. pass it using",
            r"(?i)(?:secret|env(?:ironment)? var(?:iable)?)s?\b[^.!?]{0,40}?\b(?:did not|didn't|does not|doesn't|"
            r"never) (?:resolve|get (?:set|loaded|injected)|load)",
            r"(?i)\.env(?:\.local)?\b[^.!?]{0,30}?\b(?:is |was )?not (?:being )?(?:loaded|picked up|read)",
        ),
        explanation="The key never reached the client: an undefined environment variable, an empty bearer.",
        steps=("The request left without an API key: the variable your code reads (for example "
               "AI_GATEWAY_API_KEY) was empty where the client was created. Load the environment before the "
               "client is created (dotenv's config() first, or `vercel env pull` for local runs), set the "
               "variable for the environment that runs the code (Vercel project settings for Preview and "
               "Production, your CI's secrets for CI), redeploy, and log whether it is set (never its value)."),
        confirmed_by=("key.ok",),
        suppresses=("gateway.unauthenticated",),
    ),
    SignalSpec(
        code="byok.provider_key_as_gateway_key",
        patterns=(
            r"(?i)\bAI_GATEWAY_API_KEY\b\"?'? ?[:=] ?[\"'`]?sk-",
            r"(?i)ai-gateway\.vercel\.sh[^\n]{0,400}?\bbearer sk-|\bbearer sk-[^\n]{0,400}?ai-gateway\.vercel\.sh",
            r"(?i)\b(?:my|our|an?|the) (?:own )?(?:openai|anthropic|provider|google|gemini|mistral)(?:'s)? "
            r"(?:api )?key (?:as|for|in(?:to)?) (?:the |my )?(?:gateway|ai gateway|AI_GATEWAY_API_KEY)",
            # the provider's key itself, pasted (redacted to its start) and named as the gateway key
            r"(?i)\bsk-[A-Za-z0-9_-]*[^\s]*\)? (?:as|for|in(?:to)?) (?:the |my |our )?(?:gateway|ai gateway|"
            r"AI_GATEWAY_API_KEY)\b",
        ),
        explanation="A model provider's key was sent as the gateway key.",
        steps=("The gateway only accepts an AI Gateway API key (or a Vercel OIDC token) as the bearer: create one "
               "in AI Gateway → API Keys and send that. To use your own provider key, add it under AI Gateway → "
               "Bring Your Own Key; the gateway then uses it for you. BYOK requests still need a positive credit "
               "balance."),
        suppresses=("gateway.unauthenticated", "client.provider_direct"),
    ),
    SignalSpec(
        code="client.wrong_base_url",
        patterns=(
            r"(?i)<!doctype html|<html\b",
            r"(?i)unexpected token '?<'?",
            r"(?i)content-type\"?:? ?\"?text/html",
            r"(?i)x-matched-path\"?'?: ?\"?'?(?!/v\d)/[^\s\"',]*",
            r"(?i)x-powered-by\"?:? ?\"?next\.js",
            r"(?i)the page could not be found",
            r"(?i)\bbase_?url\b\"?'? ?[:=] ?[\"'`]?https?://(?!ai-gateway\.vercel\.sh/v[13]\b)"
            r"(?!api\.)[a-z0-9.-]+(?::\d+)?[^\s\"'`]*",
            r"(?i)\bOPENAI_BASE_URL ?= ?[\"']?https?://(?!ai-gateway\.vercel\.sh/v1\b)[^\s\"']+",
            r"(?i)https?://[a-z0-9-]+\.vercel\.app/(?:v1|api)/[^\s\"']*",
            r"(?i)https?://(?:gateway\.ai\.vercel\.(?:sh|com)|ai-gateway\.vercel\.(?:app|com)|"
            r"api\.vercel\.com/v1/ai)\b",
        ),
        explanation=("The answer did not come from the gateway: an HTML page, an app's route, a host that is not "
                     "the gateway's."),
        steps=("The request did not reach the AI Gateway: the client's base URL points somewhere else (a web app, "
               "a mistyped host, or the gateway's host without /v1). Copy the gateway's base URL from the AI "
               "Gateway page of the dashboard: https://ai-gateway.vercel.sh/v1 for OpenAI-compatible clients (the "
               "AI SDK's gateway provider needs no base URL at all), and check that no OPENAI_BASE_URL or proxy "
               "setting overrides it."),
        suppresses=("gateway.access_denied", "gateway.unauthenticated"),
    ),
    SignalSpec(
        code="upstream.provider_error",
        patterns=(
            rf"(?i)\b(?:{PROVIDER_HOSTS})",
            r"(?i)insufficient balance or no resource package|please recharge",
            r"(?i)you exceeded your current quota|\binsufficient_quota\b",
            r"(?i)your credit balance is too low",
            r"\boverloaded_error\b",
            r"(?i)provider returned error|upstream (?:provider )?(?:error|returned)",
        ),
        explanation="The gateway passed on a model provider's own refusal (its balance, its rate limit, its outage).",
        steps=("This refusal came from the model provider behind the gateway, not from your account or your "
               "code: there is nothing to change on your side, and it is for our gateway operations team to take "
               "up with the provider. Meanwhile, retrying after a short wait or calling the same model through another "
               "provider (providerOptions.gateway.order) usually goes through."),
        suppresses=("gateway.rate_limited", "gateway.insufficient_funds", "client.provider_direct"),
        gateway_context=True,
    ),
    SignalSpec(
        code="client.provider_direct",
        patterns=(
            rf"(?i)\b(?:{PROVIDER_HOSTS})",
            r"(?i)incorrect api key provided",
            r"(?i)platform\.openai\.com/account/api-keys",
            r"(?i)\binvalid x-api-key\b|x-api-key header is required",
            r"(?i)\banthropic-ratelimit-",
            r"\banthropic\.(?:AuthenticationError|PermissionDeniedError|RateLimitError)\b",
        ),
        explanation="The error came from a model provider's own API: the request bypassed the gateway.",
        steps=("This error came from the model provider's own API, not from the AI Gateway: the request went "
               "around the gateway. Point the client at https://ai-gateway.vercel.sh/v1 with your AI Gateway API "
               "key (or use the AI SDK's gateway provider with a \"provider/model\" id), and remove a leftover "
               "OPENAI_API_KEY / ANTHROPIC_API_KEY or provider base URL that makes the SDK call the provider "
               "directly."),
        suppresses=("gateway.unauthenticated", "gateway.rate_limited", "gateway.insufficient_funds"),
        gateway_context=False,
    ),
    SignalSpec(
        code="gateway.no_providers",
        patterns=(
            r"\bno_providers_available\b",
            r"(?i)\bno providers? (?:is |are )?(?:currently )?available\b",
            r"(?i)model is not (?:currently )?(?:being )?served",
        ),
        explanation="No provider serves the model for this request right now.",
        steps=("No provider could serve that model for the request just now. Retry in a few minutes, allow more "
               "providers for it (remove a narrow providerOptions.gateway `only`/`order` list), or pick another "
               "model from the model list."),
    ),
    SignalSpec(
        code="gateway.model_not_found",
        patterns=(
            r"\bmodel_not_found\b",
            r"\bGatewayModelNotFoundError\b",
            r"\bNoSuchModelError\b",
            r"(?i)\bmodel [\"'`]?[\w./:-]{2,60}[\"'`]? (?:was )?not found\b",
        ),
        explanation="The gateway does not know the model id that was called.",
        steps=("The gateway does not know that model id. Model ids are \"provider/model\" (for example "
               "openai/gpt-4o-mini): copy the exact id from the model list (GET https://ai-gateway.vercel.sh/v1/models "
               "or the dashboard's model page)."),
    ),
    SignalSpec(
        code="gateway.rate_limited",
        patterns=(
            r"\brate_limit_exceeded\b",
            r"\bGatewayRateLimitError\b",
            r"\bRateLimitError\b",
            r"(?i)\brate[- ]limit(?:ed\b| (?:exceeded|reached|error|hit)\b)",
            r"(?i)\b(?:hit|hitting|reached|exceeded?) (?:the |a |my |our )?rate[- ]limits?\b",
            r"(?i)\btoo many requests\b",
        ),
        explanation="The gateway is rate limiting the requests (429).",
        steps=("These requests were rate limited (429): slow down and retry with exponential backoff (the AI SDK's "
               "maxRetries does this). On free credits the limits are lower than on paid credits."),
        statuses=(429,),
    ),
    SignalSpec(
        code="gateway.unauthenticated",
        patterns=(
            r"\bauthentication_error\b",
            r"\bGatewayAuthenticationError\b",
            r"(?i)\bunauthenticated\b",
            r"(?i)ai gateway authentication failed",
            r"(?i)\binvalid api key\b",
            r"(?<![A-Za-z])AuthenticationError\b",
        ),
        explanation="The gateway did not accept the credentials (401).",
        steps=("The gateway did not accept the key the request carried (401). Check that the request sends a "
               "current AI Gateway API key (it starts with vck_) as the bearer, copied from AI Gateway → API Keys "
               "of the team you use; if that key was revoked or expired, create a new one and update your "
               "client."),
        confirmed_by=("key.not_found", "key.wrong_team", "key.revoked", "key.expired"),
        statuses=(401,),
    ),
    SignalSpec(
        code="gateway.access_denied",
        patterns=(
            r"\baccess_denied\b",
            r"\b(?:message|errorText|error)[\"']? ?: ?[\"']Forbidden\.?[\"']",
            r"\bGatewayForbiddenError\b",
            r"\bPermissionDeniedError\b",
            r"(?i)\b403 forbidden\b",
        ),
        explanation="The gateway refused the team's requests (403 access_denied).",
        steps=("The gateway refused requests for your team (403). Something on the team's account needs a look: "
               "we check its billing, API keys and restrictions."),
        confirmed_by=("billing.*", "key.*", "restrictions.*"),
        statuses=(403,),
        needs_team=True,
    ),
    SignalSpec(
        code="stream.error_in_body",
        patterns=(
            r"\"errorText\"|\berrorText:",
            r"\"type\": ?\"error\", ?\"errorText\"",
            r"(?i)data: ?\{\"type\": ?\"error\"",
            r"(?i)\bfinish_?reason\"?:? ?\"?error\b",
            r"(?i)\b(?:status(?: code)?|HTTP/\d(?:\.\d)?) ?:? ?200\b[^.!?]{0,120}?\b(?:error|forbidden|fails?)\b",
        ),
        explanation="The response was a 200, but its stream carried the error.",
        steps=("The response itself was a 200 and the error came inside the stream, so your code saw no failed "
               "request: read the stream's error part (the AI SDK's onError callback, or the `error` chunk) to see "
               "the gateway's reason."),
        explains=False,
    ),
)

BY_CODE: dict[str, SignalSpec] = {s.code: s for s in SIGNALS}

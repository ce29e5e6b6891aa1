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
it does not (a provider answered directly). `hands_off`: not a refusal the team's state or the
customer can mend (a question, a billing dispute, the gateway's own failure): staff take the ticket
(outcome `handed_off`, DESIGN.md "Scope"); its `steps` are the acknowledgement, and ask only for
what staff need. `unless`: patterns that, found anywhere in the ticket, mean this is not the signal
(a question asked beside a failure is the failure's ticket). `without_team`: its steps say something
useful before the team is known (a 403 alone does not: the team's state is the answer). `asks`:
what staff need to trace a hand-off (a request, its time, the model), asked for unless given.
`beside_refusal`: False when another signal that explains a refusal makes this one its wrapper.

The error types and classes are the gateway's and the AI SDK gateway provider's own
(`@ai-sdk/gateway` errors: GatewayAuthenticationError `authentication_error` 401,
GatewayRateLimitError `rate_limit_exceeded` 429, GatewayModelNotFoundError `model_not_found` 404,
GatewayForbiddenError `forbidden` 403, GatewayInternalServerError `internal_server_error` 500,
GatewayInvalidRequestError `invalid_request_error` 400, GatewayNotFoundError `not_found` 404,
GatewayTimeoutError `timeout_error` 408 (the client gave up), GatewayFailedDependencyError
`failed_dependency` 424 and GatewayExplicitCacheFallbackError 424, GatewayResponseError (an error
body that is not the gateway's format);
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
    hands_off: bool = False
    unless: tuple[str, ...] = ()
    without_team: bool = True
    # what staff need to trace it, asked for in the hand-off reply unless the ticket gives it
    asks: tuple[str, ...] = ()
    # False: not this signal beside a refusal that explains itself (a 500 wrapping a 403 is the 403)
    beside_refusal: bool = True


# What says requests fail: a question asked beside one is that failure's ticket, not a question.
FAILING = (
    r"(?i)\b(?:40[0-9]|42[0-9]|5\d\d)\b(?! ?(?:tokens|requests|calls|users|ms|seconds|messages)\b)|"
    r"(?<!\bno )(?<!\bnot seeing )(?<!\bwithout )(?<!\bnot getting )(?<!\bzero )"
    r"\b(?:forbidden|denied|refused|blocked|unauthori[sz]ed|unauthenticated|fail(?:s|ed|ing|ure)?|errors?|"
    r"exception|(?:is|are|seems?) broken|broke|stopped working|not working|doesn't work|does not work|"
    r"isn't working|can't|cannot|won't|down(?! (?:per|by|into)\b))\b",
)
# An empty provider key in a pasted .env (`ANTHROPIC_API_KEY=` on its own line, or `=""`).
EMPTY_PROVIDER_KEY = (r"\b(?:OPENAI|ANTHROPIC|GOOGLE_GENERATIVE_AI|GEMINI|XAI|GROQ|MISTRAL|DEEPSEEK)_API_KEY="
                      r"(?:\"\"|''|(?= |$))")
# The customer's own provider key, as they name it.
OWN_KEY = r"byok|bring[- ]your[- ]own[- ]keys?|own (?:provider |openai |anthropic )?(?:api )?keys?"
# The OpenAI-compatible base URL, and the paths other SDKs add that it does not serve.
OPENAI_BASE = "https://ai-gateway.vercel.sh/v1"


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
        steps=("The gateway needs a verified credit card on the team before it serves requests, even on free "
               "credits: add one in Team Settings → Billing (adding it charges nothing; you pay only for credits "
               "you buy)."),
        confirmed_by=("billing.no_payment_method",),
        needs_team=True,
        suppresses=("gateway.access_denied",),
    ),
    SignalSpec(
        code="byok.system_fallback",
        patterns=(
            r"(?i)\bcredentialType\"?:? ?\"?system\b",
            rf"(?i)\b(?:{OWN_KEY})\b[^.!?]{{0,160}}?\b(?:charged|billed|deducted|used|consumed|spent)\b"
            r"[^.!?]{0,60}?\b(?:gateway |vercel |our |my )?credits\b",
            r"(?i)\b(?:gateway |vercel )?credits\b[^.!?]{0,80}?\b(?:charged|billed|deducted|used|consumed)\b"
            rf"[^.!?]{{0,100}}?\b(?:{OWN_KEY})\b",
            r"(?i)fall(?:s|ing)? ?back to (?:vercel|system|the gateway)(?:'s)? (?:own )?(?:keys|credentials)",
        ),
        explanation=("A request on the customer's own provider key failed (often the provider's rate limit) and the "
                     "gateway retried it on its system credentials, billed to gateway credits."),
        steps=("When a request on your own provider key fails (for example the provider rate-limits your key "
               "with a 429), the gateway retries it on its own system credentials so it still succeeds, and that "
               "retry is billed to your AI Gateway credits; the response's gateway metadata shows which served it "
               "(credentialType byok or system). To keep every request on your own key, turn off Fallback to "
               "Vercel Keys in the AI Gateway tab → Settings (requests then fail while your key is limited), or "
               "raise the limit on your provider account."),
        suppresses=("gateway.rate_limited", "byok.needs_credits", "upstream.provider_error"),
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
        steps=("Requests with your own provider key (Bring Your Own Key) need a positive AI Gateway credit "
               "balance of purchased credits: free credits do not count, even while they show a balance. Buy "
               "credits in the AI Gateway tab → Credits (or turn on auto top-up); your provider key stays under "
               "Bring Your Own Key and the provider still bills you for the tokens."),
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
        steps=("A 402 means the AI Gateway credit balance is at $0: top it up in the Vercel dashboard, AI "
               "Gateway tab → Credits → Buy credits, and turn on auto top-up there so it refills before it "
               "reaches zero. Requests go through again once the balance is positive."),
        confirmed_by=("billing.credits_exhausted",),
        statuses=(402,),
        needs_team=True,
    ),
    SignalSpec(
        code="client.oidc_token",
        patterns=(
            r"(?i)error verifying (?:the )?oidc token",
            r"(?i)\binvalid oidc token\b",
            r"(?i)x-vercel-oidc-token'? header is missing",
            r"(?i)\bVERCEL_OIDC_TOKEN\b[^.!?]{0,120}?\b(?:expired?|expires|stale|invalid|copied|hard-?coded|"
            r"pasted|by hand|manually|outside (?:of )?vercel|not (?:set|found|available|defined))",
            r"(?i)\boidc(?: token)?\b[^.!?]{0,80}?\b(?:expired?|invalid|failed|fails|missing|"
            r"not (?:found|set|available))\b",
            r"(?i)\b(?:expired?|invalid|missing|stale)\b[^.!?]{0,40}?\boidc\b",
            r"(?i)\bvercel dev\b[^.!?]{0,60}?\b(?:without link|not linked|unlinked|before link)",
            r"(?i)\b(?:rely|relies|relying|count|counting|depend|depends)\b[^.!?]{0,20}?\bon (?:the )?oidc\b",
        ),
        explanation=("The request authenticated with a Vercel OIDC token the gateway could not verify: expired, "
                     "copied by hand, or used outside a Vercel deployment."),
        steps=("The gateway could not verify the Vercel OIDC token your request carried. VERCEL_OIDC_TOKEN is "
               "short-lived (about 12 hours) and only renewed for you inside a Vercel deployment, so never copy it "
               "into a .env or a CI secret by hand. Locally, run `vercel link` once, then `vercel env pull` again "
               "whenever it expires (or run `vercel dev`, which keeps it fresh). Outside Vercel (another host, CI, "
               "a container), use an API key instead: create one in the AI Gateway tab → API Keys and set "
               "AI_GATEWAY_API_KEY."),
        suppresses=("gateway.unauthenticated", "client.key_not_loaded"),
    ),
    SignalSpec(
        code="client.key_not_loaded",
        patterns=(
            r"(?i)no authentication provided",
            r"(?i)vercel ai gateway access failed",
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
        steps=("The request left without an API key: the variable your code reads (AI_GATEWAY_API_KEY, or "
               "the provider variable your SDK falls back to, such as ANTHROPIC_API_KEY) was empty where the "
               "client was created, so it never carried the gateway's key. Load the environment before the "
               "client is created (dotenv's config() first, or `vercel env pull` for local runs), set the "
               "variable for the environment that runs the code (Vercel project settings for Preview and "
               "Production, your CI's secrets for CI), redeploy, and log whether it is set (never its value)."),
        confirmed_by=("key.ok",),
        suppresses=("gateway.unauthenticated", "upstream.provider_error"),
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
        code="client.wrong_endpoint",
        patterns=(
            r"\bDEPLOYMENT_NOT_FOUND\b",
            r"(?i)vercel security checkpoint",
            r"(?i)ai-gateway\.vercel\.sh/v1/v1\b",
            r"(?i)ai-gateway\.vercel\.sh/v1/language-model\b",
            r"(?i)ai-gateway\.vercel\.sh/v3/ai/(?:chat/completions|responses|v1)\b",
            r"(?i)ai-gateway\.vercel\.sh/(?:chat/completions|completions|embeddings|responses)\b",
            r"(?i)ai-gateway\.vercel\.sh/(?:api/|v2/|openai/)",
            r"(?i)ai-gateway\.vercel\.sh/v1(?:beta)?/models/[^\s\"'`]*:(?:generate|stream)Content",
            r"(?i)ai-gateway\.vercel\.sh/v1/(?:chat/completions|responses|embeddings)/(?:chat/|v1|responses|embeddings)",
            r"(?i)\b(?:base_?url|baseURL|api_base|ANTHROPIC_BASE_URL|OPENAI_BASE_URL)\b[\"']? ?[:=] ?[\"'`]?https://"
            r"ai-gateway\.vercel\.sh/v1/(?:chat/completions|responses|embeddings|messages|models)",
            r"(?i)\b(?:base_?url|baseURL)\b[\"']? ?[:=] ?[\"'`]https://ai-gateway\.vercel\.sh/?[\"'`].{0,400}?"
            r"(?:\b404\b|NotFound)",
            r"(?i)ai-gateway\.vercel\.sh[^\s\"'`]*[^.!?]{0,80}?(?:\b40[45]\b|\bNOT_FOUND\b|could not be found)",
            r"(?i)(?:\b40[45]\b|\bNOT_FOUND\b)[^.!?]{0,80}?ai-gateway\.vercel\.sh",
        ),
        explanation=("The request reached Vercel but no route the gateway serves: a doubled or missing /v1, another "
                     "SDK's path on the OpenAI-compatible base URL, a deployment URL, a security checkpoint."),
        steps=("The request never reached a gateway route (a 404/405, DEPLOYMENT_NOT_FOUND or a Vercel Security "
               "Checkpoint page comes from the URL, not your account). Set the base URL once, as your client "
               f"expects it: OpenAI-compatible clients (OpenAI SDK, LangChain, curl) {OPENAI_BASE}, which they "
               "extend with /chat/completions, /responses, /embeddings or /models; the Anthropic SDK "
               "https://ai-gateway.vercel.sh (it adds /v1/messages itself); the AI SDK's gateway provider no base "
               "URL at all. Then check the URL in the error: no /v1/v1, no missing /v1, no /messages or "
               "/language-model after /v1, and the host ai-gateway.vercel.sh, not a *.vercel.app deployment."),
        suppresses=("client.wrong_base_url", "gateway.access_denied", "gateway.unauthenticated",
                    "gateway.rate_limited"),
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
        suppresses=("gateway.rate_limited", "gateway.insufficient_funds", "client.provider_direct",
                    "gateway.server_error"),
        gateway_context=True,
        # an empty provider key in the pasted environment (`ANTHROPIC_API_KEY=`) is the customer's to
        # mend: never "nothing to change on your side" beside one
        unless=(EMPTY_PROVIDER_KEY,),
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
        suppresses=("gateway.unauthenticated", "gateway.rate_limited", "gateway.insufficient_funds",
                    "client.invalid_request"),
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
            # a framework's router string passed on as the id (`vercel/openai/gpt-4o`)
            r"(?i)[\"'`]vercel/[a-z0-9-]+/[\w.:-]+[\"'`]",
            r"(?i)\b(?:invalid|unknown|unsupported) model(?: id)?\b",
            r"(?i)\bmodel\b[^.!?]{0,60}?\bdoes not exist\b",
            r"(?i)\bmodel ids? (?:must|should) be (?:in the form )?[\"'`]?provider/model",
        ),
        explanation="The gateway does not know the model id that was called: not `provider/model` as it lists it.",
        steps=("The gateway does not know that model id. Ids are \"provider/model\" exactly as the model list "
               "shows them, for example openai/gpt-4o-mini or anthropic/claude-sonnet-4: no bare \"gpt-4o\", and "
               "no extra prefix (a framework's router string such as vercel/openai/gpt-4o is sent as "
               "openai/gpt-4o). Copy the id from https://ai-gateway.vercel.sh/v1/models or the AI Gateway tab → "
               "Model List."),
        suppresses=("client.wrong_endpoint",),
    ),
    SignalSpec(
        code="client.invalid_request",
        patterns=(
            r"\binvalid_request_error\b",
            r"\bGatewayInvalidRequestError\b",
            r"(?i)\binvalid input\b",
            r"\b(?:AI_)?InvalidPromptError\b",
            r"(?i)\binvalid (?:value|type) for [\"'`]?(?:messages|input|tools|tool_choice|response_format)",
            r"(?i)\bmessages\.\d+\.content\b|\binput\[\d+\]",
            r"(?i)\bunsupported (?:content|message|part|input) (?:type|part)\b",
        ),
        explanation="The gateway rejected the request body itself (400): a message part, tool schema, Responses item "
                    "or provider option the client built wrong.",
        steps=("The gateway rejected the request body itself (400), before any account check: nothing on your "
               "account blocks it. The error's message names the field: fix that part of the request (a message "
               "part or content type the model does not take, a tool's JSON schema, a Responses API input item, "
               "a provider option under the wrong provider's name) and send it again. With the AI SDK, keep `ai` "
               "and `@ai-sdk/gateway` on matching current versions: an older pair builds parts the gateway no "
               "longer accepts."),
        statuses=(400,),
        suppresses=("gateway.access_denied",),
    ),
    SignalSpec(
        code="gateway.not_found",
        patterns=(
            r"\bGatewayNotFoundError\b",
            r"(?i)\b(?:batch|job|video|generation) [\w\"'`-]{0,60} ?(?:was )?not found\b",
        ),
        explanation="The gateway has no resource with that id (an unknown batch, video or generation id).",
        suppresses=("client.wrong_endpoint",),
        steps=("The gateway has no resource with the id you asked for (404 not_found): the batch, video job or "
               "generation id is mistyped, expired, or was created with another team's key. Use the id exactly as "
               "the create call returned it, with an API key of the same team."),
    ),
    SignalSpec(
        code="gateway.failed_dependency",
        patterns=(
            r"\bGatewayFailedDependencyError\b",
            r"\bfailed_dependency\b",
            r"\bGatewayExplicitCacheFallbackError\b|\bgemini_explicit_cache_fallback_unsupported\b",
            r"(?i)\b424\b[^.!?]{0,20}?failed dependency|\bfailed dependency\b",
        ),
        explanation=("The request relies on something the credentials that served it do not have (424), such as a "
                     "Gemini cachedContent reference served by fallback credentials."),
        steps=("The request relies on something the credentials that served it do not have (424), for example a "
               "Gemini cachedContent reference made with your own key that the gateway's fallback credentials "
               "cannot read. Retrying the same request will not help: send the full prompt inline instead of the "
               "cache reference, or keep the request on your own key (AI Gateway tab → Bring Your Own Key)."),
        statuses=(424,),
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
        unless=(EMPTY_PROVIDER_KEY,),
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
        without_team=False,
    ),
    SignalSpec(
        code="gateway.server_error",
        patterns=(
            r"\binternal_server_error\b",
            r"\bGatewayInternalServerError\b",
            r"\bGatewayResponseError\b|(?i:invalid error response format)",
            r"\bGatewayTimeoutError\b|\btimeout_error\b|(?i:gateway request timed out)",
            r"(?i)\binternal server error\b",
            r"(?i)\b(?:502 bad gateway|503 service unavailable|504 gateway time-?out)\b",
            r"(?i)\b(?:status|code|http|error)\W{0,3}499\b|\b499\b[^.!?]{0,30}?\bclient closed",
            r"(?i)\b(?:ai )?gateway (?:is |seems |appears (?:to be )?)?(?:down|having an outage|degraded)\b",
            r"(?i)\boutage\b",
            r"\bECONNRESET\b|(?i:socket hang up|other side closed)|\bUND_ERR_SOCKET\b",
            r"\bINTERNAL_FUNCTION_INVOCATION_FAILED\b|\bINTERNAL_SERVER_ERROR\b",
            r"(?i)upstream connect error or disconnect",
        ),
        explanation=("The gateway's own failure: a 5xx internal_server_error, a timeout, a 499, an error body not in "
                     "its format, an outage. Staff trace it; the team's state does not explain it."),
        steps=("This looks like a failure on the gateway's side (a server error or a timeout while it served "
               "the request), not something on your account or in your code. Our gateway engineers take it from "
               "here."),
        statuses=(500, 502, 503, 504),
        hands_off=True,
        asks=("request", "time", "model"),
        beside_refusal=False,
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
    SignalSpec(
        code="question.credits_api",
        patterns=(
            r"(?i)\b(?:check|get|read|fetch|query|see|show|display|monitor|track)\b[^.!?]{0,40}?\b(?:credits?|credit "
            r"balance|remaining balance|balance)\b[^.!?]{0,60}?\b(?:programmatically|from (?:my |our )?(?:code|app|"
            r"backend|server)|via (?:the |an )?api|with (?:the )?(?:api|sdk)|in (?:my |our )?(?:app|code))",
            r"\bgetCredits\b",
            r"(?i)\b(?:credits?|balance) (?:api|endpoint)\b",
        ),
        explanation="A how-to: reading the credit balance from code.",
        steps=("You can read the balance from code: with the AI SDK, `import { gateway } from 'ai'` (or from "
               "'@ai-sdk/gateway') and `await gateway.getCredits()` returns `{ balance, totalUsed }`. It calls GET "
               "https://ai-gateway.vercel.sh/v1/credits with your API key as the bearer, which any HTTP client "
               "can call too (the JSON has balance and total_used). If that does not cover what you need, our "
               "support team takes it from here."),
        hands_off=True,
        unless=FAILING,
    ),
    SignalSpec(
        code="question.rate_limits",
        patterns=(
            r"(?i)\bwhat (?:are|is) the (?:\w+ )?(?:rate )?limits?\b",
            r"(?i)\b(?:increase|raise|higher|bump|lift)\b[^.!?]{0,30}?\b(?:rate limits?|rpm|tpm)\b",
            r"(?i)\brate limits?\b[^.!?]{0,40}?\b(?:for|on) (?:my|our|the|a) (?:plan|team|tier|account|paid|free|pro)",
            r"(?i)\bhow many (?:requests|tokens) (?:per|a|an) (?:minute|second|hour|day)\b",
            r"(?i)\brequests?[- ]per[- ](?:minute|second)\b[^.!?]{0,20}?\blimit",
            r"(?i)\brate limits? (?:documented|published)",
            r"(?i)\b(?:are there|is there a) rate limits?\b",
        ),
        explanation="A question about rate limits (what they are, how to raise them), not a 429 to explain.",
        steps=("Rate limits are set per team and depend on the credits you use (paid credits get higher limits "
               "than free credits). Our team takes your question from here; to answer it for your case they need "
               "the model(s) you call and the requests (or tokens) per minute you expect at peak."),
        hands_off=True,
        unless=FAILING,
    ),
    SignalSpec(
        code="question.feature_request",
        patterns=(
            r"(?i)\bfeature request\b",
            r"(?i)\b(?:would be (?:great|nice|helpful|cool|awesome) (?:if|to)|please (?:add )?support for)\b",
            r"(?i)\b(?:is|are) [\w./:-]+(?: models?)? (?:available|supported) (?:through|on|via|in|with) (?:the )?"
            r"(?:vercel )?(?:ai )?gateway\b",
            r"(?i)\b(?:any plans? to|is there (?:a )?plans? to)\b",
            r"(?i)\bdoes (?:the )?(?:ai |vercel ai )?gateway (?:support|have|offer|allow)\b",
            r"(?i)\b(?:support|add) for [^.!?]{0,40}?\b(?:soon|planned|coming)\b",
            r"(?i)\broadmap\b",
        ),
        explanation="A question about what the gateway supports, or a request for something it does not do yet.",
        steps=("This reads as a question about what the AI Gateway supports, or a request for something it does "
               "not do yet. Our product team reads these and has your message; nothing on your account needs to "
               "change."),
        hands_off=True,
        unless=FAILING,
    ),
    SignalSpec(
        code="question.billing_dispute",
        patterns=(
            r"(?i)\brefund(?:s|ed)?\b",
            r"(?i)\b(?:charged|billed)(?: us| me)? (?:twice|double|two times|three times|\d+ times|again|more than|"
            r"multiple times)",
            r"(?i)\bUSt-?Id(?:Nr)?\b|\bVAT (?:id|number)\b|\b(?:correct|amend|re-?issue|korrigieren)\b[^.!?]{0,40}?"
            r"\b(?:invoice|rechnung|receipt)\b",
            r"(?i)\bdouble[- ](?:charged|billed)\b|\bover-?charged\b|\bchargeback\b",
            r"(?i)\b(?:unexpected|unrecogni[sz]ed|wrong|incorrect|duplicate) (?:charge|invoice|bill|payment)s?\b",
            r"(?i)\bdispute\b",
        ),
        explanation="A billing dispute or refund request: the billing team's, not a refusal.",
        steps=("This is a billing question (a charge or a refund), which our billing team handles: they have your "
               "message and will answer here. They find the charge fastest with the invoice number, or the date "
               "and amount as your statement shows them; please never send card details."),
        hands_off=True,
    ),
    SignalSpec(
        code="question.sibling_product",
        patterns=(
            r"(?i)\bv0(?:\.dev|\.app)?\b[^.!?]{0,60}?\b(?:credits?|plan|subscription|premium|tokens?|billing)\b",
            r"(?i)\b(?:credits?|plan|subscription|premium|billing)\b[^.!?]{0,60}?\bv0(?:\.dev|\.app)?\b",
            r"(?i)\bfunction (?:duration|invocations?)\b[^?]{0,120}?\b(?:bill(?:ed)?|costs?|charged?)\b",
        ),
        explanation="About a sibling product's credits, plan or bill (v0, Vercel Functions), not the gateway's.",
        suppresses=("gateway.insufficient_funds",),
        steps=("This is about another Vercel product's credits or bill (v0's credits or plan, or Vercel Functions "
               "usage such as Function Duration), which is billed apart from your team's AI Gateway credits: AI "
               "Gateway credits pay only for the model calls. The team for that product has your message; nothing "
               "on your AI Gateway account needs to change."),
        hands_off=True,
    ),
)

BY_CODE: dict[str, SignalSpec] = {s.code: s for s in SIGNALS}

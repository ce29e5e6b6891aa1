"""What the customer reads: one reply per outcome, with the steps for each finding."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from unblock.domain import helpdesks
from unblock.domain.cases import Case
from unblock.domain.checks import CATALOGUE
from unblock.domain.helpdesks import HelpDesk
from unblock.domain.models import REQUESTER_USERNAME, Finding, FixName, ShadowRun, Signal
from unblock.domain.tickets.signal_catalogue import BY_CODE, OPENAI_BASE
from unblock.domain.tickets.signals import SLOW, normalize

# each customer_action finding's step lives on its row (checks.CATALOGUE)
STEPS: dict[str, str] = {code: spec.step for code, spec in CATALOGUE.items() if spec.step}

FIXED: dict[str, str] = {
    "clear_billing_hold": "removed a billing hold that should have been lifted automatically",
    "resync_key": "re-synced your API key to our edge network",
    "resync_entitlements": "re-enabled AI Gateway on your plan",
    "lift_risk_hold": "lifted an automated risk hold on your team",
}

ROTATE = ("You pasted a full API key or token in your message. We removed it from our records, "
          "but please treat it as exposed: revoke it and create a new one.")


def _in_place(case: Case) -> list[FixName]:
    """The fixes now in place for the case: applied by it, or found already done (a fix whose
    write succeeded before a failure, or another ticket's for the same team)."""
    out: list[FixName] = []
    for r in case.run_fixes:
        if r.status in ("applied", "already_done") and r.fix not in out:
            out.append(r.fix)
    return out


def _steps(findings: list[Finding]) -> list[str]:
    """Each customer_action finding's step (every such code has one: tests/unit/test_reply_privacy.py)."""
    return list(dict.fromkeys(STEPS[f.code] for f in findings if f.disposition == "customer_action"))


def _confirmed(code: str, findings: list[Finding]) -> bool:
    """A finding (not ok) already says what the signal says: its steps are the finding's."""
    patterns = BY_CODE[code].confirmed_by
    return any(f.disposition != "ok" and any(f.code == p or (p.endswith(".*") and f.code.startswith(p[:-1]))
                                             for p in patterns) for f in findings)


def _findings_shown(case: Case) -> bool:
    """The reply names the findings (and their steps): a verified requester, off a public channel."""
    return case.requester_verified and not is_public(case)


def signal_steps(case: Case, findings: list[Finding]) -> list[str]:
    """The steps for what the customer saw (DESIGN.md "Signals"): they speak of the customer's own
    message and the gateway's public rules, never of a team's account, so anyone may read them, on
    any channel, verified or not. A signal that needs the team's state gives its steps before the team
    is known (a 402 says how to top up), after that the findings speak; a signal a finding confirms is
    left to the finding where the reply shows it. Staff's signals (`hands_off`) speak in the hand-off
    reply only, and a stream that carried the error only when nothing else says what it was. A
    stranger is never told what the request log says of a request they quoted (`_told`)."""
    told = dict.fromkeys(s.code for s in _told(case))
    codes = [c for c in told if c in BY_CODE and not BY_CODE[c].hands_off]
    if case.team_id is not None:
        codes = [c for c in codes if not BY_CODE[c].needs_team]
    else:
        codes = [c for c in codes if BY_CODE[c].without_team]
    if _findings_shown(case):
        codes = [c for c in codes if not _confirmed(c, findings)]
    if any(BY_CODE[c].explains for c in codes):  # the stream only carried what these explain
        codes = [c for c in codes if BY_CODE[c].explains]
    return [BY_CODE[c].steps + _their_words(case, c) for c in codes]


# The request body errors name the field to change: the reply quotes the gateway's own message back
# (the ticket's text is redacted already).
_BODY_ERROR = re.compile(r"invalid_request_error|GatewayInvalidRequestError|BadRequestError|InvalidPromptError|"
                         r"(?i:invalid input)")
_MESSAGE = re.compile(r"[\"']message[\"'] ?: ?[\"']([^\"']{8,220})[\"']")
_INVALID = re.compile(r"(?i)\binvalid (?:input|value|type)(?: for [^:]{1,60})?: ?[^{}]{4,200}?(?=[.;] |\s\{|\s\}|$| at | statusCode|,? ?url:)")


def _their_words(case: Case, code: str) -> str:
    text = normalize(f"{case.report.subject}\n{case.report.text}")
    if code == "client.wrong_endpoint":
        return _endpoint_words(text)
    if code == "gateway.model_not_found":
        return _model_words(text)
    if code != "client.invalid_request":
        return ""
    marker = _BODY_ERROR.search(text)
    if marker is None:
        return ""
    said = [(abs(m.start() - marker.start()), m.group(1)) for m in _MESSAGE.finditer(text)]
    said = said or [(abs(m.start() - marker.start()), m.group(0)) for m in _INVALID.finditer(text)]
    said = said or [(0, m.group(1)) for m in _AFTER_CLASS.finditer(text)]
    quoted = min(said)[1].strip().rstrip(".,") if said else ""
    if len(quoted) < 16:  # "Invalid input" alone says nothing the step does not: the part they name does
        named = list(dict.fromkeys(m.group(0) for m in _FIELD.finditer(text)))
        return (f" The message alone does not name the field, but what you describe points at "
                f"{_listed([f'`{n}`' for n in named[:3]])}: check it against what the model accepts."
                if named else "")
    return f" Here the gateway's message says what to change: “{quoted[:200]}”."


# A class name followed by the provider's own sentence (Anthropic's "messages.3: `tool_result` ...").
_AFTER_CLASS = re.compile(r"\b(?:GatewayInvalidRequestError|BadRequestError|InvalidPromptError): "
                          r"([^{}]{1,220}?)(?= statusCode| at |\s\{|$)")
# The request fields customers name beside a bare "Invalid input".
_FIELD = re.compile(r"\b(?:temperature|top_p|top_k|max_tokens|maxOutputTokens|max_completion_tokens|seed|"
                    r"tool_choice|response_format|reasoning_effort|providerOptions|image part|file part|mediaType|"
                    r"stop sequences?)\b")
_GATEWAY_PATH = re.compile(r"(?i)https://ai-gateway\.vercel\.sh(/[^\s\"'`)]*)")
# The OpenAI-compatible routes, and the wrong spellings of them customers send.
_ROUTES = ("/chat/completions", "/responses", "/embeddings", "/models", "/completions")
_SINGULAR = {"/response": "/responses", "/embedding": "/embeddings", "/model": "/models",
             "/chat/completion": "/chat/completions", "/chat": "/chat/completions"}


def _right_path(path: str) -> str | None:
    """The route a wrong OpenAI-compatible path meant (None: not one we can tell)."""
    fixed = re.sub(r"/{2,}", "/", path).rstrip("/")
    while fixed.startswith("/v1/v1"):
        fixed = fixed[3:]
    if not fixed.startswith("/v1/") and any(fixed == r or fixed.startswith(r + "/") for r in _ROUTES):
        fixed = "/v1" + fixed
    tail = fixed.removeprefix("/v1")
    fixed = "/v1" + _SINGULAR.get(tail, tail) if fixed.startswith("/v1/") else fixed
    return fixed if fixed != path and fixed.removeprefix("/v1") in _ROUTES else None


_MODEL_QUOTED = re.compile(r"""(?i)\bmodel(?:Id)?\b['"]?\s*[:=]?\s*['"]([\w./:-]{2,80})['"]|"""
                           r"""['"]([a-z0-9-]+/[\w.:-]{2,80})['"]""")
# The provider a bare model id's family belongs to.
_FAMILY = (("openai", r"gpt-|o[134]\b|o[134]-|text-embedding-|dall-e|whisper"), ("anthropic", r"claude"),
           ("google", r"gemini|gemma"), ("xai", r"grok"), ("mistral", r"mistral|codestral|pixtral"),
           ("deepseek", r"deepseek"), ("meta", r"llama"))


def _right_model(sent: str) -> str | None:
    """The gateway's "provider/model" id for one sent with a router's suffix or prefix, or none."""
    model = re.sub(r":(?:free|beta|extended|nitro|floor|online)$", "", sent)
    model = model.removeprefix("vercel/")
    if "/" not in model:
        provider = next((p for p, family in _FAMILY if re.match(family, model, re.I)), None)
        model = f"{provider}/{model}" if provider else model
    return model if model != sent and "/" in model else None


def _model_words(text: str) -> str:
    """The model id the customer sent, and the id the gateway knows for it."""
    for m in _MODEL_QUOTED.finditer(text):
        sent = m.group(1) or m.group(2)
        right = _right_model(sent)
        if right:
            return f" You sent “{sent}”: the gateway's id for it is most likely {right} (check it in the model list)."
    return ""


def _endpoint_words(text: str) -> str:
    """The wrong URL the customer quoted, and the one their client needs instead."""
    said: list[str] = []
    if re.search(r"\bANTHROPIC_BASE_URL\b", text):
        said.append("For Claude Code and the Anthropic SDK, set ANTHROPIC_BASE_URL=https://ai-gateway.vercel.sh "
                    "(no /v1, no path: they add /v1/messages themselves).")
    if re.search(r"(?i)\ballow: ?POST\b", text) or (re.search(r"\b405\b", text) and re.search(r"\bcurl\b", text)
                                                    and not re.search(r"(?:^| )(?:-d|--data|-X POST)\b", text)):
        said.append("The endpoint takes POST only, with a JSON body: a GET (curl without -d, or the URL opened in "
                    "a browser) gets 405.")
    if re.search(r"(?i)ai-gateway\.vercel\.sh/v1/language-model\b", text):
        said.append("/v1/language-model is not a route: the AI SDK's gateway provider builds its own paths, so "
                    "remove the baseURL you gave it (or the custom fetch's URL rewrite) and let it use its default.")
    for m in _GATEWAY_PATH.finditer(text):
        right = _right_path(m.group(1))
        if right and not re.search(r"\bANTHROPIC_BASE_URL\b", text):
            said.append(f"You called https://ai-gateway.vercel.sh{m.group(1)}; the route is "
                        f"https://ai-gateway.vercel.sh{right} (base URL {OPENAI_BASE}).")
    return "".join(" " + s for s in dict.fromkeys(said))


def handed_off_reply(case: Case) -> str:
    """What a handed-off ticket looks like and who takes it from here, asking only for what they need
    and the ticket does not give yet (DESIGN.md "Scope"); never for a team."""
    told = dict.fromkeys(s.code for s in _told(case))
    specs = [BY_CODE[c] for c in told if c in BY_CODE and BY_CODE[c].hands_off]
    asks = list(dict.fromkeys(a for s in specs for a in s.asks if not _given(case, a)))
    timed_out = _client_timeout(case)
    if timed_out:  # the client gave up, not the gateway: its timeout is the customer's to raise first
        specs = [s for s in specs if s.code != "gateway.server_error"]
    slow = not specs and not timed_out and SLOW.search(normalize(f"{case.report.subject}\n{case.report.text}"))
    if slow:  # staff trace it as they would a failure, with the same details
        specs = [BY_CODE["gateway.server_error"]]
        asks = [a for a in specs[0].asks if not _given(case, a)]
    said = [SLOWNESS] if slow else [s.steps for s in specs] + ([CLIENT_TIMEOUT] if timed_out else [])
    said = said or [
        "This reads as a question rather than a request that fails, so there is nothing to check or change on "
        "your account: our support team takes it from here and will answer here.",
        *[hint for pattern, hint in _HOW_TOS if not specs and pattern.search(case.report.text)]]
    if timed_out:  # only then is it the gateway engineers' to trace
        wanted = f", for one failing request: {_listed([_ASKED[a] for a in asks])}" if asks else ""
        said.append(f"If it still times out with a longer timeout, reply here{wanted}, and our gateway engineers "
                    "take it from there.")
        return "\n\n".join(["Thanks for writing.", *said])
    if asks:
        said.append("So they can trace it, please reply with, for one failing request: "
                    + _listed([_ASKED[a] for a in asks]) + ".")
    elif any(s.asks for s in specs):
        said.append("Your message has what they need to trace it (the request, its time and the model).")
    if any(s.asks for s in specs):
        said.append("Meanwhile, retrying with backoff (the AI SDK's maxRetries option) usually gets through.")
    return "\n\n".join(["Thanks for writing.", *said])


# The AI SDK gateway provider's GatewayTimeoutError (408, timeout_error) is raised when the client's own
# fetch or abortSignal gave up: retrying with the same timeout fails the same way.
_CLIENT_TIMEOUT = re.compile(r"\bGatewayTimeoutError\b|\btimeout_error\b|(?i:client-side timeout)")
CLIENT_TIMEOUT = (
    "This is a timeout on your side: your client stopped waiting (GatewayTimeoutError, 408) before the model "
    "finished, which long-thinking models (reasoning models such as o3) easily exceed. It is not a gateway "
    "failure, so retrying with the same timeout fails the same way: raise the client's timeout. With the AI SDK, "
    "pass a longer `abortSignal` (for example `abortSignal: AbortSignal.timeout(300_000)`) or remove the short "
    "one, and raise the timeout of any custom `fetch` you give the provider; with the OpenAI SDK, its `timeout` "
    "option; with a plain fetch, the AbortController that ends it. Streaming (streamText) also helps, as tokens "
    "arrive before the whole answer is done.")


# Public how-tos a plain question gets beside the hand-off (the gateway's documented options).
_HOW_TOS = (
    (re.compile(r"(?i)\bfallback models?\b|\bfall ?back (?:to|models?)\b"),
     "Meanwhile, in case it helps: model fallbacks are a request option. With the AI SDK, "
     "`providerOptions: { gateway: { models: ['openai/gpt-4.1'] } }` lists the models tried, in order, when the "
     "primary model fails; the OpenAI-compatible API takes the same `providerOptions` in the request body."),
    (re.compile(r"(?i)\bbyok\b|\bbring your own keys?\b|\bown (?:\w+ )?(?:api )?key\b"),
     "Meanwhile, in case it helps: your own provider key (BYOK) is added once per team in the dashboard, AI "
     "Gateway → Bring Your Own Key; requests for that provider's models then use it, and your code keeps "
     "calling the gateway with its AI Gateway key as before."),
)


SLOWNESS = ("Slow answers, or a stream that stops without an error, are for our gateway engineers to trace: "
            "nothing on your account or in your code explains them, and they take it from here.")


def _client_timeout(case: Case) -> bool:
    return _CLIENT_TIMEOUT.search(normalize(f"{case.report.subject}\n{case.report.text}")) is not None


_ASKED = {"request": "the generation id (gen_…, in the error or the response) or the X-Vercel-Id response header",
          "time": "the time it failed, with the time zone", "model": "the model you called"}
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b|\b\d{4}-\d{2}-\d{2}T\d{2}")


def _given(case: Case, what: str) -> bool:
    facts = case.report.facts
    if what == "request":
        return bool(facts.get("generation_ids") or facts.get("request_ids") or case.request)
    if what == "model":
        return bool(case.model)
    return bool(_TIME.search(f"{case.report.subject}\n{case.report.text}"))


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _told(case: Case) -> list[Signal]:
    """The signals a reply may speak of: what the customer wrote, and, for a verified requester only,
    what the gateway's request log says of the request they quoted. A stranger quoting another team's
    generation id learns nothing of that team (its tier, the model refused: issue 35 item 5)."""
    if case.requester_verified:
        return list(case.signals)
    return [s for s in case.signals if s.source != "request_log"]


def _quoted(case: Case) -> str:
    """Where the signals came from, as the customer knows it."""
    told = _told(case)
    if any(s.source == "request_log" for s in told):
        return "From what the gateway answered your request"
    return "From the error you quoted" if len(told) == 1 else "From the errors you quoted"


def _from_signals(case: Case, steps: list[str], closing: str) -> str:
    lead = f"Thanks for the details. {_quoted(case)}:"
    return "\n".join([lead, *[f"- {s}" for s in steps], *([closing] if closing else [])])


_SIGNALS_CLOSING = ("If requests still fail after that, reply here with the error you see then (and the "
                    "X-Vercel-Id response header of a failing request) and we will look further.")


def is_public(case: Case) -> bool:
    """A forum topic is read by anyone: its public reply stays in general terms."""
    return case.report.channel == "forum"


def customer_reply(case: Case, findings_now: list[Finding]) -> str | None:
    """The reply on the ticket for the case's outcome. Its specifics (which finding, which
    fact) go only to a verified requester, and never on a public channel (DESIGN.md "Who may
    act on which team"); no reply to anyone names a restriction's reason or score. On a public
    channel no reply asks for a team id or a key, nor names one (DESIGN.md "Conversations")."""
    # nobody wrote: the team's owner, a member, reads it as a new ticket (a ticket that joined the case
    # makes its requester the case's: answered as a ticket, from what the case had done before)
    if case.report.source == "gateway" and case.proactive is None:
        if not case.notify_email:
            return None
        if case.outcome == "escalated" and case.status != "closed":
            return _reply(case, _proactive_intro(case), "A person on our team is reviewing what we found now; "
                          "we will write again here once it is decided.")
        return _reply(case, _proactive_intro(case), _specific(case, findings_now))
    if case.outcome == "handed_off":  # the same for anyone, on any channel: no team fact in it
        return _reply(case, _already_done(case), handed_off_reply(case), _posted_team_id_note(case))
    steps = signal_steps(case, findings_now)
    if case.outcome == "customer_action" and steps and not any(f.disposition == "customer_action" for f in findings_now):
        # the customer's own steps answer it (no team, or every check passes): the same for anyone
        return _reply(case, _already_done(case), _from_signals(case, steps, _SIGNALS_CLOSING),
                      _posted_team_id_note(case))
    if case.requester_verified and not is_public(case):
        return _reply(case, _already_done(case), _specific(case, findings_now), _also(steps, case))
    if case.outcome == "needs_info":  # the steps the signals support first, then the team asked for
        asked = (NEEDS_INFO_PUBLIC if case.report.requested_by else NEEDS_INFO_FORM) if is_public(case) else NEEDS_INFO
        if steps:
            return _reply(case, _already_done(case), _from_signals(case, steps, ""),
                          asked.removeprefix(THANKS), _posted_team_id_note(case))
        return _reply(case, _already_done(case), asked, _posted_team_id_note(case))
    return _reply(case, _already_done(case), _general(case), _also(steps, case), _where_details_are(case),
                  _posted_team_id_note(case))


PROACTIVE_SUBJECT = "Your team's API requests were being refused: what we found and did"


def _proactive_intro(case: Case) -> str:
    seen = case.report.text.replace("The gateway", "our gateway", 1).replace("requests of this team",
                                                                            "of your team's requests", 1)
    return f"You did not need to write to us: {seen} We checked your team straight away."


def _already_done(case: Case) -> str | None:
    """A ticket that joined its team's proactive case: what unblock had seen and done before the
    team wrote (times only, no finding), for a verified requester and never in public: a stranger
    naming a team learns nothing of when its requests were refused or fixed (issue 35 item 5)."""
    link = case.proactive
    if link is None or not case.requester_verified or is_public(case):
        return None  # when the team's requests were refused and fixed is the team's own to hear
    noticed = f"We noticed at {link.noticed_at:%H:%M} UTC that your team's requests were being refused"
    if link.verified and link.fixed_at is not None and case.outcome in ("already_working", "auto_fixed"):
        return f"{noticed}, and fixed it at {link.fixed_at:%H:%M} UTC, before you wrote: your calls work again."
    if case.outcome in ("already_working", "auto_fixed"):  # this ticket's run fixed it: one story, not two
        return f"{noticed}, before you wrote."
    if link.status == "awaiting_staff":
        return f"{noticed}, before you wrote, and a person on our team is already looking at it."
    return f"{noticed}, before you wrote, and looked into it straight away."


def _also(steps: list[str], case: Case) -> str | None:
    """Steps from what the customer quoted, beside the outcome's own text."""
    if not steps:
        return None
    lead = f"Also, {_quoted(case).lower()}:"
    return "\n".join([lead, *[f"- {s}" for s in steps]])


def private_reply(case: Case, findings_now: list[Finding]) -> str | None:
    """What goes to the requester privately from a public channel (a private message): the
    specifics for a verified requester, and the question which team they are on."""
    if not (is_public(case) and case.report.requested_by):
        return None
    if case.outcome == "needs_info":
        return _reply(case, NEEDS_INFO + " " + PRIVATE_ONLY)
    if case.requester_verified:
        return _reply(case, _specific(case, findings_now), _also(signal_steps(case, findings_now), case))
    return None


_TEAM_ID = re.compile(r"(?<![A-Za-z0-9_])team_[A-Za-z0-9]{24}(?![A-Za-z0-9_])")
TEAM_ID_NOTE = ("Note: your team ID is visible in this public topic. You can edit your post to remove it; "
                "we have what we need.")


def _posted_team_id_note(case: Case) -> str | None:
    """A short note when a team id was posted in public since unblock last replied."""
    if not is_public(case):
        return None
    said: list[str] = []
    for m in case.conversation:
        if m.author == "unblock":
            said = []
        elif m.author == "customer" and m.channel == "public":
            said.append(m.text)
    if not any(m.author == "unblock" for m in case.conversation):
        said = [case.report.subject, case.report.text, *said]
    return TEAM_ID_NOTE if any(_TEAM_ID.search(t) for t in said) else None


def _reply(case: Case, *parts: str | None) -> str | None:
    """The parts that have something to say, then the rotation notice when a secret was pasted."""
    kept = [p for p in parts if p]
    if case.report.must_rotate_key:
        kept.append(ROTATE)
    return "\n\n".join(kept) or None


def _where_details_are(case: Case) -> str | None:
    if case.outcome in (None, "needs_info"):
        return None
    if not case.requester_verified:
        return ("For details about the team's account, please ask a member of the team to write to us "
                "from the email address they use on the team.")
    if is_public(case) and case.report.requested_by:
        return "We have sent you the details in a private message."
    if is_public(case):  # a forum post with no private message to send: say where the specifics are
        return DETAILS_PRIVATELY
    return None


DETAILS_PRIVATELY = ("For the details, please contact us through the private support form from the email address "
                     "you use on the team; we do not post them in this public topic.")


def _general(case: Case) -> str | None:
    """The outcome in general terms: no finding, no billing, key or restriction fact."""
    if case.outcome == "needs_info":
        return NEEDS_INFO
    if case.outcome == "already_working":
        return ("We checked the team you named and found nothing blocking it, and a test request through the "
                "gateway succeeds now. Please retry your requests.")
    if case.outcome == "auto_fixed":
        return ("We found a problem on the team's account and fixed it; a test request through the gateway "
                "now succeeds. Please retry your requests.")
    if case.outcome == "customer_action":
        return ("We looked into this: something on the team's account needs a step by the team before requests "
                "can go through. We re-check automatically and will post here once access works again.")
    if case.outcome == "escalated":
        return _escalated(case)
    return None


THANKS = "Thanks for reaching out. "
NEEDS_INFO = ("Thanks for reaching out. We could not tell which team you are on: please reply with your "
              "team ID (it starts with team_, in Team Settings) or your team's slug.")
PRIVATE_ONLY = "Only you and our support team can read this message."
# a public topic: never ask anyone to post a team id or a key there
NEEDS_INFO_PUBLIC = ("Thanks for reaching out. To look into this we need to know which team you are on, "
                     "which is best not shared in public: we have sent you a private message. Please answer "
                     "it there, and please do not post team IDs or API keys in this topic.")
NEEDS_INFO_FORM = ("Thanks for reaching out. To look into this we need to know which team you are on, "
                   "which is best not shared in public: please contact us through the private support "
                   "form, and please do not post team IDs or API keys in this topic.")


def _escalated(case: Case) -> str | None:
    if case.status != "closed":
        return ("Thanks for the report. Your case needs a review by our team; we have passed it on "
                "with everything we found and will get back to you here.")
    if case.resolution == "checks_pass":
        return access_restored_reply()
    if case.resolution == "stale":
        return stale_reply()
    if case.resolution == "resolved":
        return "Our team has resolved the issue on your account. Please retry your requests."
    if case.resolution == "rejected":
        return ("Our team reviewed your case; access stays restricted for now. "
                "We will follow up with details by email.")
    if case.resolution == "timed_out":  # nobody decided: never claim a review happened
        return ("We are sorry: our team could not get to your case in time, so nobody has reviewed it "
                "yet. If requests still fail with 403 Forbidden, reply here and we will look again.")
    return None


def _specific(case: Case, findings_now: list[Finding]) -> str | None:
    """The outcome with its facts: what was fixed, the customer's steps (a verified requester only)."""
    fixed = [FIXED[f] for f in _in_place(case)]
    if case.outcome == "already_working":
        return ("We checked your team's billing, API keys and restrictions and found nothing blocking, "
                "and a test request through the gateway succeeds now. Please retry; if you still see "
                "403 Forbidden, reply with the X-Vercel-Id of a failing request.")
    if case.outcome == "auto_fixed":
        if not fixed:
            return ("We found the cause and it is fixed: a test request through the gateway now succeeds; "
                    "please retry your requests.")
        return (f"We found the cause and fixed it: we {' and '.join(fixed)}. "
                "A test request through the gateway now succeeds; please retry your requests.")
    if case.outcome == "customer_action":
        lead = f"We {' and '.join(fixed)}, but one thing is still needed on your side:" if fixed else \
            "We found what blocks your requests; it needs a step on your side:"
        steps = _steps(findings_now) or _refused_by_gateway(case)
        return "\n".join([lead, *[f"- {s}" for s in steps],
                          "We re-check automatically and will let you know once access works again."])
    return _general(case)  # needs_info and escalated read the same whoever asked


def _refused_by_gateway(case: Case) -> list[str]:
    """Every check passes but the gateway refuses the call itself (the decision names the signal the
    probe showed, say a model free credits do not cover): that signal's steps."""
    reason = (case.plan.reason if case.plan else "") + " " + str((case.verification or {}).get("reason", ""))
    named = [BY_CODE[c].steps for c in re.findall(r"\b[a-z]+\.[a-z_]+\b", reason) if c in BY_CODE]
    return named or ["Our checks of your team's account pass, but the gateway still refuses the call: reply with "
                     "the exact error of one failing request and its X-Vercel-Id response header, and we will "
                     "tell you what to change."]


def access_restored_reply() -> str:
    return "Good news: we re-checked your team and requests through the gateway succeed again. You're all set."


def stale_reply() -> str:
    return ("We are closing this case after 14 days without a change. If requests still fail with "
            "403 Forbidden, reply here and we will look again.")


def internal_note(case: Case) -> str:
    lines = [f"unblock case {case.case_id} · team {case.team_id or 'unknown'} · outcome {case.outcome}"]
    lines += [f"- {f.code} ({f.disposition}): {f.summary}" for f in case.findings]
    lines += [f"- saw {s.code} ({s.source}): {s.snippet}" for s in case.signals]
    if case.request is not None:
        r = case.request
        lines.append(f"- request log {r.request_id}: {r.status} {r.error_type or ''} {r.endpoint or ''} "
                     f"{r.model or ''} key {r.key_prefix or '-'}".rstrip())
    lines += [f"- fix {r.fix}: {r.status} by {r.actor} at {r.at.isoformat()}" for r in case.fixes]
    if case.outcome == "handed_off":
        staff = ", ".join(c for c in case.signal_codes if c in BY_CODE and BY_CODE[c].hands_off)
        lines.append(f"Handed off to staff ({staff}): not a refusal the team's state explains; nothing was fixed. "
                     "The customer was asked only for what the ticket's owner needs.")
    if case.escalation:
        lines.append(f"Escalated: {case.escalation.reason}")
    if case.report.must_rotate_key:
        lines.append("A secret was pasted in the ticket and redacted: the key must be rotated.")
    return "\n".join(lines)


def shadow_note(case: Case, shadow: ShadowRun) -> str:
    """The help desk's internal note for a shadow case: what unblock would have done, for the agent
    who works the ticket by hand (and marks the case agree or disagree in the console)."""
    lines = ["Shadow mode: unblock changed nothing on the platform and told the customer nothing.",
             f"It would have: {shadow.outcome} ({shadow.reason})"]
    if shadow.fixes:
        lines.append(f"Fixes it would have applied (or proposed to staff): {', '.join(shadow.fixes)}")
    lines += [f"- {f.code} ({f.disposition}): {f.summary}" for f in case.findings]
    if shadow.reply:
        lines += ["It would have replied:", *(f"> {line}" for line in shadow.reply.splitlines())]
    if case.report.must_rotate_key:
        lines.append("A secret was pasted in the ticket and redacted: the key must be rotated.")
    lines.append("Agree or disagree with it on the case in the staff console.")
    return "\n".join(lines)


# --- the outgoing message (one outbox message; the Notifier port delivers it) ------------

def _known_desk(value: str) -> str:
    from unblock.domain import helpdesks  # the registry's desks import the domain: asked when first used

    if helpdesks.find(value) is None:
        raise ValueError(f"no help desk named {value[:40]!r}")
    return value


# A help desk's name in the registry (unblock.domain.helpdesks): where a reply goes
Destination = Annotated[str, AfterValidator(_known_desk)]
_TICKET_ID = r"^[1-9][0-9]{0,19}$"


class NewTicket(BaseModel):
    """A ticket unblock opens itself: to the team's owner, about what it found and did."""

    model_config = ConfigDict(extra="forbid")

    requester_email: str = Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    subject: str = Field(min_length=1, max_length=200)


class OutgoingReply(BaseModel):
    """One reply to deliver: the body of one outbox message (`reply.model_dump_json()`)."""

    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1, max_length=200)
    destination: Destination
    ticket_id: str | None = Field(default=None, pattern=_TICKET_ID,
                                  description="the desk's ticket (or topic) id (None: `new_ticket`)")
    # a proactive case (DESIGN.md "Proactive cases"): nobody wrote, so the reply opens a ticket to the owner
    new_ticket: NewTicket | None = None
    public_body: str | None = None
    internal_note: str | None = None
    private_body: str | None = None  # a forum's: the specifics, as a private message to `private_to`
    private_to: str | None = Field(default=None, pattern=rf"^{REQUESTER_USERNAME}$")
    reply_id: str = Field(min_length=1, max_length=300, description="stable per reply: the idempotency key")
    outcome: str | None = Field(default=None, max_length=40, description="the case's outcome (ticket status, tags)")
    signals: list[str] = Field(default=[], max_length=40, description="what the ticket shows (signal codes, tags)")

    @model_validator(mode="after")
    def _has_text(self) -> OutgoingReply:
        if (self.ticket_id is None) == (self.new_ticket is None):
            raise ValueError("an outgoing reply names either a ticket_id or a new_ticket")
        if not (self.public_body or self.internal_note or self.private_body):
            raise ValueError("an outgoing reply needs a public_body, an internal_note or a private_body")
        if self.private_body and not self.private_to:
            raise ValueError("a private_body needs private_to")
        return self


def destination_of(case: Case) -> tuple[HelpDesk, str] | None:
    """Where the case's replies go (the help desk, from the registry), and the ticket (or topic)
    id there; None if nowhere.

    Only cases a help desk produced answer a help desk, their own (`<desk>:4711`,
    reports.case_id_for). A normalized event from the bus (`ticket:4711`), staff, API, schedule and
    other cases have no help desk to answer: what a normalized event's ticket id or channel says
    never sends a reply to a help-desk ticket (DESIGN.md "Triggers"). A source the registry does
    not list answers nowhere: never another desk.
    """
    prefix, _, rest = case.case_id.partition(":")
    source: str = case.report.source
    desk = helpdesks.find(source)
    if desk is None or prefix != desk.name:
        return None
    # a topic's other cases ("same here": `<desk>:8812/u/<name>`) and a later case of the same
    # ticket (`<desk>:4711~2`) answer on the ticket or topic itself
    ticket_id = re.split(r"[/~]", rest, maxsplit=1)[0]
    if not re.fullmatch(_TICKET_ID, ticket_id):
        return None
    return desk, ticket_id


def reply_for(case: Case, reply_id: str) -> OutgoingReply | None:
    """The outbox message for the case's current reply and note, or None when there is nothing
    to send: no help desk to answer (staff cases, an unrecognised case id), or no text for it.
    The internal note goes to a desk that keeps internal notes, the specifics privately on a desk
    with private messages. A proactive case's goes to its team's owner as a new ticket on the desk
    that opens tickets (the NotifyFunction skips it when that desk is not configured)."""
    if case.report.source == "gateway" and case.reply_ticket is None:
        # told once, when the case has an outcome of its own (not while staff decide): one ticket per case,
        # whatever the retries (its reply id is the case's)
        opener = next((d for d in helpdesks.DESKS.values() if d.opens_tickets), None)
        if opener is None or not (case.notify_email and case.customer_reply) \
                or case.status in ("awaiting_staff", "deciding"):
            return None
        return OutgoingReply(case_id=case.case_id, destination=opener.name,
                             new_ticket=NewTicket(requester_email=case.notify_email, subject=PROACTIVE_SUBJECT),
                             public_body=case.customer_reply, internal_note=case.internal_note or None,
                             reply_id=f"{case.case_id}:owner-ticket", outcome=case.outcome)
    # a proactive case a team's ticket joined answers on that ticket
    where = destination_of(case) if case.reply_ticket is None else destination_of(case.model_copy(update={
        "case_id": case.reply_ticket,
        "report": case.report.model_copy(update={"source": case.reply_ticket.partition(":")[0]})}))
    if where is None:
        return None
    desk, ticket_id = where
    destination = desk.name
    public = case.customer_reply or None
    note = (case.internal_note or None) if desk.internal_notes else None
    private = (case.private_reply or None) if desk.private_messages and case.report.requested_by else None
    if not (public or note or private):
        return None
    return OutgoingReply(case_id=case.case_id, destination=destination, ticket_id=ticket_id,
                         public_body=public, internal_note=note, reply_id=reply_id, outcome=case.outcome,
                         signals=case.signal_codes,
                         private_body=private, private_to=case.report.requested_by if private else None)

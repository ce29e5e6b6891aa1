"""The labelled ticket corpus (tests/data/signal_corpus.yaml) run as the customer would send it, and
measured: per-signal precision and recall, outcomes expected vs got, team found, reply phrases, the
follow-ups' own rules. Pure except `run_corpus`, which drives an embedded stack (`LocalApp`).

The figures are floors (tests/data/corpus_floors.yaml) that only rise: the expectations stay what
DESIGN.md says, and a step the code misses is counted, not relabelled.
`python -m tests.corpus REPORT.md [--misses] [--replies] [--write-floors]` runs the corpus on a
stack of its own and writes the tables for docs/signals.md (with --misses every miss by cause, with
--replies every message and its reply, to read them as the customer would; with --write-floors the
floors file for what it measured).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "signal_corpus.yaml"
FLOORS = DATA / "corpus_floors.yaml"
# libyaml's loader where PyYAML has it: every pytest worker reads the corpus when it collects
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
TICKETS: list[dict[str, Any]] = yaml.load(CORPUS.read_text(), Loader=_SAFE_LOADER)["tickets"]
OUTCOMES = ("auto_fixed", "customer_action", "escalated", "already_working", "needs_info", "handed_off")
# DESIGN.md "What the customer saw: signals": the floor of codes (the catalogue may hold more)
DESIGN_CODES = frozenset({
    "gateway.access_denied", "gateway.verification_required", "gateway.insufficient_funds",
    "gateway.unauthenticated", "gateway.rate_limited", "gateway.model_restricted", "gateway.no_providers",
    "client.wrong_base_url", "client.key_not_loaded", "client.provider_direct", "byok.provider_key_as_gateway_key",
    "byok.needs_credits", "upstream.provider_error", "stream.error_in_body", "client.wrong_endpoint",
    "client.oidc_token", "client.invalid_request", "gateway.model_not_found", "gateway.server_error",
})
# Codes the signal catalogue adds beyond that floor, which the corpus labels too (DESIGN.md: "add codes freely")
EXTRA_CODES = frozenset({
    "byok.system_fallback", "gateway.not_found", "gateway.failed_dependency", "question.credits_api",
    "question.rate_limits", "question.feature_request", "question.billing_dispute", "question.sibling_product",
})
# Never in any reply: internal signals (DESIGN.md "Who may act on which team").
NEVER = ("abuse", "fraud", "sanction", "risk score", "risk_score")
# a day of its own (tests/README.md: the session's stack keeps every test's cases): no other test's
# re-check finds these cases due, and no other wave shares their causes within an incident's 24 hours
REPORTED_AT = datetime(2028, 3, 6, 10, 0, tzinfo=UTC)
FOLLOW_UP_GAP = timedelta(minutes=10)


def load_floors() -> dict[str, Any]:
    floors: dict[str, Any] = yaml.load(FLOORS.read_text(), Loader=_SAFE_LOADER)
    return floors


@dataclass(frozen=True)
class Step:
    """One message of a ticket and what the case must show after it (step 0: the first message)."""

    ticket: dict[str, Any]
    index: int

    @property
    def id(self) -> str:
        return self.ticket["id"] if self.index == 0 else f"{self.ticket['id']}#{self.index}"

    @property
    def message(self) -> dict[str, Any]:
        return self.ticket if self.index == 0 else self.ticket["follow_ups"][self.index - 1]

    @property
    def expect(self) -> dict[str, Any]:
        expect: dict[str, Any] = self.message["expect"]
        return expect

    @property
    def by_other(self) -> dict[str, Any] | None:
        other: dict[str, Any] | None = self.message.get("by_other")
        return other


def steps(ticket: dict[str, Any]) -> list[Step]:
    return [Step(ticket, i) for i in range(1 + len(ticket.get("follow_ups", [])))]


def text_signals(ticket: dict[str, Any]) -> set[str]:
    """What the first message's text shows: the expected signals less those only the request log gives."""
    return set(ticket["expect"]["signals"]) - set(ticket["expect"].get("from_log", []))


# --- events --------------------------------------------------------------------------------------
def event_for(step: Step, ticket_id: str) -> dict[str, Any]:
    """The normalized event of a step: the report, or a `Customer Replied` on the same ticket."""
    t, m = step.ticket, step.message
    who = step.by_other or t
    detail = {"ticket_id": ticket_id, "channel": t["channel"],
              "subject": t.get("subject", "") if step.index == 0 else "Re: " + t.get("subject", ""),
              "text": m.get("text", ""), "requester_email": who.get("requester_email"), "team_id": None,
              "team_slug": t.get("team_slug") if step.index == 0 else None, "key_prefix": None}
    if who.get("requester_username"):
        detail["requester_username"] = who["requester_username"]
    at = REPORTED_AT + step.index * FOLLOW_UP_GAP
    return {"version": "0", "id": str(uuid.uuid4()), "source": "unblock.tickets",
            "detail-type": "Access Denied Reported" if step.index == 0 else "Customer Replied",
            "time": at.isoformat().replace("+00:00", "Z"), "region": "us-east-1", "account": "123456789012",
            "resources": [], "detail": detail}


# --- one step's observation ----------------------------------------------------------------------
@dataclass
class Observed:
    step_id: str
    expect: dict[str, Any]
    signals: list[str]
    team: str | None  # the slug, or the raw team id when it is not in the seed
    outcome: str | None
    reply: str
    how: str | None = None
    case_id: str = ""
    first_case_id: str = ""
    previous_reply: str | None = None
    error: str | None = None
    misses: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)  # safety rules: never tolerated


def judge(o: Observed, channel: str, is_follow_up: bool, own_case: bool) -> Observed:
    """Compare what the case showed with what the step expects; safety rules go to `violations`."""
    e = o.expect
    if o.error:
        o.misses.append(f"error: {o.error}")
        return o
    if set(o.signals) != set(e["signals"]):
        o.misses.append(f"signals: got {sorted(o.signals)}")
    if o.team != e["team"]:
        o.misses.append(f"team: got {o.team}")
    if o.outcome != e["outcome"]:
        o.misses.append(f"outcome: got {o.outcome}")
    if e.get("how") and o.how != e["how"]:
        o.misses.append(f"how: got {o.how}")
    if own_case and o.case_id == o.first_case_id:
        o.misses.append("own_case: joined the first requester's case")
    if e.get("reply") == "none":
        return o
    reply = o.reply.lower()
    if not reply:
        o.misses.append("reply: none")
    for phrase in e.get("reply_must", []):
        if phrase.lower() not in reply:
            o.misses.append(f"reply_must: {phrase!r}")
    for phrase in e.get("reply_must_not", []):
        if phrase.lower() in reply:
            o.misses.append(f"reply_must_not: {phrase!r}")
    if is_follow_up and o.previous_reply is not None and o.reply.strip() == o.previous_reply.strip():
        o.misses.append("repeated: the previous reply word for word")
    for word in NEVER:
        if word in reply:
            o.violations.append(f"internal wording {word!r} in the reply")
    if channel == "forum" and ("team_" in o.reply.replace("starts with team_", "")
                               or "reply with your team id" in reply):
        o.violations.append("a forum reply names or asks for a team id")
    return o


# --- the runner ------------------------------------------------------------------------------------
def teams_of(ticket: dict[str, Any]) -> set[str]:
    return {s.expect["team"] for s in steps(ticket) if s.expect.get("team")}


def rounds(tickets: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Tickets in rounds that each name a team at most once: a fix for one ticket of a round never
    changes what another ticket of the same round finds (the platform is reseeded between rounds)."""
    out: list[tuple[set[str], list[dict[str, Any]]]] = []
    for t in tickets:
        names = teams_of(t)
        for used, members in out:
            if not names & used:
                used |= names
                members.append(t)
                break
        else:
            out.append((set(names), [t]))
    return [members for _, members in out]


def run_corpus(app: Any, tickets: list[dict[str, Any]], reseed: Any, timeout: float = 120.0) -> list[Observed]:
    """Every ticket through the workflow, a round at a time: the round's first messages are all sent,
    then awaited (their executions run side by side), then each follow-up position likewise."""
    from tests.support import EVENTS, take_human_queue_messages
    from unblock.domain.platform_model import load_seed_text

    slug_by_id = {t.team_id: t.slug for t in load_seed_text((EVENTS / "platform.json").read_text()).teams}
    observed: list[Observed] = []
    for members in rounds(tickets):
        reseed()
        ids = {t["id"]: str(uuid.uuid4().int)[:12] for t in members}
        first_case: dict[str, str] = {}
        last_reply: dict[str, str | None] = {}
        depth = max(len(steps(t)) for t in members)
        for index in range(depth):
            live = [Step(t, index) for t in members if index < len(steps(t))]
            app.clock.set(REPORTED_AT + index * FOLLOW_UP_GAP)
            started: list[tuple[Step, str | None, str | None]] = []
            for step in live:
                try:
                    started.append((step, app.submit(event_for(step, ids[step.ticket["id"]])), None))
                except Exception as err:  # noqa: BLE001 - a refused event is a miss of its step, named
                    started.append((step, None, f"{type(err).__name__}: {err}"))
            for step, case_id, error in started:
                tid = step.ticket["id"]
                o = Observed(step.id, step.expect, [], None, None, "", error=error,
                             first_case_id=first_case.get(tid, ""), previous_reply=last_reply.get(tid))
                if case_id is not None:
                    try:
                        result = app.client.result(app.wait(case_id, timeout))
                    except Exception as err:  # noqa: BLE001 - a case that never settles is a miss, named
                        o.error = f"{type(err).__name__}: {err}"
                    else:
                        case = app.client.store.get(result.case_id)
                        o.signals, o.outcome = list(result.signals), result.outcome
                        o.team = slug_by_id.get(result.team_id, result.team_id) if result.team_id else None
                        o.reply, o.case_id = result.customer_reply or "", result.case_id
                        o.how = getattr(case, "identified_by", None)
                        if result.outcome == "escalated":  # leave the human queue as we found it
                            take_human_queue_messages(app, {result.case_id})
                        checks = [f.check for f in result.findings]
                        if checks != (["billing", "key", "restrictions"] if result.team_id else []):
                            # every identified team gets all three checks, whatever the signals say
                            o.violations.append(f"findings: {checks} for team {result.team_id}")
                if step.index == 0:
                    first_case[tid] = o.case_id
                if step.by_other is None:
                    last_reply[tid] = o.reply
                observed.append(judge(o, step.ticket["channel"], step.index > 0, step.by_other is not None))
    return observed


# --- measurement ---------------------------------------------------------------------------------
def signal_scores(pairs: list[tuple[set[str], set[str]]]) -> dict[str, tuple[int, int, int]]:
    """Per code over (got, want) pairs: true positives, false positives, false negatives."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for got, want in pairs:
        tp.update(got & want)
        fp.update(got - want)
        fn.update(want - got)
    return {c: (tp[c], fp[c], fn[c]) for c in sorted(set(tp) | set(fp) | set(fn))}


def precision_recall(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return (tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0)


@dataclass
class Figures:
    steps: int
    signals: dict[str, tuple[int, int, int]]
    outcomes: dict[str, tuple[int, int, int]]  # expected outcome: (expected, got right, got in all)
    team_right: int
    reply_must: tuple[int, int]  # phrases present, phrases asked for
    reply_must_not: int  # phrases present that must not be
    follow_ups: tuple[int, int]  # follow-up steps right in every respect, follow-up steps
    passing: int  # steps right in every respect
    misses: dict[str, list[str]]


def figures(observed: list[Observed]) -> Figures:
    outcome_counts = {o: [0, 0, 0] for o in OUTCOMES}
    for ob in observed:
        want = ob.expect["outcome"]
        outcome_counts.setdefault(want, [0, 0, 0])[0] += 1
        if ob.outcome == want:
            outcome_counts[want][1] += 1
        if ob.outcome is not None:
            outcome_counts.setdefault(ob.outcome, [0, 0, 0])[2] += 1
    must_total = sum(len(ob.expect.get("reply_must", [])) for ob in observed if ob.expect.get("reply") != "none")
    must_missed = sum(1 for ob in observed for m in ob.misses if m.startswith("reply_must:"))
    follow = [ob for ob in observed if "#" in ob.step_id]
    return Figures(
        steps=len(observed),
        signals=signal_scores([(set(ob.signals), set(ob.expect["signals"])) for ob in observed]),
        outcomes={k: (v[0], v[1], v[2]) for k, v in outcome_counts.items()},
        team_right=sum(1 for ob in observed if not ob.error and ob.team == ob.expect["team"]),
        reply_must=(must_total - must_missed, must_total),
        reply_must_not=sum(1 for ob in observed for m in ob.misses if m.startswith("reply_must_not:")),
        follow_ups=(sum(1 for ob in follow if not ob.misses), len(follow)),
        passing=sum(1 for ob in observed if not ob.misses),
        misses={ob.step_id: ob.misses for ob in observed if ob.misses},
    )


def below_floors(f: Figures, floors: dict[str, Any]) -> list[str]:
    """Every figure under its floor (or a count of misses over its ceiling), named."""
    out = []
    for code, floor in floors.get("signals", {}).items():
        p, r = precision_recall(*f.signals.get(code, (0, 0, 0)))
        if p + 1e-9 < floor["precision"]:
            out.append(f"{code}: precision {p:.2f} < floor {floor['precision']:.2f}")
        if r + 1e-9 < floor["recall"]:
            out.append(f"{code}: recall {r:.2f} < floor {floor['recall']:.2f}")
    for outcome, floor in floors.get("outcomes_right", {}).items():
        if f.outcomes.get(outcome, (0, 0, 0))[1] < floor:
            out.append(f"outcome {outcome}: {f.outcomes.get(outcome, (0, 0, 0))[1]} right < floor {floor}")
    checks = [("team_right", f.team_right), ("reply_must_present", f.reply_must[0]),
              ("follow_ups_right", f.follow_ups[0]), ("steps_right", f.passing)]
    for name, got in checks:
        if name in floors and got < floors[name]:
            out.append(f"{name}: {got} < floor {floors[name]}")
    if "reply_must_not_max" in floors and f.reply_must_not > floors["reply_must_not_max"]:
        out.append(f"reply_must_not: {f.reply_must_not} present > ceiling {floors['reply_must_not_max']}")
    if "known_misses_max" in floors and len(f.misses) > floors["known_misses_max"]:
        out.append(f"steps with a miss: {len(f.misses)} > ceiling {floors['known_misses_max']}")
    return out


def signal_table(scores: dict[str, tuple[int, int, int]]) -> str:
    lines = ["| signal | expected | got | right | precision | recall |", "|---|---|---|---|---|---|"]
    for code, (tp, fp, fn) in scores.items():
        p, r = precision_recall(tp, fp, fn)
        lines.append(f"| `{code}` | {tp + fn} | {tp + fp} | {tp} | {p:.2f} | {r:.2f} |")
    return "\n".join(lines)


def report(f: Figures) -> str:
    """The tables docs/signals.md holds."""
    outcome_lines = ["| outcome | expected | right | got (all) |", "|---|---|---|---|"]
    for k, (want, right, got) in f.outcomes.items():
        outcome_lines.append(f"| `{k}` | {want} | {right} | {got} |")
    must_present, must_total = f.reply_must
    return "\n".join([
        f"Steps (first messages and follow-ups): {f.steps}; right in every respect: {f.passing}; "
        f"follow-ups right: {f.follow_ups[0]} of {f.follow_ups[1]}; team right: {f.team_right}.",
        f"reply_must phrases present: {must_present} of {must_total} "
        f"({must_present / must_total if must_total else 1:.0%}); reply_must_not phrases present: {f.reply_must_not}.",
        "", "Signals, over every step (Result.signals):", "", signal_table(f.signals),
        "", "Outcomes:", "", *outcome_lines])


def misses_by_cause(observed: list[Observed]) -> str:
    """The misses grouped by cause (a code not read or read wrongly, an outcome expected -> got, a
    reply phrase missing or present), each with its steps, for /work/coord/corpus-misses.md."""
    groups: dict[str, list[str]] = {}
    for ob in observed:
        for m in ob.misses:
            kind = m.split(":")[0]
            if kind == "signals":
                want = set(ob.expect["signals"])
                causes = [f"signal not read: {c}" for c in sorted(want - set(ob.signals))]
                causes += [f"signal read wrongly: {c}" for c in sorted(set(ob.signals) - want)]
            elif kind == "outcome":
                causes = [f"outcome: {ob.expect['outcome']} expected, got {ob.outcome}"]
            elif kind in ("reply_must", "reply_must_not"):
                causes = [m]
            else:
                causes = [kind]
            for cause in causes:
                groups.setdefault(cause, []).append(ob.step_id)
    out = []
    for cause, ids in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        out.append(f"- **{cause}** ({len(ids)}): {', '.join(ids)}")
    return "\n".join(out)


def text_scores(tickets: list[dict[str, Any]]) -> dict[str, tuple[int, int, int]]:
    """The matcher alone on the first messages' text (what the request log gives is not in the text)."""
    from unblock.domain.tickets.signals import codes, read_signals

    return signal_scores([(set(codes(read_signals(t.get("subject", ""), t.get("text", "")))), text_signals(t))
                          for t in tickets])


def floors_from(f: Figures, text: dict[str, tuple[int, int, int]]) -> dict[str, Any]:
    """The floors file for what was measured now (rates rounded down to the hundredth)."""

    def down(x: float) -> float:
        return int(x * 100 + 1e-9) / 100

    def rates(scores: dict[str, tuple[int, int, int]]) -> dict[str, dict[str, float]]:
        return {c: dict(zip(("precision", "recall"), map(down, precision_recall(*v)), strict=True))
                for c, v in scores.items()}

    return {"text": {"signals": rates(text)},
            "workflow": {"signals": rates(f.signals),
                         "outcomes_right": {k: v[1] for k, v in f.outcomes.items() if v[0]},
                         "team_right": f.team_right, "reply_must_present": f.reply_must[0],
                         "follow_ups_right": f.follow_ups[0], "steps_right": f.passing,
                         "reply_must_not_max": f.reply_must_not, "known_misses_max": len(f.misses)}}


def main() -> None:  # pragma: no cover - a developer's report, run by hand
    import os
    import sys
    import time

    os.environ.setdefault("UNBLOCK_TEST_TIMINGS", "retry_seconds=1")
    from tests.support import EVENTS
    from unblock.domain.platform_model import load_seed_text
    from unblock_dev.local.app import LocalApp

    seed = load_seed_text((EVENTS / "platform.json").read_text())
    app = LocalApp(seed, now=REPORTED_AT)
    try:
        began = time.monotonic()
        observed = run_corpus(app, TICKETS, lambda: app.seed(seed))
        took = time.monotonic() - began
    finally:
        app.close()
    f = figures(observed)
    out = [report(f), f"\n(ran in {took:.1f} s)\n"]
    if "--misses" in sys.argv:
        out.append(misses_by_cause(observed))
    out += [f"VIOLATION {ob.step_id}: {v}" for ob in observed for v in ob.violations]
    if "--replies" in sys.argv:  # every step's message and reply, for reading them as the customer would
        by_id = {s.id: s for t in TICKETS for s in steps(t)}
        for ob in observed:
            msg = by_id[ob.step_id].message
            out += [f"\n==== {ob.step_id} [{by_id[ob.step_id].ticket['channel']}] expected {ob.expect['outcome']}, "
                    f"got {ob.outcome} {sorted(ob.signals)} team {ob.team}",
                    (msg.get("subject", "") + "\n" if ob.step_id == by_id[ob.step_id].ticket["id"] else "")
                    + msg.get("text", "").rstrip(), "---- reply:", ob.reply.rstrip()]
    if "--write-floors" in sys.argv:  # after a landing that raised the figures: the floors follow
        header = "".join(line for line in FLOORS.read_text().splitlines(keepends=True) if line.startswith("#"))
        FLOORS.write_text(header + yaml.safe_dump(floors_from(f, text_scores(TICKETS)), sort_keys=False))
    # the stack's functions log and emit metrics on stdout: the report goes to a file of its own
    Path(sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else "corpus-report.md").write_text(
        "\n".join(out) + "\n")

if __name__ == "__main__":
    main()

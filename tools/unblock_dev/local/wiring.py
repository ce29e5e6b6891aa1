"""Which function each trigger reaches, read from template.yaml (never restated by hand).

On AWS these are an EventBridge rule, a Function URL, an EventBridge Scheduler schedule and an
SQS event source mapping; the embedded stack plays each of them, and asks the template which
function it invokes and how (the mapping's queue and batch size).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EVENT_SOURCE = "unblock.tickets"  # the normalized ticket event's source (DESIGN.md "Triggers")
SIGNAL_SOURCE = "unblock.gateway"  # the gateway's denial signals (DESIGN.md "Proactive cases")


class WiringError(Exception):
    """template.yaml does not wire a trigger the embedded stack plays (exactly one function each)."""


@dataclass(frozen=True)
class QueueMapping:
    function: str  # logical id
    queue: str  # logical id of the queue
    batch_size: int


@dataclass(frozen=True)
class AsyncFailures:
    """What Lambda does with an event an asynchronous invocation keeps failing on (EventInvokeConfig)."""

    retries: int  # MaximumRetryAttempts
    queue: str | None  # logical id of the on-failure destination queue, None when there is none


@dataclass(frozen=True)
class Wiring:
    ticket_events: str  # the function an EventBridge rule on the stack's own bus sends ticket events to
    webhooks: str  # the function behind the help desks' Function URL
    slack_actions: str  # the function behind Slack's interactivity Function URL
    schedule: str  # the function the every-15-minutes schedule invokes
    outbox: QueueMapping  # the mapping that feeds the outbox queue to a function
    ticket_bus: str = ""  # logical id of the bus the ticket rule is on
    ticket_failures: AsyncFailures = AsyncFailures(2, None)  # the ticket function's async failures
    denial_signals: str = ""  # the function an EventBridge rule sends the gateway's denial signals to

    @classmethod
    def from_template(cls, template: dict[str, Any], outbox_queue: str = "OutboxQueue") -> Wiring:
        resources: dict[str, Any] = template["Resources"]
        functions = {lid: r.get("Properties", {}) for lid, r in resources.items()
                     if r["Type"] == "AWS::Serverless::Function"}

        def with_event(kind: str, source: str | None = None) -> str:
            found = [lid for lid, p in functions.items()
                     if any(e.get("Type") == kind and (source is None or source in _sources(e))
                            for e in (p.get("Events") or {}).values())]
            if len(found) != 1:
                which = f" for {source}" if source else ""
                raise WiringError(f"expected one function with a {kind} event{which} in template.yaml, found {found}")
            return found[0]

        def behind_url(variable: str) -> str:
            """The Function URL function whose environment names `variable` (each URL has its own secret)."""
            found = [lid for lid, p in functions.items() if "FunctionUrlConfig" in p
                     and variable in (p.get("Environment") or {}).get("Variables", {})]
            if len(found) != 1:
                raise WiringError(f"expected one function with a FunctionUrlConfig and {variable} in template.yaml, "
                                  f"found {found}")
            return found[0]

        buses = {lid for lid, r in resources.items() if r["Type"] == "AWS::Events::EventBus"}
        ticket_rules = [(lid, e.get("Properties", {})) for lid, p in functions.items()
                        for e in (p.get("Events") or {}).values()
                        if e.get("Type") == "EventBridgeRule"
                        and EVENT_SOURCE in e.get("Properties", {}).get("Pattern", {}).get("source", [])]
        if len(ticket_rules) != 1:
            raise WiringError(f"expected one EventBridge rule for {EVENT_SOURCE} events in template.yaml, "
                              f"found {[lid for lid, _ in ticket_rules]}")
        ticket_fn, rule = ticket_rules[0]
        bus = rule.get("EventBusName")
        if not (isinstance(bus, dict) and bus.get("Ref") in buses):  # DESIGN.md "Triggers": never the default bus
            raise WiringError(f"the {EVENT_SOURCE} rule of {ticket_fn} must be on the stack's own event bus "
                              "(EventBusName: !Ref <an AWS::Events::EventBus>), not the account's default bus")
        invoke = functions[ticket_fn].get("EventInvokeConfig") or {}
        on_failure = (invoke.get("DestinationConfig") or {}).get("OnFailure") or {}
        destination = on_failure.get("Destination")
        failures = AsyncFailures(int(invoke.get("MaximumRetryAttempts", 2)),
                                 destination["Fn::GetAtt"][0] if isinstance(destination, dict)
                                 and on_failure.get("Type") == "SQS" else None)

        signal_buses = [e.get("Properties", {}).get("EventBusName") for p in functions.values()
                        for e in (p.get("Events") or {}).values()
                        if e.get("Type") == "EventBridgeRule" and SIGNAL_SOURCE in _sources(e)]
        if not all(isinstance(b, dict) and b.get("Ref") in buses for b in signal_buses):
            raise WiringError(f"the {SIGNAL_SOURCE} rule must be on the stack's own event bus, not the default bus")

        mappings = [r.get("Properties", {}) for r in resources.values()
                    if r["Type"] == "AWS::Lambda::EventSourceMapping"
                    and r.get("Properties", {}).get("EventSourceArn") == {"Fn::GetAtt": [outbox_queue, "Arn"]}]
        if len(mappings) != 1:
            raise WiringError(f"expected one event source mapping from {outbox_queue} in template.yaml")
        mapping = mappings[0]
        return cls(ticket_events=ticket_fn, webhooks=behind_url("ZENDESK_SECRET_NAME"),
                   slack_actions=behind_url("SLACK_SIGNING_SECRET_NAME"), schedule=with_event("ScheduleV2"),
                   outbox=QueueMapping(function=mapping["FunctionName"]["Ref"], queue=outbox_queue,
                                       batch_size=int(mapping.get("BatchSize", 10))),
                   ticket_bus=bus["Ref"], ticket_failures=failures,
                   denial_signals=with_event("EventBridgeRule", SIGNAL_SOURCE))


def _sources(event: dict[str, Any]) -> list[str]:
    """The `source` values an EventBridge rule's pattern matches."""
    pattern = (event.get("Properties") or {}).get("Pattern") or {}
    sources = pattern.get("source") or []
    return [s for s in sources if isinstance(s, str)]

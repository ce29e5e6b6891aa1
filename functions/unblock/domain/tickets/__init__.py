"""Intake, the pure part: redaction and fact extraction from ticket text, the normalized ticket
event, and the help-desk webhooks (signature checks and payload mapping). No AWS here."""

from unblock.domain.tickets.extract import Facts, Redaction, SecretFound, extract, redact, redact_secrets
from unblock.domain.tickets.ticket_event import (
    InvalidTicketEvent,
    TicketDetail,
    TicketEvent,
    parse_ticket_event,
    redact_event,
)
from unblock.domain.tickets.webhooks import (
    WebhookIgnored,
    WebhookRejected,
    is_ping,
    map_discourse,
    map_zendesk,
    parse_json,
    verify_discourse,
    verify_zendesk,
)

__all__ = [
    "Facts",
    "InvalidTicketEvent",
    "Redaction",
    "SecretFound",
    "TicketDetail",
    "TicketEvent",
    "WebhookIgnored",
    "WebhookRejected",
    "extract",
    "is_ping",
    "map_discourse",
    "map_zendesk",
    "parse_json",
    "parse_ticket_event",
    "redact",
    "redact_event",
    "redact_secrets",
    "verify_discourse",
    "verify_zendesk",
]

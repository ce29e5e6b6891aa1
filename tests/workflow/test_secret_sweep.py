"""The secret sweep: every sample of the corpus through every entry field, then grep everything kept.

Each of the corpus's samples (tests/data/secret_corpus.json, every value fake) is put through:

* free text, all samples in a few full executions: a ticket event's subject and text, a Zendesk
  webhook's description and a Discourse post (both signed with the sample secret; their subject and
  title carry a part of the corpus too), a staff start's note and a staff decision's note (what
  `unblock decide --note` sends);
* single-value fields, one sample each: a ticket event's `team_slug`, `key_prefix` and `ticket_id`,
  a staff start's team hint, key prefix and requester. A value the field refuses goes to the real
  intake, which keeps the event, redacted, on its dead-letter queue; a value it accepts runs the full
  workflow for one sample per ticket event and staff start above, and for the others goes through
  the intake's own `to_report` in-process (the execution input it would start), kept under
  `in_process/`.

Then replies are delivered to the sandbox help desk and everything the stack holds is written out
as `unblock run --keep DIR` writes it (tables, queues and dead-letter queues, the sweep's execution
histories, the log and metric lines, what reached the help desk) plus the Results, and every file
under DIR is searched for each sample's secret and its distinctive core (case-insensitively, with
JSON escapes undone): no survivor. docs/reliability.md reports the counts.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support import ROOT, load_event
from unblock.domain.helpdesks.discourse import discourse_signature
from unblock.domain.helpdesks.zendesk import zendesk_signature
from unblock.domain.tickets.redaction import redact, redact_secrets
from unblock.domain.tickets.webhooks import canonical_body
from unblock_dev.local.app import BadEvent
from unblock_dev.local.keep import RunRecording, keep_stack
from unblock_dev.local.stack import SAMPLE_SECRET

CORPUS: list[dict[str, Any]] = json.loads(
    (ROOT / "tests" / "data" / "secret_corpus.json").read_text(encoding="utf-8"))["samples"] + [
    # round four (issue 35 item 3): every provider's key form, the token families, a key written otherwise
    s for s in json.loads((ROOT / "tests" / "data" / "secret_lookalikes.json").read_text(encoding="utf-8"))["samples"]
    if s["round"] == 4 and s["label"] == "secret"]
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")  # what TicketDetail accepts
KEY_PREFIX = re.compile(r"^vck_[A-Za-z0-9_-]{4,200}$")
TICKET_ID = re.compile(r"^[A-Za-z0-9._:/-]{1,128}$")
ACME = "team_Q3xr89YFWHvqTRO0X0bmHkoU"


def _chunks(texts: list[str], limit: int, sep: str) -> list[str]:
    out: list[str] = []
    for text in texts:
        if out and len(out[-1]) + len(sep) + len(text) <= limit:
            out[-1] += sep + text
        else:
            out.append(text)
    return out


def _text_chunks(texts: list[str], limit: int = 3500) -> list[str]:
    """The samples joined into as few texts as a report keeps whole once redacted (4000 characters,
    with room for the ticket's own words)."""
    out: list[str] = []
    for text in texts:
        if out and len(redact(out[-1] + "\n\n" + text)[0]) <= limit:
            out[-1] += "\n\n" + text
        else:
            out.append(text)
    return out


def _uid() -> str:
    return str(uuid.uuid4().int)[:9]


# --- needles ------------------------------------------------------------------------------------

def _visible(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) != "Cf" and c not in "\u034f\u180e")


def needles(sample: dict[str, Any]) -> set[str]:
    """The secret as pasted and as seen, and its distinctive core: what is left past the short prefix a
    redaction marker may keep, each line of it (a private key's body), and each line's tail."""
    secret = sample["secret"]
    plain = _visible(secret)
    kept = max((len(s.prefix) for s in redact_secrets(plain).secrets if plain.startswith(s.prefix)), default=0)
    core = re.sub(r"-----(?:BEGIN|END)[A-Z ]+-----", "\n", plain[kept:])
    pieces = [p for p in re.split(r"\s+", core) if len(p) >= 8]
    found = {secret, plain, *pieces, *(p[-12:] for p in pieces if len(p) >= 24)}
    return {n.lower() for n in found}


_ESCAPE = re.compile(r"\\+(u[0-9a-fA-F]{4}|[nrt\"/\\])")


def _unescape(text: str) -> str:
    """JSON escapes undone at any depth (a case is JSON in a DynamoDB string in a JSON line)."""
    def one(m: re.Match[str]) -> str:
        code = m[1]
        if code.startswith("u"):
            return chr(int(code[1:], 16))
        return {"n": "\n", "r": "\r", "t": "\t"}.get(code, code)

    for _ in range(4):
        text, n = _ESCAPE.subn(one, text)
        if not n:
            break
    return text


# --- the sweep ----------------------------------------------------------------------------------

class Sweep:
    def __init__(self, app: Any, directory: Path) -> None:
        self.app, self.dir = app, directory
        self.results: list[Any] = []
        self.in_process: list[str] = []
        self.fields: dict[str, int] = {}  # entry field -> samples put through it
        self.executions = self.decisions = self.dead_lettered = 0

    def count(self, field: str, n: int = len(CORPUS)) -> None:
        self.fields[field] = self.fields.get(field, 0) + n

    def run(self, event: dict[str, Any]) -> Any:
        result = self.app.run(event)
        self.results.append(result)
        self.executions += 1
        return result

    def tickets(self, subjects: list[str], texts: list[str], reps: list[int]) -> list[Any]:
        """One ticket event per subject chunk (and text chunk), each with one sample in its single-value
        fields where the field takes it; alternately a case that is fixed and one that waits for staff."""
        waiting = []
        for i, subject in enumerate(subjects):
            event = load_event("ticket-stale-billing-hold.json" if i % 2 == 0 else "ticket-fraud-review.json")
            event["detail"]["subject"] = subject
            if i < len(texts):
                event["detail"]["text"] += "\n\n" + texts[i]
            event["detail"].update(_accepted(CORPUS[reps[i]]["text"]))
            result = self.run(event)
            if self.app.client.store.get(result.case_id).status == "awaiting_staff":
                waiting.append(result)
        self.count("ticket subject")
        self.count("ticket text")
        return waiting

    def zendesk(self, subject: str, text: str) -> None:
        sample = load_event("zendesk-ticket-created.json", unique=False)
        ticket, body = _uid(), sample["body"]
        body["subject"] = f"zen:ticket:{ticket}"
        body["detail"].update(id=ticket, subject=subject,
                              description=f"Team ID: {ACME}. Every request returns 403.\n\n{text}")
        ts = sample["headers"]["X-Zendesk-Webhook-Signature-Timestamp"]
        sample["headers"]["X-Zendesk-Webhook-Signature"] = zendesk_signature(canonical_body(body), SAMPLE_SECRET, ts)
        self.run(sample)

    def discourse(self, subject: str, text: str) -> None:
        sample = load_event("discourse-post-created.json", unique=False)
        body = sample["body"]
        body["post"].update(topic_id=int(_uid()), id=int(_uid()), topic_title=subject,
                            raw=f"Our team 'lowrisk-labs' gets 403 Forbidden on every call.\n\n{text}")
        sample["headers"]["X-Discourse-Event-Signature"] = discourse_signature(canonical_body(body), SAMPLE_SECRET)
        self.run(sample)

    def staff_starts(self, notes: list[str], reps: list[int]) -> None:
        for note, rep in zip(notes, reps, strict=True):
            value = CORPUS[rep]["text"]
            self.run({"report": {"case_id": f"staff:sweep-{_uid()}", "source": "staff", "team_id": ACME, "note": note,
                                 "team_hint": value, "key_prefix": value, "requested_by": value}})
        self.count("staff start note")

    def decide(self, waiting: list[Any], texts: list[str]) -> None:
        """`unblock decide CASE --resolve --note ...` on each waiting case, the corpus spread over the notes."""
        for k, result in enumerate(waiting):
            note = "\n".join(texts[k::len(waiting)])
            self.app.client.decide(result.case_id, "resolve", f"staff:{texts[k][:60]}", note)
            self.app.wait_for(result.case_id, lambda c: c.status == "closed")
            self.results.append(self.app.client.result(self.app.client.store.get(result.case_id)))
            self.decisions += 1
        self.count("staff decision note")

    def single_values(self, ticket_reps: set[int], staff_reps: set[int]) -> None:
        """Every sample in every single-value field: a value a field refuses goes to the real intake (kept on
        its DLQ); an accepted one through the intake's `to_report` in-process, unless a full run carried it."""
        from unblock.workflow.intake import to_report

        now = self.app.clock.now()
        for i, sample in enumerate(CORPUS):
            value = sample["text"]
            accepted = _accepted(value)
            refused = {f: value for f in ("team_slug", "key_prefix", "ticket_id") if f not in accepted}
            if refused:
                event = load_event("ticket-stale-billing-hold.json")
                event["detail"].update(refused)
                try:
                    self.app.submit(event)
                except BadEvent:
                    self.dead_lettered += 1
            if accepted and i not in ticket_reps:
                event = load_event("ticket-stale-billing-hold.json")
                event["detail"].update(accepted)
                self.in_process.append(to_report("ticket", event, now).model_dump_json())
            if i not in staff_reps:
                staff = {"report": {"case_id": f"staff:sweep-{_uid()}", "source": "staff", "team_id": ACME,
                                    "team_hint": value, "key_prefix": value, "requested_by": value}}
                self.in_process.append(to_report("report", staff, now).model_dump_json())
        for field in ("ticket team_slug", "ticket key_prefix", "ticket ticket_id", "staff start team hint",
                      "staff start key_prefix", "staff start requested_by"):
            self.count(field)


    def denials(self) -> None:
        """Every sample in a denial signal's `endpoints`, `models` and `sample_request_ids`, twenty at a time;
        each signal opens a case of its own for acme (its window hours after the last one closed). A sample
        longer than an entry may be makes its signal invalid: kept, redacted, on the intake DLQ."""
        from datetime import timedelta

        base = datetime(2027, 4, 2, 0, 0, tzinfo=UTC)
        for j in range(0, len(CORPUS), 20):
            values = [s["text"] for s in CORPUS[j:j + 20]]
            start = base + timedelta(hours=j)
            self.app.clock.set(start + timedelta(minutes=5))
            out = self.app.put_event({
                "source": "unblock.gateway", "detail-type": "Requests Denied", "time": start.isoformat(),
                "detail": {"team_id": ACME, "window_start": start.isoformat(),
                           "window_end": (start + timedelta(minutes=4)).isoformat(), "denied": 57, "total": 57,
                           "status": 403, "error_type": "access_denied", "endpoints": values, "models": values,
                           "sample_request_ids": values}})
            if out.get("kept"):
                self.dead_lettered += 1
            elif out.get("case_id"):
                self.results.append(self.app.client.result(self.app.wait(out["case_id"])))
                self.executions += 1
        for field in ("denial endpoints", "denial models", "denial sample_request_ids"):
            self.count(field)


def _accepted(value: str) -> dict[str, str]:
    """The single-value fields of a ticket event that take `value` as it is."""
    fields = {"team_slug": SLUG.match(value.strip()), "key_prefix": KEY_PREFIX.match(value),
              "ticket_id": TICKET_ID.match(value)}
    return {f: value for f, ok in fields.items() if ok}


def test_every_corpus_secret_through_every_entry_field_leaves_no_trace(app, monkeypatch, tmp_path):
    assert len(CORPUS) >= 100
    started = datetime.now(UTC)
    sweep = Sweep(app, tmp_path / "kept")
    recording = RunRecording().start()
    monkeypatch.setattr(sys, "stdout", recording.tee(sys.stdout))  # the metric (EMF) lines
    texts = [s["text"] for s in CORPUS]
    try:
        subjects = _chunks(texts, 1000, " | ")  # a subject holds 1000 characters as sent
        bodies = _text_chunks(texts)  # a report keeps 4000 characters of the redacted text
        ticket_reps = [i * len(CORPUS) // len(subjects) for i in range(len(subjects))]
        staff_reps = [1 + i * len(CORPUS) // len(bodies) for i in range(len(bodies))]

        waiting = sweep.tickets(subjects, bodies, ticket_reps)
        for subject, text in zip(subjects, bodies, strict=False):
            sweep.zendesk(subject, text)
            sweep.discourse(subjects[-1], text)
        sweep.count("zendesk description")
        sweep.count("discourse post")
        sweep.staff_starts(bodies, staff_reps)
        assert waiting, "some of the tickets wait for staff"
        sweep.decide(waiting, texts)
        sweep.single_values(set(ticket_reps), set(staff_reps))
        sweep.denials()
        for _ in range(100):  # replies to the sandbox help desk, as the outbox's event source mapping would
            if not app.deliver_replies(max_rounds=50)["delivered"]:
                break
    finally:
        recording.stop()

    results = "".join(r.model_dump_json() + "\n" for r in sweep.results)
    counts = keep_stack(app, sweep.dir, recording, results, executions_since=started)
    (sweep.dir / "in_process.jsonl").write_text("".join(f"{r}\n" for r in sweep.in_process), encoding="utf-8")

    files = [p for p in sweep.dir.rglob("*") if p.is_file()]
    haystack = _unescape("\n".join(p.read_text(encoding="utf-8") for p in files)).lower()
    all_needles = {(s["kind"], n) for s in CORPUS for n in needles(s)}
    survivors = sorted((kind, n) for kind, n in all_needles if n in haystack)

    print(f"\nsweep: {len(CORPUS)} samples x {len(sweep.fields)} entry fields = {sum(sweep.fields.values())} "
          f"sample-field pairs; {sweep.executions} executions, {sweep.decisions} staff decisions, "
          f"{sweep.dead_lettered} events dead-lettered, {len(sweep.in_process)} reports in-process; kept "
          f"{len(files)} files, {len(haystack) // 1024} KiB: {counts}; {len(all_needles)} needles, "
          f"{len(survivors)} survivors")
    assert survivors == []
    # real data was read back, every field saw every sample, and redaction happened
    assert len(sweep.fields) >= 5 and all(n == len(CORPUS) for n in sweep.fields.values()), sweep.fields
    assert counts["executions"] >= sweep.executions and counts["log_lines"] > 100 and counts["messages"] > 0
    assert counts["helpdesk_requests"] > 0 and sweep.dead_lettered > 0
    assert haystack.count("[redacted]") > len(CORPUS)
    _drain(app, "IntakeDeadLetterQueueUrl")  # the sweep's dead letters are of no use to the next test


def _drain(app: Any, output: str) -> None:
    url = app.stack.outputs[output]
    while messages := app.client.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for m in messages:
            app.client.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


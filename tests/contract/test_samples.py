"""The sample events are one story on one stack (`make demo` plays them all in turn): two reports
must never share a ticket, or the second is taken for the first's case and its scenario never runs
(the first wave's ticket was once the model-restricted sample's, and the wave never became an incident)."""
import json
from collections import defaultdict
from pathlib import Path

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_no_two_sample_reports_share_a_ticket():
    reports: dict[str, list[str]] = defaultdict(list)
    for path in sorted(EVENTS.glob("*.json")):
        event = json.loads(path.read_text())
        if isinstance(event, dict) and event.get("detail-type") == "Access Denied Reported":
            reports[str(event["detail"].get("ticket_id"))].append(path.name)
    shared = {ticket: names for ticket, names in reports.items() if len(names) > 1}
    assert len(reports) > 20, "the samples were not found"
    assert not shared, f"sample reports share a ticket id: {shared}"

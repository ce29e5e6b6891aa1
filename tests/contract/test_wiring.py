"""The embedded stack plays each trigger as template.yaml wires it (unblock_dev.local.wiring)."""

from __future__ import annotations

import copy

import pytest

from tests.support import ROOT
from unblock_dev.local.template import load_template
from unblock_dev.local.wiring import Wiring, WiringError

TEMPLATE = load_template(ROOT / "template.yaml")


def test_each_trigger_reaches_the_function_the_template_names():
    wiring = Wiring.from_template(TEMPLATE)

    assert (wiring.ticket_events, wiring.webhooks, wiring.schedule) == ("IntakeFunction", "WebhookFunction",
                                                                         "RecheckFunction")
    assert wiring.denial_signals == "SignalsFunction"
    signals = TEMPLATE["Resources"]["SignalsFunction"]["Properties"]["Events"]["RequestsDenied"]["Properties"]
    assert signals["EventBusName"] == {"Ref": wiring.ticket_bus}  # the same own bus as the ticket rule
    mapping = TEMPLATE["Resources"]["NotifyOutboxMapping"]["Properties"]
    assert (wiring.outbox.function, wiring.outbox.batch_size) == ("NotifyFunction", mapping["BatchSize"])


def test_a_changed_template_changes_what_the_stack_plays():
    template = copy.deepcopy(TEMPLATE)
    template["Resources"]["NotifyOutboxMapping"]["Properties"]["BatchSize"] = 7
    assert Wiring.from_template(template).outbox.batch_size == 7

    del template["Resources"]["WebhookFunction"]["Properties"]["FunctionUrlConfig"]
    with pytest.raises(WiringError, match="FunctionUrlConfig"):
        Wiring.from_template(template)


def test_a_ticket_rule_on_the_default_bus_is_refused():
    # DESIGN.md "Triggers": the stack's own bus, never the account's default bus (issue 22 item 3)
    template = copy.deepcopy(TEMPLATE)
    del template["Resources"]["IntakeFunction"]["Properties"]["Events"]["TicketReported"]["Properties"]["EventBusName"]
    with pytest.raises(WiringError, match="default bus"):
        Wiring.from_template(template)

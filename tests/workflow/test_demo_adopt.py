"""The demo's adoption part (`make demo`): a shadow run, a revert and a Slack approval, as staff see them."""

from __future__ import annotations

import io

from tests.support import EVENTS


def test_the_demo_shows_a_shadow_run_a_revert_and_a_slack_approval(app):
    from unblock.domain.platform_model import load_seed_text
    from unblock_dev.demo import run_adopt_demo

    out = io.StringIO()
    rows = run_adopt_demo(app, load_seed_text((EVENTS / "platform.json").read_text()), out)

    text = out.getvalue()
    assert "would have been auto_fixed with clear_billing_hold; customer reply sent: False; hold still on: True" in text
    assert "reverted by staff:demo: the hold is back" in text
    assert "Approve: lift_risk_hold | Resolve (mended by hand) | Reject | Open in the console" in text
    assert "Slack got 200 at once; the message now reads: Case " in text
    assert [r.outcome for _, r in rows] == [None, "auto_fixed", "auto_fixed"]

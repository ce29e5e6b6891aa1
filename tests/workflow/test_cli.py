"""The command line as users run it: `unblock run --json` prints exactly one JSON object."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from tests.support import ROOT, load_event
from unblock_dev import cli
from unblock_dev.commands import cases as cases_cmd
from unblock_dev.commands import decide as decide_cmd
from unblock_dev.commands import start as start_cmd

RESULT_KEYS = {"case_id", "outcome", "team_id", "findings", "fixes_applied", "verified", "escalation",
               "customer_reply", "requester_verified", "incident_id", "signals", "follow_ups", "mode", "shadow",
               "trace"}


def _unblock(*args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": os.pathsep.join(str(p) for p in (ROOT / "functions", ROOT / "tools", ROOT))}
    for var in [v for v in env if v.startswith(("AWS_", "POWERTOOLS_"))]:
        env.pop(var)  # a user's shell: nothing set up by the test session's stack
    return subprocess.run([sys.executable, "-m", "unblock_dev.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_run_readable_output_shows_what_the_customer_saw_and_how_to_decide_an_escalation():
    # two events in one run (one stack start): each case's block, in order
    done = _unblock("run", "events/ticket-model-restricted.json", "events/ticket-high-risk-hold.json")

    assert done.returncode == 0, done.stderr
    restricted, escalated = done.stdout.split("case ticket:4720:")
    assert restricted.startswith("case ticket:4810: customer_action")
    assert "customer saw:" in restricted and "gateway.model_restricted" in restricted
    assert "buy AI Gateway credits" in restricted
    assert escalated.startswith(" escalated") and "proposed for staff approval: lift_risk_hold" in escalated
    # the embedded stack is gone once the command ends: the hint is a flag of this run, or a deployed stack's
    assert "--decide approve|resolve|reject" in escalated and "--stack NAME" in escalated


def test_run_readable_output_shows_path_findings_fix_and_reply():
    done = _unblock("run", "events/ticket-two-fixes.json", "--decide", "approve")

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "auto_fixed" in out and "CheckBilling -> CheckKey -> CheckRestrictions" in out
    assert "billing.stale_hold" in out and "restrictions.entitlement_out_of_sync" in out
    assert "fixes applied: clear_billing_hold, resync_entitlements   verified: yes" in out
    assert "reply to customer:" in out


def test_cases_and_decide_against_the_stack(app):
    waiting = app.run(load_event("ticket-staff-billing-hold.json"))
    out = io.StringIO()

    cases_cmd.cmd_cases(cli.build_parser().parse_args(["cases", "--status", "awaiting_staff"]), out, client=app.client)
    assert waiting.case_id in out.getvalue()

    args = cli.build_parser().parse_args(["decide", waiting.case_id, "--resolve", "--actor", "staff:dana"])
    assert decide_cmd.cmd_decide(args, out, client=app.client) == 0
    closed = app.wait_for(waiting.case_id, lambda c: c.status == "closed")
    assert closed.resolution == "resolved"

    listing = io.StringIO()
    cases_cmd.cmd_cases(cli.build_parser().parse_args(["cases", "--status", "closed", "--json"]), listing,
                  client=app.client)
    cases = json.loads(listing.getvalue())
    assert waiting.case_id in {c["case_id"] for c in cases}
    assert all("task_token" not in c for c in cases)


def test_a_staff_start_sent_straight_to_step_functions_is_redacted_first():
    secret = "vck_acme01Zq8XwPp3LmN7tRvB2yKc5HdJ"
    note = f"customer read me their key {secret}"
    report = start_cmd.staff_report("acme-projects", None, note, "staff:ann")["report"]

    assert secret[12:] not in json.dumps(report)
    assert report["secrets_redacted"] == 1 and report["team_hint"] == "acme-projects"


def test_console_prints_a_one_time_sign_in_url_first_and_stops_on_ctrl_c():
    import signal
    import urllib.request

    env = os.environ | {"PYTHONPATH": os.pathsep.join(str(p) for p in (ROOT / "functions", ROOT / "tools", ROOT))}
    for var in [v for v in env if v.startswith(("AWS_", "POWERTOOLS_"))]:
        env.pop(var)
    # Ctrl-C as a terminal sends it: a runner started in the background (nohup, `&` in a script) ignores
    # SIGINT, and its children would inherit that and never see the KeyboardInterrupt
    proc = subprocess.Popen([sys.executable, "-m", "unblock_dev.cli", "console", "--port", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        base, code = url.split("/login#code=")
        assert base.startswith("http://127.0.0.1:") and len(code) > 20
        with urllib.request.urlopen(base + "/") as resp:  # the page shell
            assert resp.status == 200 and "default-src 'self'" in resp.headers["Content-Security-Policy"]
        req = urllib.request.Request(base + "/local/session", data=json.dumps({"code": code}).encode(), method="POST")
        with urllib.request.urlopen(req) as resp:
            token = json.loads(resp.read())["token"]
        page = urllib.request.Request(base + "/pages/queue", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(page) as resp:
            assert "<h1" in resp.read().decode()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_run_json_prints_exactly_one_result_object_and_keep_writes_everything_the_stack_held(tmp_path):
    """`unblock run EVENT --json --keep DIR` (one run, one stack start, for both): stdout is the one
    Result object; DIR has every table item, queue message, execution history and log line of the
    run, as files anyone can grep; a key pasted into the ticket is in none of them."""
    key = "vck_acme01Zq8XwPp3LmN7tRvB2yKc5HdJ"
    ticket = load_event("ticket-high-risk-hold.json", unique=False)  # escalated: evidence on the human queue
    ticket["detail"]["text"] += f"\n\nMy key is {key}"
    (tmp_path / "ticket.json").write_text(json.dumps(ticket))
    kept = tmp_path / "kept"

    done = _unblock("run", str(tmp_path / "ticket.json"), "--json", "--keep", str(kept))

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # one object, nothing else on stdout
    assert set(result) == RESULT_KEYS
    assert result["case_id"] == "ticket:4720" and result["outcome"] == "escalated"
    # the pasted key is Acme's, not this team's: the key check says so, the hold is still the cause
    assert [f["code"] for f in result["findings"]] == ["billing.ok", "key.wrong_team", "restrictions.risk_hold"]
    assert result["escalation"]["proposed_fixes"] == ["lift_risk_hold"]
    assert result["trace"]["states"][0] == "OpenCase" and result["trace"]["states"][-1] == "Escalate"
    assert result["signals"] == ["gateway.access_denied"]  # every Result carries what the customer saw
    assert '"level":"INFO"' not in done.stderr  # the terminal shows warnings only; DIR has every line
    manifest = json.loads((kept / "manifest.json").read_text())
    assert manifest["executions"] == 1 and manifest["tables"] >= 2 and manifest["queues"] >= 5
    assert manifest["items"] > 0 and manifest["messages"] >= 1 and manifest["log_lines"] > 10
    assert [p.name.split("-")[:2] for p in (kept / "executions").iterdir()] == [["ticket", "4720"]]
    queues = {p.name.removeprefix("unblock-local-"): p.read_text() for p in (kept / "queues").iterdir()}
    assert "ticket:4720" in queues["HumanQueue.jsonl"] and "IntakeDeadLetterQueue.jsonl" in queues
    assert '"message":"workflow started"' in (kept / "logs.jsonl").read_text()
    assert (kept / "output.txt").read_text() == done.stdout
    everything = "".join(p.read_text() for p in kept.rglob("*") if p.is_file())
    assert key[12:] not in everything and "vck_acme01Zq" in everything  # redacted, marker kept

    refused = _unblock("run", "events/ticket-high-risk-hold.json", "--keep", str(kept))
    assert refused.returncode == 2 and "must be an empty directory" in refused.stderr


def test_a_rejected_event_in_a_batch_keeps_its_line_and_the_others_still_run(tmp_path):
    big = load_event("ticket-high-risk-hold.json")
    big["detail"]["text"] = "403 Forbidden " * 20_000  # past the 256 KiB an event may be
    big_path = tmp_path / "big.json"
    big_path.write_text(json.dumps(big))

    done = _unblock("run", str(big_path), "events/ticket-high-risk-hold.json", "--json")

    assert done.returncode == 2 and "1 of 2 events rejected" in done.stderr and "256 KiB" in done.stderr
    rejected, result = [json.loads(line) for line in done.stdout.splitlines()]  # one line per event, in order
    assert rejected["case_id"] is None and rejected["status"] == "rejected" and "256 KiB" in rejected["error"]
    assert set(result) == RESULT_KEYS and result["case_id"] == "ticket:4720"

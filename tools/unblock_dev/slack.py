"""A local Slack stand-in: signs interactivity requests as Slack does and records what unblock posts
back (to a click's response_url, and to the incoming webhook staff alerts go to).

`SlackStandIn().start()` serves on 127.0.0.1; `click(...)` builds the `block_actions` payload a button
click sends (form-encoded `payload=`), signs it with the signing secret (`v0=` HMAC-SHA256 of
`v0:{timestamp}:{body}`) and hands it to the SlackActionsFunction as its Function URL would.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

from unblock.domain.slack import button_value, signature


class SlackStandIn:
    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []  # {"path", "body"}, in order
        self._server: ThreadingHTTPServer | None = None
        self._clicks = 0

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> SlackStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
                stand_in.posted.append({"path": self.path, "body": json.loads(self.rfile.read(length) or b"{}")})
                data = b"ok"
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def responses(self, path: str) -> list[dict[str, Any]]:
        return [p["body"] for p in self.posted if p["path"] == path]

    def click_request(self, case_id: str, decision: str, user_id: str, secret: str, *, user_name: str = "",
                      timestamp: int | None = None, forge: bool = False,
                      proposal: str | None = None, link: str | None = None) -> tuple[dict[str, Any], str]:
        """The Function URL event of one button click, signed as Slack signs it; and its response_url path.
        `proposal`: the one the clicked alert showed (its buttons' value); None, an older button's bare case id.
        `link`: a click on the alert's link button instead (its `url`, no `value`), as Slack posts it."""
        self._clicks += 1
        path = f"/actions/{self._clicks}"
        payload = {"type": "block_actions", "user": {"id": user_id, "username": user_name, "team_id": "T0LOCAL"},
                   "api_app_id": "A0LOCAL", "container": {"type": "message", "message_ts": "1764151200.000100"},
                   "channel": {"id": "C0STAFF", "name": "unblock-staff"}, "response_url": self.url + path,
                   "actions": [{"type": "button", "action_id": f"unblock_{decision}", "block_id": f"unblock:{case_id}",
                                "value": case_id if proposal is None else button_value(case_id, proposal),
                                "action_ts": str(time.time())}]}
        if link is not None:
            payload["actions"] = [{"type": "button", "action_id": "unblock_open", "block_id": f"unblock:{case_id}",
                                   "text": {"type": "plain_text", "text": "Open in the console"}, "url": link,
                                   "action_ts": str(time.time())}]
        body = urlencode({"payload": json.dumps(payload)})
        ts = str(int(time.time()) if timestamp is None else timestamp)
        sig = signature("not-the-secret" if forge else secret, ts, body.encode())
        event = {"version": "2.0", "rawPath": "/", "headers": {
                     "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": ts,
                     "x-slack-signature": sig},
                 "requestContext": {"http": {"method": "POST", "path": "/"}}, "body": body, "isBase64Encoded": False}
        return event, path

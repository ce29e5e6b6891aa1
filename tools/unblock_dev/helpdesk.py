"""The sandbox help desk: Zendesk's and Discourse's user APIs (and their reply endpoints) on
127.0.0.1, answered from `events/helpdesk-users.json`, so the embedded stack verifies webhook
requesters through the same adapter code as a deployed stack (unblock.adapters.zendesk, unblock.adapters.discourse).

Zendesk: GET /api/v2/users/{id}.json -> {"user": {"id", "email", "verified", "active"}};
GET /api/v2/tickets/{id}.json and /api/v2/tickets/{id}/comments.json (a ticket whose delivery
carried no text: `zendesk_tickets` in the file, or `tickets` set by a test);
PUT /api/v2/tickets/{id}.json (a comment) -> 200; POST /api/v2/tickets.json (Create Ticket) -> 201
with the ticket's id (the same id again for a repeated Idempotency-Key). Discourse: GET /u/{username}/emails.json ->
{"email", "secondary_emails", "unconfirmed_emails"}; GET /t/{id}.json -> a private message's
`details.allowed_users` / `allowed_groups` (`discourse_private_messages` in the file);
POST /posts.json -> 200. Everything posted is kept in `posted`, and every look-up in `looked_up`,
for the demo and tests to read.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DEFAULT_USERS = Path(__file__).resolve().parents[2] / "events" / "helpdesk-users.json"


class SandboxHelpDesk:
    def __init__(self, users: dict[str, Any]) -> None:
        self.zendesk = {str(u["id"]): u for u in users.get("zendesk", [])}
        self.discourse = {str(u["username"]).lower(): u for u in users.get("discourse", [])}
        # Zendesk tickets by id, for deliveries that carry no text: {"ticket": {...}, "comments": [...]}
        self.tickets: dict[str, dict[str, Any]] = {str(t["ticket"]["id"]): t for t in users.get("zendesk_tickets", [])}
        # Discourse private messages by topic id: who they are addressed to (GET /t/{id}.json)
        self.messages: dict[str, dict[str, Any]] = {str(m["topic_id"]): m for m in
                                                     users.get("discourse_private_messages", [])}
        self.posted: list[dict[str, Any]] = []
        self.looked_up: list[str] = []  # the user look-ups asked, by path
        self.created: dict[str, int] = {}  # tickets created (Zendesk), by idempotency key
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @classmethod
    def from_file(cls, path: Path = DEFAULT_USERS) -> SandboxHelpDesk:
        return cls(json.loads(path.read_text()))

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> SandboxHelpDesk:
        desk = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet: the embedded stack logs what matters
                pass

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                desk.looked_up.append(self.path)
                if m := re.fullmatch(r"/api/v2/users/(\d+)\.json", self.path):
                    user = desk.zendesk.get(m.group(1))
                    if user is None:
                        return self._send(404, {"error": "RecordNotFound"})
                    return self._send(200, {"user": {"active": True, "verified": True, **user}})
                if m := re.fullmatch(r"/api/v2/tickets/(\d+)(/comments)?\.json", self.path):
                    found = desk.tickets.get(m.group(1))
                    if found is None:
                        return self._send(404, {"error": "RecordNotFound"})
                    if m.group(2):
                        return self._send(200, {"comments": found.get("comments", []), "next_page": None})
                    return self._send(200, {"ticket": found["ticket"]})
                if m := re.fullmatch(r"/u/([^/]+)/emails\.json", self.path):
                    found = desk.discourse.get(m.group(1).lower())
                    if found is None:
                        return self._send(404, {"errors": ["not found"]})
                    return self._send(200, {"email": found["email"], "secondary_emails": [],
                                            "unconfirmed_emails": [], "associated_accounts": []})
                if m := re.fullmatch(r"/t/(\d+)\.json", self.path):
                    message = desk.messages.get(m.group(1))
                    if message is None:
                        return self._send(404, {"errors": ["not found"]})
                    return self._send(200, {"id": int(m.group(1)), "archetype": "private_message", "details": {
                        "allowed_users": [{"username": u} for u in message["allowed_users"]],
                        "allowed_groups": [{"name": g} for g in message["allowed_groups"]]}})
                return self._send(404, {"error": "not found"})

            def _record(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
                body = json.loads(self.rfile.read(length) or b"{}")
                desk.posted.append({"method": self.command, "path": self.path, "body": body,
                                    "idempotency_key": self.headers.get("Idempotency-Key")})
                if self.command == "POST" and self.path == "/api/v2/tickets.json":  # Create Ticket
                    key = self.headers.get("Idempotency-Key")
                    with desk.lock:
                        ticket_id = desk.created.setdefault(key or str(len(desk.created)), 90000 + len(desk.created))
                    return self._send(201, {"ticket": {"id": ticket_id, **body.get("ticket", {})}})
                self._send(200, {"ok": True})

            do_PUT = do_POST = _record  # noqa: N815 - the stdlib's names

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

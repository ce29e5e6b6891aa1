"""Staff alerts: an SNS topic (email subscribers) and, when configured, a Slack incoming webhook
whose URL is a Secrets Manager secret. A failed alert is logged and never fails the caller."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import urllib3

from unblock.domain.staff_alerts import AnyAlert


class SnsStaffAlerts:
    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client, self._topic = client, topic_arn

    def publish(self, alert: AnyAlert) -> None:
        self._client.publish(TopicArn=self._topic, Subject=alert.subject, Message=alert.text,
                             MessageAttributes={"kind": {"DataType": "String", "StringValue": alert.kind},
                                                "priority": {"DataType": "String", "StringValue": alert.priority}})


class SlackStaffAlerts:
    """Posts {"text": ...} to the incoming webhook; the URL (a credential) is never logged."""

    def __init__(self, webhook_url: Callable[[], str], http: urllib3.PoolManager | None = None,
                 timeout: float = 5.0) -> None:
        self._url, self._timeout = webhook_url, timeout
        self._http = http or urllib3.PoolManager(num_pools=1, maxsize=2)

    def publish(self, alert: AnyAlert) -> None:
        url = self._url()
        if not url.startswith(("https://", "http://")):
            raise ValueError("the Slack webhook secret does not hold a URL")
        resp = self._http.request("POST", url, body=json.dumps(_message(alert)).encode(),
                                  headers={"Content-Type": "application/json"}, retries=False, redirect=False,
                                  timeout=urllib3.Timeout(connect=self._timeout, read=self._timeout))
        if resp.status >= 300:
            raise RuntimeError(f"Slack answered {resp.status}")


def _message(alert: AnyAlert) -> dict[str, Any]:
    """A case alert as Block Kit with its decision buttons; the others as text."""
    from unblock.domain.slack import alert_message
    from unblock.domain.staff_alerts import StaffAlert

    return alert_message(alert) if isinstance(alert, StaffAlert) else {"text": alert.text}


_RESPONSES = urllib3.PoolManager(num_pools=1, maxsize=2)


def post_to_response_url(url: str, message: dict[str, Any], timeout: float = 5.0) -> None:
    """Update the Slack message (or answer its user) through the action's response_url."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("not a response_url")
    resp = _RESPONSES.request("POST", url, body=json.dumps(message).encode(),
                              headers={"Content-Type": "application/json"}, retries=False, redirect=False,
                              timeout=urllib3.Timeout(connect=timeout, read=timeout))
    if resp.status >= 300:
        raise RuntimeError(f"Slack answered {resp.status} on the response_url")


class StaffAlertsFanOut:
    """Every configured channel; one failing does not stop the others, nor the caller."""

    def __init__(self, channels: list[tuple[str, Any]], on_error: Callable[[str, Exception], None]) -> None:
        self.channels, self._on_error = channels, on_error

    def publish(self, alert: AnyAlert) -> None:
        for name, channel in self.channels:
            try:
                channel.publish(alert)
            except Exception as err:  # noqa: BLE001 - an alert is best effort; the case is queued anyway
                self._on_error(name, err)

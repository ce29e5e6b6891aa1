"""DynamoDB adapter for incidents, in the cases table (keys `pk`/`sk`, DESIGN.md "Incidents").

- `cause#<code>#<digest>` / `seen#<at>#<case>`   a case seen with the cause (team, time; expires
  after two days through the table's TTL attribute `expiration`): the teams within 24 hours
- `cause#<code>#<digest>` / `incident`   the cause's current incident (`doc`) and when a member last
  joined. Opening is one conditional put of it, on the condition that the cause has no current
  incident (none, or one idle past the window): of concurrent cases exactly one opens it
- `incident#<id>` / `incident`   the incident (`doc`), `last_joined_at` and `alerted_at` (claimed
  once, by whoever tells staff); written after the pointer by the opener, and by any member that
  finds it missing; its `kind` and `opened_at` place it in the `incidents-by-opening` index
- `incident#<id>` / `decision#<at>#<digest>`   one bulk decision, with each member's outcome
- `incident#<id>` / `member#<case>`   a member case (team, when, by cause or included by staff)
- `case#<case>` / `incident`   the case's incident, and `decision_pending`: a bulk decision waiting
  for the case to wait for staff (taken with one conditional update, so it is applied once)

The cause key holds the finding's code and a digest of the normalized reason: no free text, no
secret, no team. None of these items carries the `pending` attribute of the re-check's index.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel

from unblock.domain.incidents import WINDOW, Cause, Incident, IncidentDecision, MemberCase, PendingDecision, Sighting

SIGHTING_TTL = timedelta(days=2)
M = TypeVar("M", bound=BaseModel)
INCIDENTS_INDEX = "incidents-by-opening"  # hash `kind`, range `opened_at`: only an incident's own item has both


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def _conditional_failed(err: Exception) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(err, ClientError) and err.response["Error"]["Code"] == "ConditionalCheckFailedException"


def query_docs(table: Any, pk: str, sk_prefix: str, model: type[M]) -> list[M]:
    """Every item under `pk` whose sort key starts with `sk_prefix`, read whole (all pages, consistent),
    each parsed from its `doc` attribute: the one way the incident, cause and policy stores read their
    records' children."""
    from boto3.dynamodb.conditions import Key

    out: list[M] = []
    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(pk) & Key("sk").begins_with(sk_prefix),
                              "ConsistentRead": True}
    while True:
        page = table.query(**kwargs)
        out += [model.model_validate_json(i["doc"]) for i in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return out
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class DynamoIncidentStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    # --- causes ----------------------------------------------------------------------------
    @staticmethod
    def _cause_pk(cause: Cause) -> str:
        return f"cause#{cause.key}"

    def record_sighting(self, cause: Cause, sighting: Sighting) -> None:
        self._table.put_item(Item={
            "pk": self._cause_pk(cause), "sk": f"seen#{_iso(sighting.at)}#{sighting.case_id}",
            "case_id": sighting.case_id, "team_id": sighting.team_id, "at": _iso(sighting.at),
            "expiration": int((sighting.at + SIGHTING_TTL).timestamp())})

    def sightings(self, cause: Cause, since: datetime) -> list[Sighting]:
        from boto3.dynamodb.conditions import Key

        out: list[Sighting] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(self._cause_pk(cause)) & Key("sk").between(
                f"seen#{_iso(since)}", f"seen#{_iso(since + 2 * WINDOW)}~"),
            "ConsistentRead": True}
        while True:
            page = self._table.query(**kwargs)
            out += [Sighting(case_id=i["case_id"], team_id=i["team_id"], at=i["at"]) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def current(self, cause: Cause, now: datetime) -> Incident | None:
        item = self._table.get_item(Key={"pk": self._cause_pk(cause), "sk": "incident"},
                                    ConsistentRead=True).get("Item")
        if not item:
            return None
        last = datetime.fromisoformat(str(item["last_joined_at"]).replace("Z", "+00:00"))
        if abs(now - last) > WINDOW:
            return None
        return Incident.model_validate_json(item["doc"]).model_copy(update={"last_joined_at": last})

    def open(self, incident: Incident, since: datetime) -> bool:
        from botocore.exceptions import ClientError

        base = incident.model_copy(update={"decisions": [], "alerted_at": None, "last_joined_at": None})
        opened = _iso(incident.opened_at)
        try:  # the arbiter: one conditional write on the cause's pointer, which carries the incident
            self._table.put_item(
                Item={"pk": self._cause_pk(incident.cause), "sk": "incident", "incident_id": incident.incident_id,
                      "last_joined_at": opened, "doc": base.model_dump_json()},
                # no current incident: none yet, or one whose last member is outside the window
                ConditionExpression="attribute_not_exists(pk) OR last_joined_at < :since OR last_joined_at > :until",
                ExpressionAttributeValues={":since": _iso(since), ":until": _iso(incident.opened_at + WINDOW)})
        except ClientError as err:
            if _conditional_failed(err):
                return False
            raise
        self._touch(base, incident.opened_at)
        return True

    def _touch(self, incident: Incident, at: datetime) -> None:
        """The incident's own item: created if missing (by the opener, or by a member should the opener
        have died in between), its last member's time moved forward, never back."""
        from botocore.exceptions import ClientError

        try:
            self._table.update_item(
                Key={"pk": f"incident#{incident.incident_id}", "sk": "incident"},
                UpdateExpression="SET last_joined_at = :at, doc = if_not_exists(doc, :doc), "
                                 "opened_at = if_not_exists(opened_at, :opened), kind = :kind",
                ConditionExpression="attribute_not_exists(last_joined_at) OR last_joined_at < :at",
                ExpressionAttributeValues={":at": _iso(at), ":doc": incident.model_dump_json(),
                                           ":opened": _iso(incident.opened_at), ":kind": "incident"})
        except ClientError as err:
            if not _conditional_failed(err):
                raise

    # --- incidents -------------------------------------------------------------------------
    def join(self, incident: Incident, member: MemberCase) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._table.put_item(
                Item={"pk": f"incident#{incident.incident_id}", "sk": f"member#{member.case_id}",
                      "doc": member.model_dump_json(), "team_id": member.team_id},
                ConditionExpression="attribute_not_exists(pk)")
        except ClientError as err:
            if not _conditional_failed(err):
                raise
            return False
        self._table.update_item(
            Key={"pk": f"case#{member.case_id}", "sk": "incident"},
            UpdateExpression="SET incident_id = :id, team_id = :team, via = :via",
            ExpressionAttributeValues={":id": incident.incident_id, ":team": member.team_id, ":via": member.via})
        try:  # the latest member keeps the incident current (a later one never moves it back)
            self._table.update_item(
                Key={"pk": self._cause_pk(incident.cause), "sk": "incident"},
                UpdateExpression="SET last_joined_at = :at",
                ConditionExpression="incident_id = :id AND last_joined_at < :at",
                ExpressionAttributeValues={":at": _iso(member.joined_at), ":id": incident.incident_id})
        except ClientError as err:
            if not _conditional_failed(err):
                raise
        base = incident.model_copy(update={"decisions": [], "alerted_at": None, "last_joined_at": None})
        self._touch(base, member.joined_at)
        return True

    @staticmethod
    def _incident(item: dict[str, Any], decisions: list[dict[str, Any]] | None = None) -> Incident:
        data = json.loads(item["doc"])
        data.update(last_joined_at=item.get("last_joined_at"), alerted_at=item.get("alerted_at"),
                    decisions=[json.loads(d["doc"]) for d in decisions or []])
        return Incident.model_validate(data)

    def get(self, incident_id: str) -> Incident | None:
        from boto3.dynamodb.conditions import Key

        item = self._table.get_item(Key={"pk": f"incident#{incident_id}", "sk": "incident"},
                                    ConsistentRead=True).get("Item")
        if not item:
            return None
        decisions = self._table.query(KeyConditionExpression=Key("pk").eq(f"incident#{incident_id}")
                                      & Key("sk").begins_with("decision#"), ConsistentRead=True).get("Items", [])
        return self._incident(item, decisions)

    def members(self, incident_id: str) -> list[MemberCase]:
        members = query_docs(self._table, f"incident#{incident_id}", "member#", MemberCase)
        return sorted(members, key=lambda m: (m.joined_at, m.case_id))

    def list(self, limit: int = 100) -> list[Incident]:
        """The newest incidents, from the `incidents-by-opening` index (the console reads what it shows)."""
        from boto3.dynamodb.conditions import Key

        items = self._table.query(IndexName=INCIDENTS_INDEX, KeyConditionExpression=Key("kind").eq("incident"),
                                  ScanIndexForward=False, Limit=limit).get("Items", [])
        return [self._incident(i) for i in items]

    def incident_of(self, case_id: str) -> str | None:
        item = self._table.get_item(Key={"pk": f"case#{case_id}", "sk": "incident"},
                                    ConsistentRead=True).get("Item")
        return str(item["incident_id"]) if item and item.get("incident_id") else None

    def claim_alert(self, incident_id: str, at: datetime) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._table.update_item(
                Key={"pk": f"incident#{incident_id}", "sk": "incident"}, UpdateExpression="SET alerted_at = :at",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(alerted_at)",
                ExpressionAttributeValues={":at": _iso(at)})
        except ClientError as err:
            if _conditional_failed(err):
                return False
            raise
        return True

    # --- bulk decisions --------------------------------------------------------------------
    def set_pending(self, case_id: str, pending: PendingDecision) -> None:
        self._table.update_item(
            Key={"pk": f"case#{case_id}", "sk": "incident"}, UpdateExpression="SET decision_pending = :p",
            ExpressionAttributeValues={":p": pending.model_dump_json()})

    def take_pending(self, case_id: str) -> PendingDecision | None:
        from botocore.exceptions import ClientError

        try:
            old = self._table.update_item(
                Key={"pk": f"case#{case_id}", "sk": "incident"}, UpdateExpression="REMOVE decision_pending",
                ConditionExpression="attribute_exists(decision_pending)", ReturnValues="ALL_OLD")
        except ClientError as err:
            if _conditional_failed(err):
                return None
            raise
        raw = (old.get("Attributes") or {}).get("decision_pending")
        return PendingDecision.model_validate_json(raw) if raw else None

    def record_decision(self, incident_id: str, decision: IncidentDecision) -> None:
        import hashlib

        doc = decision.model_dump_json()
        self._table.put_item(Item={
            "pk": f"incident#{incident_id}",
            "sk": f"decision#{_iso(decision.decided_at)}#{hashlib.sha256(doc.encode()).hexdigest()[:12]}",
            "doc": doc})

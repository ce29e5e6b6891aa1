"""The stack's mode in SSM Parameter Store (template.yaml `ModeParameter`), its switches audited in the
cases table.

Read through Powertools Parameters, cached MODE_MAX_AGE seconds per container: a switch reaches every
function within a minute without a deploy, at one GetParameter per function per 30 s. A read that
fails raises (the step fails and Step Functions retries it): a run never guesses its mode. Each
switch is an item `mode` / `change#<ns>` (who, when, from, to, note) in the cases table.
"""

from __future__ import annotations

import time
from typing import Any

from unblock.domain.models import Mode
from unblock.domain.modes import ModeChange, parse_mode

MODE_MAX_AGE = 30  # seconds: a switch reaches every function within a minute
AUDIT_KEY = "mode"
DESCRIPTION = "unblock's run-time mode (live, approval, shadow); switch it with `unblock mode` or the console"


class SsmModeSwitch:
    def __init__(self, parameter_name: str, table: Any, max_age: int = MODE_MAX_AGE) -> None:
        self._name, self._table, self._max_age = parameter_name, table, max_age

    def current(self, *, fresh: bool = False) -> Mode:
        from aws_lambda_powertools.utilities import parameters

        return parse_mode(parameters.get_parameter(self._name, max_age=self._max_age, force_fetch=fresh))

    def switch(self, change: ModeChange) -> None:
        from aws_lambda_powertools.utilities import parameters

        parameters.set_parameter(self._name, change.now, overwrite=True, description=DESCRIPTION)
        # kept in the order written (the wall clock's nanoseconds): the newest first, whatever clock `at` read
        self._table.put_item(Item={"pk": AUDIT_KEY, "sk": f"change#{time.time_ns():020d}",
                                   "doc": change.model_dump_json()})
        self.current(fresh=True)  # this container obeys at once; the others within max_age

    def changes(self, limit: int = 20) -> list[ModeChange]:
        from boto3.dynamodb.conditions import Key

        items = self._table.query(KeyConditionExpression=Key("pk").eq(AUDIT_KEY) & Key("sk").begins_with("change#"),
                                  ScanIndexForward=False, Limit=limit).get("Items", [])
        return [ModeChange.model_validate_json(str(item["doc"])) for item in items]

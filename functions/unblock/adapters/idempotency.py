"""Each part of a reply delivered once across containers: Powertools idempotency, persisted in
the cases table (items `idempotency#reply-part` / `<function>#<hash of reply id and part>`).

Before a part is sent its record is written INPROGRESS (a conditional put: a second container
finds it and retries later), COMPLETED once the help desk accepted it, deleted if the send
failed. A redelivered outbox message, in any container, skips the parts already delivered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from unblock.ports import DeliveryFailed

EXPIRES_AFTER = 15 * 24 * 3600  # longer than the outbox and its DLQ keep a message (14 days)
STATIC_PK = "idempotency#reply-part"


class PersistentOnce:
    """`once(reply_id, part, send)`: call `send` unless that part of that reply was delivered."""

    def __init__(self, table_name: str, boto3_session: Any = None) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        persistence = DynamoDBPersistenceLayer(table_name=table_name, key_attr="pk", sort_key_attr="sk",
                                               static_pk_value=STATIC_PK, boto3_session=boto3_session)
        self.config = IdempotencyConfig(event_key_jmespath="[reply_id, part]", expires_after_seconds=EXPIRES_AFTER,
                                        raise_on_no_idempotency_key=True)

        @idempotent_function(data_keyword_argument="key", persistence_store=persistence, config=self.config)
        def deliver_part(*, key: dict[str, str], send: Callable[[], None]) -> dict[str, bool]:
            send()
            return {"delivered": True}

        self._deliver_part = deliver_part

    def register_lambda_context(self, context: Any) -> None:
        """An INPROGRESS record of a container that died expires with its invocation's deadline."""
        self.config.register_lambda_context(context)

    def __call__(self, reply_id: str, part: str, send: Callable[[], None]) -> None:
        from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

        try:
            self._deliver_part(key={"reply_id": reply_id, "part": part}, send=send)
        except IdempotencyAlreadyInProgressError as err:
            raise DeliveryFailed("another container is delivering this part; retry later",
                                 destination="outbox") from err

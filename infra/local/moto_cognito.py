"""What the embedded AWS lacks for the local stack: Cognito's ResendConfirmationCode, which moto does not have.

Locally no email is sent and any confirmation code is accepted, so "resend" only has to answer like Cognito
(where the code went) or refuse an unknown login like Cognito. ``python -m infra.local.moto_cognito`` runs moto's
server with it; tests call :func:`install` before moto starts.
"""
from __future__ import annotations

import json
import sys

from moto.cognitoidp.exceptions import ResourceNotFoundError, UserNotFoundError
from moto.cognitoidp.models import cognitoidp_backends, find_account_region_by_value
from moto.cognitoidp.responses import CognitoIdpResponse


def resend_confirmation_code(self: CognitoIdpResponse) -> str:
    client_id, username = self._get_param("ClientId"), self._get_param("Username")
    account, region = find_account_region_by_value("client_id", client_id, fallback=(self.current_account,
                                                                                     self.region))
    for pool in cognitoidp_backends[account][region].user_pools.values():
        if client_id in pool.clients:
            user = pool._get_user(username)
            if user is None:
                raise UserNotFoundError(f"User does not exist: {username}")
            email = next((a["Value"] for a in user.attributes if a["Name"] == "email"), username)
            name, _, domain = email.partition("@")
            return json.dumps({"CodeDeliveryDetails": {"Destination": f"{name[:1]}***@{domain}",
                                                       "DeliveryMedium": "EMAIL", "AttributeName": "email"}})
    raise ResourceNotFoundError(f"No user pool has the client {client_id}")


def install() -> None:
    CognitoIdpResponse.resend_confirmation_code = resend_confirmation_code  # type: ignore[attr-defined]


if __name__ == "__main__":
    from moto.server import main

    install()
    main(sys.argv[1:])

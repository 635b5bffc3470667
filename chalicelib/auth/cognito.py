"""Cognito user pool facade: the only module that talks to cognito-idp; it speaks SalesLens errors."""
from __future__ import annotations

from typing import Any, NoReturn

from botocore.exceptions import ClientError

from chalicelib import errors

# Cognito error code -> (SalesLens error class, code override, message). None message: Cognito's own.
_ERRORS: dict[str, tuple[type[errors.SalesLensError], str | None, str | None]] = {
    "UsernameExistsException": (errors.Conflict, "email_taken",
                                "An account with this email already exists. Log in or reset the password."),
    "AliasExistsException": (errors.Conflict, "email_taken", "Another account already uses this email."),
    "InvalidPasswordException": (errors.ValidationFailed, "invalid_password", None),
    "InvalidParameterException": (errors.ValidationFailed, None, None),
    "CodeMismatchException": (errors.ValidationFailed, "invalid_code",
                              "That code is not right. Check the latest email we sent, or ask for a new code."),
    "ExpiredCodeException": (errors.ValidationFailed, "code_expired",
                             "That code has expired. Ask for a new one."),
    "NotAuthorizedException": (errors.BadCredentials, None, None),
    "UserNotFoundException": (errors.BadCredentials, None, None),
    "UserNotConfirmedException": (errors.NotConfirmed, None, None),
    "LimitExceededException": (errors.TooManyRequests, None, None),
    "TooManyRequestsException": (errors.TooManyRequests, None, None),
    "TooManyFailedAttemptsException": (errors.TooManyRequests, None, None),
    "CodeDeliveryFailureException": (errors.ValidationFailed, "code_not_delivered",
                                     "We could not send the code to that email. Check the address."),
}


# What Cognito answers for an email with no (usable) login; where that must not show, the answer is the same.
_UNKNOWN_LOGIN = ("UserNotFoundException", "ResourceNotFoundException", "InvalidParameterException",
                  "NotAuthorizedException")

# Where a wrong password is a field error of a signed-in user's form, not a failed sign-in.
_PASSWORD_FIELDS = {"change_password": "old_password", "check_password": "password"}


def _raise(exc: ClientError, context: str) -> NoReturn:
    code = exc.response.get("Error", {}).get("Code", "")
    if code not in _ERRORS:
        raise exc
    cls, override, message = _ERRORS[code]
    if cls is errors.BadCredentials:
        if "attempts exceeded" in str(exc).lower():
            raise errors.TooManyRequests() from exc
        if context in _PASSWORD_FIELDS:
            field = _PASSWORD_FIELDS[context]
            raise errors.ValidationFailed("The password is not right.", [{"field": field, "problem": "incorrect"}],
                                          code="wrong_password") from exc
        if context != "login":  # a refresh or access token Cognito no longer accepts
            raise errors.Unauthorized() from exc
    raise cls(message or (None if cls is errors.BadCredentials else exc.response["Error"].get("Message")),
              code=override) from exc


def _delivery(response: dict[str, Any]) -> dict[str, str]:
    details = response.get("CodeDeliveryDetails") or {}
    return {"medium": str(details.get("DeliveryMedium", "EMAIL")).lower(),
            "destination": details.get("Destination", "")}


def _sent_to(email: str) -> dict[str, str]:
    """Where a code went, masked like Cognito does ("a***@e***") but from the address asked about, so the answer is
    the same whether or not that address has an account (Cognito's own answer would tell)."""
    local, _, domain = email.partition("@")
    return {"medium": "email", "destination": f"{local[:1]}***@{domain[:1]}***"}


def _tokens(result: dict[str, Any]) -> dict[str, Any]:
    tokens = {"access_token": result["AccessToken"], "id_token": result["IdToken"],
              "expires_in": result.get("ExpiresIn", 3600), "token_type": "Bearer"}
    if result.get("RefreshToken"):
        tokens["refresh_token"] = result["RefreshToken"]
    return tokens


class CognitoUsers:
    """Sign-up, sign-in and self-service account operations against one user pool and app client."""

    def __init__(self, idp: Any, user_pool_id: str, client_id: str) -> None:
        self._idp = idp
        self.pool_id = user_pool_id
        self.client_id = client_id

    def _call(self, context: str, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(self._idp, method)(**kwargs)
        except ClientError as exc:
            _raise(exc, context)

    def sign_up(self, email: str, password: str, name: str) -> tuple[str, dict[str, str]]:
        """Create an unconfirmed login; returns its ``sub`` and where the code went."""
        response = self._call("signup", "sign_up", ClientId=self.client_id, Username=email, Password=password,
                              UserAttributes=[{"Name": "email", "Value": email}, {"Name": "name", "Value": name}])
        return response["UserSub"], _delivery(response)

    def confirm(self, email: str, code: str) -> None:
        self._call("confirm", "confirm_sign_up", ClientId=self.client_id, Username=email, ConfirmationCode=code)

    def resend_code(self, email: str) -> dict[str, str]:
        """Where a new code went; an unknown email gets the same answer as a known one."""
        try:
            self._idp.resend_confirmation_code(ClientId=self.client_id, Username=email)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _UNKNOWN_LOGIN:
                _raise(exc, "resend")
        return _sent_to(email)

    def login(self, email: str, password: str) -> dict[str, Any]:
        response = self._call("login", "initiate_auth", ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": email, "PASSWORD": password})
        if "AuthenticationResult" not in response:
            raise errors.Forbidden(f"Sign-in needs an extra step ({response.get('ChallengeName')}) "
                                   "that this portal does not support yet. Reset your password.")
        return _tokens(response["AuthenticationResult"])

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        response = self._call("refresh", "initiate_auth", ClientId=self.client_id,
                              AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token})
        return _tokens(response["AuthenticationResult"])

    def global_sign_out(self, access_token: str) -> None:
        self._call("logout", "global_sign_out", AccessToken=access_token)

    def forgot_password(self, email: str) -> dict[str, str]:
        """Where the reset code went; an unknown email gets the same answer as a known one."""
        try:
            self._idp.forgot_password(ClientId=self.client_id, Username=email)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _UNKNOWN_LOGIN:
                _raise(exc, "forgot")
        return _sent_to(email)

    def reset_password(self, email: str, code: str, password: str) -> None:
        """A code for an email with no account is answered like a wrong code: no one learns who has an account."""
        try:
            self._idp.confirm_forgot_password(ClientId=self.client_id, Username=email, ConfirmationCode=code,
                                              Password=password)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("UserNotFoundException", "ResourceNotFoundException"):
                _raise(ClientError({"Error": {"Code": "CodeMismatchException"}}, "ConfirmForgotPassword"), "reset")
            _raise(exc, "reset")

    def change_password(self, access_token: str, old: str, new: str) -> None:
        self._call("change_password", "change_password", AccessToken=access_token,
                   PreviousPassword=old, ProposedPassword=new)

    def update_attributes(self, access_token: str, attributes: dict[str, str]) -> None:
        self._call("profile", "update_user_attributes", AccessToken=access_token,
                   UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()])

    def check_password(self, email: str, password: str) -> None:
        """Re-authenticate before destructive self-service actions (account deletion)."""
        self._call("check_password", "initiate_auth", ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH",
                   AuthParameters={"USERNAME": email, "PASSWORD": password})

    # -- administrative (tenant lifecycle, roles) -----------------------------------------
    def sub_for_email(self, email: str) -> str | None:
        try:
            user = self._idp.admin_get_user(UserPoolId=self.pool_id, Username=email)
        except ClientError:
            return None
        attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        return attributes.get("sub") or user.get("Username")

    def confirm_user(self, email: str) -> None:
        """Administrative confirmation (used to create the local demo user)."""
        self._call("admin", "admin_confirm_sign_up", UserPoolId=self.pool_id, Username=email)

    def set_group(self, username: str, role: str, previous: str | None = None) -> None:
        if previous and previous != role:
            self._call("admin", "admin_remove_user_from_group", UserPoolId=self.pool_id, Username=username,
                       GroupName=previous)
        self._call("admin", "admin_add_user_to_group", UserPoolId=self.pool_id, Username=username, GroupName=role)

    def delete_user(self, username: str) -> None:
        try:
            self._idp.admin_delete_user(UserPoolId=self.pool_id, Username=username)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "UserNotFoundException":
                raise

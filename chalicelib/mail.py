"""E-mail through Amazon SES, from the one verified sender address in the settings: plain text, or plain text with
one attachment (a report's PDF) and extra headers (List-Unsubscribe)."""
from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError


class MailNotSent(Exception):
    """SES refused or could not be reached; the message says why (for the logs, not for users)."""


class SesMailer:
    """Sends through an SES client (``aws.client("ses")``) as ``sender``, which SES must have verified."""

    def __init__(self, ses: Any, sender: str) -> None:
        self._ses = ses
        self.sender = sender

    def send(self, to: str, subject: str, text: str, reply_to: str = "") -> str:
        """Send one message; returns SES's message id or raises :class:`MailNotSent`."""
        kwargs: dict[str, Any] = {
            "Source": self.sender, "Destination": {"ToAddresses": [to]},
            "Message": {"Subject": {"Data": _one_line(subject), "Charset": "UTF-8"},
                        "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}},
        }
        if reply_to:
            kwargs["ReplyToAddresses"] = [reply_to]
        return self._call(lambda: self._ses.send_email(**kwargs))

    def send_with_attachment(self, to: str, subject: str, text: str, filename: str, data: bytes, mimetype: str,
                             headers: dict[str, str] | None = None) -> str:
        """Send text plus one attachment as a MIME message; returns SES's message id or raises MailNotSent."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, _one_line(subject)
        for name, value in (headers or {}).items():
            message[name] = _one_line(value, 2000)
        message.set_content(text)
        maintype, _, subtype = mimetype.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        return self._call(lambda: self._ses.send_raw_email(Source=self.sender, Destinations=[to],
                                                           RawMessage={"Data": message.as_bytes()}))

    @staticmethod
    def _call(send: Any) -> str:
        try:
            return str(send()["MessageId"])
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise MailNotSent(f"{error.get('Code', 'ClientError')}: {error.get('Message', '')}") from exc
        except BotoCoreError as exc:
            raise MailNotSent(type(exc).__name__) from exc


def _one_line(text: str, limit: int = 200) -> str:
    """A subject never carries a line break (header injection) and stays short."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit - 1] + "…"

"""Newsletter emails built fast: one MIME skeleton per issue, personalised per recipient.

Django's EmailMessage builds each message through the ``email`` package (header folding,
a fresh boundary regex, a generator pass): about 1.5 ms per message here, more than the
SMTP exchange itself. A newsletter issue sends one message body to many people, differing
only in a few links, so the skeleton is encoded once and each message is a substitution
plus a quoted-printable pass (``binascii``, in C). The output is ordinary MIME; the tests
parse what the SMTP server receives with the standard library.

Used for SMTP delivery; other backends (anymail, the file outbox) get the equivalent
EmailMessage from ``clarion.lib.emails.build``.
"""

from __future__ import annotations

import binascii
import secrets
import smtplib
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr


def _header_value(value: str) -> str:
    if value.isascii() and len(value) < 900 and "\n" not in value:
        return value
    return Header(value, "utf-8", header_name="Subject").encode(linesep="\r\n")


def _address(value: str) -> str:
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8")


def _encode(text: str, eight_bit: bool) -> tuple[bytes, bytes]:
    """(Content-Transfer-Encoding, body). 8bit, like Django, when the server takes it and no
    line is longer than SMTP allows (RFC 5322 §2.1.1); quoted-printable otherwise. 8bit also
    keeps the line count low, and SMTP servers do their work per line."""
    body = text.replace("\r\n", "\n").encode("utf-8")
    if (eight_bit or body.isascii()) and max(map(len, body.split(b"\n"))) <= 998:
        return b"8bit" if not body.isascii() else b"7bit", body.replace(b"\n", b"\r\n")
    return b"quoted-printable", binascii.b2a_qp(body, istext=True).replace(b"\n", b"\r\n")


class Skeleton:
    """A multipart/alternative message with placeholders, rendered for one recipient by
    ``render(to=…, message_id=…, substitutions={placeholder: value}, headers={…})``."""

    def __init__(
        self,
        *,
        subject: str,
        text: str,
        html: str,
        from_email: str,
        reply_to: str | None = None,
    ):
        self.envelope_from = parseaddr(from_email)[1]
        self.text = text
        self.html = html
        boundary = "===============" + secrets.token_hex(16) + "=="
        self.boundary = boundary.encode()
        head = [
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
            "MIME-Version: 1.0",
            f"Subject: {_header_value(subject)}",
            f"From: {_address(from_email)}",
        ]
        if reply_to:
            head.append(f"Reply-To: {_address(reply_to)}")
        self.head = ("\r\n".join(head) + "\r\n").encode()

    def render(
        self,
        *,
        to: str,
        message_id: str,
        substitutions: dict[str, str],
        headers: dict[str, str],
        eight_bit: bool = True,
    ) -> bytes:
        text, html = self.text, self.html
        for placeholder, value in substitutions.items():
            text = text.replace(placeholder, value)
            html = html.replace(placeholder, value)
        lines = [f"To: {to}", f"Date: {formatdate()}", f"Message-ID: {message_id}"]
        lines += [f"{name}: {_header_value(value)}" for name, value in headers.items()]
        b = self.boundary
        text_encoding, text_body = _encode(text, eight_bit)
        html_encoding, html_body = _encode(html, eight_bit)
        return b"".join(
            [
                self.head,
                ("\r\n".join(lines) + "\r\n\r\n").encode(),
                b"--" + b + b"\r\n",
                b'Content-Type: text/plain; charset="utf-8"\r\n'
                b"Content-Transfer-Encoding: " + text_encoding + b"\r\n\r\n",
                text_body,
                b"\r\n--" + b + b"\r\n",
                b'Content-Type: text/html; charset="utf-8"\r\n'
                b"Content-Transfer-Encoding: " + html_encoding + b"\r\n\r\n",
                html_body,
                b"\r\n--" + b + b"--\r\n",
            ]
        )


def send(connection: smtplib.SMTP, from_addr: str, to: str, data: bytes, before_data=None):
    """smtplib's ``sendmail`` for one recipient, calling ``before_data()`` just before DATA.

    The server takes responsibility for a message when it answers the end of DATA (RFC 5321
    §4.1.1.4), so work done in ``before_data`` happens before the point of no return while
    the envelope commands still overlap it. Raises the same exceptions as ``sendmail``.
    """

    def fail(code: int):
        if code == 421:
            connection.close()
        else:
            connection._rset()

    connection.ehlo_or_helo_if_needed()
    options = [f"size={len(data)}"] if connection.has_extn("size") else []
    if not data.isascii() and connection.has_extn("8bitmime"):
        options.append("BODY=8BITMIME")
    code, reply = connection.mail(from_addr, options)
    if code != 250:
        fail(code)
        raise smtplib.SMTPSenderRefused(code, reply, from_addr)
    code, reply = connection.rcpt(to)
    if code not in (250, 251):
        fail(code)
        raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
    if before_data is not None:
        try:
            before_data()
        except BaseException:
            connection._rset()
            raise
    code, reply = connection.data(data)
    if code != 250:
        fail(code)
        raise smtplib.SMTPDataError(code, reply)

"""One email over an open ``smtplib`` connection, with a hook just before the point of no
return.

The newsletter's fast path (``clarion.newsletter.messages.Skeleton``) hands raw MIME here
instead of going through Django's backend, which would build an ``EmailMessage`` per email.
"""

from __future__ import annotations

import smtplib


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

"""A client for versitygw's admin API (accounts of its internal IAM), requests signed with botocore's SigV4.

The gateway serves the API on its S3 port when it runs without `--admin-port`: `PATCH /create-user` with the
account as XML, `PATCH /update-user?access=<key>` with the changed properties, signed with the root keys for the
service `s3` (what `versitygw admin create-user` sends). Errors come back as S3-style XML (`<Error><Code>`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode
from xml.etree import ElementTree

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session

USER_ROLE = "user"  # may do only what bucket policies grant it (versitygw roles: admin, user, userplus)
USER_EXISTS = "XAdminUserExists"


class AdminError(RuntimeError):
    """The admin API refused a request; `code` is the gateway's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class VersitygwAdmin:
    """Creates or updates accounts through the admin API of the gateway at `endpoint`."""

    endpoint: str
    access_key: str
    secret_key: str
    region: str
    timeout: int = 10  # seconds

    def ensure_account(self, access: str, secret: str, role: str = USER_ROLE) -> str:
        """Create the account, or update its secret and role if it exists; returns "created" or "updated"."""
        try:
            self._call("create-user", _xml("Account", Access=access, Secret=secret, Role=role))
        except AdminError as exc:
            if exc.code != USER_EXISTS:
                raise
            self._call("update-user", _xml("MutableProps", Secret=secret, Role=role), {"access": access})
            return "updated"
        return "created"

    def _call(self, path: str, body: bytes, query: dict[str, str] | None = None) -> None:
        url = f"{self.endpoint.rstrip('/')}/{path}" + (f"?{urlencode(query)}" if query else "")
        request = AWSRequest(
            method="PATCH", url=url, data=body, headers={"x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
        )
        S3SigV4Auth(Credentials(self.access_key, self.secret_key), "s3", self.region).add_auth(request)
        response = URLLib3Session(timeout=self.timeout).send(request.prepare())
        if response.status_code >= 400:
            raise _error(response.status_code, response.content)


def _xml(root: str, **fields: str) -> bytes:
    element = ElementTree.Element(root)
    for name, value in fields.items():
        ElementTree.SubElement(element, name).text = value
    return ElementTree.tostring(element)


def _error(status: int, content: bytes) -> AdminError:
    try:
        found = ElementTree.fromstring(content)
        code, message = found.findtext("Code") or f"HTTP {status}", found.findtext("Message") or ""
    except ElementTree.ParseError:
        code, message = f"HTTP {status}", content.decode(errors="replace")[:200]
    return AdminError(code, message)

#!/usr/bin/env python3
"""A short end-to-end scenario driven only through the Python client that openapi-python-client
generates from openapi/openapi.json (package `vestibule_client`; see docs/sdks.md).

    PYTHONPATH=<folder holding vestibule_client> python scenario.py \
        --base-url http://127.0.0.1:8080 --mail-dir "$DATA_DIR/mail"

It signs in as staff, creates a client and a contact (retrying the contact's creation with
the same Idempotency-Key, which must replay the first answer), creates a portal for the contact and
invites them, reads the invitation email from the mail folder (MAIL_TRANSPORT=folder) and
accepts it as the contact, exchanges a secure message both ways, uploads a document, shares it
to the contact's portal and downloads it as the contact.

Every call goes through the generated client with `raise_on_unexpected_status=True`, so a
status the spec does not declare, a required field the server left out or an enum value the
spec does not list fails the run. Fields the server sends that the spec does not declare are
reported as warnings. Exits 0 on success and 1 with a message naming the step otherwise.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import hashlib
import io
import os
import pathlib
import re
import sys
import time
import uuid
from typing import Any

import attrs
import httpx

from vestibule_client import AuthenticatedClient, Client, errors
from vestibule_client.api.auth import get_me, login_staff
from vestibule_client.api.clients import create_client, get_client
from vestibule_client.api.contacts import create_contact
from vestibule_client.api.documents import download_document, share_documents, upload_document
from vestibule_client.api.messages import list_messages, start_conversation
from vestibule_client.api.portal import (
    accept_invitation,
    download_my_document,
    get_my_document,
    get_portal_me,
    list_my_conversations,
    list_my_documents,
    list_my_messages,
    reply_to_my_conversation,
)
from vestibule_client.api.portals import create_portal, get_portal, invite_to_portal
from vestibule_client.models import (
    AcceptInvitation,
    Client as ClientRecord,
    ClientKind,
    Contact,
    ContactOf,
    ContactOfKind,
    Conversation,
    CreateClient,
    CreateContact,
    CreatePortal,
    Document,
    GrantTarget,
    LoginRequest,
    Message,
    Me,
    Portal,
    PortalKind,
    PortalMe,
    PortalReply,
    PortalStatus,
    Problem,
    SentInvitation,
    ShareDocuments,
    SharedDocuments,
    SignedIn,
    StartConversation,
    TokenPair,
)
from vestibule_client.types import File

# A tiny but real PDF, so that the server's type detection has something to recognise.
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
TOKEN_IN_LINK = re.compile(r"/portal/accept-invitation\?token=([A-Za-z0-9_-]+)")


class ScenarioFailure(Exception):
    """A step did not do what the API guide says; the message says what happened."""


class Recorder:
    """Keeps the last HTTP exchange, to quote it when a response cannot be parsed."""

    def __init__(self) -> None:
        self.last: httpx.Response | None = None

    def hook(self, response: httpx.Response) -> None:
        self.last = response

    def describe(self) -> str:
        if self.last is None:
            return "no response"
        r = self.last
        try:
            body = r.content[:800].decode("utf-8", "replace")
        except httpx.ResponseNotRead:
            body = "(not read)"
        return f"{r.request.method} {r.request.url.path} -> {r.status_code} {r.headers.get('content-type', '')}: {body}"


recorder = Recorder()
warnings: list[str] = []


def make_client(base_url: str, token: str | None = None) -> Client | AuthenticatedClient:
    args: dict[str, Any] = {
        "base_url": base_url,
        "raise_on_unexpected_status": True,
        "timeout": httpx.Timeout(30.0),
        "httpx_args": {"event_hooks": {"response": [recorder.hook]}},
    }
    if token is None:
        return Client(**args)
    return AuthenticatedClient(token=token, **args)


def undeclared_fields(value: Any, where: str) -> list[str]:
    """Paths of the fields the server sent that the spec does not declare (they land in
    `additional_properties` of the generated models)."""
    found: list[str] = []
    if attrs.has(type(value)):
        extra = getattr(value, "additional_properties", None)
        if extra:
            found.extend(f"{where}.{key}" for key in sorted(extra))
        for field in attrs.fields(type(value)):
            if field.name != "additional_properties":
                found.extend(undeclared_fields(getattr(value, field.name), f"{where}.{field.name}"))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(undeclared_fields(item, f"{where}[{i}]"))
    return found


def call(what: str, endpoint: Any, expected_status: int, expected_type: type | None, *args: Any, **kwargs: Any) -> Any:
    """Calls `endpoint.sync_detailed(...)` and checks the status and the parsed type."""
    recorder.last = None
    try:
        response = endpoint.sync_detailed(*args, **kwargs)
    except errors.UnexpectedStatus as err:
        raise ScenarioFailure(
            f"{what}: the server answered {err.status_code}, which the spec does not declare for this "
            f"operation: {err.content[:800].decode('utf-8', 'replace')}"
        ) from err
    except (KeyError, ValueError, TypeError, AttributeError) as err:
        raise ScenarioFailure(
            f"{what}: the generated client could not parse the answer, so it does not match the spec "
            f"({type(err).__name__}: {err}); the answer was {recorder.describe()}"
        ) from err
    status = int(response.status_code)
    parsed = response.parsed
    if status != expected_status:
        detail = f"{parsed.code}: {parsed.detail}" if isinstance(parsed, Problem) else recorder.describe()
        raise ScenarioFailure(f"{what}: expected {expected_status}, got {status} ({detail})")
    if expected_type is not None and not isinstance(parsed, expected_type):
        raise ScenarioFailure(
            f"{what}: expected a {expected_type.__name__}, the generated client made {type(parsed).__name__} "
            f"of {recorder.describe()}"
        )
    for path in undeclared_fields(parsed, expected_type.__name__ if expected_type else "body"):
        warnings.append(f"{what}: the server sent `{path}`, which the spec does not declare")
    return parsed


def header(name: str) -> str | None:
    """A header of the last answer."""
    return recorder.last.headers.get(name) if recorder.last is not None else None


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioFailure(message)


def wait_for_invitation(mail_dir: pathlib.Path, address: str, timeout: float) -> str:
    """The token of the newest invitation email to `address` that the dispatcher wrote."""
    deadline = time.monotonic() + timeout
    while True:
        newest: tuple[float, str] | None = None
        for path in mail_dir.glob("*.eml") if mail_dir.is_dir() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address.lower() not in str(message.get("To", "")).lower():
                continue
            for part in message.walk():
                if part.get_content_maintype() != "text":
                    continue
                match = TOKEN_IN_LINK.search(part.get_content())
                if match:
                    mtime = path.stat().st_mtime
                    if newest is None or mtime > newest[0]:
                        newest = (mtime, match.group(1))
        if newest is not None:
            return newest[1]
        if time.monotonic() > deadline:
            raise ScenarioFailure(
                f"no invitation email to {address} with an accept-invitation link appeared in {mail_dir} "
                f"within {timeout:.0f} s"
            )
        time.sleep(0.2)


def step(text: str) -> None:
    print(f"-- {text}", flush=True)


def run(base_url: str, mail_dir: pathlib.Path, firm: str, staff_email: str, staff_password: str) -> None:
    run_id = uuid.uuid4().hex[:8]
    public = make_client(base_url)

    step("staff sign-in")
    # Without two-factor sign-in the password step answers the tokens (`status: signed_in`).
    tokens = call(
        "POST /v1/auth/login",
        login_staff,
        200,
        SignedIn,
        client=public,
        body=LoginRequest(firm=firm, email=staff_email, password=staff_password),
    )
    staff = make_client(base_url, tokens.access_token)
    me = call("GET /v1/me", get_me, 200, Me, client=staff)
    print(f"   signed in as {me.staff.email}")

    step("create a client and a contact")
    client = call(
        "POST /v1/clients",
        create_client,
        201,
        ClientRecord,
        client=staff,
        body=CreateClient(kind=ClientKind.PERSON, name=f"Ada Lovelace {run_id}", emails=[f"ada-{run_id}@example.com"]),
    )
    check(client.version == 1, f"a new client has version 1, got {client.version}")
    check(
        header("Location") == f"/v1/clients/{client.id}" and header("ETag") == '"1"',
        f"a new client comes with Location and ETag, got {header('Location')!r} and {header('ETag')!r}",
    )
    again = call("GET /v1/clients/{client_id}", get_client, 200, ClientRecord, client.id, client=staff)
    check(again.id == client.id, "GET /v1/clients/{client_id} returned another client")
    contact_email = f"ada.contact-{run_id}@example.com"
    new_contact = CreateContact(
        first_name="Ada",
        last_name="Lovelace",
        email=contact_email,
        of=ContactOf(kind=ContactOfKind.CLIENT, id=client.id),
    )
    key = str(uuid.uuid4())
    contact = call(
        "POST /v1/contacts", create_contact, 201, Contact, client=staff, body=new_contact, idempotency_key=key
    )
    # A retry with the same Idempotency-Key gets the first answer again, marked as a replay.
    replay = call(
        "POST /v1/contacts (retry)", create_contact, 201, Contact, client=staff, body=new_contact, idempotency_key=key
    )
    check(replay.id == contact.id, f"the retry created {replay.id} instead of replaying {contact.id}")
    check(header("idempotent-replayed") == "true", "the retry does not carry `idempotent-replayed: true`")
    print(f"   client {client.id}, contact {contact.id}")

    step("create a portal for the contact and invite them")
    portal = call(
        "POST /v1/portals",
        create_portal,
        201,
        Portal,
        client=staff,
        body=CreatePortal(
            contact_id=contact.id, kind=PortalKind.FULL, grants=[GrantTarget(client_id=client.id)], invite=False
        ),
    )
    check(portal.status == PortalStatus.INVITED, f"a new portal is `invited`, got {portal.status}")
    invitation = call(
        "POST /v1/portals/{portal_id}/invitation", invite_to_portal, 201, SentInvitation, portal.id, client=staff
    )
    check(invitation.email == contact_email, f"the invitation went to {invitation.email}, not {contact_email}")
    print(f"   portal {portal.id}, invitation {invitation.id}")

    step("read the invitation email and accept it as the contact")
    token = wait_for_invitation(mail_dir, contact_email, timeout=30)
    contact_password = f"Analytical-Engine-{run_id}"
    contact_tokens = call(
        "POST /v1/portal/invitations/accept",
        accept_invitation,
        200,
        TokenPair,
        client=public,
        body=AcceptInvitation(token=token, password=contact_password),
    )
    portal_client = make_client(base_url, contact_tokens.access_token)
    portal_me = call("GET /v1/portal/me", get_portal_me, 200, PortalMe, client=portal_client)
    check(portal_me.contact.id == contact.id, f"signed in as {portal_me.contact.id}, not {contact.id}")
    check(portal_me.portal.status == PortalStatus.ACTIVE, f"the portal is {portal_me.portal.status}, not active")
    check(any(c.id == client.id for c in portal_me.clients), "the portal does not show the granted client")
    active = call("GET /v1/portals/{portal_id}", get_portal, 200, Portal, portal.id, client=staff)
    check(active.status == PortalStatus.ACTIVE, f"staff see the portal as {active.status}, not active")

    step("a secure message from staff, a reply from the contact")
    conversation = call(
        "POST /v1/conversations",
        start_conversation,
        201,
        Conversation,
        client=staff,
        body=StartConversation(
            contact_id=contact.id,
            client_id=client.id,
            subject="Your engagement letter",
            body="Dear Ada, your engagement letter is in the portal.",
        ),
    )
    inbox = call("GET /v1/portal/conversations", list_my_conversations, 200, None, client=portal_client)
    check(
        any(c.id == conversation.id for c in inbox.data),
        f"the contact's inbox does not list {conversation.id}",
    )
    check(
        next(c for c in inbox.data if c.id == conversation.id).unread_count == 1,
        "the contact should have one unread message",
    )
    chain = call(
        "GET /v1/portal/conversations/{conversation_id}/messages",
        list_my_messages,
        200,
        None,
        conversation.id,
        client=portal_client,
    )
    check(
        [m.body for m in chain.data] == ["Dear Ada, your engagement letter is in the portal."],
        f"the contact sees {[m.body for m in chain.data]!r}",
    )
    reply = call(
        "POST /v1/portal/conversations/{conversation_id}/messages",
        reply_to_my_conversation,
        201,
        Message,
        conversation.id,
        client=portal_client,
        body=PortalReply(body="Thank you, I will read it tonight."),
    )
    staff_chain = call(
        "GET /v1/conversations/{conversation_id}/messages", list_messages, 200, None, conversation.id, client=staff
    )
    check(len(staff_chain.data) == 2, f"staff see {len(staff_chain.data)} messages, expected 2")
    last = staff_chain.data[-1]
    check(last.id == reply.id, "the contact's reply is not the last message")
    check(str(last.author.kind) == "contact", f"the reply's author kind is {last.author.kind}, not contact")

    step("upload a document, share it to the contact's portal, download it as the contact")
    document = call(
        "POST /v1/documents",
        upload_document,
        201,
        Document,
        client=staff,
        client_id=client.id,
        name="Engagement letter.pdf",
        body=File(payload=io.BytesIO(PDF), file_name="Engagement letter.pdf", mime_type="application/octet-stream"),
    )
    check(document.size == len(PDF), f"the document's size is {document.size}, not {len(PDF)}")
    check(document.sha256 == hashlib.sha256(PDF).hexdigest(), "the document's sha256 is not that of the bytes")
    check(document.visible_to_client is False, "an upload is hidden from the client by default")
    print(f"   document {document.id} ({document.content_type})")
    shared = call(
        "POST /v1/documents/share",
        share_documents,
        201,
        SharedDocuments,
        client=staff,
        body=ShareDocuments(document_ids=[document.id], contact_id=contact.id),
    )
    check(len(shared.shares) == 1, f"expected one share, got {len(shared.shares)}")
    mine = call("GET /v1/portal/documents", list_my_documents, 200, None, client=portal_client)
    check(any(d.id == document.id for d in mine.data), "the shared document is not in the contact's portal")
    call("GET /v1/portal/documents/{document_id}", get_my_document, 200, None, document.id, client=portal_client)
    downloaded = call(
        "GET /v1/portal/documents/{document_id}/content",
        download_my_document,
        200,
        File,
        document.id,
        client=portal_client,
    )
    got = downloaded.payload.read()
    check(got == PDF, f"the contact downloaded {len(got)} bytes that differ from the {len(PDF)} uploaded")
    staff_copy = call(
        "GET /v1/documents/{document_id}/content", download_document, 200, File, document.id, client=staff
    )
    check(staff_copy.payload.read() == PDF, "staff downloaded other bytes than were uploaded")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("VESTIBULE_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--mail-dir", type=pathlib.Path, default=os.environ.get("MAIL_DIR", "data/mail"))
    parser.add_argument("--firm", default="demo")
    parser.add_argument("--email", default="owner@demo.vestibule.test")
    parser.add_argument("--password", default=os.environ.get("VESTIBULE_PASSWORD", "vestibule-demo-owner"))
    parser.add_argument(
        "--strict-fields",
        action="store_true",
        help="fail (instead of warn) when the server sends fields the spec does not declare",
    )
    options = parser.parse_args()
    try:
        run(options.base_url, options.mail_dir, options.firm, options.email, options.password)
    except ScenarioFailure as failure:
        print(f"python scenario: FAILED: {failure}", file=sys.stderr)
        return 1
    except Exception as err:  # anything else is a failure too, with its cause
        print(
            f"python scenario: FAILED: {type(err).__name__}: {err} (last answer: {recorder.describe()})",
            file=sys.stderr,
        )
        return 1
    for warning in warnings:
        print(f"python scenario: warning: {warning}", file=sys.stderr)
    if warnings and options.strict_fields:
        print("python scenario: FAILED: undeclared fields (--strict-fields)", file=sys.stderr)
        return 1
    print("python scenario: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

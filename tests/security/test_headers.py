"""Browser hardening: security headers on every page, production settings, attachments as
safe downloads, redirects after sign-in that stay on the site, CSV cells that are no
formulas, and templates without inline script, event handlers or style attributes."""

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from escalation import kpi_views
from tests.conftest import PASSWORD
from tests.helpdesk.test_two_factor import add_app, code_for
from tests.security import matrix
from tickets import services as ticket_services
from tickets.models import Attachment, Department

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def csp_of(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def header_problems(response) -> list[str]:
    """What a page response lacks of the browser hardening (empty when all is there)."""
    problems = []
    csp = csp_of(response)
    for directive in ("object-src", "base-uri", "frame-ancestors"):
        if csp.get(directive) != ["'none'"]:
            problems.append(f"CSP {directive} is {csp.get(directive)}, not 'none'")
    script = csp.get("script-src", csp.get("default-src"))
    if script is None or "'unsafe-inline'" in script or "'unsafe-eval'" in script:
        problems.append(f"CSP script-src is {script}")
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if not response.get("Referrer-Policy"):
        problems.append("no Referrer-Policy")
    if response.get("X-Frame-Options") != "DENY":
        problems.append(f"X-Frame-Options is {response.get('X-Frame-Options')}")
    return problems


# --- Headers on every page ---------------------------------------------------------------------


def test_every_page_of_the_workspace_portal_and_public_side_carries_the_headers(world):
    """Every GET route that is not the admin's or the API's, asked as anonymous, alice, bob
    and max: whatever the answer (page, redirect, 403, 404), the headers are there."""
    clients = {"anonymous": Client(raise_request_exception=False)}
    for name in ("alice", "bob", "max"):
        clients[name] = Client(raise_request_exception=False)
        clients[name].force_login(getattr(world.users, name))
    failures = []
    for route in matrix.routes():
        if route.is_admin or route.is_api or route.key in ("healthz", "api-docs", "api-schema"):
            continue
        path = matrix.concrete(route.route, matrix.path_values(world, route, world.a))
        for name, client in clients.items():
            response = client.get(path)
            if response.status_code == 405:
                continue
            failures += [f"{route.key} as {name}: {p}" for p in header_problems(response)]
    assert not failures, "\n".join(failures)


def test_the_api_and_the_admin_carry_them_too(client, world):
    for path in ("/api/v1/me/", "/admin/", "/admin/login/", "/nowhere/"):
        assert header_problems(client.get(path)) == [], path


def test_production_settings_turn_on_hsts_and_secure_cookies(tmp_path):
    """Settings built with DEBUG=false in a fresh interpreter (as the servers start)."""
    environment = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x7" * 30,
        "FIELD_ENCRYPTION_KEY": "9hC2kZ0oJx2y3vXk3lE0m0dU3rW6h3a0mJ1cN0kTq2E=",
        "ALLOWED_HOSTS": "helpdesk.example",
        "VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
    }
    environment.pop("DATABASE_URL", None)
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k, None) for k in ('DEBUG', 'SECURE_HSTS_SECONDS', "
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
        "'SECURE_CONTENT_TYPE_NOSNIFF', 'SECURE_REFERRER_POLICY', 'X_FRAME_OPTIONS')}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["SECURE_REFERRER_POLICY"]
    assert values["X_FRAME_OPTIONS"] == "DENY"


def test_an_https_response_carries_hsts_when_not_in_debug(client, settings):
    settings.DEBUG = False
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


# --- Attachments -------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _stored(ticket, actor, *, filename: str, content_type: str, body: bytes) -> Attachment:
    """A file as it may sit in the database (e.g. from an older import), bypassing upload
    checks: the download must be safe whatever was stored."""
    message = ticket_services.ticket_reply(ticket=ticket, actor=actor, body="Anbei.")
    attachment = Attachment(
        message=message,
        token=f"{abs(hash(filename)):032d}"[:32],
        filename=filename,
        content_type=content_type,
        size=len(body),
        sha256="0" * 64,
    )
    attachment.file.save(attachment.token, ContentFile(body), save=False)
    attachment.save()
    return attachment


def _download(world, attachment):
    client = Client()
    client.force_login(world.users.alice)
    response = client.get(attachment.get_absolute_url())
    assert response.status_code == 200
    return response


def test_a_file_is_always_a_download_with_nosniff(world):
    response = _download(world, world.a.reply)
    assert response["Content-Disposition"] == 'attachment; filename="Gutschrift.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "content_type", ["text/html", "text/html; charset=utf-8", "image/svg+xml", "application/xml"]
)
def test_html_and_svg_are_never_served_as_such(world, content_type):
    attachment = _stored(
        world.a.tickets.cs,
        world.users.bob,
        filename="page.html",
        content_type=content_type,
        body=b"<script>alert(document.cookie)</script>",
    )
    response = _download(world, attachment)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ('Rech"nung.pdf', 'attachment; filename="Rech\\"nung.pdf"'),
        ("a\r\nSet-Cookie: x=1.pdf", 'attachment; filename="aSet-Cookie: x=1.pdf"'),
        ("../../etc/passwd", 'attachment; filename="_.._etc_passwd"'),
        ("..\\..\\boot.ini", 'attachment; filename="_.._boot.ini"'),
        ("Grüße.pdf", "attachment; filename*=utf-8''Gr%C3%BC%C3%9Fe.pdf"),
        ("Rechnung\u202efdp.exe", 'attachment; filename="Rechnungfdp.exe"'),
        ("\u200d", 'attachment; filename="download"'),
    ],
)
def test_the_file_name_is_safe_in_the_header(world, stored, expected):
    attachment = _stored(
        world.a.tickets.cs,
        world.users.bob,
        filename=stored,
        content_type="application/pdf",
        body=PDF,
    )
    response = _download(world, attachment)
    assert response["Content-Disposition"] == expected


def test_an_uploaded_file_with_an_odd_name_downloads_safely(world):
    message = ticket_services.ticket_reply(
        ticket=world.a.tickets.cs,
        actor=world.users.bob,
        body="Anbei.",
        attachments=[SimpleUploadedFile('x"\r\n\u202eÄ.pdf', PDF)],
    )
    response = _download(world, message.attachments.get())
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "\u202e" not in disposition
    assert disposition.startswith("attachment; filename*=utf-8''")


# --- Redirects after sign-in -------------------------------------------------------------------

EVIL = [
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "https:evil.example",
]


@pytest.mark.parametrize("target", EVIL)
def test_the_portal_sign_in_goes_home_not_elsewhere(client, alice, target):
    response = client.post(
        reverse("portal-login") + "?next=" + target, {"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal-home")


@pytest.mark.parametrize("target", EVIL)
def test_the_workspace_sign_in_and_its_second_factor_go_home_not_elsewhere(client, tina, target):
    device = add_app(tina)
    response = client.post(
        reverse("agent-login"), {"username": "tina", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == "/account/two-factor/?next=%2Fagent%2F"
    done = client.post(
        reverse("account:two-factor-verify"), {"code": code_for(device), "next": target}
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("agent-home")


@pytest.mark.parametrize("target", EVIL)
def test_the_second_factor_step_ignores_a_foreign_next_in_its_address(client, tina, target):
    device = add_app(tina)
    client.post(reverse("agent-login"), {"username": "tina", "password": PASSWORD})
    done = client.post(
        reverse("account:two-factor-verify") + "?next=" + target, {"code": code_for(device)}
    )
    assert done["Location"] == reverse("agent-home")


def test_a_next_on_the_site_is_kept(client, alice):
    response = client.post(
        reverse("portal-login") + "?next=/portal/invoices/",
        {"username": "alice", "password": PASSWORD},
    )
    assert response["Location"] == "/portal/invoices/"


# --- CSV exports -------------------------------------------------------------------------------

# Every module that writes CSV, and the URL name of its export: a new export fails
# `test_every_csv_export_is_known` until it is listed here and tested below.
CSV_EXPORTS = {"escalation/kpi_views.py": "management:kpis-csv"}
FORMULAS = ["=1+2", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://evil")']


def test_every_csv_export_is_known():
    writers = set()
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "tests/", "var/", "bench/")):
            continue
        text = path.read_text(encoding="utf-8")
        if "text/csv" in text or re.search(r"csv\.(writer|DictWriter)\(", text):
            writers.add(relative)
    assert writers == set(CSV_EXPORTS), (
        "A module writes CSV: neutralise cells starting with = + - @ tab CR (see "
        "escalation.kpi_views.csv_value) and list it in CSV_EXPORTS with a test."
    )


@pytest.mark.parametrize("value", FORMULAS)
def test_kpi_cells_never_start_a_formula(value):
    cell = kpi_views.csv_value(value)
    assert cell[0] not in "=+-@\t\r"
    assert cell.endswith(value)


def test_the_kpi_export_neutralises_a_department_name(world):
    """A department renamed to a formula shows up quoted in the exported sheet."""
    Department.objects.filter(slug="customer-service").update(name='=HYPERLINK("http://x")')
    Department.objects.filter(slug="billing").update(name="@SUM(A1)")
    client = Client()
    client.force_login(world.users.max)
    today = timezone.localdate().isoformat()
    response = client.get(reverse("management:kpis-csv") + f"?start={today}&end={today}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    cells = [cell for row in rows for cell in row]
    assert cells, "the export has no cells"
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [cell for cell in cells if cell[:1] == "-" and not cell.lstrip("-")[:1].isdigit()]


# --- Templates ---------------------------------------------------------------------------------

# E-mails are not pages: mail clients take no style sheets, so their templates style inline.
MAIL_TEMPLATES = "templates/mail/"
# A script element without src, unless it only carries data (`json_script`).
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=[\"']application/json)[^>]*>", re.IGNORECASE
)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)


def test_templates_have_no_inline_script_event_handlers_or_styles():
    """The CSP forbids them; the browser would refuse them silently. JS belongs in
    static/js/, CSS in static/css/."""
    problems = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(MAIL_TEMPLATES):
            continue
        text = path.read_text(encoding="utf-8")
        for pattern, what in (
            (INLINE_SCRIPT, "inline <script>"),
            (EVENT_HANDLER, "on…= event attribute"),
            (STYLE_ATTRIBUTE, "style= attribute"),
            (STYLE_ELEMENT, "<style> element"),
        ):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{relative}:{line}: {what}")
    assert not problems, "\n".join(problems)

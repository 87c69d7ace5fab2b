import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import clarion_env


def test_it_sends_a_strict_content_security_policy_with_a_nonce(client, demo_site):
    for path in ("/", demo_site["letter"].get_absolute_url()):
        response = client.get(path)
        policy = dict(
            part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
        )
        assert policy["default-src"] == "'self'"
        assert re.fullmatch(r"'self' 'nonce-[A-Za-z0-9+/=]{20,}'", policy["script-src"])
        assert policy["style-src"].startswith("'self' 'unsafe-hashes' 'sha256-")
        assert policy["img-src"] == "'self' data:"
        assert policy["frame-ancestors"] == "'none'"
        assert policy["form-action"] == "'self'"
        assert policy["base-uri"] == "'none'"
        assert policy["object-src"] == "'none'"
        nonce = policy["script-src"].split("'nonce-")[1].rstrip("'")
        assert f'nonce="{nonce}"' in response.content.decode()


def test_it_sends_the_other_security_headers(client, db):
    response = client.get("/")
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_it_never_runs_uploaded_files_as_pages(client, db, settings):
    # The media URL is bound to MEDIA_ROOT when the URLconf loads: write into it.
    folder = Path(settings.MEDIA_ROOT) / "ops-test"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "drawing.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>')
    (folder / "page.html").write_text("<script>alert(1)</script>")
    try:
        photo = client.get("/media/ops-test/photo.png")
        svg = client.get("/media/ops-test/drawing.svg")
        page = client.get("/media/ops-test/page.html")
    finally:
        shutil.rmtree(folder)
    for response in (photo, svg, page):
        assert response.status_code == 200
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert "default-src 'none'" in response["Content-Security-Policy"]
    assert photo["Content-Disposition"] == 'inline; filename="photo.png"'
    assert svg["Content-Disposition"] == 'attachment; filename="drawing.svg"'
    assert page["Content-Disposition"] == 'attachment; filename="page.html"'


def test_it_refuses_bodies_over_the_limit_without_reading_them(client, db, settings):
    settings.CLARION_MAX_REQUEST_BYTES = 1000
    response = client.post(
        "/share/mastodon/", data=b"x" * 2000, content_type="application/octet-stream"
    )
    assert response.status_code == 413


def test_it_answers_an_oversized_form_with_400_not_500(client, db):
    big = "a" * 3_000_000  # over DATA_UPLOAD_MAX_MEMORY_SIZE, under the request limit
    response = client.post("/share/mastodon/", {"server": big, "url": "x"})
    assert response.status_code == 400
    fields = {f"f{i}": "1" for i in range(1500)}  # over DATA_UPLOAD_MAX_NUMBER_FIELDS
    assert client.post("/share/mastodon/", fields).status_code == 400


def test_it_passes_the_deploy_check_with_an_https_site_url(tmp_path):
    env = clarion_env(
        tmp_path,
        CLARION_SITE_URL="https://letters.example.org",
        CLARION_SECRET_KEY="a-real-secret-" + "Zq8#pL2$vN5!" * 5,
    )
    result = subprocess.run(
        [sys.executable, "-m", "clarion", "manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='clarion.settings';"
            "django.setup(); from django.conf import settings as s;"
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
            " s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SAMESITE, s.SECURE_SSL_REDIRECT,"
            " s.CSRF_COOKIE_HTTPONLY,"
            " s.SECURE_HSTS_SECONDS > 0, s.DEBUG)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.stdout.split() == [
        "True",
        "True",
        "True",
        "Lax",
        "Lax",
        "True",
        "True",
        "True",
        "False",
    ]


def test_it_fails_the_deploy_check_over_plain_http(tmp_path):
    env = clarion_env(tmp_path, CLARION_SITE_URL="http://letters.example.org")
    result = subprocess.run(
        [sys.executable, "-m", "clarion", "manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stderr + result.stdout

"""`clarion subscribers import` and `export`: other platforms' CSV in, consent records out."""

import json

import pytest
from django.core.management import CommandError, call_command

from clarion.newsletter.models import ConsentEvent, Subscriber

from .smtpsink import parts

pytestmark = pytest.mark.django_db

GHOST = (
    "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,"
    "created_at,deleted_at,labels,tiers\n"
    "1,ada@example.org,Ada,,true,false,,2019-03-04T05:06:07.000Z,,,\n"
    "2,bob@example.org,Bob,,false,false,,2020-01-02T00:00:00.000Z,,,\n"
)
SUBSTACK = (
    "email,active_subscription,expiry,plan,email_disabled,created_at\n"
    "cy@example.org,false,,,false,2021-07-19T10:00:00.000Z\n"
    "dee@example.org,false,,,true,2021-07-20T10:00:00.000Z\n"
)
JETPACK = "email_address,date_subscribed\neve@example.org,2018-05-06 07:08:09\n"


def run(*args, **kwargs):
    from io import StringIO

    out = StringIO()
    call_command("subscribers_import", *args, stdout=out, **kwargs)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "fmt", "expected"),
    [
        (GHOST, "ghost", {"ada@example.org": "confirmed", "bob@example.org": "unsubscribed"}),
        (SUBSTACK, "substack", {"cy@example.org": "confirmed", "dee@example.org": "unsubscribed"}),
        (JETPACK, "jetpack", {"eve@example.org": "confirmed"}),
    ],
)
def test_it_imports_other_platforms_exports_keeping_dates(tmp_path, content, fmt, expected):
    path = tmp_path / "list.csv"
    path.write_text(content)
    output = run(str(path), "--confirmed")
    assert f"{fmt} format" in output
    assert dict(Subscriber.objects.values_list("email", "status")) == expected
    first = Subscriber.objects.get(email=next(iter(expected)))
    assert first.subscribed_at.year < 2022  # the date at the source, not today
    assert first.confirmed_at == first.subscribed_at
    event = first.consent_events.get()
    assert event.kind == ConsentEvent.Kind.IMPORTED
    assert "confirmed by the operator (--confirmed)" in event.detail


def test_without_confirmed_it_sends_each_new_address_a_confirmation(
    tmp_path, smtp, django_capture_on_commit_callbacks
):
    path = tmp_path / "list.csv"
    path.write_text(JETPACK)
    with django_capture_on_commit_callbacks(execute=True):
        run(str(path))
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.PENDING
    [message] = smtp.wait_for(1)
    assert "/subscribe/confirm/" in parts(message)[0]
    assert "confirmation email sent" in subscriber.consent_events.get().detail


def test_a_dry_run_previews_and_changes_nothing(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(GHOST)
    output = run(str(path), "--dry-run")
    assert "ada@example.org" in output and "Dry run" in output
    assert Subscriber.objects.count() == 0


def test_a_bad_row_names_file_line_and_field_and_imports_nothing(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("Email,Joined\nok@example.org,2020-01-01\nnot-an-address,2020-01-01\n")
    with pytest.raises(CommandError, match=rf"^{path}:3: Email: 'not-an-address' is not an email"):
        run(str(path))
    path.write_text("Email,Joined\nok@example.org,yesterday\n")
    with pytest.raises(CommandError, match=rf"^{path}:2: Joined: 'yesterday' is not a date"):
        run(str(path), "--column", "date=Joined")
    assert Subscriber.objects.count() == 0


def test_the_column_option_says_which_column_is_which(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("Name,Mail address,Joined\nAda,ada@example.org,2017-02-03\n")
    with pytest.raises(CommandError, match="no email column found"):
        run(str(path))
    run(str(path), "--column", "email=Mail address", "--column", "date=Joined", "--confirmed")
    assert Subscriber.objects.get().subscribed_at.date().isoformat() == "2017-02-03"


def test_known_addresses_are_left_unchanged(tmp_path):
    Subscriber.objects.create(email="ada@example.org", status=Subscriber.Status.UNSUBSCRIBED)
    path = tmp_path / "list.csv"
    path.write_text(GHOST)
    assert "1 were already here" in run(str(path), "--confirmed")
    assert Subscriber.objects.get(email="ada@example.org").status == "unsubscribed"


def test_export_includes_consent_records_and_round_trips(tmp_path):
    from io import StringIO

    path = tmp_path / "list.csv"
    path.write_text(GHOST)
    run(str(path), "--confirmed")
    out = StringIO()
    call_command("subscribers_export", "--format", "json", stdout=out)
    records = {r["email"]: r for r in json.loads(out.getvalue())}
    assert records["ada@example.org"]["consent"][0]["kind"] == "imported"
    assert records["bob@example.org"]["status"] == "unsubscribed"
    single = StringIO()
    call_command(
        "subscribers_export", "--email", "ADA@example.org", "--format", "json", stdout=single
    )
    assert [r["email"] for r in json.loads(single.getvalue())] == ["ada@example.org"]

    exported = tmp_path / "export.csv"
    call_command("subscribers_export", "-o", str(exported))
    Subscriber.objects.all().delete()
    assert "clarion format" in run(str(exported))
    assert dict(Subscriber.objects.values_list("email", "status")) == {
        "ada@example.org": "pending",
        "bob@example.org": "unsubscribed",
    }


# Valid addresses a spreadsheet would take for formulas, and one that starts with a quote.
HOSTILE = {
    "=1+2@example.org": "confirmed",
    "+cmd@example.org": "confirmed",
    "-2@example.org": "unsubscribed",
    "'=sum@example.org": "confirmed",
    "'plain@example.org": "confirmed",
}
HYPERLINK = '=HYPERLINK("http://evil.example","x")'
HOSTILE_SITE = f"""
from clarion.newsletter.models import Subscriber
for email, status in {HOSTILE!r}.items():
    Subscriber.objects.create(email=email, status=status)
Subscriber.objects.filter(email="+cmd@example.org").update(bounce_reason={HYPERLINK!r})
Subscriber.objects.filter(email="=1+2@example.org").update(bounce_reason="@SUM(1)\\t\\r")
Subscriber.objects.filter(email="-2@example.org").update(bounce_reason="\\tTAB")
"""
STATUSES = """
import json
from clarion.newsletter.models import Subscriber
print(json.dumps(dict(Subscriber.objects.values_list("email", "status"))))
"""


def assert_no_cell_runs(text):
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) > 1
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    return rows


@pytest.mark.slow
def test_an_export_runs_no_formula_in_a_spreadsheet_and_imports_back_to_the_same_values(
    tmp_path,
):
    from tests.ops.sites import clarion, python

    source, target = tmp_path / "source", tmp_path / "target"
    clarion(source, "manage", "migrate", "-v0")
    python(source, HOSTILE_SITE)
    exported = tmp_path / "subscribers.csv"
    clarion(source, "subscribers", "export", "-o", exported)

    rows = assert_no_cell_runs(exported.read_text(encoding="utf-8"))
    cells = {cell for row in rows for cell in row}
    assert "'" + HYPERLINK in cells
    assert {"'=1+2@example.org", "''=sum@example.org", "''plain@example.org"} <= cells

    clarion(target, "manage", "migrate", "-v0")
    result = clarion(target, "subscribers", "import", exported, "--confirmed")
    assert "clarion format" in result.stdout
    assert json.loads(python(target, STATUSES)) == HOSTILE


def test_the_admin_csv_export_runs_no_formula_and_reads_back(admin_client, tmp_path):
    from clarion.newsletter import csvimport

    subscriber = Subscriber.objects.create(
        email="=1+2@example.org", status="confirmed", bounce_reason=HYPERLINK
    )
    response = admin_client.post(
        "/admin/newsletter/subscriber/",
        {"action": "export_csv", "_selected_action": [subscriber.pk]},
    )
    assert response.status_code == 200
    text = response.content.decode()
    rows = assert_no_cell_runs(text)
    assert "'" + HYPERLINK in rows[1]
    path = tmp_path / "admin.csv"
    path.write_text(text, encoding="utf-8")
    [row] = csvimport.parse(path).rows
    assert row.email == "=1+2@example.org"

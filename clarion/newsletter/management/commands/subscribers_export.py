"""``clarion subscribers export``"""

import csv
import json

from django.core.management.base import BaseCommand, CommandError

from clarion.newsletter import csvimport, services
from clarion.newsletter.models import Subscriber, normalise_email

COLUMNS = [
    "email",
    "status",
    "source",
    "subscribed_at",
    "confirmed_at",
    "unsubscribed_at",
    "categories",
    "bounce_reason",
    "consent",
]


class Command(BaseCommand):
    help = (
        "Export subscribers with their consent records, as CSV (one row each; the consent "
        "history as JSON in the last column; a cell starting with = + - @ or ' gets a "
        "leading ' so spreadsheets do not run it) or JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--email", help="Only this subscriber (a subject access request).")
        parser.add_argument(
            "--status", choices=[s for s, _ in Subscriber.Status.choices], help="Only these."
        )
        parser.add_argument("-o", "--output", help="Write to this file instead of stdout.")

    def handle(self, *args, format, email, status, output, **options):
        subscribers = Subscriber.objects.order_by("pk").prefetch_related(
            "categories", "consent_events"
        )
        if email:
            subscribers = subscribers.filter(email=normalise_email(email))
            if not subscribers.exists():
                raise CommandError(f"--email: no subscriber {email!r}")
        if status:
            subscribers = subscribers.filter(status=status)
        out = open(output, "w", newline="", encoding="utf-8") if output else self.stdout
        try:
            records = (services.consent_record(s) for s in subscribers.iterator(chunk_size=2000))
            if format == "json":
                out.write("[\n")
                for i, record in enumerate(records):
                    out.write(("," if i else "") + json.dumps(record, ensure_ascii=False) + "\n")
                out.write("]\n")
            else:
                writer = csv.writer(out)
                writer.writerow(COLUMNS)
                for record in records:
                    record["categories"] = " ".join(record["categories"])
                    record["consent"] = json.dumps(record["consent"], ensure_ascii=False)
                    # An address such as =1+2@example.org is valid: no cell may run.
                    writer.writerow(csvimport.safe_row(record[c] for c in COLUMNS))
        finally:
            if output:
                out.close()

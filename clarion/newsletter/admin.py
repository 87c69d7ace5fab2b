import csv
import json
import secrets
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from . import csvimport, services, tasks
from .management.commands.subscribers_export import COLUMNS
from .models import ConsentEvent, Delivery, Issue, NewsletterSettings, Subscriber


@admin.register(NewsletterSettings)
class NewsletterSettingsAdmin(admin.ModelAdmin):
    fieldsets = [
        (None, {"fields": ["content"]}),
        ("Sender", {"fields": ["from_name", "from_email", "reply_to"]}),
        ("Confirmation", {"fields": ["confirmation_interval_minutes", "confirmation_valid_days"]}),
    ]

    def has_add_permission(self, request):
        return not NewsletterSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class ConsentEventInline(admin.TabularInline):
    model = ConsentEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "page", "categories", "wording", "ip_hash", "user_agent_hash", "detail"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A CSV export from Jetpack, Ghost, Substack or Clarion.")
    confirmed = forms.BooleanField(
        required=False,
        label="These people already confirmed their subscription elsewhere",
        help_text="Unticked: each new address is sent a confirmation email and stays "
        "inactive until confirmed.",
    )
    columns = forms.CharField(
        required=False,
        label="Column names",
        help_text="Only if not recognised, e.g. email=Email, date=Joined",
    )

    def overrides(self) -> list[str]:
        text = self.cleaned_data.get("columns", "")
        return [part.strip() for part in text.split(",") if part.strip()]


def _imports_dir() -> Path:
    folder = Path(settings.DATA_DIR) / "imports"
    folder.mkdir(exist_ok=True)
    return folder


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "status", "source", "subscribed_at", "confirmed_at", "categories_"]
    list_filter = ["status", "source", "categories"]
    search_fields = ["email"]
    date_hierarchy = "subscribed_at"
    # Read-only: every change to a subscription must leave a consent event, so changes go
    # through the subscriber's own links or the actions below, never a bare edit.
    readonly_fields = [
        "email",
        "status",
        "categories_",
        "source",
        "subscribed_at",
        "confirmed_at",
        "unsubscribed_at",
        "confirmation_sent_at",
        "bounce_reason",
        "requested_categories",
        "export_link",
    ]
    fields = readonly_fields
    inlines = [ConsentEventInline]
    actions = ["export_csv", "unsubscribe"]
    change_list_template = "admin/newsletter/subscriber/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("categories")

    @admin.display(description="categories")
    def categories_(self, obj):
        return ", ".join(c.name for c in obj.categories.all()) or "all"

    @admin.display(description="consent record")
    def export_link(self, obj):
        if not obj.pk:
            return "-"
        url = reverse("admin:newsletter_subscriber_consent", args=[obj.pk])
        return format_html('<a href="{}">Download as JSON</a>', url)

    def has_add_permission(self, request):
        # Subscriptions start with the person (the form) or an import that records consent.
        return False

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="newsletter_subscriber_import",
            ),
            path("outbox/", self.admin_site.admin_view(outbox_view), name="newsletter_outbox"),
            path(
                "<int:pk>/consent.json",
                self.admin_site.admin_view(self.consent_view),
                name="newsletter_subscriber_consent",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        outbox = settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend"
        return super().changelist_view(request, {**(extra_context or {}), "email_outbox": outbox})

    def consent_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        subscriber = Subscriber.objects.filter(pk=pk).first()
        if subscriber is None:
            raise Http404
        response = HttpResponse(
            json.dumps(services.consent_record(subscriber), indent=2, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="subscriber-{pk}-consent.json"'
        return response

    def import_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "opts": self.model._meta}
        if request.method == "POST" and request.POST.get("stored"):
            return self._import_commit(request, context)
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            stored = secrets.token_hex(12) + ".csv"
            target = _imports_dir() / stored
            with open(target, "wb") as fh:
                for chunk in form.cleaned_data["file"].chunks():
                    fh.write(chunk)
            try:
                parsed = csvimport.parse(target, csvimport.parse_overrides(form.overrides()))
            except csvimport.ImportError_ as exc:
                target.unlink(missing_ok=True)
                message = str(exc).replace(str(target), form.cleaned_data["file"].name)
                form.add_error(None, message)
            else:
                context.update(
                    parsed=parsed,
                    preview=parsed.rows[:20],
                    stored=stored,
                    confirmed=form.cleaned_data["confirmed"],
                    columns_text=form.cleaned_data["columns"],
                    title="Import subscribers: preview",
                    filename=form.cleaned_data["file"].name,
                )
                return TemplateResponse(request, "admin/newsletter/subscriber/import.html", context)
        context.update(form=form, title="Import subscribers")
        return TemplateResponse(
            request,
            "admin/newsletter/subscriber/import.html",
            context,
            status=400 if form.is_bound else 200,
        )

    def _import_commit(self, request, context):
        stored = request.POST["stored"]
        target = _imports_dir() / Path(stored).name
        if not target.is_file():
            messages.error(request, "The uploaded file is gone; upload it again.")
            return redirect("admin:newsletter_subscriber_import")
        try:
            overrides = [p.strip() for p in request.POST.get("columns", "").split(",") if p.strip()]
            parsed = csvimport.parse(target, csvimport.parse_overrides(overrides))
            parsed.path = request.POST.get("filename", stored)
            with transaction.atomic():
                counts, pending = services.subscribers_import(
                    parsed=parsed, confirmed=request.POST.get("confirmed") == "1"
                )
                tasks.wake_subscriber_emails(pending, "confirm")
        except csvimport.ImportError_ as exc:
            messages.error(request, str(exc))
            return redirect("admin:newsletter_subscriber_import")
        finally:
            target.unlink(missing_ok=True)
        messages.success(
            request,
            f"Added {counts['added']} subscribers; {counts['known']} were already here; "
            f"{counts['to_confirm']} confirmation emails queued.",
        )
        return redirect("admin:newsletter_subscriber_changelist")

    @admin.action(description="Export selected subscribers with consent records (CSV)")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="subscribers.csv"'
        writer = csv.writer(response)
        writer.writerow(COLUMNS)
        for subscriber in queryset.prefetch_related("categories", "consent_events"):
            record = services.consent_record(subscriber)
            record["categories"] = " ".join(record["categories"])
            record["consent"] = json.dumps(record["consent"], ensure_ascii=False)
            writer.writerow(csvimport.safe_row(record[c] for c in COLUMNS))
        return response

    @admin.action(description="Unsubscribe selected subscribers")
    def unsubscribe(self, request, queryset):
        done = 0
        for subscriber in queryset:
            done += services.subscriber_unsubscribe(
                subscriber=subscriber,
                evidence=services.Evidence(detail=f"unsubscribed by {request.user} in the admin"),
            )
        messages.success(request, f"Unsubscribed {done} subscribers.")


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ["post", "created_at", "recipients", "status_counts", "completed_at"]
    readonly_fields = [
        "post",
        "created_at",
        "fanned_out_at",
        "recipients",
        "completed_at",
        "status_counts",
        "failure_reasons",
        "deliveries_link",
    ]
    fields = readonly_fields + ["subject"]
    list_select_related = ["post"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="deliveries")
    def status_counts(self, obj):
        rows = obj.deliveries.values("status").annotate(n=Count("pk")).order_by("status")
        return ", ".join(f"{row['n']} {row['status']}" for row in rows) or "none yet"

    @admin.display(description="why deliveries failed")
    def failure_reasons(self, obj):
        rows = (
            obj.deliveries.filter(status__in=[Delivery.Status.FAILED, Delivery.Status.QUEUED])
            .exclude(last_error="")
            .values("status", "last_error")
            .annotate(n=Count("pk"))
            .order_by("-n")[:20]
        )
        if not rows:
            return "-"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{} × {}: {}</li>", ((r["n"], r["status"], r["last_error"]) for r in rows)
            ),
        )

    @admin.display(description="all deliveries")
    def deliveries_link(self, obj):
        url = reverse("admin:newsletter_delivery_changelist") + f"?issue__id__exact={obj.pk}"
        return format_html('<a href="{}">List every delivery</a>', url)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["subscriber", "issue", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "issue"]
    search_fields = ["subscriber__email"]
    list_select_related = ["subscriber", "issue__post"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def outbox_view(request):
    """The file outbox (the default email backend) as a list of recent messages."""
    if not request.user.is_staff:
        raise PermissionDenied
    folder = getattr(settings, "EMAIL_FILE_PATH", "")
    if settings.EMAIL_BACKEND != "django.core.mail.backends.filebased.EmailBackend" or not folder:
        raise Http404("Email is not sent to a file outbox.")
    files = sorted(Path(folder).glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    name = request.GET.get("file", "")
    if name:
        chosen = Path(folder) / Path(name).name
        if not chosen.is_file():
            raise Http404
        return HttpResponse(chosen.read_bytes(), content_type="text/plain; charset=utf-8")
    context = {
        **admin.site.each_context(request),
        "title": "Email outbox",
        "folder": folder,
        "files": [(p.name, p.stat().st_size) for p in files[:200]],
    }
    return render(request, "admin/newsletter/outbox.html", context)

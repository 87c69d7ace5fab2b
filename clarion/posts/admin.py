from django.contrib import admin
from django.db import transaction

from . import services
from .models import Author, Category, Post, Redirect, SiteSettings, Tag


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "published_at", "author", "sticky"]
    list_filter = ["status", "categories", "author"]
    search_fields = ["title", "body", "excerpt"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["categories", "tags"]
    autocomplete_fields = ["author"]
    view_on_site = True
    fieldsets = [
        (None, {"fields": ["title", "slug", "body", "excerpt"]}),
        (
            "Publishing",
            {"fields": ["status", "published_at", "notify_subscribers", "author", "sticky"]},
        ),
        ("Filing", {"fields": ["categories", "tags"]}),
        ("Featured image", {"fields": ["featured_image", "featured_image_alt"]}),
    ]

    def save_model(self, request, obj, form, change):
        obj._was_live = (
            change and Post.objects.filter(pk=obj.pk, status=Post.Status.PUBLISHED).exists()
        )
        services.normalise_status(obj)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        with transaction.atomic():
            services.post_saved(post=form.instance, was_live=form.instance._was_live)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["display_name", "slug", "user"]
    search_fields = ["display_name"]
    prepopulated_fields = {"slug": ["display_name"]}


@admin.register(Redirect)
class RedirectAdmin(admin.ModelAdmin):
    list_display = ["old_path", "post", "target", "created_at"]
    search_fields = ["old_path", "target"]
    raw_id_fields = ["post"]


@admin.register(SiteSettings)
class SiteSettingsAdmin(admin.ModelAdmin):
    fieldsets = [
        (None, {"fields": ["title", "tagline", "time_zone", "language", "posts_per_page"]}),
        ("Sidebar", {"fields": ["sidebar_author", "default_category", "show_rss_link"]}),
        (
            "Social links",
            {
                "fields": [
                    "x_url",
                    "facebook_url",
                    "instagram_url",
                    "youtube_url",
                    "linkedin_url",
                    "mastodon_url",
                    "bluesky_url",
                    "contact_email",
                ]  # fmt: skip
            },
        ),
    ]

    def has_add_permission(self, request):
        return not SiteSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


# Imported here rather than at the top so this addition stays a pure append to the file.
from .models import Page  # noqa: E402


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ["title", "path", "status", "updated_at"]
    list_filter = ["status"]
    search_fields = ["title", "path", "body"]
    prepopulated_fields = {"slug": ["title"]}
    raw_id_fields = ["parent"]
    view_on_site = True
    fields = ["title", "slug", "parent", "path", "status", "body"]

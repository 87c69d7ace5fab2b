"""The admin for the posts app's models. It lives in the editor, which is built on posts:
content does not know how it is edited. Imported by clarion/editor/admin.py, so Django's
admin autodiscovery registers these with the editor's own models."""

from django import forms
from django.contrib import admin
from django.db import models

from clarion.posts.models import Author, Category, Page, Post, Redirect, SiteSettings, Tag

from . import forms as editor_forms
from . import permissions as editor_permissions
from .post_admin import PostAdmin

# The post editor; its behaviour lives in clarion.editor.post_admin.
admin.site.register(Post, PostAdmin)


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


def https_urls(db_field, **kwargs):
    """Form fields for a model form in which a link typed without a scheme
    ("mastodon.social/@alton") becomes https:// (Django 6's default; says so now)."""
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class AuthorForm(forms.ModelForm):
    class Meta:
        model = Author
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets decide
        formfield_callback = https_urls

    def clean_photo(self):
        # Re-encoded without EXIF, as every upload is (clarion.editor.images).
        return editor_forms.stripped(self.cleaned_data.get("photo"))


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    # As https_urls, for the form the admin builds from AuthorForm.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    form = AuthorForm
    list_display = ["display_name", "slug", "user"]
    search_fields = ["display_name"]
    prepopulated_fields = {"slug": ["display_name"]}

    # Authors edit their own profile; only those who manage others' posts see every one.
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if editor_permissions.can_edit_any(request.user):
            return queryset
        return queryset.filter(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        if request.user.has_perm("auth.change_user"):
            return []
        return ["user"]


@admin.register(Redirect)
class RedirectAdmin(admin.ModelAdmin):
    list_display = ["old_path", "post", "target", "created_at"]
    search_fields = ["old_path", "target"]
    raw_id_fields = ["post"]


@admin.register(SiteSettings)
class SiteSettingsAdmin(admin.ModelAdmin):
    formfield_overrides = AuthorAdmin.formfield_overrides
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


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ["title", "path", "status", "updated_at"]
    list_filter = ["status"]
    search_fields = ["title", "path", "body"]
    prepopulated_fields = {"slug": ["title"]}
    raw_id_fields = ["parent"]
    view_on_site = True
    fields = ["title", "slug", "parent", "path", "status", "body"]

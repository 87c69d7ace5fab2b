"""The post editor: Django's ModelAdmin for posts, customised for authors.

Registered in clarion/editor/posts_admin.py. Publishing goes through clarion.posts.services
exactly as the CLI does: ``normalise_status`` before saving, ``post_saved`` once categories are
saved.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from clarion.posts import services
from clarion.posts.models import Post, SiteSettings

from . import images, permissions, views
from .forms import CONFIRM_FIELD, PostForm, action_from
from .models import Revision
from .services import diff, record_revision, restore_revision
from .subscribers import subscriber_count


class PostAdmin(admin.ModelAdmin):
    form = PostForm
    change_form_template = "editor/post_change_form.html"
    list_display = ["title", "status_label", "published_at", "author", "sticky"]
    list_filter = ["status", "categories", "author"]
    search_fields = ["title", "body", "excerpt"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["author", "tags"]
    readonly_fields = ["word_count_display"]
    view_on_site = True
    save_on_top = False

    class Media:
        css = {"all": ["editor/editor.css"]}
        js = ["editor/editor.js"]

    # -- who sees and changes what ------------------------------------------------------

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("author")
        if permissions.can_edit_any(request.user):
            return queryset
        return queryset.filter(author__user=request.user)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or permissions.can_change(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or permissions.can_change(request.user, obj))

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        if obj is None or not allowed:
            return allowed
        return permissions.can_edit_any(request.user) or permissions.owns(request.user, obj)

    # -- the form -----------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        user = request.user
        publishing = ["status", "published_at"]
        if permissions.can_publish(user):
            publishing.append("notify_subscribers")
        if permissions.can_edit_any(user):
            publishing += ["author", "sticky"]
        filing = ["categories"]
        if user.has_perm("posts.add_category"):
            filing.append("new_categories")
        filing.append("tags")
        if user.has_perm("posts.add_tag"):
            filing.append("new_tags")
        writing = ["title", "slug", "body", "word_count_display"]
        if user.has_perm("editor.add_mediaitem"):
            writing += ["image_upload", "image_alt"]
        writing.append("excerpt")
        return [
            (None, {"fields": writing}),
            ("Publishing", {"fields": publishing}),
            ("Categories and tags", {"fields": filing}),
            ("Featured image", {"fields": ["featured_image", "featured_image_alt"]}),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        may_publish = permissions.can_publish(request.user)
        form_class = type(
            "PostForm",
            (super().get_form(request, obj, change, **kwargs),),
            {"action": action_from(request.POST), "may_publish": may_publish},
        )
        fields = form_class.base_fields
        if "status" in fields and not may_publish:
            fields["status"].choices = [(Post.Status.DRAFT, Post.Status.DRAFT.label)]
        if "published_at" in fields:
            fields["published_at"].help_text = (
                f"In the site's time zone, {SiteSettings.load().time_zone} (Site settings). "
                "Publish uses the present moment unless this is in the past; Schedule needs a "
                "date in the future."
            )
        return form_class

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "categories":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="Words")
    def word_count_display(self, obj):
        return obj.word_count() if obj and obj.pk else 0

    @admin.display(description="Status", ordering="status")
    def status_label(self, obj):
        if obj.status == Post.Status.SCHEDULED and not obj.is_live:
            return format_html("Scheduled for {}", timezone.localtime(obj.published_at))
        return obj.get_status_display()

    # -- saving -------------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        obj._was_live = (
            change and Post.objects.filter(pk=obj.pk, status=Post.Status.PUBLISHED).exists()
        )
        if not change and not permissions.can_edit_any(request.user):
            obj.author = permissions.own_author_profile(request.user)
        # The form refuses this already; re-checked here so no other path can publish.
        if obj.status != Post.Status.DRAFT and not permissions.can_publish(request.user):
            raise PermissionDenied("You may not publish posts.")
        upload = form.cleaned_data.get("image_upload")
        if upload:
            item = images.store(upload, user=request.user, alt=form.cleaned_data["image_alt"])
            obj.body = obj.body.rstrip() + "\n\n" + item.markdown() + "\n"
        services.normalise_status(obj)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        post = form.instance
        user = request.user
        form.save_new_names(
            post,
            categories=user.has_perm("posts.add_category"),
            tags=user.has_perm("posts.add_tag"),
        )
        services.post_saved(post=post, was_live=post._was_live)
        record_revision(post=post, user=user)

    # -- after saving: where the buttons lead ---------------------------------------------

    def _after_save(self, request, obj, default):
        action = action_from(request.POST).name
        if action == "save":
            return default()
        if action == "preview":
            return HttpResponseRedirect(obj.get_preview_url())
        if obj.status == Post.Status.SCHEDULED and not obj.is_live:
            when = timezone.localtime(obj.published_at).strftime("%d %B %Y at %H:%M")
            self.message_user(request, f"“{obj}” is scheduled for {when}.", messages.SUCCESS)
        elif obj.is_live:
            self.message_user(
                request,
                format_html(
                    "“{}” is published. <a href='{}'>View it</a>.", obj, obj.get_absolute_url()
                ),
                messages.SUCCESS,
            )
        else:
            self.message_user(request, f"Draft “{obj}” saved.", messages.SUCCESS)
        return HttpResponseRedirect(
            reverse("admin:posts_post_change", args=[obj.pk], current_app=self.admin_site.name)
        )

    def response_add(self, request, obj, post_url_continue=None):
        return self._after_save(
            request, obj, lambda: super(PostAdmin, self).response_add(request, obj)
        )

    def response_change(self, request, obj):
        return self._after_save(
            request, obj, lambda: super(PostAdmin, self).response_change(request, obj)
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_publish": permissions.can_publish(request.user),
            "subscriber_count": subscriber_count(),
            "confirm_field": CONFIRM_FIELD,
            "pending_action": action_from(request.POST).name,
            "preview_markdown_url": reverse("admin:posts_post_preview_markdown"),
            "upload_url": reverse("admin:editor_mediaitem_upload"),
            "may_upload": request.user.has_perm("editor.add_mediaitem"),
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    # -- extra pages: live preview, revisions --------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "preview-markdown/",
                wrap(views.preview_markdown),
                name="posts_post_preview_markdown",
            ),
            path(
                "<path:object_id>/revisions/",
                wrap(self.revisions_view),
                name="posts_post_revisions",
            ),
            path(
                "<path:object_id>/revisions/<int:revision_id>/restore/",
                wrap(require_POST(self.restore_view)),
                name="posts_post_restore",
            ),
            *super().get_urls(),
        ]

    def _post_for(self, request, object_id, *, change: bool):
        post = self.get_object(request, object_id)
        if post is None:
            raise Http404("No such post")
        allowed = (
            self.has_change_permission(request, post)
            if change
            else self.has_view_permission(request, post)
        )
        if not allowed:
            raise PermissionDenied
        return post

    def revisions_view(self, request, object_id):
        post = self._post_for(request, object_id, change=False)
        revisions = list(Revision.objects.for_post(post))
        by_id = {r.pk: r for r in revisions}
        older = newer = None
        try:
            older = by_id.get(int(request.GET.get("from", "")))
            newer = by_id.get(int(request.GET.get("to", "")))
        except ValueError:
            pass
        if (older is None or newer is None) and len(revisions) >= 2:
            newer, older = revisions[0], revisions[1]
        if older and newer and (older.created_at, older.pk) > (newer.created_at, newer.pk):
            older, newer = newer, older
        context = {
            **self.admin_site.each_context(request),
            "title": f"Revisions of “{post}”",
            "opts": self.opts,
            "post": post,
            "revisions": revisions,
            "older": older,
            "newer": newer,
            "changes": diff(older, newer) if older and newer else None,
            "can_restore": self.has_change_permission(request, post),
        }
        return TemplateResponse(request, "editor/revisions.html", context)

    def restore_view(self, request, object_id, revision_id):
        post = self._post_for(request, object_id, change=True)
        revision = get_object_or_404(Revision, pk=revision_id, post=post)
        restore_revision(revision=revision, user=request.user)
        self.message_user(
            request, "The earlier version is back, and kept as a new revision.", messages.SUCCESS
        )
        return HttpResponseRedirect(
            reverse("admin:posts_post_change", args=[post.pk], current_app=self.admin_site.name)
        )
